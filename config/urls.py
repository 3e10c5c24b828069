from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import views as core_views
from core.api import api_not_found
from core.webhooks import replicate_webhook

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("accounts.api_urls")),  # Accounts: auth/, me/
    path("", include("gallery.api_urls")),  # Gallery: generations/, images/, collections/, …
    path("", include("trainings.api_urls")),  # Trainings: datasets/, models/, trainings/
    path("", include("events.api_urls")),  # Events: events/ (SSE), event-endpoints/
    path("", include("likeness.api_urls")),  # Likeness: models/<id>/selfie/, identity checks
]

urlpatterns = [
    path("", core_views.home, name="home"),
    *[
        path(f"{slug}/", core_views.site_page, {"slug": slug}, name=slug)
        for slug in core_views.SITE_PAGES
    ],
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("webhooks/replicate/", replicate_webhook, name="replicate-webhook"),
    path("admin/", admin.site.urls),
    # Accounts: our pages first, then allauth's (sign-up, login, e-mail, password).
    path("trainings/", include("trainings.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("billing.urls")),  # Billing: credits/, webhooks/stripe/
    path("", include("operations.urls")),  # Operations: staff/dashboard/
    path("", include("likeness.urls")),  # Likeness: the consent selfie, moderation/identity/
    path("", include("gallery.urls")),  # Gallery: generate/, generations/, gallery/, s/
    path("api/v1/", include((api_v1, "api"))),
    # Last: any other path under /api/v1/ (one without its slash too) is a JSON 404, not the
    # HTML page or CommonMiddleware's redirect. New API routes go in `api_v1` above.
    re_path(r"^api/v1/", api_not_found, name="api-not-found"),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
handler429 = "accounts.views.too_many_requests"  # allauth's rate limits
