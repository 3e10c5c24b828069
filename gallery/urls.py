"""Pages of the `gallery` namespace: /generate/, /generations/…, /gallery/…, and /s/<token>/."""

from django.urls import path

from . import views

app_name = "gallery"

urlpatterns = [
    path("generate/", views.generate, name="generate"),
    path("generations/<uuid:generation_id>/", views.generation_detail, name="generation"),
    path(
        "generations/<uuid:generation_id>/status/",
        views.generation_status,
        name="generation_status",
    ),
    path(
        "generations/<uuid:generation_id>/cancel/",
        views.generation_cancel,
        name="generation_cancel",
    ),
    path(
        "generations/<uuid:generation_id>/input/<str:kind>/",
        views.generation_input,
        name="generation_input",
    ),
    path("gallery/", views.gallery, name="gallery"),
    path("gallery/bulk/", views.bulk, name="bulk"),
    path("gallery/images/<uuid:image_id>/", views.image_detail, name="image"),
    path(
        "gallery/images/<uuid:image_id>/favourite/", views.image_favourite, name="image_favourite"
    ),
    path("gallery/images/<uuid:image_id>/delete/", views.image_delete, name="image_delete"),
    path("gallery/images/<uuid:image_id>/avatar/", views.image_avatar, name="image_avatar"),
    path(
        "gallery/images/<uuid:image_id>/collections/",
        views.image_collections,
        name="image_collections",
    ),
    path("gallery/images/<uuid:image_id>/share/", views.image_share, name="image_share"),
    path("gallery/images/<uuid:image_id>/<str:variant>/", views.image_file, name="image_file"),
    path("gallery/collections/", views.collections, name="collections"),
    path(
        "gallery/collections/<uuid:collection_id>/",
        views.collection_detail,
        name="collection",
    ),
    path(
        "gallery/collections/<uuid:collection_id>/delete/",
        views.collection_delete,
        name="collection_delete",
    ),
    path(
        "gallery/collections/<uuid:collection_id>/share/",
        views.collection_share,
        name="collection_share",
    ),
    path("gallery/shares/", views.share_links, name="share_links"),
    path(
        "gallery/shares/<uuid:link_id>/revoke/", views.share_link_revoke, name="share_link_revoke"
    ),
    path("gallery/catalogue/<str:kind>/<str:pk>/", views.catalogue_image, name="catalogue-image"),
    path("s/<str:token>/", views.shared, name="shared"),
    path("s/<str:token>/<uuid:image_id>/<str:variant>/", views.shared_file, name="shared_file"),
]
