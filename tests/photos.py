"""Real test photographs, derived deterministically from the photos bundled with scikit-image.

Only images that ship inside the scikit-image wheel are used (no download): the astronaut
(Eileen Collins, the one face), coffee, rocket, chelsea (a cat), retina, the Hubble deep field,
immunohistochemistry, and grey textures. From them this module makes close-up, half-body and
full-body portraits, large phone-sized photos, and the same picture in every container format,
with EXIF orientation, GPS tags, alpha, or deliberately broken bytes.

Used by tests/trainings/ and by the benchmarks in bench/.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageFilter
from skimage import data as skdata

pillow_heif.register_heif_opener()

# Where the astronaut's face is in skimage's 512 x 512 photo (left, top, width, height), as found
# by OpenCV's frontal face cascade.
ASTRONAUT_FACE = (178, 69, 92, 92)

SCENES = ("coffee", "rocket", "chelsea", "retina", "hubble_deep_field", "immunohistochemistry")

# A real-looking location: the Eiffel Tower.
GPS_LATITUDE = (48.0, 51.0, 29.6)
GPS_LONGITUDE = (2.0, 17.0, 40.2)


@functools.cache
def _source(name: str) -> Image.Image:
    array = getattr(skdata, name)()
    image = Image.fromarray(array)
    return image.convert("RGB")


def source(name: str) -> Image.Image:
    """One of scikit-image's bundled photos as an RGB image (a copy: callers may change it)."""
    return _source(name).copy()


def _grain(image: Image.Image, seed: int, sigma: float = 2.5) -> Image.Image:
    """What a camera adds: a little sharpening and sensor noise (deterministic per seed)."""
    sharpened = image.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))
    rng = np.random.default_rng(seed)
    pixels = np.asarray(sharpened, dtype=np.float32)
    pixels += rng.normal(0.0, sigma, pixels.shape).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def upscale(image: Image.Image, size: tuple[int, int], seed: int = 0) -> Image.Image:
    return _grain(image.resize(size, Image.Resampling.LANCZOS), seed)


def close_up(size: int = 768) -> Image.Image:
    """Head and shoulders: a square crop around the astronaut's face (face ~37 % of the height)."""
    x, y, w, h = ASTRONAUT_FACE
    cx, cy = x + w // 2, y + h // 2 + 20
    side = 250
    box = (cx - side // 2, max(0, cy - side // 2), cx + side // 2, max(0, cy - side // 2) + side)
    return upscale(source("astronaut").crop(box), (size, size), seed=1)


def half_body(size: int = 768) -> Image.Image:
    """Waist up: the whole astronaut photo (face ~18 % of the height)."""
    return upscale(source("astronaut"), (size, size), seed=2)


def full_body(size: tuple[int, int] = (768, 1024)) -> Image.Image:
    """Head to toe as far as the face is concerned: a small astronaut in a large scene.

    The face is about 7 % of the frame's height, as in a photo of a standing person.
    """
    width, height = size
    background = upscale(source("rocket").crop((0, 0, 320, 427)), size, seed=3)
    person_side = round(height * 0.07 / (ASTRONAUT_FACE[3] / 512))
    person = source("astronaut").resize((person_side, person_side), Image.Resampling.LANCZOS)
    background.paste(person, ((width - person_side) // 2, round(height * 0.12)))
    return background


def scene(name: str = "coffee", size: tuple[int, int] = (900, 600)) -> Image.Image:
    """A photo with no person in it, at a size the pipeline accepts."""
    return upscale(source(name), size, seed=4)


def blurred(image: Image.Image, radius: float = 3.0) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def large_photo(index: int, size: tuple[int, int] = (4000, 3000)) -> Image.Image:
    """A phone-sized photo (12 MP by default): a crop of a bundled photo, upscaled with grain.

    `index` picks the source, crop and mirroring, so a run of indices gives varied photos.
    """
    names = ("astronaut", *SCENES)
    base = source(names[index % len(names)])
    width, height = base.size
    aspect = size[0] / size[1]
    crop_w = min(width, round(height * aspect))
    crop_h = min(height, round(crop_w / aspect))
    shift = (index // len(names)) % 3
    left = (width - crop_w) * shift // 2
    top = (height - crop_h) * shift // 2
    crop = base.crop((left, top, left + crop_w, top + crop_h))
    if index % 2:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return upscale(crop, size, seed=100 + index)


# --- EXIF ---------------------------------------------------------------------------------------


def exif(*, orientation: int | None = None, gps: bool = False) -> Image.Exif:
    """EXIF as a phone writes it: camera make and model, optionally orientation and location."""
    data = Image.Exif()
    data[ExifTags.Base.Make] = "Avatars Test Camera"
    data[ExifTags.Base.Model] = "Model 1"
    data[ExifTags.Base.DateTime] = "2024:05:04 12:34:56"
    if orientation is not None:
        data[ExifTags.Base.Orientation] = orientation
    if gps:
        location = data.get_ifd(ExifTags.IFD.GPSInfo)
        location[ExifTags.GPS.GPSLatitudeRef] = "N"
        location[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
        location[ExifTags.GPS.GPSLongitudeRef] = "E"
        location[ExifTags.GPS.GPSLongitude] = GPS_LONGITUDE
    return data


# The transposition that turns an upright picture into the pixels a camera stores with this
# orientation tag (the inverse of what a viewer applies).
_STORED_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored_pixels(upright: Image.Image, orientation: int) -> Image.Image:
    """The pixels a camera would store for `upright` with this EXIF orientation."""
    method = _STORED_FOR_ORIENTATION[orientation]
    return upright.copy() if method is None else upright.transpose(method)


# --- encodings ----------------------------------------------------------------------------------


def jpeg(
    image: Image.Image,
    *,
    quality: int = 90,
    orientation: int | None = None,
    gps: bool = False,
    with_exif: bool = True,
) -> bytes:
    """JPEG bytes. With `orientation`, the stored pixels are rotated so a viewer shows `image`."""
    stored = stored_pixels(image, orientation) if orientation else image
    buffer = io.BytesIO()
    options: dict = {"quality": quality}
    if with_exif:
        options["exif"] = exif(orientation=orientation, gps=gps)
    stored.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def heic(
    image: Image.Image, *, quality: int = 80, orientation: int | None = None, gps: bool = False
) -> bytes:
    stored = stored_pixels(image, orientation) if orientation else image
    buffer = io.BytesIO()
    stored.save(
        buffer, "HEIF", quality=quality, exif=exif(orientation=orientation, gps=gps).tobytes()
    )
    return buffer.getvalue()


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def png_with_alpha(image: Image.Image) -> bytes:
    """PNG whose left half is fully transparent (so flattening on white is visible)."""
    rgba = image.convert("RGBA")
    alpha = Image.new("L", rgba.size, 255)
    alpha.paste(0, (0, 0, rgba.width // 2, rgba.height))
    rgba.putalpha(alpha)
    return encode(rgba, "PNG")


def webp(image: Image.Image, *, quality: int = 85, gps: bool = False) -> bytes:
    return encode(image, "WEBP", quality=quality, exif=exif(gps=gps))


# --- hostile files ------------------------------------------------------------------------------


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid PNG header claiming huge dimensions, a few hundred bytes on disk.

    Decoding it for real would need width * height bytes (400 MB at the default size).
    """
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)  # the first 4 rows; the rest is missing
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def png_with_text_bomb(image: Image.Image, megabytes: int = 50) -> bytes:
    """A real PNG with a zTXt chunk that inflates to `megabytes` of text (~50 KB on disk)."""
    valid = encode(image, "PNG")
    text = zlib.compress(b"A" * megabytes * 1024 * 1024, 9)
    chunk = _png_chunk(b"zTXt", b"Comment\x00\x00" + text)
    end_of_ihdr = 8 + 25
    return valid[:end_of_ihdr] + chunk + valid[end_of_ihdr:]


def jpeg_with_claimed_size(image: Image.Image, width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF) is edited to claim another size."""
    data = bytearray(jpeg(image, with_exif=False))
    index = 2
    while index < len(data):
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[index + 5 : index + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        index += 2 + length
    raise AssertionError("no SOF marker found")
