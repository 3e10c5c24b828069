"""Generated images: storing outputs, moderation, favourites, deletion, zips, avatars."""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services import user_avatar_set
from core import replicate_gateway
from core.exceptions import Conflict, NotFound
from likeness.scoring import NOT_SCORED, model_identity_vector, picture_likeness
from moderation.classifier import Classification

from .. import imaging, selectors
from ..models import GeneratedImage, Generation
from . import review
from .review import images_scan_pending

logger = logging.getLogger(__name__)

Moderation = GeneratedImage.Moderation


@dataclass
class _PreparedOutput:
    """One output downloaded, processed, scored, classified and written to storage; its row
    is not inserted yet."""

    image: GeneratedImage | None = None
    classified: Classification | None = None
    error: Exception | None = None


def _output_prepare(
    *, generation: Generation, index: int, url: str, seed: int | None, identity
) -> _PreparedOutput:
    """Everything but the row, from one decode: download, check, mark, thumbnail, likeness,
    safety scan, files."""
    try:
        data, _media_type = replicate_gateway.output_download(url=url)
        processed = imaging.output_process(
            data,
            # The platform and the generation only: a model's name can be a person's name,
            # and shared files travel far.
            description=(
                f"AI-generated image (generation {generation.id}, output {index + 1}) made on "
                "the Avatars platform."
            ),
            face_copy=identity is not None,
        )
        scored = (
            picture_likeness(processed.face_picture, identity=identity)
            if processed.face_picture is not None
            else NOT_SCORED
        )
        image = GeneratedImage(
            owner=generation.owner,  # loaded before the pool started: no query in a thread
            generation=generation,
            index=index,
            placeholder_color=processed.placeholder_color,
            placeholder=processed.placeholder,
            width=processed.width,
            height=processed.height,
            format=processed.format,
            size_bytes=len(processed.content) + len(processed.thumbnail),
            seed=seed,
            likeness=scored.likeness,
            has_face=scored.has_face,
            created_at=timezone.now(),
        )
        image.file.save(f"image.{processed.format}", ContentFile(processed.content), save=False)
        image.thumbnail.save("thumbnail.webp", ContentFile(processed.thumbnail), save=False)
    except Exception as error:  # raised by the caller once the others are stored
        return _PreparedOutput(error=error)
    try:
        # The bytes that are stored and served, as image_scan would read them back; through
        # the review module, whose classifier this is.
        classified = review.image_classify(processed.content)
    except Exception as error:  # stored, left pending: the retry scans it from storage
        return _PreparedOutput(image=image, error=error)
    return _PreparedOutput(image=image, classified=classified)


def _outputs_prepare(
    *, generation: Generation, todo: list[tuple[int, str]], seed: int | None, identity
) -> list[_PreparedOutput]:
    """Each output in a thread of a small pool, from its download to its scan: the downloads
    wait on the network together, and one output's scan (onnxruntime, which releases the GIL)
    runs while the next is decoded and thumbnailed (Pillow releases it too; IMAGE_DECODES_AT_ONCE
    still bounds the decodes, and so the memory). A 4-output generation then costs about its
    decodes plus one scan, where one output after another cost every decode and every scan."""
    if not todo:
        return []
    workers = max(1, min(len(todo), settings.GENERATION_OUTPUT_THREADS))
    # The files' paths name the owner: read here, as a thread would open a connection of its
    # own that nothing closes.
    _ = generation.owner
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outputs") as pool:
        futures = [
            pool.submit(
                _output_prepare,
                generation=generation,
                index=index,
                url=url,
                seed=seed,
                identity=identity,
            )
            for index, url in todo
        ]
        return [future.result() for future in futures]


def _images_insert(images: list[GeneratedImage]) -> list[GeneratedImage]:
    """Insert the rows in one statement; if a concurrent run stored some first (the unique
    (generation, index) constraint), one at a time, deleting the files of those that lost."""
    if not images:
        return []
    try:
        with transaction.atomic():
            GeneratedImage.objects.bulk_create(images)
        return images
    except IntegrityError:
        pass
    stored = []
    for image in images:
        try:
            with transaction.atomic():
                image.save(force_insert=True)
        except IntegrityError:
            _files_delete([image.file.name, image.thumbnail.name])
            continue
        stored.append(image)
    return stored


def generation_outputs_store(
    *, generation: Generation, urls: list[str], seed: int | None
) -> list[GeneratedImage]:
    """Copy each output into our storage (Replicate's URLs expire), score its likeness to the
    model's face identity (likeness.scoring) and scan it (review.py).

    The outputs are downloaded and processed at the same time (a small thread pool) and their
    rows inserted together. Safe to run twice, even at the same time: an output already stored
    is skipped, and the unique (generation, index) constraint settles a race (the loser's files
    are deleted). When one output fails, the others are stored and the first error is raised
    (a retry then fetches only what is missing).
    """
    existing = set(generation.images.values_list("index", flat=True))
    todo = [(index, url) for index, url in enumerate(urls) if index not in existing]
    identity = model_identity_vector(lora_model_id=generation.lora_model_id) if todo else None
    prepared = _outputs_prepare(generation=generation, todo=todo, seed=seed, identity=identity)
    stored = _images_insert([output.image for output in prepared if output.image is not None])
    errors = [output.error for output in prepared if output.error is not None]
    if errors:  # nothing is scanned until every output is stored (the retry scans them)
        raise errors[0]
    # Every output not decided yet, including those an earlier, interrupted run stored.
    classified = {
        output.image.index: output.classified for output in prepared if output.image is not None
    }
    images_scan_pending(generation=generation, classified=classified)
    return stored


def image_favourite_set(*, image: GeneratedImage, favourite: bool) -> GeneratedImage:
    GeneratedImage.objects.filter(pk=image.pk).update(is_favourite=favourite)
    image.is_favourite = favourite
    return image


def _files_delete(names: Iterable[str]) -> None:
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except OSError:  # already gone, or the storage hiccuped: the row goes anyway
                logger.warning("could not delete %s", name)


def image_delete(*, image: GeneratedImage) -> None:
    """Delete an image: its file, its thumbnail, its row (and so its share links)."""
    images_delete(images=[image])


def images_delete(*, images: Iterable[GeneratedImage]) -> int:
    images = list(images)
    with transaction.atomic():
        GeneratedImage.objects.filter(pk__in=[image.pk for image in images]).delete()
    _files_delete(
        name
        for image in images
        for name in (
            image.file.name,
            image.thumbnail.name,
            imaging.thumbnail_small_name(image.thumbnail.name),  # made on first request, if it was
        )
    )
    return len(images)


def image_metadata(image: GeneratedImage) -> dict:
    """Everything known about an image and how it was made (exports, zips)."""
    generation = image.generation
    return {
        "id": str(image.id),
        "file": f"{image.id}.{image.format}",
        "created_at": image.created_at,
        "width": image.width,
        "height": image.height,
        "format": image.format,
        "size_bytes": image.size_bytes,
        "seed": image.seed,
        "favourite": image.is_favourite,
        "moderation_state": image.moderation_state,
        "likeness": image.likeness,
        "has_face": image.has_face,
        "ai_generated": True,
        "generation": {
            "id": str(generation.id),
            "model": generation.model_label,
            "target": generation.target,
            "kind": generation.kind,
            "prompt": generation.prompt,
            "prompt_sent": generation.prompt_sent,
            "parameters": generation.parameters,
            "seed_requested": generation.seed,
            "seed_used": generation.seed_used,
            "metrics": generation.metrics,
            "cost_credits": generation.cost,
            "created_at": generation.created_at,
            "completed_at": generation.completed_at,
        },
    }


def images_zip(*, images: Iterable[GeneratedImage]) -> tempfile.SpooledTemporaryFile:
    """A zip of the images (stored as they are) and a metadata.json, ready to stream."""
    handle = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    rows = []
    with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
        for image in images:
            metadata = image_metadata(image)
            with default_storage.open(image.file.name, "rb") as source:
                archive.writestr(metadata["file"], source.read(), compress_type=zipfile.ZIP_STORED)
            rows.append(metadata)
        archive.writestr(
            "metadata.json",
            json.dumps(rows, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    handle.seek(0)
    return handle


def image_set_as_avatar(*, user, image: GeneratedImage):
    """Make one of your images your profile picture."""
    if image.owner_id != user.pk:
        raise NotFound("Unknown image.")
    if not selectors.image_viewable(viewer=selectors.Viewer.of(user), image=image):
        raise Conflict("This image cannot be used while it is being checked.")
    with default_storage.open(image.file.name, "rb") as handle:
        content = handle.read()
    return user_avatar_set(user=user, content=content)
