"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from .apis import dataset_images, datasets, lora_models, runs

urlpatterns = [
    path("datasets/", datasets.DatasetListApi.as_view(), name="datasets"),
    path("datasets/<uuid:dataset_id>/", datasets.DatasetDetailApi.as_view(), name="dataset-detail"),
    path(
        "datasets/<uuid:dataset_id>/images/",
        dataset_images.DatasetImagesApi.as_view(),
        name="dataset-images",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/",
        dataset_images.DatasetImageDetailApi.as_view(),
        name="dataset-image-detail",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/thumbnail/",
        dataset_images.DatasetImageThumbnailApi.as_view(),
        name="dataset-image-thumbnail",
    ),
    path(
        "datasets/<uuid:dataset_id>/report/",
        datasets.DatasetReportApi.as_view(),
        name="dataset-report",
    ),
    path("models/", lora_models.LoraModelListApi.as_view(), name="models"),
    path("models/trigger-word/", lora_models.TriggerWordApi.as_view(), name="trigger-word"),
    path("models/<uuid:model_id>/", lora_models.LoraModelDetailApi.as_view(), name="model-detail"),
    path("trainings/", runs.TrainingRunListApi.as_view(), name="trainings"),
    path("trainings/<uuid:run_id>/", runs.TrainingRunDetailApi.as_view(), name="training-detail"),
    path(
        "trainings/<uuid:run_id>/cancel/",
        runs.TrainingRunCancelApi.as_view(),
        name="training-cancel",
    ),
    path(
        "trainings/<uuid:run_id>/retry/", runs.TrainingRunRetryApi.as_view(), name="training-retry"
    ),
]
