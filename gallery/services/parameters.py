"""What a generation may ask for, checked on our side before anything is sent to Replicate.

The ranges are those of the FLUX LoRA models the trainer makes (shared/replicate-api.md 6.2)
and, for the platform's default model, of `black-forest-labs/flux-schnell` (6.3). Parameters a
person leaves out (None) are not sent, so Replicate applies its own defaults; `DEFAULTS` says
what those are, for display and for the cost. Every problem is reported at once, by field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from core.exceptions import InvalidInput

ASPECT_RATIOS = (
    "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21",
)  # fmt: skip
CUSTOM = "custom"
OUTPUT_FORMATS = ("webp", "jpg", "png")
MEGAPIXELS = ("1", "0.25")
FLUX_MODELS = ("dev", "schnell")
DEFAULT_MODEL_NAME = "black-forest-labs/flux-schnell"
DEFAULT_MODEL_LABEL = "FLUX schnell (default)"
MAX_SEED = 2**32 - 1
MAX_PROMPT = 2000

# Replicate's defaults for a trained FLUX LoRA (the simple service's documented defaults).
DEFAULTS: dict[str, Any] = {
    "aspect_ratio": "1:1",
    "prompt_strength": 0.8,
    "model": "dev",
    "num_outputs": 1,
    "num_inference_steps": 28,
    "guidance_scale": 3.0,
    "output_format": "webp",
    "output_quality": 80,
    "disable_safety_checker": False,
    "go_fast": False,
    "megapixels": "1",
    "lora_scale": 1.0,
    "extra_lora_scale": 1.0,
}
SCHNELL_DEFAULTS: dict[str, Any] = {
    "aspect_ratio": "1:1",
    "num_outputs": 1,
    "num_inference_steps": 4,
    "output_format": "webp",
    "output_quality": 80,
    "disable_safety_checker": False,
    "go_fast": True,
    "megapixels": "1",
}

# name: (kind, low, high)
_RANGES: dict[str, tuple[type, float, float]] = {
    "width": (int, 256, 1440),
    "height": (int, 256, 1440),
    "prompt_strength": (float, 0, 1),
    "num_outputs": (int, 1, 4),
    "num_inference_steps": (int, 1, 50),
    "guidance_scale": (float, 0, 10),
    "seed": (int, 0, MAX_SEED),
    "output_quality": (int, 0, 100),
    "lora_scale": (float, -1, 3),
    "extra_lora_scale": (float, -1, 3),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "aspect_ratio": (*ASPECT_RATIOS, CUSTOM),
    "model": FLUX_MODELS,
    "output_format": OUTPUT_FORMATS,
    "megapixels": MEGAPIXELS,
}
_BOOLEANS = ("go_fast", "disable_safety_checker")
# Inputs only the trained LoRA models have; the default model ignores them.
_LORA_ONLY = ("guidance_scale", "lora_scale", "extra_lora_scale", "prompt_strength", "model")
PARAMETER_NAMES = (*_RANGES, *_CHOICES, *_BOOLEANS)


@dataclass(frozen=True)
class CheckedParameters:
    """Parameters that passed every check: what is sent (besides prompt, image and mask)."""

    sent: dict[str, Any]
    for_default_model: bool
    errors: dict[str, list[str]] = field(default_factory=dict)

    def effective(self, name: str) -> Any:
        defaults = SCHNELL_DEFAULTS if self.for_default_model else DEFAULTS
        value = self.sent.get(name)
        return defaults.get(name) if value is None else value

    @property
    def num_outputs(self) -> int:
        return int(self.effective("num_outputs"))

    @property
    def flux_model(self) -> str:
        return "schnell" if self.for_default_model else str(self.effective("model"))


def _number(value: Any, kind: type) -> float | int:
    if isinstance(value, bool):
        raise ValueError
    if kind is int:
        number = float(value)
        if not number.is_integer():
            raise ValueError
        return int(number)
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        raise ValueError
    return number


def parameters_check(
    data: dict[str, Any], *, for_default_model: bool, has_image: bool, has_extra_lora: bool
) -> CheckedParameters:
    """Check every parameter; raise InvalidInput naming each field at fault.

    None means "not given": it is not sent. `disable_safety_checker` comes from the platform's
    GENERATION_SAFETY_CHECKER setting, never from the person asking.
    """
    errors: dict[str, list[str]] = {}
    sent: dict[str, Any] = {}
    for name, (kind, low, high) in _RANGES.items():
        value = data.get(name)
        if value is None or value == "":
            continue
        try:
            number = _number(value, kind)
        except (TypeError, ValueError):
            errors[name] = ["Must be a whole number." if kind is int else "Must be a number."]
            continue
        if not low <= number <= high:
            errors[name] = [f"Must be between {low:g} and {high:g}."]
            continue
        sent[name] = number
    for name, choices in _CHOICES.items():
        value = data.get(name)
        if value is None or value == "":
            continue
        value = str(value)
        if value not in choices:
            errors[name] = [f"Must be one of: {', '.join(choices)}."]
            continue
        sent[name] = value
    if data.get("go_fast") is not None:
        if not isinstance(data["go_fast"], bool):
            errors["go_fast"] = ["Must be true or false."]
        else:
            sent["go_fast"] = data["go_fast"]
    # Whatever was asked: only the platform's configuration turns Replicate's checker off (our
    # own classifier scans every output either way).
    sent["disable_safety_checker"] = not settings.GENERATION_SAFETY_CHECKER

    custom = sent.get("aspect_ratio") == CUSTOM
    for name in ("width", "height"):
        if name in sent and not custom:
            errors.setdefault(name, []).append(
                "Only used with the custom aspect ratio: set aspect_ratio to “custom”."
            )
        if custom and name not in sent and name not in errors:
            errors.setdefault(name, []).append("Required with the custom aspect ratio.")
    if "extra_lora_scale" in sent and not has_extra_lora:
        del sent["extra_lora_scale"]  # meaningless without a second LoRA
    if "prompt_strength" in sent and not has_image:
        del sent["prompt_strength"]  # only image-to-image uses it

    if for_default_model:
        if custom:
            errors.setdefault("aspect_ratio", []).append(
                "The default model has no custom size: choose an aspect ratio."
            )
        steps = sent.get("num_inference_steps")
        if steps is not None and steps > 4:
            errors.setdefault("num_inference_steps", []).append(
                "The default model (FLUX schnell) takes 1 to 4 steps."
            )
        for name in _LORA_ONLY:
            sent.pop(name, None)
    if errors:
        raise InvalidInput(errors)
    return CheckedParameters(sent=sent, for_default_model=for_default_model)


def cost_per_image(*, flux_model: str) -> int:
    if flux_model == "schnell":
        return settings.GENERATION_CREDITS_PER_IMAGE_SCHNELL
    return settings.GENERATION_CREDITS_PER_IMAGE_DEV


def prompt_with_trigger(prompt: str, trigger_word: str) -> str:
    """The prompt with the trigger word in it: added at the start when it is missing."""
    prompt = " ".join(prompt.split())
    if not trigger_word:
        return prompt
    if re.search(rf"(?<![A-Za-z0-9]){re.escape(trigger_word)}(?![A-Za-z0-9])", prompt, re.I):
        return prompt
    return f"{trigger_word} {prompt}" if prompt else trigger_word


def prompt_with_phrase(prompt: str, phrase: str) -> str:
    """A style LoRA's activation words, appended when the prompt does not have them yet."""
    phrase = phrase.strip()
    if not phrase or phrase.lower() in prompt.lower():
        return prompt
    return f"{prompt}, {phrase}"


def prompt_check(prompt: Any) -> str:
    text = " ".join(str(prompt or "").split())
    if not text:
        raise InvalidInput({"prompt": ["Describe the picture you want."]})
    if len(text) > MAX_PROMPT:
        raise InvalidInput({"prompt": [f"At most {MAX_PROMPT} characters."]})
    return text
