"""Output images: cheap (tens of milliseconds), deterministic for a seed, and pleasant in a demo.

- A version the simulator trained itself: a crop of one of that training's own photos, picked
  and restyled (tint, posterise, duotone, vignette...) from the seed, with the prompt drawn in,
  so the demo shows the person's own face.
- Image-to-image: the input image restyled in proportion to `prompt_strength`; with a mask only
  the white area changes.
- Anything else: the prompt and the main parameters drawn on a seeded gradient.

Same parameters and seed give the same bytes: nothing here reads the clock or global randomness.
"""

from __future__ import annotations

import colorsys
import functools
import io
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from .schemas.flux import ASPECT_RATIOS

try:  # phones upload HEIC; the project installs pillow-heif, the simulator only uses it if present
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover
    pass
else:
    register_heif_opener()

FORMATS = {
    "webp": ("WEBP", "image/webp"),
    "jpg": ("JPEG", "image/jpeg"),
    "png": ("PNG", "image/png"),
}
STYLES = ("warm", "cool", "posterise", "duotone", "vintage", "noir", "vivid")
MAX_SIDE = 2048


def ceil16(value: float) -> int:
    return max(16, math.ceil(value / 16.0) * 16)


def target_size(params: dict[str, Any], source_size: tuple[int, int] | None) -> tuple[int, int]:
    """Pixel size of the outputs, following cog-flux.

    Aspect ratios map to the 1-megapixel table; `megapixels: "0.25"` halves each side; `custom`
    uses width/height rounded up to a multiple of 16; an input image sets the size itself
    (scaled down to about the requested megapixels, multiple of 16).
    """
    quarter = str(params.get("megapixels", "1")) == "0.25"
    if source_size is not None:
        width, height = source_size
        budget = 1024 * 1024 * (0.25 if quarter else 1.0)
        if width * height > budget * 1.05:
            scale = math.sqrt(budget / (width * height))
            width, height = width * scale, height * scale
        return min(ceil16(width), MAX_SIDE), min(ceil16(height), MAX_SIDE)
    ratio = params.get("aspect_ratio") or "1:1"
    if ratio == "custom":
        return ceil16(params["width"]), ceil16(params["height"])
    width, height = ASPECT_RATIOS[ratio]
    if quarter:
        return width // 2, height // 2
    return width, height


@dataclass
class RenderJob:
    model: str
    params: dict[str, Any]
    seed: int
    index: int
    total: int
    photos: list[Path] = field(default_factory=list)
    source: Image.Image | None = None
    mask: Image.Image | None = None


def render(job: RenderJob) -> Image.Image:
    rng = random.Random(f"{job.seed}:{job.index}")
    size = target_size(job.params, job.source.size if job.source is not None else None)
    if job.source is not None:
        return _render_img2img(job, rng, size)
    if job.photos:
        return _render_from_photo(job, rng, size)
    return _render_gradient(job, rng, size)


def encode(image: Image.Image, output_format: str, quality: int) -> bytes:
    pil_format, _mime = FORMATS[output_format]
    buffer = io.BytesIO()
    if pil_format == "PNG":
        image.save(buffer, "PNG", compress_level=1)
    elif pil_format == "WEBP":
        image.save(buffer, "WEBP", quality=quality, method=2)
    else:
        image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def open_image(data: bytes, max_side: int | None = None) -> Image.Image:
    """Decode an input image (any format Pillow reads, HEIC too when pillow-heif is present).

    With `max_side`, JPEGs are decoded at a reduced scale directly (much cheaper for phone
    photos than decoding 12 megapixels and shrinking afterwards).
    """
    image = Image.open(io.BytesIO(data))
    if max_side:
        image.draft("RGB", (max_side, max_side))
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


# --- the three renderers -----------------------------------------------------------------------


def _render_from_photo(job: RenderJob, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    width, height = size
    photo = _load_photo(str(rng.choice(job.photos)))
    pw, ph = photo.size
    # Largest crop with the output's aspect ratio, zoomed in a little, kept near the upper middle
    # where faces usually are, so that the person stays recognisable (the platform scores each
    # output's likeness to the training photos).
    target = width / height
    crop_w, crop_h = (pw, pw / target) if pw / ph < target else (ph * target, ph)
    zoom = rng.uniform(1.0, 1.2)
    crop_w, crop_h = crop_w / zoom, crop_h / zoom
    cx = pw / 2 + rng.uniform(-0.3, 0.3) * (pw - crop_w)
    cy = ph * 0.42 + rng.uniform(-0.1, 0.1) * (ph - crop_h)
    left = min(max(cx - crop_w / 2, 0), pw - crop_w)
    top = min(max(cy - crop_h / 2, 0), ph - crop_h)
    box = (left, top, left + crop_w, top + crop_h)
    if crop_h < ph * 0.7:
        # A wide output from a portrait photo: a band across it would cut the face in half, so
        # the whole photo stands on a blurred, stretched copy of that band.
        image = _photo_on_backdrop(photo, size, box, rng)
    else:
        image = photo.resize(size, Image.Resampling.BILINEAR, box=box)
    if rng.random() < 0.3:
        image = ImageOps.mirror(image)
    image, style = _restyle(image, rng)
    image = _vignette(image, strength=rng.uniform(0.35, 0.6))
    _caption(image, job.params.get("prompt", ""), f"seed {job.seed} · {style} · {job.model}")
    return image


def _photo_on_backdrop(
    photo: Image.Image, size: tuple[int, int], band: tuple[float, ...], rng: random.Random
) -> Image.Image:
    width, height = size
    small = (max(1, width // 8), max(1, height // 8))
    backdrop = photo.resize(small, Image.Resampling.BILINEAR, box=band)
    backdrop = backdrop.filter(ImageFilter.GaussianBlur(2)).resize(size, Image.Resampling.BILINEAR)
    fitted_width = max(1, round(photo.width * height / photo.height))
    fitted = photo.resize((fitted_width, height), Image.Resampling.BILINEAR)
    backdrop.paste(fitted, (round((width - fitted_width) * rng.uniform(0.25, 0.75)), 0))
    return backdrop


def _render_img2img(job: RenderJob, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    assert job.source is not None
    source = job.source.resize(size, Image.Resampling.BILINEAR)
    styled, style = _restyle(source, rng)
    strength = float(job.params.get("prompt_strength", 0.8))
    generated = Image.blend(source, styled, min(max(strength, 0.0), 1.0))
    _caption(generated, job.params.get("prompt", ""), f"seed {job.seed} · {style} · img2img")
    if job.mask is None:
        return generated
    # White in the mask is repainted, black is kept from the input (cog-flux inpainting).
    mask = job.mask.convert("L").resize(size, Image.Resampling.NEAREST)
    return Image.composite(generated, source, mask)


def _render_gradient(job: RenderJob, rng: random.Random, size: tuple[int, int]) -> Image.Image:
    width, height = size
    small = (max(1, width // 4), max(1, height // 4))
    hue = rng.random()
    first = _hsv(hue, rng.uniform(0.45, 0.75), rng.uniform(0.75, 0.95))
    second = _hsv(
        (hue + rng.uniform(0.25, 0.45)) % 1.0, rng.uniform(0.5, 0.8), rng.uniform(0.3, 0.5)
    )
    ramp = Image.linear_gradient("L").resize((512, 512)).rotate(rng.uniform(0, 360))
    mask = ramp.crop((128, 128, 384, 384)).resize(small)
    image = Image.composite(Image.new("RGB", small, second), Image.new("RGB", small, first), mask)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(4, 9)):
        radius = rng.uniform(0.04, 0.18) * min(small)
        x, y = rng.uniform(0, small[0]), rng.uniform(0, small[1])
        tint = _hsv((hue + rng.uniform(-0.1, 0.1)) % 1.0, 0.35, rng.uniform(0.8, 1.0))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=tint)
    # Drawn at a quarter of the size, blurred and scaled up: soft bokeh for a few milliseconds.
    image = image.filter(ImageFilter.GaussianBlur(max(1.0, min(small) / 90)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    image = _vignette(image, strength=0.35)

    draw = ImageDraw.Draw(image)
    margin = max(12, width // 24)
    title_font = _font(max(14, height // 16))
    lines = _wrap(job.params.get("prompt", ""), title_font, width - 2 * margin, max_lines=5)
    line_height = int(title_font.size * 1.2)
    y = max(margin, (height - line_height * len(lines)) // 2 - line_height)
    for line in lines:
        draw.text((margin + 2, y + 2), line, font=title_font, fill=(0, 0, 0))
        draw.text((margin, y), line, font=title_font, fill=(255, 255, 255))
        y += line_height

    params = job.params
    details = [
        job.model,
        f"{width}x{height} · aspect {params.get('aspect_ratio', '1:1')} · seed {job.seed}",
        " · ".join(
            part
            for part in (
                f"steps {params['num_inference_steps']}" if "num_inference_steps" in params else "",
                _guidance_text(params),
                f"output {job.index + 1}/{job.total}",
                f"{params.get('output_format', 'webp')}",
            )
            if part
        ),
    ]
    detail_font = _font(max(11, height // 40))
    y = height - margin - int(detail_font.size * 1.35) * len(details)
    for line in details:
        draw.text((margin, y), line, font=detail_font, fill=(255, 255, 255))
        y += int(detail_font.size * 1.35)
    return image


# --- helpers -----------------------------------------------------------------------------------


def _guidance_text(params: dict[str, Any]) -> str:
    for key in ("guidance_scale", "guidance"):
        if key in params:
            return f"guidance {params[key]}"
    return ""


def _hsv(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(red * 255), int(green * 255), int(blue * 255)


def _restyle(image: Image.Image, rng: random.Random) -> tuple[Image.Image, str]:
    style = rng.choice(STYLES)
    hue = rng.random()
    if style == "warm":
        result = Image.blend(image, Image.new("RGB", image.size, (255, 150, 60)), 0.22)
        result = ImageEnhance.Contrast(result).enhance(1.1)
    elif style == "cool":
        result = Image.blend(image, Image.new("RGB", image.size, (40, 140, 200)), 0.22)
    elif style == "posterise":
        result = ImageEnhance.Color(ImageOps.posterize(image, 3)).enhance(1.3)
    elif style == "duotone":
        gray = ImageOps.grayscale(image)
        result = ImageOps.colorize(gray, _hsv(hue, 0.8, 0.25), _hsv((hue + 0.5) % 1, 0.3, 1.0))
    elif style == "vintage":
        gray = ImageOps.grayscale(image)
        sepia = ImageOps.colorize(gray, (43, 29, 14), (243, 224, 192))
        result = ImageEnhance.Contrast(Image.blend(image, sepia, 0.7)).enhance(0.9)
    elif style == "noir":
        result = ImageEnhance.Contrast(ImageOps.grayscale(image)).enhance(1.4).convert("RGB")
    else:
        result = ImageEnhance.Color(ImageOps.autocontrast(image, cutoff=1)).enhance(1.6)
    return result, style


def _vignette(image: Image.Image, strength: float) -> Image.Image:
    mask = _vignette_mask(image.size, round(strength, 2))
    return Image.composite(image, Image.new("RGB", image.size, (0, 0, 0)), mask)


@functools.lru_cache(maxsize=32)
def _vignette_mask(size: tuple[int, int], strength: float) -> Image.Image:
    floor = int(255 * (1 - strength))
    radial = ImageOps.invert(Image.radial_gradient("L"))  # 255 in the middle, 0 at the rim
    radial = radial.point(lambda v: floor + (255 - floor) * min(255, v * 2) // 255)
    return radial.resize(size, Image.Resampling.BILINEAR)


def _caption(image: Image.Image, prompt: str, small_text: str) -> None:
    """Darken a band at the bottom and write the prompt (and a small line) into it."""
    width, height = image.size
    margin = max(10, width // 32)
    font = _font(max(12, height // 26))
    small = _font(max(10, height // 48))
    lines = _wrap(prompt, font, width - 2 * margin, max_lines=3)
    line_height = int(font.size * 1.25)
    band = margin + line_height * len(lines) + int(small.size * 1.6) + margin // 2
    box = (0, height - band, width, height)
    image.paste(image.crop(box).point(lambda v: v * 40 // 100), box)
    draw = ImageDraw.Draw(image)
    y = height - band + margin // 2
    for line in lines:
        draw.text((margin, y), line, font=font, fill=(255, 255, 255))
        y += line_height
    draw.text((margin, y + 2), small_text, font=small, fill=(200, 200, 200))


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    words = " ".join(str(text).split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines or [""]


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=64)
def _load_photo(path: str) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGB")
