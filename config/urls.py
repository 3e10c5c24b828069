from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import views as core_views
from core.webhooks import replicate_webhook

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("", include("accounts.api_urls")),  # Accounts: auth/, me/
    path("", include("gallery.api_urls")),  # Gallery: generations/, images/, collections/, …
    path("", include("trainings.api_urls")),  # Trainings: datasets/, models/, trainings/
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("webhooks/replicate/", replicate_webhook, name="replicate-webhook"),
    path("admin/", admin.site.urls),
    # Accounts: our pages first, then allauth's (sign-up, login, e-mail, password).
    path("trainings/", include("trainings.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("gallery.urls")),  # Gallery: generate/, generations/, gallery/, s/
    path("api/v1/", include((api_v1, "api"))),
]

handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
handler429 = "accounts.views.too_many_requests"  # allauth's rate limits
