"""Forms of the gallery pages. They parse types; ranges and rules are the services' job."""

from __future__ import annotations

import base64
import binascii
import uuid

from django import forms

from core.labels import param_label

from .models import GeneratedImage, StyleLora, StylePreset
from .selectors import lora_models_ready
from .services.parameters import (
    ASPECT_RATIOS,
    CUSTOM,
    DEFAULTS,
    MAX_PROMPT,
    MEGAPIXELS,
    OUTPUT_FORMATS,
    PARAMETER_NAMES,
)

_RATIO_CHOICES = [(ratio, ratio) for ratio in ASPECT_RATIOS] + [(CUSTOM, "Custom size")]


def _model_label(lora_model) -> str:
    return f"{lora_model.name} ({lora_model.trigger_word})"


class GenerationForm(forms.Form):
    lora_model = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Default model (FLUX schnell, no likeness)",
        label="Model",
    )
    prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "a portrait of me on a beach"}),
        max_length=MAX_PROMPT,
        required=False,
        help_text="Your trigger word is added if you leave it out.",
    )
    style_preset = forms.ModelChoiceField(
        queryset=StylePreset.objects.none(), required=False, widget=forms.HiddenInput
    )
    style = forms.ModelChoiceField(
        queryset=StyleLora.objects.none(),
        required=False,
        empty_label="No style",
        label="Style LoRA",
    )
    extra_lora_model = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="—", label="…or another of your models"
    )
    extra_lora_scale = forms.FloatField(
        required=False, label=param_label("extra_lora_scale"), help_text="−1 to 3"
    )
    aspect_ratio = forms.ChoiceField(
        choices=_RATIO_CHOICES, initial=DEFAULTS["aspect_ratio"], label=param_label("aspect_ratio")
    )
    width = forms.IntegerField(
        required=False,
        label=param_label("width"),
        help_text="256–1440 pixels; used only with the custom size.",
    )
    height = forms.IntegerField(
        required=False,
        label=param_label("height"),
        help_text="256–1440 pixels; used only with the custom size.",
    )
    model = forms.ChoiceField(
        choices=[("dev", "dev (best quality)"), ("schnell", "schnell (fast, cheaper)")],
        initial=DEFAULTS["model"],
        label=param_label("model"),
    )
    num_outputs = forms.IntegerField(
        initial=DEFAULTS["num_outputs"], label=param_label("num_outputs"), help_text="1–4"
    )
    batch = forms.IntegerField(
        initial=1, label="Requests", help_text="Each request has its own seed."
    )
    num_inference_steps = forms.IntegerField(
        initial=DEFAULTS["num_inference_steps"],
        label=param_label("num_inference_steps"),
        help_text="1–50: more steps, more detail, slower",
    )
    guidance_scale = forms.FloatField(
        initial=DEFAULTS["guidance_scale"],
        label=param_label("guidance_scale"),
        help_text="0–10: how closely the picture follows the prompt",
    )
    lora_scale = forms.FloatField(
        initial=DEFAULTS["lora_scale"],
        label=param_label("lora_scale"),
        help_text="−1 to 3: how much the picture looks like you",
    )
    seed = forms.IntegerField(
        required=False,
        label=param_label("seed"),
        help_text="Leave empty for a random one; the same seed repeats a picture.",
    )
    output_format = forms.ChoiceField(
        choices=[(value, value) for value in OUTPUT_FORMATS],
        initial=DEFAULTS["output_format"],
        label=param_label("output_format"),
    )
    output_quality = forms.IntegerField(
        initial=DEFAULTS["output_quality"],
        label=param_label("output_quality"),
        help_text="0–100; not used for png",
    )
    megapixels = forms.ChoiceField(
        choices=[(value, f"{value} MP") for value in MEGAPIXELS],
        initial=DEFAULTS["megapixels"],
        label=param_label("megapixels"),
    )
    go_fast = forms.BooleanField(
        required=False,
        label=param_label("go_fast"),
        help_text="Faster, slightly lower quality (fp8).",
    )
    image = forms.FileField(
        required=False,
        label="Start from a picture",
        help_text="Image to image; draw on it below to repaint only part of it.",
    )
    prompt_strength = forms.FloatField(
        initial=DEFAULTS["prompt_strength"],
        required=False,
        label=param_label("prompt_strength"),
        help_text="0–1: how much of the starting picture changes",
    )
    mask = forms.FileField(required=False, label="…or upload a mask", help_text="White: repaint")
    mask_data = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        models = lora_models_ready(user=user)
        self.fields["lora_model"].queryset = models
        self.fields["lora_model"].label_from_instance = _model_label
        self.fields["extra_lora_model"].queryset = models
        self.fields["style"].queryset = StyleLora.objects.filter(is_active=True)
        self.fields["style_preset"].queryset = StylePreset.objects.filter(is_active=True)
        self.fields["image"].widget.attrs.update({"accept": "image/*", "data-mask-source": ""})
        self.fields["mask"].widget.attrs.update({"accept": "image/*"})

    def clean_mask_data(self):
        value = self.cleaned_data.get("mask_data") or ""
        if not value:
            return None
        header, _, payload = value.partition(",")
        if not header.startswith("data:image/png;base64"):
            raise forms.ValidationError("The drawn mask could not be read.")
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise forms.ValidationError("The drawn mask could not be read.") from error

    def parameters(self) -> dict:
        return {
            name: self.cleaned_data.get(name) for name in PARAMETER_NAMES if name in self.fields
        }


class ImageFilterForm(forms.Form):
    model = forms.ChoiceField(required=False)
    collection = forms.ChoiceField(required=False)
    favourite = forms.BooleanField(required=False, label="Favourites only")
    created_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Shown")]
        + [
            (value, label)
            for value, label in GeneratedImage.Moderation.choices
            if value != GeneratedImage.Moderation.APPROVED
        ]
        + [("all", "All")],
    )
    sort = forms.ChoiceField(
        required=False, choices=[("", "Newest first"), ("likeness", "Best likeness first")]
    )
    looks_like_me = forms.BooleanField(required=False, label="Looks like me")

    def __init__(self, *args, models, collections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", "All models"), ("default", "Default model")] + [
            (str(model.pk), model.name) for model in models
        ]
        self.fields["collection"].choices = [("", "All collections")] + [
            (str(collection.pk), collection.name) for collection in collections
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("created_from"), data.get("created_to")
        if start and end and start > end:
            self.add_error("created_to", "Must not be before the first day.")
        return data


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ShareForm(forms.Form):
    expires_in_days = forms.IntegerField(required=False, min_value=1, label="Expires after (days)")
    never_expires = forms.BooleanField(required=False)


class BulkForm(forms.Form):
    ACTIONS = [
        ("zip", "Download as zip"),
        ("favourite", "Add to favourites"),
        ("unfavourite", "Remove from favourites"),
        ("add", "Add to collection"),
        ("move", "Move to collection"),
        ("remove", "Remove from this collection"),
        ("delete", "Delete"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    image_ids = forms.TypedMultipleChoiceField(choices=(), coerce=str)
    collection = forms.UUIDField(required=False)
    from_collection = forms.UUIDField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the selector keeps only the user's own images.
        self.fields["image_ids"].valid_value = lambda value: True

    def clean_image_ids(self):
        ids = []
        for value in self.cleaned_data["image_ids"]:
            try:
                ids.append(uuid.UUID(value))
            except ValueError as error:
                raise forms.ValidationError("Unknown image.") from error
        return ids

    def clean(self):
        data = super().clean()
        if data.get("action") in ("add", "move", "remove") and not data.get("collection"):
            self.add_error("collection", "Choose a collection.")
        return data
