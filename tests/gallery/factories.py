"""Builders for gallery tests: a trained version on the simulator, ready models, and generated
images stored the way the app stores them (real files, thumbnails, placeholders)."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from gallery import imaging
from gallery.models import GeneratedImage, Generation, ImageDecision, ImageScan
from tests.replicate_sim.helpers import training_zip, version_trained_on_zip
from trainings.models import LoraModel, LoraVersion


@dataclass(frozen=True)
class TrainedVersion:
    owner: str
    name: str
    version_id: str


def train_version(simulator) -> TrainedVersion:
    """Train a FLUX LoRA once on the simulator (a few tenths of a second there)."""
    name, version_id = version_trained_on_zip(simulator, training_zip(), name_prefix="gallery")
    return TrainedVersion(owner=simulator.owner, name=name, version_id=version_id)


def ready_lora_model(user, trained: TrainedVersion | None, *, trigger_word: str, name: str):
    """A ready LoraModel of `user`; with `trained`, it runs on the simulator for real."""
    lora_model = LoraModel.objects.create(
        owner=user,
        name=name,
        trigger_word=trigger_word,
        replicate_owner=trained.owner if trained else "avatars",
        replicate_name=trained.name if trained else f"fake-{secrets.token_hex(4)}",
        status=LoraModel.Status.READY,
    )
    version = LoraVersion.objects.create(
        lora_model=lora_model,
        replicate_version_id=trained.version_id if trained else secrets.token_hex(32),
    )
    lora_model.current_version = version
    lora_model.save(update_fields=["current_version"])
    return lora_model


def picture(color=(200, 120, 60), size=(96, 64), fmt="WEBP") -> bytes:
    image = Image.new("RGB", size, color)
    ImageDraw.Draw(image).ellipse((10, 10, size[0] - 10, size[1] - 10), fill=(30, 60, 200))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def make_generation(user, *, lora_model=None, status=Generation.Status.SUCCEEDED, **fields):
    target = "black-forest-labs/flux-schnell"
    label = "FLUX schnell (default)"
    if lora_model is not None:
        version = lora_model.current_version
        target = f"{lora_model.replicate_full_name}:{version.replicate_version_id}"
        label = lora_model.name
    values = {
        "owner": user,
        "lora_model": lora_model,
        "lora_version": lora_model.current_version if lora_model else None,
        "target": target,
        "model_label": label,
        "prompt": "a portrait on a beach",
        "prompt_sent": "ZORVEK a portrait on a beach",
        "parameters": {"num_outputs": 1, "disable_safety_checker": False},
        "status": status,
        "cost": 4,
        **fields,
    }
    return Generation.objects.create(**values)


def make_image(
    user,
    *,
    generation=None,
    index=0,
    moderation=GeneratedImage.Moderation.APPROVED,
    created_at=None,
    color=(200, 120, 60),
    fmt="WEBP",
    content: bytes | None = None,
    **fields,
) -> GeneratedImage:
    """An image stored like an output: marked file, WebP thumbnail, placeholder. `content` is
    the output as Replicate would send it; without it, a small drawing in `color`."""
    generation = generation or make_generation(user)
    content = content if content is not None else picture(color, fmt=fmt)
    processed = imaging.output_process(content, description="test")
    image = GeneratedImage(
        owner=user,
        generation=generation,
        index=index,
        placeholder_color=processed.placeholder_color,
        placeholder=processed.placeholder,
        width=processed.width,
        height=processed.height,
        format=processed.format,
        size_bytes=len(processed.content) + len(processed.thumbnail),
        seed=42,
        created_at=created_at or timezone.now(),
        **fields,
    )
    image.file.save(f"image.{processed.format}", ContentFile(processed.content), save=False)
    image.thumbnail.save("thumbnail.webp", ContentFile(processed.thumbnail), save=False)
    image.save()
    if moderation != GeneratedImage.Moderation.PENDING:
        # As if scanned (or decided): factories do not run the classifier.
        GeneratedImage.objects.filter(pk=image.pk).update(moderation_state=moderation)
        image.refresh_from_db()
    return image


def gallery_one_of_everything(user) -> None:
    """One of every gallery thing a user can own, with stored files (for account deletion)."""
    from gallery.services import collection_create, collection_images_add, share_link_create

    generation = make_generation(user)
    generation.init_image.save("image.png", ContentFile(picture(fmt="PNG")), save=True)
    image = make_image(user, generation=generation)
    # Its scan and a moderator's decision on it (they go with the image).
    ImageScan.objects.create(image=image, verdict="approved", scores={"FACE_FEMALE": 0.8})
    ImageDecision.objects.create(image=image, decision="approved", reason="checked")
    collection = collection_create(user=user, name="Holidays")
    collection_images_add(collection=collection, images=[image])
    share_link_create(user=user, image=image)
    share_link_create(user=user, collection=collection)
    # The starter pack of the user's model (when they have one), its item on a generation.
    from gallery.models import StarterPack, StarterPackItem
    from trainings.models import LoraModel

    lora_model = LoraModel.objects.filter(owner=user).first()
    if lora_model is not None:
        pack = StarterPack.objects.create(lora_model=lora_model, owner=user)
        StarterPackItem.objects.create(pack=pack, style_name="Studio", generation=generation)
