"""Cog-style OpenAPI schemas of the simulated models, and input validation against them.

The schemas follow what Cog generates: inputs under `components.schemas.Input.properties`, each
with `type`, `title`, `description`, `x-order` and optional `default`/`minimum`/`maximum`; choices
referenced through `allOf` to an enum schema; files as `{"type": "string", "format": "uri"}`;
secrets as `format: password` with `x-cog-secret`. Validation messages imitate the gojsonschema
wording the real API uses ("Must be less than or equal to 4").
"""

from __future__ import annotations

import copy
import math
from typing import Any
from urllib.parse import urlsplit

ASPECT_RATIOS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "3:4": (896, 1152),
    "4:3": (1152, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}

TRAINER_KIND = "trainer"
LORA_KIND = "flux-lora"
SCHNELL_KIND = "flux-schnell"
DEV_KIND = "flux-dev"

_MISSING = object()
SECRET_MASK = "**********"  # noqa: S105 - the mask shown instead of a secret


class _SchemaBuilder:
    """Accumulates Cog-style properties in declaration order (which becomes x-order)."""

    def __init__(self) -> None:
        self.properties: dict[str, dict[str, Any]] = {}
        self.required: list[str] = []
        self.enums: dict[str, dict[str, Any]] = {}

    def add(
        self,
        name: str,
        kind: str | None,
        description: str,
        *,
        default: Any = _MISSING,
        minimum: float | None = None,
        maximum: float | None = None,
        choices: list[Any] | None = None,
        fmt: str | None = None,
        secret: bool = False,
    ) -> None:
        prop: dict[str, Any] = {}
        if choices is not None:
            enum_type = "integer" if all(isinstance(c, int) for c in choices) else "string"
            self.enums[name] = {
                "enum": choices,
                "type": enum_type,
                "title": name,
                "description": "An enumeration.",
            }
            prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
        else:
            prop["type"] = kind
            prop["title"] = name.replace("_", " ").title()
        if fmt:
            prop["format"] = fmt
        if secret:
            prop.update({"format": "password", "writeOnly": True, "x-cog-secret": True})
        if default is _MISSING:
            self.required.append(name)
        elif default is None:
            prop["nullable"] = True
        else:
            prop["default"] = default
        if minimum is not None:
            prop["minimum"] = minimum
        if maximum is not None:
            prop["maximum"] = maximum
        prop["x-order"] = len(self.properties)
        prop["description"] = description
        self.properties[name] = prop

    def input_schema(self, title: str = "Input") -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "title": title, "properties": self.properties}
        if self.required:
            schema["required"] = list(self.required)
        return schema


_IMAGE_LIST_OUTPUT = {
    "type": "array",
    "items": {"type": "string", "format": "uri"},
    "title": "Output",
}


def _document(components: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": {},
        "components": {"schemas": components},
    }


def _output_options(b: _SchemaBuilder, quality_default: int = 80) -> None:
    b.add(
        "output_format",
        None,
        "Format of the output images",
        default="webp",
        choices=["webp", "jpg", "png"],
    )
    b.add(
        "output_quality",
        "integer",
        "Quality when saving the output images, from 0 to 100. 100 is best quality, 0 is lowest "
        "quality. Not relevant for .png outputs",
        default=quality_default,
        minimum=0,
        maximum=100,
    )
    b.add(
        "disable_safety_checker",
        "boolean",
        "Disable safety checker for generated images.",
        default=False,
    )


def trainer_schema() -> dict[str, Any]:
    """`ostris/flux-dev-lora-trainer` (replicate/flux-fine-tuner `train()`)."""
    b = _SchemaBuilder()
    b.add(
        "input_images",
        "string",
        "A zip file containing the images that will be used for training. We recommend a minimum "
        "of 10 images. If you include captions, include them as one .txt file per image, e.g. "
        "my-photo.jpg should have a caption file named my-photo.txt.",
        default=None,
        fmt="uri",
    )
    b.add(
        "trigger_word",
        "string",
        "The trigger word refers to the object, style or concept you are training on. Pick a "
        "string that isn't a real word, like TOK or something related to what's being trained.",
        default="TOK",
    )
    b.add(
        "autocaption",
        "boolean",
        "Automatically caption images using Llava v1.5 13B",
        default=True,
    )
    b.add(
        "autocaption_prefix",
        "string",
        "Optional: Text you want to appear at the beginning "
        "of all your generated captions; for example, 'a photo of TOK, '.",
        default=None,
    )
    b.add(
        "autocaption_suffix",
        "string",
        "Optional: Text you want to appear at the end of all "
        "your generated captions; for example, ' in the style of TOK'.",
        default=None,
    )
    b.add(
        "steps",
        "integer",
        "Number of training steps. Recommended range 500-4000",
        default=1000,
        minimum=3,
        maximum=6000,
    )
    b.add(
        "learning_rate",
        "number",
        "Learning rate, if you're new to training you probably don't need to change this.",
        default=0.0004,
    )
    b.add("batch_size", "integer", "Batch size, you can leave this as 1", default=1)
    b.add("resolution", "string", "Image resolutions for training", default="512,768,1024")
    b.add(
        "lora_rank",
        "integer",
        "Higher ranks take longer to train but can capture more complex features. Caption "
        "quality is more important for higher ranks.",
        default=16,
        minimum=1,
        maximum=128,
    )
    b.add(
        "caption_dropout_rate",
        "number",
        "Advanced setting. Determines how often a caption is ignored. 0.05 means for 5% of all "
        "steps an image will be used without its caption.",
        default=0.05,
        minimum=0,
        maximum=1,
    )
    b.add(
        "optimizer",
        "string",
        "Optimizer to use for training. Supports: prodigy, adam8bit, "
        "adamw8bit, lion8bit, adam, adamw, lion, adagrad, adafactor.",
        default="adamw8bit",
    )
    b.add(
        "cache_latents_to_disk",
        "boolean",
        "Use this if you have lots of input images and you hit out of memory errors",
        default=False,
    )
    b.add(
        "layers_to_optimize_regex",
        "string",
        "Regular expression to match specific layers to optimize.",
        default=None,
    )
    b.add(
        "gradient_checkpointing",
        "boolean",
        "Turn on gradient checkpointing; saves memory at the cost of training speed.",
        default=False,
    )
    b.add(
        "hf_repo_id",
        "string",
        "Hugging Face repository ID, if you'd like to upload the "
        "trained LoRA to Hugging Face. For example, lucataco/flux-dev-lora.",
        default=None,
    )
    b.add(
        "hf_token",
        "string",
        "Hugging Face token, if you'd like to upload the trained LoRA to Hugging Face.",
        default=None,
        secret=True,
    )
    b.add(
        "wandb_api_key",
        "string",
        "Weights and Biases API key, if you'd like to log training progress to W&B.",
        default=None,
        secret=True,
    )
    b.add(
        "wandb_project",
        "string",
        "Weights and Biases project name.",
        default="flux_train_replicate",
    )
    b.add("wandb_run", "string", "Weights and Biases run name.", default=None)
    b.add("wandb_entity", "string", "Weights and Biases entity name.", default=None)
    b.add(
        "wandb_sample_interval",
        "integer",
        "Step interval for sampling output images that are logged to W&B.",
        default=100,
        minimum=1,
    )
    b.add(
        "wandb_sample_prompts",
        "string",
        "Newline-separated list of prompts to use when logging samples to W&B.",
        default=None,
    )
    b.add(
        "wandb_save_interval",
        "integer",
        "Step interval for saving intermediate LoRA weights to W&B.",
        default=100,
        minimum=1,
    )
    b.add(
        "skip_training_and_use_pretrained_hf_lora_url",
        "string",
        "If you'd like to skip LoRA training altogether and instead create a Replicate model "
        "from a pre-trained LoRA that's on HuggingFace, use this field with a HuggingFace "
        "download URL. For example, https://huggingface.co/fofr/flux-80s-cyberpunk/resolve/"
        "main/lora.safetensors.",
        default=None,
    )
    training_input = b.input_schema("TrainingInput")
    components: dict[str, Any] = {
        "TrainingInput": training_input,
        # The simulator runs no predictions on the trainer; `Input` mirrors the training input so
        # a consumer reading the usual key finds the trainer's parameters.
        "Input": {**copy.deepcopy(training_input), "title": "Input"},
        "TrainingOutput": {
            "type": "object",
            "title": "TrainingOutput",
            "required": ["weights"],
            "properties": {"weights": {"type": "string", "title": "Weights", "format": "uri"}},
        },
        "Output": {"type": "string", "title": "Output", "format": "uri"},
        **b.enums,
    }
    return _document(components)


def lora_schema(trigger_word: str = "TOK") -> dict[str, Any]:
    """A FLUX LoRA version made by the trainer (cog-flux hotswap predictor)."""
    b = _SchemaBuilder()
    b.add(
        "prompt",
        "string",
        "Prompt for generated image. If you include the `trigger_word` used in the training "
        f"process ({trigger_word}) you are more likely to activate the trained object, style, or "
        "concept in the resulting image.",
    )
    b.add(
        "image",
        "string",
        "Input image for image to image or inpainting mode. If provided, "
        "aspect_ratio, width, and height inputs are ignored.",
        default=None,
        fmt="uri",
    )
    b.add(
        "mask",
        "string",
        "Image mask for image inpainting mode. If provided, aspect_ratio, "
        "width, and height inputs are ignored.",
        default=None,
        fmt="uri",
    )
    b.add(
        "aspect_ratio",
        None,
        "Aspect ratio for the generated image. If custom is selected, uses height and width "
        "below & will run in bf16 mode",
        default="1:1",
        choices=[*ASPECT_RATIOS, "custom"],
    )
    b.add(
        "height",
        "integer",
        "Height of generated image. Only works if `aspect_ratio` is set "
        "to custom. Will be rounded to nearest multiple of 16. Incompatible with fast "
        "generation",
        default=None,
        minimum=256,
        maximum=1440,
    )
    b.add(
        "width",
        "integer",
        "Width of generated image. Only works if `aspect_ratio` is set to "
        "custom. Will be rounded to nearest multiple of 16. Incompatible with fast "
        "generation",
        default=None,
        minimum=256,
        maximum=1440,
    )
    b.add(
        "prompt_strength",
        "number",
        "Prompt strength when using img2img. 1.0 corresponds to "
        "full destruction of information in image",
        default=0.8,
        minimum=0,
        maximum=1,
    )
    b.add(
        "model",
        None,
        "Which model to run inference with. The dev model performs best with "
        "around 28 inference steps but the schnell model only needs 4 steps.",
        default="dev",
        choices=["dev", "schnell"],
    )
    b.add(
        "num_outputs", "integer", "Number of outputs to generate", default=1, minimum=1, maximum=4
    )
    b.add(
        "num_inference_steps",
        "integer",
        "Number of denoising steps. More steps can give more detailed images, but take longer.",
        default=28,
        minimum=1,
        maximum=50,
    )
    b.add(
        "guidance_scale",
        "number",
        "Guidance scale for the diffusion process. Lower values "
        "can give more realistic images. Good values to try are 2, 2.5, 3 and 3.5",
        default=3,
        minimum=0,
        maximum=10,
    )
    b.add("seed", "integer", "Random seed. Set for reproducible generation", default=None)
    _output_options(b)
    b.add(
        "go_fast",
        "boolean",
        "Run faster predictions with model optimized for speed "
        "(currently fp8 quantized); disable to run in original bf16",
        default=False,
    )
    b.add(
        "megapixels",
        None,
        "Approximate number of megapixels for generated image",
        default="1",
        choices=["1", "0.25"],
    )
    b.add(
        "lora_scale",
        "number",
        "Determines how strongly the main LoRA should be applied. "
        "Sane results between 0 and 1 for base inference.",
        default=1,
        minimum=-1,
        maximum=3,
    )
    b.add(
        "extra_lora",
        "string",
        "Load LoRA weights. Supports Replicate models in the format "
        "<owner>/<username> or <owner>/<username>/<version>, HuggingFace URLs in the format "
        "huggingface.co/<owner>/<model-name>, CivitAI URLs in the format "
        "civitai.com/models/<id>[/<model-name>], or arbitrary .safetensors URLs from the "
        "Internet.",
        default=None,
    )
    b.add(
        "extra_lora_scale",
        "number",
        "Determines how strongly the extra LoRA should be applied.",
        default=1,
        minimum=-1,
        maximum=3,
    )
    b.add(
        "replicate_weights",
        "string",
        "Replicate LoRA weights to use. Leave blank to use the default weights.",
        default=None,
    )
    return _document({"Input": b.input_schema(), "Output": _IMAGE_LIST_OUTPUT, **b.enums})


def _official_schema(dev: bool) -> dict[str, Any]:
    b = _SchemaBuilder()
    b.add("prompt", "string", "Prompt for generated image")
    b.add(
        "aspect_ratio",
        None,
        "Aspect ratio for the generated image",
        default="1:1",
        choices=list(ASPECT_RATIOS),
    )
    if dev:
        b.add(
            "image",
            "string",
            "Input image for image to image mode. The aspect ratio of your "
            "output will match this image",
            default=None,
            fmt="uri",
        )
        b.add(
            "prompt_strength",
            "number",
            "Prompt strength when using img2img. 1.0 corresponds "
            "to full destruction of information in image",
            default=0.8,
            minimum=0,
            maximum=1,
        )
    b.add(
        "num_outputs", "integer", "Number of outputs to generate", default=1, minimum=1, maximum=4
    )
    if dev:
        b.add(
            "num_inference_steps",
            "integer",
            "Number of denoising steps. Recommended range is 28-50",
            default=28,
            minimum=1,
            maximum=50,
        )
        b.add(
            "guidance", "number", "Guidance for generated image", default=3, minimum=0, maximum=10
        )
    else:
        b.add(
            "num_inference_steps",
            "integer",
            "Number of denoising steps. 4 is recommended, "
            "and lower number of steps produce lower quality outputs, faster.",
            default=4,
            minimum=1,
            maximum=4,
        )
    b.add("seed", "integer", "Random seed. Set for reproducible generation", default=None)
    _output_options(b)
    b.add(
        "go_fast",
        "boolean",
        "Run faster predictions with model optimized for speed "
        "(currently fp8 quantized); disable to run in original bf16",
        default=True,
    )
    b.add(
        "megapixels",
        None,
        "Approximate number of megapixels for generated image",
        default="1",
        choices=["1", "0.25"],
    )
    return _document({"Input": b.input_schema(), "Output": _IMAGE_LIST_OUTPUT, **b.enums})


def schema_for(kind: str, *, trigger_word: str = "TOK") -> dict[str, Any]:
    if kind == TRAINER_KIND:
        return trainer_schema()
    if kind == LORA_KIND:
        return lora_schema(trigger_word)
    if kind == SCHNELL_KIND:
        return _official_schema(dev=False)
    if kind == DEV_KIND:
        return _official_schema(dev=True)
    raise KeyError(kind)


# --- validation ---------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _type_matches(expected: str, value: Any) -> bool:
    given = _json_type(value)
    if expected == "number":
        return given in {"integer", "number"}
    return given == expected


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _looks_like_uri(value: str) -> bool:
    if value.startswith("data:"):
        return "," in value
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc)


def _resolved(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    merged = dict(prop)
    for ref in prop.get("allOf", []):
        target = ref.get("$ref", "").rsplit("/", 1)[-1]
        merged.update(components.get(target, {}))
    return merged


def validate_input(
    schema: dict[str, Any], given: Any, input_key: str = "Input"
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """Check `given` against the schema's `input_key` object.

    Returns (effective input with defaults filled in, problems). Each problem is
    (field, line prefix, message) for `errors.validation_error`. A null value counts as "not
    given", so optional inputs can be sent as None by clients that do not drop them.
    """
    components = schema["components"]["schemas"]
    input_schema = components[input_key]
    properties: dict[str, dict[str, Any]] = input_schema["properties"]
    problems: list[tuple[str, str, str]] = []
    if given is None:
        given = {}
    if not isinstance(given, dict):
        problems.append(
            ("input", "input", f"Invalid type. Expected: object, given: {_json_type(given)}")
        )
        return {}, problems

    for name in given:
        if name not in properties:
            problems.append((name, "input", f"Additional property {name} is not allowed"))
    for name in input_schema.get("required", []):
        if given.get(name) is None:
            problems.append((name, "input", f"{name} is required"))

    effective: dict[str, Any] = {}
    ordered = sorted(properties.items(), key=lambda item: item[1].get("x-order", 0))
    for name, raw_prop in ordered:
        prop = _resolved(raw_prop, components)
        value = given.get(name)
        if value is None:
            effective[name] = prop.get("default")
            continue
        prefix = f"input.{name}"
        expected = prop.get("type")
        if expected and not _type_matches(expected, value):
            problems.append(
                (name, prefix, f"Invalid type. Expected: {expected}, given: {_json_type(value)}")
            )
            continue
        if expected == "integer" and isinstance(value, float):
            value = int(value)
        if "enum" in prop and value not in prop["enum"]:
            allowed = ", ".join(
                f'"{choice}"' if isinstance(choice, str) else str(choice) for choice in prop["enum"]
            )
            problems.append((name, prefix, f"{name} must be one of the following: {allowed}"))
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in prop and value < prop["minimum"]:
                problems.append(
                    (
                        name,
                        prefix,
                        f"Must be greater than or equal to {_format_number(prop['minimum'])}",
                    )
                )
                continue
            if "maximum" in prop and value > prop["maximum"]:
                problems.append(
                    (
                        name,
                        prefix,
                        f"Must be less than or equal to {_format_number(prop['maximum'])}",
                    )
                )
                continue
            if math.isnan(value) or math.isinf(value):
                problems.append((name, prefix, "Invalid number"))
                continue
        if prop.get("format") == "uri" and not _looks_like_uri(value):
            problems.append((name, prefix, "Does not match format 'uri'"))
            continue
        effective[name] = value
    return effective, problems


def secret_fields(schema: dict[str, Any], input_key: str = "Input") -> set[str]:
    properties = schema["components"]["schemas"][input_key]["properties"]
    return {name for name, prop in properties.items() if prop.get("x-cog-secret")}


def redact_secrets(given: dict[str, Any], secrets: set[str]) -> dict[str, Any]:
    """The API echoes secret inputs masked, never in clear."""
    return {
        key: (SECRET_MASK if key in secrets and value is not None else value)
        for key, value in given.items()
    }
