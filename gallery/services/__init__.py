"""Writes of the gallery app, split by entity: generations, images, collections, share links."""

from .collections import (
    collection_create,
    collection_delete,
    collection_images_add,
    collection_images_remove,
    collection_update,
    images_move,
)
from .generations import (
    GenerationRequest,
    generation_apply_remote,
    generation_cancel,
    generation_create,
    generation_fail,
    generation_refresh,
    generation_submit,
    generations_reconcile,
)
from .images import (
    generated_image_moderate,
    generation_outputs_store,
    image_delete,
    image_favourite_set,
    image_metadata,
    image_set_as_avatar,
    images_delete,
    images_zip,
)
from .sharing import (
    share_link_create,
    share_link_resolve,
    share_link_revoke,
    share_link_token,
    share_link_viewed,
)

__all__ = [
    "GenerationRequest",
    "collection_create",
    "collection_delete",
    "collection_images_add",
    "collection_images_remove",
    "collection_update",
    "generated_image_moderate",
    "generation_apply_remote",
    "generation_cancel",
    "generation_create",
    "generation_fail",
    "generation_outputs_store",
    "generation_refresh",
    "generation_submit",
    "generations_reconcile",
    "image_delete",
    "image_favourite_set",
    "image_metadata",
    "image_set_as_avatar",
    "images_delete",
    "images_move",
    "images_zip",
    "share_link_create",
    "share_link_resolve",
    "share_link_revoke",
    "share_link_token",
    "share_link_viewed",
]
