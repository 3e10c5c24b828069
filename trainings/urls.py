from django.urls import path

from . import views

app_name = "trainings"

urlpatterns = [
    path("", views.trainings_home, name="home"),
    path("datasets/new/", views.dataset_create, name="dataset-create"),
    path("datasets/<uuid:dataset_id>/", views.dataset_detail, name="dataset"),
    path("datasets/<uuid:dataset_id>/images/", views.dataset_images_partial, name="dataset-images"),
    path("datasets/<uuid:dataset_id>/upload/", views.dataset_upload, name="dataset-upload"),
    path("datasets/<uuid:dataset_id>/delete/", views.dataset_delete, name="dataset-delete"),
    path(
        "datasets/<uuid:dataset_id>/face-consent/",
        views.dataset_face_consent,
        name="dataset-face-consent",
    ),
    path(
        "datasets/<uuid:dataset_id>/photos/keep/",
        views.dataset_photos_keep,
        name="dataset-photos-keep",
    ),
    path(
        "datasets/<uuid:dataset_id>/photos/delete/",
        views.dataset_photos_delete,
        name="dataset-photos-delete",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/caption/",
        views.dataset_image_caption,
        name="dataset-image-caption",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/confirm-face/",
        views.dataset_image_face_confirm,
        name="dataset-image-face-confirm",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/subject/",
        views.dataset_image_subject_confirm,
        name="dataset-image-subject-confirm",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/delete/",
        views.dataset_image_delete,
        name="dataset-image-delete",
    ),
    path("models/new/", views.lora_model_create, name="model-create"),
    path("models/<uuid:model_id>/", views.lora_model_detail, name="model"),
    path("models/<uuid:model_id>/delete/", views.lora_model_delete, name="model-delete"),
    path("runs/<uuid:run_id>/", views.training_run_detail, name="run"),
    path("runs/<uuid:run_id>/status/", views.training_run_status_partial, name="run-status"),
    path("runs/<uuid:run_id>/cancel/", views.training_run_cancel, name="run-cancel"),
    path("runs/<uuid:run_id>/retry/", views.training_run_retry, name="run-retry"),
]
