"""What the accounts app needs from the gallery: usage counts, account erasure, data export.

`generations_per_day` counts images asked for (each request counts its `num_outputs`), not
requests: a plan's "generations per day" is a number of pictures. Failed and canceled requests
do not count.
"""

import contextlib
import logging

from django.db.models import Sum

from core import replicate_gateway
from core.files import storage_folder_delete
from core.models import WebhookDelivery
from core.remote_jobs import remote_files_forget

from .models import Collection, GeneratedImage, Generation, ShareLink
from .services.images import image_metadata

logger = logging.getLogger(__name__)


def count_generated_images(*, user, since=None) -> int:
    generations = Generation.objects.filter(owner=user).exclude(
        status__in=[Generation.Status.FAILED, Generation.Status.CANCELED]
    )
    if since is not None:
        generations = generations.filter(created_at__gte=since)
    return generations.aggregate(total=Sum("num_outputs"))["total"] or 0


def gallery_storage_bytes(*, user, since=None) -> int:
    return (
        GeneratedImage.objects.filter(owner=user).aggregate(total=Sum("size_bytes"))["total"] or 0
    )


def erase_gallery_data(*, user) -> None:
    """Running predictions are canceled and the init images and masks uploaded for them
    deleted from Replicate, then files, then rows (webhook deliveries of the predictions
    included).

    Safe to run again after a failure: whatever is already gone counts as done.
    """
    running = Generation.objects.filter(
        owner=user,
        status__in=Generation.ACTIVE,
        replicate_id__isnull=False,
    )
    for prediction_id in running.values_list("replicate_id", flat=True):
        with contextlib.suppress(replicate_gateway.ReplicateServiceError):
            replicate_gateway.prediction_cancel(prediction_id=prediction_id)
    # Normally deleted when each generation ended; a failure then leaves them here, and a
    # failure now fails the erasure, which is retried.
    for generation in Generation.objects.filter(owner=user).only("pk", "replicate_file_ids"):
        if generation.replicate_file_ids:
            remote_files_forget(job=generation)
    for folder in user.storage_folders:
        storage_folder_delete(f"gallery/{folder}")
    # Delivery rows name the user's predictions: they go with them.
    prediction_ids = Generation.objects.filter(owner=user).exclude(replicate_id=None)
    WebhookDelivery.objects.filter(
        remote_id__in=list(prediction_ids.values_list("replicate_id", flat=True))
    ).delete()
    ShareLink.objects.filter(owner=user).delete()
    Collection.objects.filter(owner=user).delete()
    GeneratedImage.objects.filter(owner=user).delete()
    Generation.objects.filter(owner=user).delete()


def export_gallery(*, user, archive) -> None:
    """Every image as stored (with its AI-generated mark) and a JSON of how each was made."""
    images = GeneratedImage.objects.filter(owner=user).select_related("generation")
    rows = []
    for image in images.order_by("created_at"):
        metadata = image_metadata(image)
        if image.moderation_state != GeneratedImage.Moderation.APPROVED:
            # Held and rejected pictures are shown to moderators only: listed, never exported.
            metadata["file"] = None
            rows.append(metadata)
            continue
        try:
            archive.add_storage_file(f"gallery/{metadata['file']}", image.file.name)
        except FileNotFoundError:
            logger.warning("export of user %s: %s is missing", user.pk, image.file.name)
            metadata["file"] = None
        rows.append(metadata)
    archive.add_json("gallery/images.json", rows)
    archive.add_json(
        "gallery/collections.json",
        [
            {
                "id": str(collection.id),
                "name": collection.name,
                "description": collection.description,
                "created_at": collection.created_at,
                "images": [str(pk) for pk in collection.images.values_list("id", flat=True)],
            }
            for collection in Collection.objects.filter(owner=user)
        ],
    )
    archive.add_json(
        "gallery/generations.json",
        [
            {
                "id": str(generation.id),
                "status": generation.status,
                "model": generation.model_label,
                "kind": generation.kind,
                "prompt": generation.prompt,
                "parameters": generation.parameters,
                "cost_credits": generation.cost,
                "error": generation.error_message,
                "created_at": generation.created_at,
                "completed_at": generation.completed_at,
            }
            for generation in Generation.objects.filter(owner=user).order_by("created_at")
        ],
    )
    archive.add_json(
        "gallery/share_links.json",
        [
            {
                "id": str(link.id),
                "image": str(link.image_id) if link.image_id else None,
                "collection": str(link.collection_id) if link.collection_id else None,
                "created_at": link.created_at,
                "expires_at": link.expires_at,
                "revoked_at": link.revoked_at,
                "views": link.view_count,
            }
            for link in ShareLink.objects.filter(owner=user).order_by("created_at")
        ],
    )
