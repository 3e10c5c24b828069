"""Generations (requests sent to Replicate), the images they produce, and how people keep and
share them: collections, favourites, share links. Admins curate style presets and style LoRAs.

Every stored file of a user lives under `gallery/<user id>/` so account erasure can delete the
folder. Admin-managed examples live under `gallery/catalogue/`.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from core.models import ReplicateJob, job_status_choices


def _user_folder(instance, kind: str, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    # Named by the opaque id: a presigned URL shows no user number.
    return f"gallery/{instance.owner.public_id}/{kind}/{uuid.uuid4().hex}.{extension}"


def generation_input_upload_to(instance, filename):
    return _user_folder(instance, "inputs", filename)


def image_upload_to(instance, filename):
    return _user_folder(instance, "images", filename)


def thumbnail_upload_to(instance, filename):
    return _user_folder(instance, "thumbnails", filename)


def catalogue_upload_to(instance, filename):
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"gallery/catalogue/{uuid.uuid4().hex}.{extension}"


class StylePreset(models.Model):
    """A style pack an admin curates: a prompt template (`{trigger}` stands for the model's
    trigger word), the generation parameters it suits and, optionally, a style LoRA."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    prompt_template = models.TextField(
        max_length=2000,
        help_text="Use {trigger} where the person's trigger word goes, e.g. "
        "“a studio portrait of {trigger}, soft light”.",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text="Generation parameters it applies unless the person sets them, e.g. "
        '{"aspect_ratio": "4:5", "guidance_scale": 3.5, "num_inference_steps": 32}.',
    )
    style_lora = models.ForeignKey(
        "StyleLora",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="presets",
        help_text="A style LoRA it adds, unless the person chooses another.",
    )
    in_starter_pack = models.BooleanField(
        default=False, help_text="Made with every newly trained model (one picture each)."
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "style pack"

    def __str__(self):
        return self.name

    @property
    def aspect_ratio(self) -> str:
        return str(self.parameters.get("aspect_ratio", "")) if self.parameters else ""

    def prompt_for(self, trigger_word: str) -> str:
        return self.prompt_template.replace("{trigger}", trigger_word)

    @property
    def example_path(self) -> str | None:
        """Its example picture: the viewer's own best one in this style when the selector found
        it (`own_example_id`), else the first example an admin chose."""
        own = getattr(self, "own_example_id", None)
        if own is not None:
            return reverse("gallery:image_file", args=[own, "thumbnail"])
        example = next(iter(self.examples.all()), None)
        if example is None:
            return None
        return reverse("gallery:catalogue-image", kwargs={"kind": "example", "pk": example.pk})

    def clean(self):
        from .services.presets import preset_parameters_check  # services import the models

        self.parameters = preset_parameters_check(
            self.parameters, has_extra_lora=self.style_lora_id is not None
        )
        if "{trigger}" not in (self.prompt_template or ""):
            raise ValidationError({"prompt_template": "Put {trigger} where the person goes."})


class StylePresetExample(models.Model):
    """An example picture of what a pack gives: a copy of a picture made on the platform (the
    source may be deleted later; the copy stays)."""

    preset = models.ForeignKey(StylePreset, on_delete=models.CASCADE, related_name="examples")
    image = models.ImageField(upload_to=catalogue_upload_to, max_length=255)
    position = models.PositiveSmallIntegerField(default=0)
    source_image = models.ForeignKey(
        "GeneratedImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source_note = models.CharField(
        max_length=300, blank=True, help_text="Where the picture came from, kept when it is gone."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"Example of {self.preset}"


class StyleLora(models.Model):
    """A style LoRA from the admin's catalogue, applied as the second (`extra_lora`) LoRA."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    extra_lora = models.CharField(
        max_length=300,
        help_text="Replicate owner/model[/version], a Hugging Face or CivitAI URL, or a "
        ".safetensors URL.",
    )
    default_scale = models.FloatField(
        default=1.0, validators=[MinValueValidator(-1.0), MaxValueValidator(3.0)]
    )
    trigger_phrase = models.CharField(
        max_length=100, blank=True, help_text="Words added to the prompt to activate the style."
    )
    example_image = models.ImageField(upload_to=catalogue_upload_to, blank=True, max_length=255)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "style LoRA"
        verbose_name_plural = "style LoRAs"

    def __str__(self):
        return self.name


class Generation(ReplicateJob):
    """One prediction request on Replicate: 1 to 4 outputs of one model with one set of inputs."""

    Status = job_status_choices(processing="Generating", succeeded="Done")

    class Kind(models.TextChoices):
        TEXT2IMG = "text2img", "Text to image"
        IMG2IMG = "img2img", "Image to image"
        INPAINT = "inpaint", "Inpainting"

    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        SIMPLE_API = "simple_api", "Simple API"

    CREDIT_REFERENCE_PREFIX = "generation"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations"
    )
    # None: the platform's default model (black-forest-labs/flux-schnell).
    lora_model = models.ForeignKey(
        "trainings.LoraModel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="generations",
    )
    lora_version = models.ForeignKey(
        "trainings.LoraVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What ran, kept when the model is deleted: "owner/name:version" or "owner/name".
    target = models.CharField(max_length=200)
    model_label = models.CharField(max_length=120, help_text="The model's name at the time.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT2IMG)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WEB)
    prompt = models.TextField(max_length=2000, help_text="What the person wrote.")
    prompt_sent = models.TextField(max_length=2200, help_text="With the trigger word added.")
    # Every input sent upstream except prompt, image and mask (those are above and below).
    parameters = models.JSONField(default=dict)
    seed = models.BigIntegerField(null=True, blank=True, help_text="Seed asked for.")
    seed_used = models.BigIntegerField(null=True, blank=True)
    num_outputs = models.PositiveSmallIntegerField(default=1)
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    batch_index = models.PositiveSmallIntegerField(default=0)
    style_preset = models.ForeignKey(
        StylePreset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    style_lora = models.ForeignKey(
        StyleLora, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    extra_lora_model = models.ForeignKey(
        "trainings.LoraModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    init_image = models.FileField(upload_to=generation_input_upload_to, blank=True, max_length=255)
    init_image_url = models.URLField(max_length=1000, blank=True)
    mask = models.FileField(upload_to=generation_input_upload_to, blank=True, max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    cost = models.PositiveIntegerField(default=0, help_text="Credits reserved.")
    # A prompt rule whose action is "review" matched: every output waits for a moderator.
    review_category = models.CharField(max_length=20, blank=True)

    def __str__(self):
        return f"{self.model_label}: {self.prompt[:40]}"

    @property
    def is_default_model(self) -> bool:
        return not self.target.count(":")


class GeneratedImage(models.Model):
    """One output of a generation, copied into our storage with its thumbnail and placeholder."""

    class Moderation(models.TextChoices):
        PENDING = "pending", "Being checked"
        HELD = "held", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generated_images"
    )
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField(help_text="Position in the prediction's output.")
    file = models.FileField(upload_to=image_upload_to, max_length=255)
    thumbnail = models.FileField(upload_to=thumbnail_upload_to, max_length=255)
    placeholder_color = models.CharField(max_length=7, help_text="Dominant colour, #rrggbb.")
    placeholder = models.TextField(
        max_length=1500, blank=True, help_text="A tiny blurred WebP as a data: URI."
    )
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=4, help_text="webp, jpg or png.")
    size_bytes = models.PositiveBigIntegerField(default=0, help_text="Image and thumbnail.")
    seed = models.BigIntegerField(null=True, blank=True)
    moderation_state = models.CharField(
        max_length=10, choices=Moderation.choices, default=Moderation.PENDING
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderation_reason = models.CharField(
        max_length=300, blank=True, help_text="Why it is held or was rejected, for its owner."
    )
    is_favourite = models.BooleanField(default=False)
    # How much it looks like the person the model was trained on (likeness.faces), scored when
    # it is stored: null when not scored (the model has no face identity: no consent, or the
    # platform's default model) or when no face was found (`has_face` False).
    likeness = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(100)], help_text="0-100."
    )
    has_face = models.BooleanField(
        null=True, blank=True, help_text="Whether a face was found; null: not looked for."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "index"], name="gallery_image_unique_output"
            ),
            models.CheckConstraint(
                condition=Q(likeness__isnull=True) | Q(likeness__lte=100),
                name="gallery_image_likeness_range",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at", "-id"]),
            models.Index(fields=["owner", "moderation_state", "-created_at"]),
        ]

    def __str__(self):
        return f"Image {self.id}"

    @property
    def media_type(self) -> str:
        return {"jpg": "image/jpeg", "png": "image/png"}.get(self.format, "image/webp")

    @property
    def is_visible(self) -> bool:
        return self.moderation_state == self.Moderation.APPROVED

    @property
    def download_filename(self) -> str:
        return f"avatars-{self.id}.{self.format}"

    @property
    def looks_like_owner(self) -> bool:
        return self.likeness is not None and self.likeness >= LOOKS_LIKE_ME


# A likeness from which a picture counts as "looks like me" (likeness.faces: 50 is dlib's
# same-person threshold).
LOOKS_LIKE_ME = 50


class Collection(models.Model):
    """A named set of images (also used as a campaign): a name, a description, counts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gallery_collections"
    )
    name = models.CharField(max_length=80)
    description = models.TextField(max_length=2000, blank=True)
    images = models.ManyToManyField(GeneratedImage, related_name="collections", blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="gallery_collection_unique_name"),
        ]

    def __str__(self):
        return self.name


class ShareLink(models.Model):
    """A signed link to one image or one collection that can expire and be revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gallery_share_links"
    )
    image = models.ForeignKey(
        GeneratedImage,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="share_links",
    )
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="share_links"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(image__isnull=False, collection__isnull=True)
                    | Q(image__isnull=True, collection__isnull=False)
                ),
                name="gallery_share_link_one_target",
            ),
        ]

    def __str__(self):
        return f"Share link {self.id}"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ImageScan(models.Model):
    """The image classifier's verdict on one output. One row per image (the primary key), so a
    task that runs twice scans once and the second run reads the first one's decision."""

    class Verdict(models.TextChoices):
        APPROVED = "approved", "Approved"
        HELD = "held", "Held for review"

    image = models.OneToOneField(
        GeneratedImage, on_delete=models.CASCADE, primary_key=True, related_name="scan"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    # over_threshold, classifier_error or classifier_timeout; empty when approved.
    reason = models.CharField(max_length=30, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    flagged = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(default=0)
    # Scans made: more than one when a timed-out or failed scan was tried again.
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Scan of {self.image_id}: {self.verdict}"


class ImageDecision(models.Model):
    """A moderator's decision on an image. The latest one stands; the others are history."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    id = models.BigAutoField(primary_key=True)
    image = models.ForeignKey(GeneratedImage, on_delete=models.CASCADE, related_name="decisions")
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_decision_display()} {self.image_id}"


class ImageReport(models.Model):
    """Someone who was shown an image (through a share link) says it should not be there.
    A moderator's decision on the image closes its open reports."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    id = models.BigAutoField(primary_key=True)
    image = models.ForeignKey(GeneratedImage, on_delete=models.CASCADE, related_name="reports")
    # None: an anonymous visitor of a share page.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="image_reports",
    )
    share_link = models.ForeignKey(
        ShareLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decision = models.ForeignKey(
        ImageDecision, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self):
        return f"Report on {self.image_id} ({self.status})"


from .starter_pack_models import StarterPack, StarterPackItem  # noqa: E402, F401
