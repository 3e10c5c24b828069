"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from .apis import catalogue, collections, generations, images, review, sharing, simple_image

urlpatterns = [
    path("generations/", generations.GenerationListApi.as_view(), name="gallery-generations"),
    path(
        "generations/<uuid:generation_id>/",
        generations.GenerationDetailApi.as_view(),
        name="gallery-generation-detail",
    ),
    path(
        "generations/<uuid:generation_id>/cancel/",
        generations.GenerationCancelApi.as_view(),
        name="gallery-generation-cancel",
    ),
    path("images/", images.ImageListApi.as_view(), name="gallery-images"),
    path("images/bulk/", images.ImageBulkApi.as_view(), name="gallery-images-bulk"),
    path("images/zip/", images.ImageZipApi.as_view(), name="gallery-images-zip"),
    path("images/<uuid:image_id>/", images.ImageDetailApi.as_view(), name="gallery-image-detail"),
    path(
        "images/<uuid:image_id>/favourite/",
        images.ImageFavouriteApi.as_view(),
        name="gallery-image-favourite",
    ),
    path("images/<uuid:image_id>/file/", images.ImageFileApi.as_view(), name="gallery-image-file"),
    path(
        "images/<uuid:image_id>/thumbnail/",
        images.ImageThumbnailApi.as_view(),
        name="gallery-image-thumbnail",
    ),
    path(
        "images/<uuid:image_id>/download/",
        images.ImageDownloadApi.as_view(),
        name="gallery-image-download",
    ),
    path(
        "images/<uuid:image_id>/avatar/",
        images.ImageAvatarApi.as_view(),
        name="gallery-image-avatar",
    ),
    path("collections/", collections.CollectionListApi.as_view(), name="gallery-collections"),
    path(
        "collections/<uuid:collection_id>/",
        collections.CollectionDetailApi.as_view(),
        name="gallery-collection-detail",
    ),
    path(
        "collections/<uuid:collection_id>/images/",
        collections.CollectionImagesApi.as_view(),
        name="gallery-collection-images",
    ),
    path("share-links/", sharing.ShareLinkListApi.as_view(), name="gallery-share-links"),
    path(
        "share-links/<uuid:link_id>/",
        sharing.ShareLinkDetailApi.as_view(),
        name="gallery-share-link-detail",
    ),
    path("reports/", review.ReportCreateApi.as_view(), name="reports"),
    path("moderation/queue/", review.ReviewQueueApi.as_view(), name="moderation-queue"),
    path(
        "moderation/<uuid:image_id>/decision/",
        review.ReviewDecisionApi.as_view(),
        name="moderation-decision",
    ),
    path(
        "moderation/<uuid:image_id>/file/",
        review.ReviewImageFileApi.as_view(),
        name="moderation-image-file",
    ),
    path(
        "moderation/blocked-prompts/",
        review.PromptBlockListApi.as_view(),
        name="moderation-blocked-prompts",
    ),
    path("moderation/appeal/", review.SuspensionAppealApi.as_view(), name="moderation-appeal"),
    path("presets/", catalogue.StylePresetListApi.as_view(), name="gallery-presets"),
    path("styles/", catalogue.StyleLoraListApi.as_view(), name="gallery-styles"),
    path(
        "image/<str:model_name>",
        simple_image.SimpleImageApi.as_view(),
        name="gallery-simple-image",
    ),
]
