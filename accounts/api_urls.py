"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from .apis import auth, credits, exports, me

urlpatterns = [
    path("auth/register/", auth.RegisterApi.as_view(), name="auth-register"),
    path("auth/verify-email/", auth.VerifyEmailApi.as_view(), name="auth-verify-email"),
    path("auth/token/", auth.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", auth.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", auth.LogoutApi.as_view(), name="auth-logout"),
    path("me/", me.MeApi.as_view(), name="me"),
    path("me/avatar/", me.AvatarApi.as_view(), name="me-avatar"),
    path("me/password/", me.PasswordChangeApi.as_view(), name="me-password"),
    path("me/credits/", credits.CreditsApi.as_view(), name="me-credits"),
    path("me/export/", exports.DataExportListApi.as_view(), name="me-export"),
    path(
        "me/export/<uuid:export_id>/",
        exports.DataExportDetailApi.as_view(),
        name="me-export-detail",
    ),
    path(
        "me/export/<uuid:export_id>/download/",
        exports.DataExportDownloadApi.as_view(),
        name="me-export-download",
    ),
]
