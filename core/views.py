from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from .health import REQUIRED_FOR_READINESS, readiness_report


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Ready to serve: the database (the broker is reported; without it the process is only
    degraded). `?deep=1` requires every part, storage and Replicate included (monitoring)."""
    deep = request.GET.get("deep", "").lower() in ("1", "true", "yes")
    checks = readiness_report(deep=deep)
    required = checks if deep else {name: checks[name] for name in REQUIRED_FOR_READINESS}
    ready = all(result == "ok" for result in required.values())
    if not ready:
        status = "unavailable"
    elif all(result == "ok" for result in checks.values()):
        status = "ok"
    else:
        status = "degraded"  # e.g. the broker is down: reads work, writes answer 503 themselves
    return JsonResponse({"status": status, "checks": checks}, status=200 if ready else 503)


def home(request):
    """The marketing page; signed in, the person's dashboard. core imports no app, so the
    dashboard view is named by a setting (SIGNED_IN_HOME_VIEW, config/settings/trainings.py)."""
    if request.user.is_authenticated:
        return import_string(settings.SIGNED_IN_HOME_VIEW)(request)
    return render(request, "core/home.html")


SITE_PAGES = {"terms": "Terms of use", "privacy": "Privacy", "contact": "Contact"}


def site_page(request, slug: str):
    """The terms, privacy and contact pages: templates/pages/<slug>.html, which an operator
    replaces with their own through SITE_TEMPLATES_DIRS. The privacy page states the retention
    settings as they are configured."""
    return render(
        request,
        f"pages/{slug}.html",
        {
            "title": SITE_PAGES[slug],
            "photos_keep_days": settings.TRAINING_PHOTOS_KEEP_DAYS,
            "export_ttl_hours": settings.DATA_EXPORT_TTL_HOURS,
        },
    )


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    # A URL under /api/ that matches no route (a malformed id, say) gets the API's error
    # shape, as a missing object in a matched route does, not the HTML page.
    if _is_api(request):
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            {
                "detail": "Something went wrong on our side. Please try again.",
                "code": "server_error",
                "request_id": getattr(request, "request_id", None),
            },
            status=500,
        )
    return render(request, "500.html", status=500)
