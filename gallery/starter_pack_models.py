"""The starter pack of a newly trained model: one picture in each starter style, made once.

Part of gallery/models.py (imported at its end). One pack per model (the model is the primary
key), so a success applied twice or a task run twice makes one pack.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class StarterPack(models.Model):
    lora_model = models.OneToOneField(
        "trainings.LoraModel",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="starter_pack",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="starter_packs"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When every starter style was started or skipped."
    )

    def __str__(self):
        return f"Starter pack of {self.lora_model_id}"


class StarterPackItem(models.Model):
    """One starter style: its generation, or why none was made (e.g. the balance was short)."""

    id = models.BigAutoField(primary_key=True)
    pack = models.ForeignKey(StarterPack, on_delete=models.CASCADE, related_name="items")
    preset = models.ForeignKey(
        "gallery.StylePreset", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    style_name = models.CharField(max_length=80, help_text="The style's name at the time.")
    position = models.PositiveSmallIntegerField(default=0)
    generation = models.OneToOneField(
        "gallery.Generation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="starter_pack_item",
    )
    skipped_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pack", "preset"], name="gallery_starter_item_unique"),
        ]

    def __str__(self):
        return f"{self.style_name} in {self.pack}"
