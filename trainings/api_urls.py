"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from . import apis

urlpatterns = [
    path("datasets/", apis.DatasetListApi.as_view(), name="datasets"),
    path("datasets/<uuid:dataset_id>/", apis.DatasetDetailApi.as_view(), name="dataset-detail"),
    path(
        "datasets/<uuid:dataset_id>/images/",
        apis.DatasetImagesApi.as_view(),
        name="dataset-images",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/",
        apis.DatasetImageDetailApi.as_view(),
        name="dataset-image-detail",
    ),
    path(
        "datasets/<uuid:dataset_id>/images/<uuid:image_id>/thumbnail/",
        apis.DatasetImageThumbnailApi.as_view(),
        name="dataset-image-thumbnail",
    ),
    path(
        "datasets/<uuid:dataset_id>/report/", apis.DatasetReportApi.as_view(), name="dataset-report"
    ),
    path("models/", apis.LoraModelListApi.as_view(), name="models"),
    path("models/trigger-word/", apis.TriggerWordApi.as_view(), name="trigger-word"),
    path("models/<uuid:model_id>/", apis.LoraModelDetailApi.as_view(), name="model-detail"),
    path("trainings/", apis.TrainingRunListApi.as_view(), name="trainings"),
    path("trainings/<uuid:run_id>/", apis.TrainingRunDetailApi.as_view(), name="training-detail"),
    path(
        "trainings/<uuid:run_id>/cancel/",
        apis.TrainingRunCancelApi.as_view(),
        name="training-cancel",
    ),
    path(
        "trainings/<uuid:run_id>/retry/", apis.TrainingRunRetryApi.as_view(), name="training-retry"
    ),
]
