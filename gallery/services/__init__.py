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
    generation_outputs_store,
    image_delete,
    image_favourite_set,
    image_metadata,
    image_set_as_avatar,
    images_delete,
    images_zip,
)
from .presets import (
    preset_request_apply,
    style_lora_example_from_image,
    style_preset_example_from_image,
)
from .review import (
    image_decide,
    image_report_create,
    image_scan,
    images_scan_pending,
    review_reason,
)
from .sharing import (
    share_link_create,
    share_link_resolve,
    share_link_revoke,
    share_link_token,
    share_link_viewed,
)
from .style_examples import style_example_make

__all__ = [
    "GenerationLifecycle",
    "GenerationRequest",
    "collection_create",
    "collection_delete",
    "collection_images_add",
    "collection_images_remove",
    "collection_update",
    "generation_cancel",
    "generation_create",
    "generation_jobs",
    "generation_outputs_store",
    "image_decide",
    "image_delete",
    "image_favourite_set",
    "image_metadata",
    "image_report_create",
    "image_scan",
    "image_set_as_avatar",
    "images_bulk_apply",
    "images_delete",
    "images_move",
    "images_scan_pending",
    "images_zip",
    "images_zip_build",
    "preset_request_apply",
    "review_reason",
    "share_link_create",
    "share_link_resolve",
    "share_link_revoke",
    "share_link_token",
    "share_link_viewed",
    "style_example_make",
    "style_lora_example_from_image",
    "style_preset_example_from_image",
]
