"""HTML views and the services' NotFound: Django's 404 page, as for a missing URL.

DRF views need nothing (the API exception handler answers NotFound with a 404). For HTML
views, `NotFoundMiddleware` (in MIDDLEWARE) turns it into Django's 404 page, so a view calls a
selector and lets a stranger's object be a 404 without a try/except of its own.
"""

from django.http import Http404

from .exceptions import NotFound


class NotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        return None
