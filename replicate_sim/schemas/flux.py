"""The schemas of the FLUX models: the official dev and schnell, and a LoRA version from training.

Inputs, defaults, limits and descriptions follow `black-forest-labs/flux-dev`,
`black-forest-labs/flux-schnell` and the versions `ostris/flux-dev-lora-trainer` pushes (the
cog-flux hotswap predictor). `ASPECT_RATIOS` gives the pixel size of each named ratio.
"""

from __future__ import annotations

from typing import Any

from .cog import SchemaBuilder, openapi_document

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


_IMAGE_LIST_OUTPUT = {
    "type": "array",
    "items": {"type": "string", "format": "uri"},
    "title": "Output",
}


def _output_options(b: SchemaBuilder, quality_default: int = 80) -> None:
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


def lora_schema(trigger_word: str = "TOK") -> dict[str, Any]:
    """A FLUX LoRA version made by the trainer (cog-flux hotswap predictor)."""
    b = SchemaBuilder()
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
    return openapi_document({"Input": b.input_schema(), "Output": _IMAGE_LIST_OUTPUT, **b.enums})


def official_flux_schema(*, dev: bool) -> dict[str, Any]:
    """`black-forest-labs/flux-dev` (`dev=True`) or `black-forest-labs/flux-schnell`."""
    b = SchemaBuilder()
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
    return openapi_document({"Input": b.input_schema(), "Output": _IMAGE_LIST_OUTPUT, **b.enums})
