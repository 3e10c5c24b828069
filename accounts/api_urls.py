"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from . import apis

urlpatterns = [
    path("auth/register/", apis.RegisterApi.as_view(), name="auth-register"),
    path("auth/verify-email/", apis.VerifyEmailApi.as_view(), name="auth-verify-email"),
    path("auth/token/", apis.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("me/avatar/", apis.AvatarApi.as_view(), name="me-avatar"),
    path("me/password/", apis.PasswordChangeApi.as_view(), name="me-password"),
    path("me/credits/", apis.CreditsApi.as_view(), name="me-credits"),
    path("me/export/", apis.DataExportListApi.as_view(), name="me-export"),
    path(
        "me/export/<uuid:export_id>/",
        apis.DataExportDetailApi.as_view(),
        name="me-export-detail",
    ),
    path(
        "me/export/<uuid:export_id>/download/",
        apis.DataExportDownloadApi.as_view(),
        name="me-export-download",
    ),
]
