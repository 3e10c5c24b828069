"""Outputs keep their pixels and gain an AI-generated mark; inputs are decoded and cleaned."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageDraw

from core.exceptions import DomainError
from gallery import imaging


def _encoded(fmt: str, **options) -> bytes:
    image = Image.new("RGB", (300, 200), (20, 90, 200))
    ImageDraw.Draw(image).ellipse((50, 30, 250, 170), fill=(240, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _xmp(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        value = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or b""
        return value.decode() if isinstance(value, bytes) else value


@pytest.mark.parametrize(
    ("fmt", "options", "name"),
    [
        ("WEBP", {"quality": 80}, "webp"),
        ("WEBP", {"lossless": True}, "webp"),
        ("JPEG", {"quality": 90}, "jpg"),
        ("PNG", {}, "png"),
    ],
)
def test_outputs_are_marked_without_touching_their_pixels(fmt, options, name):
    data = _encoded(fmt, **options)
    processed = imaging.output_process(data, description="AI-generated <test> & co")
    assert processed.format == name
    assert (processed.width, processed.height) == (300, 200)
    xmp = _xmp(processed.content)
    assert "Iptc4xmpExt:DigitalSourceType" in xmp
    assert imaging.DIGITAL_SOURCE_TYPE in xmp
    assert "AI-generated &lt;test&gt; &amp; co" in xmp
    with Image.open(io.BytesIO(data)) as before, Image.open(io.BytesIO(processed.content)) as after:
        assert ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getbbox() is None
    with Image.open(io.BytesIO(processed.thumbnail)) as thumbnail:
        assert thumbnail.format == "WEBP"
        assert max(thumbnail.size) <= imaging.THUMBNAIL_LONG_SIDE
    assert processed.placeholder.startswith("data:image/webp;base64,")
    assert len(processed.placeholder) < 600


def test_the_dominant_colour_is_the_largest_area():
    image = Image.new("RGB", (100, 100), (250, 10, 10))
    ImageDraw.Draw(image).rectangle((0, 0, 30, 30), fill=(10, 10, 250))
    red, _green, blue = (int(imaging.dominant_color(image)[i : i + 2], 16) for i in (1, 3, 5))
    assert red > 200 and blue < 60


def test_a_non_picture_output_is_refused():
    with pytest.raises(DomainError):
        imaging.output_process(b"<html>expired</html>", description="x")


def test_init_images_are_upright_rgb_and_without_metadata():
    image = Image.new("RGB", (400, 200), (10, 200, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: shown as 200 x 400
    exif[0x8825] = {2: (48.0, 51.0, 29.6)}  # a GPS position
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    data, size = imaging.init_image_normalise(buffer.getvalue())
    assert size == (200, 400)
    with Image.open(io.BytesIO(data)) as cleaned:
        assert cleaned.format == "PNG" and cleaned.mode == "RGB"
        assert not cleaned.getexif()


@pytest.mark.parametrize("data", [b"", b"garbage", _encoded("GIF")])
def test_unreadable_inputs_are_refused_with_the_field(data):
    with pytest.raises(imaging.InputImageRejected) as caught:
        imaging.init_image_normalise(data, field="image")
    assert caught.value.field == "image"


def test_masks_are_black_and_white_at_the_image_size():
    drawing = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).rectangle((0, 0, 24, 49), fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    drawing.save(buffer, "PNG")
    with Image.open(io.BytesIO(imaging.mask_normalise(buffer.getvalue(), size=(200, 100)))) as m:
        assert m.size == (200, 100) and m.mode == "L"
        assert m.getextrema() == (0, 255) and len(m.getcolors()) == 2
        assert m.getpixel((10, 50)) == 255 and m.getpixel((190, 50)) == 0
    empty = io.BytesIO()
    Image.new("L", (50, 50), 0).save(empty, "PNG")
    with pytest.raises(imaging.InputImageRejected):
        imaging.mask_normalise(empty.getvalue(), size=(50, 50))
