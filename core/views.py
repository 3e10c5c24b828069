from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .health import readiness_report


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Ready to serve: database and broker. `?deep=1` adds storage and Replicate (monitoring)."""
    deep = request.GET.get("deep", "").lower() in ("1", "true", "yes")
    checks = readiness_report(deep=deep)
    ready = all(result == "ok" for result in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def home(request):
    return render(request, "core/home.html")


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
