"""Pages of the consent selfie: taken on a model's page; checked on the moderators' tab."""

from django.urls import path

from . import views

app_name = "likeness"

urlpatterns = [
    path("likeness/models/<uuid:model_id>/selfie/", views.selfie_take, name="selfie-take"),
    path("moderation/identity/", views.identity_review, name="review"),
    path(
        "moderation/identity/<uuid:check_id>/decide/",
        views.identity_decide,
        name="review-decide",
    ),
    path(
        "moderation/identity/<uuid:check_id>/selfie/",
        views.identity_selfie_file,
        name="review-selfie",
    ),
    path(
        "moderation/identity/<uuid:check_id>/photos/<uuid:image_id>/",
        views.identity_photo_file,
        name="review-photo",
    ),
]
