"""Pages of the `gallery` namespace: /generate/, /generations/…, /gallery/…, /s/<token>/, and
the moderators' /moderation/ pages."""

from django.urls import path

from .views import catalogue, collections, generations, images, review, sharing

app_name = "gallery"

urlpatterns = [
    path("generate/", generations.generate, name="generate"),
    # The pack and the model are in the form: a catalogue pack is nobody's object.
    path("generate/example/", catalogue.style_example_make, name="style-example-make"),
    path("generations/<uuid:generation_id>/", generations.generation_detail, name="generation"),
    path(
        "generations/<uuid:generation_id>/status/",
        generations.generation_status,
        name="generation_status",
    ),
    path(
        "generations/<uuid:generation_id>/cancel/",
        generations.generation_cancel,
        name="generation_cancel",
    ),
    path(
        "generations/<uuid:generation_id>/input/<str:kind>/",
        generations.generation_input,
        name="generation_input",
    ),
    path("gallery/", images.gallery, name="gallery"),
    path("gallery/bulk/", images.bulk, name="bulk"),
    path("gallery/images/<uuid:image_id>/", images.image_detail, name="image"),
    path(
        "gallery/images/<uuid:image_id>/favourite/", images.image_favourite, name="image_favourite"
    ),
    path("gallery/images/<uuid:image_id>/delete/", images.image_delete, name="image_delete"),
    path("gallery/images/<uuid:image_id>/avatar/", images.image_avatar, name="image_avatar"),
    path(
        "gallery/images/<uuid:image_id>/collections/",
        images.image_collections,
        name="image_collections",
    ),
    path("gallery/images/<uuid:image_id>/share/", sharing.image_share, name="image_share"),
    path("gallery/images/<uuid:image_id>/<str:variant>/", images.image_file, name="image_file"),
    path("gallery/collections/", collections.collections, name="collections"),
    path(
        "gallery/collections/<uuid:collection_id>/",
        collections.collection_detail,
        name="collection",
    ),
    path(
        "gallery/collections/<uuid:collection_id>/delete/",
        collections.collection_delete,
        name="collection_delete",
    ),
    path(
        "gallery/collections/<uuid:collection_id>/share/",
        sharing.collection_share,
        name="collection_share",
    ),
    path("gallery/shares/", sharing.share_links, name="share_links"),
    path(
        "gallery/shares/<uuid:link_id>/revoke/", sharing.share_link_revoke, name="share_link_revoke"
    ),
    path("gallery/starter-pack/<uuid:model_id>/", catalogue.starter_pack, name="starter-pack"),
    path(
        "gallery/catalogue/<str:kind>/<str:pk>/",
        catalogue.catalogue_image,
        name="catalogue-image",
    ),
    path("s/<str:token>/", sharing.shared, name="shared"),
    # Before shared_file, whose <variant> would otherwise match "report".
    path("s/<str:token>/<uuid:image_id>/report/", sharing.share_report, name="share-report"),
    path("s/<str:token>/<uuid:image_id>/<str:variant>/", sharing.shared_file, name="shared_file"),
    # Moderators only (anyone else: 404).
    path("moderation/", review.review_queue, name="review-queue"),
    path("moderation/decide/<uuid:image_id>/", review.review_decide, name="review-decide"),
    path("moderation/bulk/", review.review_bulk, name="review-bulk"),
    path("moderation/prompts/", review.review_prompts, name="review-prompts"),
    path(
        "moderation/images/<uuid:image_id>/<str:variant>/",
        review.review_image_file,
        name="review-image-file",
    ),
]
