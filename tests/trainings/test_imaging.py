"""Normalisation of uploads: real photos in every accepted format, and hostile files refused."""

from __future__ import annotations

import io
import time
import tracemalloc

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageCms

from tests import photos
from trainings.imaging import (
    MAX_PIXELS,
    ImageRejected,
    NormalisedImage,
    normalise_image,
    sniff_format,
)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two pictures compared at 64 x 64 (0 = same, 255 = inverse)."""
    small_a = np.asarray(a.convert("L").resize((64, 64)), dtype=np.float32)
    small_b = np.asarray(b.convert("L").resize((64, 64)), dtype=np.float32)
    return float(np.abs(small_a - small_b).mean())


def _refusal(data: bytes, **options) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        normalise_image(data, measure=False, **options)
    return caught.value


@pytest.fixture(scope="module")
def portrait() -> Image.Image:
    """An upright, non-square photo: 600 wide, 800 high."""
    return photos.full_body((600, 800))


# --- accepted formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encode", "expected_format"),
    [
        (lambda image: photos.jpeg(image), "JPEG"),
        (lambda image: photos.encode(image, "PNG"), "PNG"),
        (lambda image: photos.webp(image), "WEBP"),
        (lambda image: photos.heic(image), "HEIF"),
    ],
    ids=["jpeg", "png", "webp", "heic"],
)
def test_each_accepted_format_gives_a_jpeg_training_copy_and_a_webp_thumbnail(
    encode, expected_format, portrait
):
    data = encode(portrait)
    result = normalise_image(data, measure=False)

    assert isinstance(result, NormalisedImage)
    assert result.original_format == expected_format
    assert result.original_size == (600, 800)
    assert result.original_bytes == len(data)
    training = _open(result.training)
    assert (training.format, training.mode, training.size) == ("JPEG", "RGB", (600, 800))
    assert result.training_size == (600, 800)
    thumbnail = _open(result.thumbnail)
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == result.thumbnail_size == (288, 384)
    # The same picture, not just any picture of that size.
    assert _difference(training, portrait) < 6


def test_a_file_object_is_read_as_well_as_bytes(portrait):
    result = normalise_image(io.BytesIO(photos.jpeg(portrait)), measure=False)
    assert result.training_size == (600, 800)


@pytest.mark.parametrize("mode", ["L", "CMYK", "I;16", "P"])
def test_other_pixel_modes_become_rgb(mode, portrait):
    if mode == "I;16":
        grey = np.asarray(portrait.convert("L"), dtype=np.uint16) * 257
        image, fmt = Image.fromarray(grey), "PNG"
    else:
        image, fmt = portrait.convert(mode), "JPEG" if mode in ("L", "CMYK") else "PNG"
    result = normalise_image(photos.encode(image, fmt), measure=False)
    training = _open(result.training)
    assert training.mode == "RGB"
    # 16-bit grey is scaled into 8 bits, not clipped to white.
    assert _difference(training, portrait) < 12


def test_transparency_is_flattened_on_white(portrait):
    result = normalise_image(photos.png_with_alpha(portrait), measure=False)
    pixels = np.asarray(_open(result.training))
    left, right = pixels[:, : 600 // 2 - 4], pixels[:, 600 // 2 + 4 :]
    assert left.min() >= 250  # the transparent half is white, not black
    assert right.mean() < 200  # the opaque half is the photo


def test_colours_are_converted_from_the_embedded_profile_and_the_profile_dropped(portrait):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = photos.encode(portrait, "JPEG", quality=95, icc_profile=srgb)
    assert _open(data).info.get("icc_profile")
    training = _open(normalise_image(data, measure=False).training)
    assert "icc_profile" not in training.info
    assert _difference(training, portrait) < 6


# --- orientation --------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [3, 6, 8, 5])
def test_exif_orientation_is_applied(orientation, portrait):
    data = photos.jpeg(portrait, orientation=orientation)
    stored = _open(data)
    if orientation in (5, 6, 8):
        assert stored.size == (800, 600)  # the camera stored it sideways

    result = normalise_image(data, measure=False)

    training = _open(result.training)
    assert training.size == result.original_size == (600, 800)
    assert result.orientation == orientation
    assert _difference(training, portrait) < 6  # upright: the picture as the person saw it
    if stored.size == training.size:
        assert _difference(training, stored) > 20  # and not the stored pixels as they were


def test_heic_rotation_is_applied(portrait):
    data = photos.heic(portrait, orientation=6)
    result = normalise_image(data, measure=False)
    training = _open(result.training)
    assert training.size == (600, 800)
    assert _difference(training, portrait) < 8


# --- metadata -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda image: photos.jpeg(image, orientation=6, gps=True),
        lambda image: photos.heic(image, gps=True),
        lambda image: photos.webp(image, gps=True),
    ],
    ids=["jpeg", "heic", "webp"],
)
def test_no_metadata_reaches_the_outputs(encode, portrait):
    data = encode(portrait)
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test photo must carry GPS"

    result = normalise_image(data, measure=False)

    assert result.had_location
    for output in (result.training, result.thumbnail):
        image = _open(output)
        exif = image.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert len(exif) == 0
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
        assert b"Exif\x00\x00" not in output
        assert b"Avatars Test Camera" not in output
        assert b"http://ns.adobe.com/xap" not in output


def test_a_photo_without_location_says_so(portrait):
    assert not normalise_image(photos.jpeg(portrait, gps=False), measure=False).had_location


# --- size ---------------------------------------------------------------------------------------


def test_a_large_jpeg_is_decoded_at_reduced_scale_and_resized(draft_scales):
    data = photos.jpeg(photos.large_photo(1, (3200, 2400)))

    wide = normalise_image(data, measure=False)
    small = normalise_image(data, long_side=512, measure=False)

    assert wide.training_size == (1024, 768)
    assert wide.original_size == (3200, 2400)
    assert small.training_size == (512, 384)
    assert _open(small.training).size == (512, 384)
    # 3200 / 1024 = 3.1: decoded at 1/2 (1600 x 1200); 3200 / 512 = 6.25: at 1/4 (800 x 600).
    assert draft_scales == [2, 4]


def test_a_photo_smaller_than_the_target_is_not_upscaled(portrait):
    result = normalise_image(photos.jpeg(portrait), long_side=1024, measure=False)
    assert result.training_size == (600, 800)
    assert normalise_image(photos.jpeg(portrait), long_side=512, measure=False).training_size == (
        384,
        512,
    )


def test_a_photo_whose_shorter_side_is_under_512_is_refused():
    cat = photos.source("chelsea")  # 451 x 300
    refusal = _refusal(photos.jpeg(cat))
    assert refusal.code == "too_small"
    assert "451 × 300" in refusal.message
    assert "512" in refusal.message


def test_a_file_over_the_size_limit_is_refused_without_reading_all_of_it(portrait):
    data = photos.jpeg(portrait)
    stream = io.BytesIO(data)
    with pytest.raises(ImageRejected) as caught:
        normalise_image(stream, max_bytes=len(data) // 2)
    assert caught.value.code == "file_too_large"
    assert stream.tell() == len(data) // 2 + 1


# --- refused files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "name"), [("GIF", "GIF"), ("TIFF", "TIFF"), ("BMP", "BMP"), ("AVIF", "AVIF")]
)
def test_other_image_formats_are_refused_by_name(fmt, name, portrait):
    refusal = _refusal(photos.encode(portrait, fmt))
    assert refusal.code == "unsupported_format"
    assert refusal.message.startswith(f"{name} files are not accepted")
    assert "JPEG, PNG, WebP or HEIC" in refusal.message


def test_a_text_file_named_jpg_is_not_an_image():
    refusal = _refusal(b"This is my holiday photo, honest.\n" * 20)
    assert refusal.code == "not_an_image"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (bytes(range(256)) * 64, "not_an_image"),
        (b"\xff\xd8\xff\xe0" + bytes(5000), "unreadable"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, "unreadable"),
        (b"RIFF\x00\x10\x00\x00WEBPVP8 " + bytes(200), "unreadable"),
    ],
    ids=["empty", "garbage", "jpeg-signature", "png-signature", "webp-signature"],
)
def test_garbage_is_refused_with_a_reason(data, code):
    refusal = _refusal(data)
    assert refusal.code == code
    assert refusal.message


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_jpeg_is_refused(keep, portrait):
    data = photos.jpeg(portrait)
    refusal = _refusal(data[: int(len(data) * keep)])
    assert refusal.code == "unreadable"
    assert "damaged or incomplete" in refusal.message


def test_a_truncated_heic_is_refused(portrait):
    data = photos.heic(portrait)
    assert _refusal(data[: len(data) // 2]).code == "unreadable"


@pytest.mark.parametrize(
    "data",
    [
        photos.png_bomb(20000, 20000),  # 400 MP: Pillow itself refuses it (over 2 x 89 MP)
        photos.png_bomb(9000, 9000),  # 81 MP: under Pillow's limit, over ours
    ],
    ids=["400MP", "81MP"],
)
def test_a_decompression_bomb_is_refused_quickly_without_allocating(data):
    assert len(data) < 2000
    tracemalloc.start()
    started = time.perf_counter()
    try:
        refusal = _refusal(data)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refusal.code == "too_many_pixels"
    assert f"{MAX_PIXELS // 1_000_000} megapixels" in refusal.message
    assert elapsed < 0.5
    assert peak < 5 * 1024 * 1024


def test_a_jpeg_header_claiming_huge_dimensions_is_refused(portrait):
    refusal = _refusal(photos.jpeg_with_claimed_size(portrait, 60000, 60000))
    assert refusal.code == "too_many_pixels"


def test_a_png_with_a_compressed_text_bomb_is_refused(portrait):
    data = photos.png_with_text_bomb(portrait, megabytes=50)
    assert len(data) < 1024 * 1024
    started = time.perf_counter()
    refusal = _refusal(data)
    assert refusal.code == "unreadable"
    assert time.perf_counter() - started < 1


def test_refusals_are_domain_errors_with_a_code():
    refusal = _refusal(b"")
    assert refusal.status_code == 400
    assert repr(refusal).startswith("ImageRejected('empty'")


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WebP"), ("GIF", "GIF"), ("BMP", "BMP")],
)
def test_sniff_format_names_the_kind_of_file(fmt, kind, portrait):
    assert sniff_format(photos.encode(portrait.resize((64, 64)), fmt)) == kind


def test_sniff_format_recognises_heic(portrait):
    assert sniff_format(photos.heic(portrait.resize((64, 64)))) == "HEIC"
    assert sniff_format(b"plain text") is None


# --- measurements -------------------------------------------------------------------------------


def test_measurements_come_with_the_result_so_the_report_needs_no_decoding():
    result = normalise_image(photos.jpeg(photos.close_up()))
    measurements = result.measurements
    assert measurements is not None
    assert (measurements.width, measurements.height) == result.training_size
    assert measurements.face_count == 1
    assert measurements.shot_type == "close_up"
    assert not measurements.is_blurry
