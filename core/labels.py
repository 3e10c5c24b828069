"""The words a person reads for a generation's or a training's parameters.

One mapping for every page, form and e-mail: a key the code stores (`guidance_scale`) is shown
as what it does ("Guidance"). A key not listed here still reads as words, never as a raw key.
"""

from __future__ import annotations

from typing import Any

PARAMETER_LABELS: dict[str, str] = {
    # Generating (gallery.services.parameters)
    "prompt": "Prompt",
    "aspect_ratio": "Shape",
    "width": "Width",
    "height": "Height",
    "model": "FLUX model",
    "num_outputs": "Pictures",
    "num_inference_steps": "Steps",
    "guidance_scale": "Guidance",
    "prompt_strength": "Change from the start picture",
    "lora_scale": "Likeness strength",
    "extra_lora_scale": "Style strength",
    "extra_lora": "Style LoRA",
    "seed": "Seed",
    "output_format": "File type",
    "output_quality": "Quality",
    "megapixels": "Megapixels",
    "go_fast": "Go fast",
    "disable_safety_checker": "Safety checker off",
    "image": "Start picture",
    "mask": "Mask",
    # Training (trainings.services.parameters)
    "steps": "Training steps",
    "learning_rate": "Learning rate",
    "lora_rank": "Detail capacity (rank)",
    "batch_size": "Photos per step",
    "resolution": "Training sizes (pixels)",
    "autocaption": "Caption photos automatically",
    "trigger_word": "Trigger word",
    "caption_with_trigger_word": "Start each caption with the trigger word",
}


def param_label(key: str) -> str:
    """The label of a parameter key; an unknown key becomes words ("lora_scale" style)."""
    key = str(key)
    if key in PARAMETER_LABELS:
        return PARAMETER_LABELS[key]
    return key.replace("_", " ").strip().capitalize()


def param_value(value: Any) -> str:
    """A parameter's value as a person reads it: yes/no for switches, "—" for nothing set."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(param_value(item) for item in value)
    return str(value)
