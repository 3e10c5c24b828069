"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from . import apis

urlpatterns = [
    path("models/<uuid:model_id>/selfie/", apis.SelfieApi.as_view(), name="model-selfie"),
    path(
        "models/<uuid:model_id>/identity-check/",
        apis.IdentityCheckApi.as_view(),
        name="model-identity-check",
    ),
    path(
        "moderation/identity-checks/",
        apis.IdentityCheckQueueApi.as_view(),
        name="moderation-identity-checks",
    ),
    path(
        "moderation/identity-checks/<uuid:check_id>/decision/",
        apis.IdentityCheckDecisionApi.as_view(),
        name="moderation-identity-check-decision",
    ),
]
