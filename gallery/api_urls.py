"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from . import apis

urlpatterns = [
    path("generations/", apis.GenerationListApi.as_view(), name="gallery-generations"),
    path(
        "generations/<uuid:generation_id>/",
        apis.GenerationDetailApi.as_view(),
        name="gallery-generation-detail",
    ),
    path(
        "generations/<uuid:generation_id>/cancel/",
        apis.GenerationCancelApi.as_view(),
        name="gallery-generation-cancel",
    ),
    path("images/", apis.ImageListApi.as_view(), name="gallery-images"),
    path("images/bulk/", apis.ImageBulkApi.as_view(), name="gallery-images-bulk"),
    path("images/zip/", apis.ImageZipApi.as_view(), name="gallery-images-zip"),
    path("images/<uuid:image_id>/", apis.ImageDetailApi.as_view(), name="gallery-image-detail"),
    path(
        "images/<uuid:image_id>/favourite/",
        apis.ImageFavouriteApi.as_view(),
        name="gallery-image-favourite",
    ),
    path("images/<uuid:image_id>/file/", apis.ImageFileApi.as_view(), name="gallery-image-file"),
    path(
        "images/<uuid:image_id>/thumbnail/",
        apis.ImageThumbnailApi.as_view(),
        name="gallery-image-thumbnail",
    ),
    path(
        "images/<uuid:image_id>/download/",
        apis.ImageDownloadApi.as_view(),
        name="gallery-image-download",
    ),
    path(
        "images/<uuid:image_id>/avatar/",
        apis.ImageAvatarApi.as_view(),
        name="gallery-image-avatar",
    ),
    path("collections/", apis.CollectionListApi.as_view(), name="gallery-collections"),
    path(
        "collections/<uuid:collection_id>/",
        apis.CollectionDetailApi.as_view(),
        name="gallery-collection-detail",
    ),
    path(
        "collections/<uuid:collection_id>/images/",
        apis.CollectionImagesApi.as_view(),
        name="gallery-collection-images",
    ),
    path("share-links/", apis.ShareLinkListApi.as_view(), name="gallery-share-links"),
    path(
        "share-links/<uuid:link_id>/",
        apis.ShareLinkDetailApi.as_view(),
        name="gallery-share-link-detail",
    ),
    path("presets/", apis.StylePresetListApi.as_view(), name="gallery-presets"),
    path("styles/", apis.StyleLoraListApi.as_view(), name="gallery-styles"),
    path("image/<str:model_name>", apis.SimpleImageApi.as_view(), name="gallery-simple-image"),
]
