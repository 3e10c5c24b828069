"""Writes of the gallery app, split by entity: generations, images, collections, share links,
and acting on several images at once."""

from .bulk import images_bulk_apply, images_zip_build
from .collections import (
    collection_create,
    collection_delete,
    collection_images_add,
    collection_images_remove,
    collection_update,
    images_move,
)
from .generations import (
    GenerationLifecycle,
    GenerationRequest,
    generation_cancel,
    generation_create,
    generation_jobs,
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
    "GenerationLifecycle",
    "GenerationRequest",
    "collection_create",
    "collection_delete",
    "collection_images_add",
    "collection_images_remove",
    "collection_update",
    "generated_image_moderate",
    "generation_cancel",
    "generation_create",
    "generation_jobs",
    "generation_outputs_store",
    "image_delete",
    "image_favourite_set",
    "image_metadata",
    "image_set_as_avatar",
    "images_bulk_apply",
    "images_delete",
    "images_move",
    "images_zip",
    "images_zip_build",
    "share_link_create",
    "share_link_resolve",
    "share_link_revoke",
    "share_link_token",
    "share_link_viewed",
]
