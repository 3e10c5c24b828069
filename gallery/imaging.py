"""Pictures in and out of generations.

In: an init image or a mask a person uploads (or draws) is decoded for real, turned upright,
stripped of its metadata (no GPS) and re-encoded; hostile files are refused with a message.

Out: an output Replicate made is kept byte for byte (no second lossy encode) with an XMP packet
added that marks it as AI-generated (IPTC DigitalSourceType `trainedAlgorithmicMedia`), plus a
WebP thumbnail, its dominant colour and a tiny blurred placeholder for grids that load fast.
"""

from __future__ import annotations

import base64
import io
import logging
import struct
import warnings
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pillow_heif
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from core.exceptions import DomainError
from core.limits import image_decode_slot, image_too_many_pixels_message

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

MAX_INPUT_BYTES = 20 * 1024 * 1024
# Pixels are limited by settings.IMAGE_MAX_PIXELS (core.limits: what one decode may cost), read
# from the header before anything is decoded; this is its value when the module was imported.
MAX_INPUT_PIXELS = settings.IMAGE_MAX_PIXELS
INPUT_LONG_SIDE = 2048
THUMBNAIL_LONG_SIDE = 512
THUMBNAIL_QUALITY = 78
# WebP effort of the thumbnail made while a person waits for their picture: 2 encodes in about
# half the time of 4 for ~4% more bytes (1024 px outputs).
THUMBNAIL_WEBP_METHOD = 2
# A grid cell is about 175-185 px wide: screens of density 1 load this copy of the thumbnail
# (a third of its bytes), dense screens the 512 px one (templates/gallery/_image_grid_items.html).
THUMBNAIL_SMALL_LONG_SIDE = 256
THUMBNAIL_SMALL_QUALITY = 75
PLACEHOLDER_LONG_SIDE = 16
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_OUTPUT_FORMATS = {"WEBP": "webp", "JPEG": "jpg", "PNG": "png"}
# A phone JPEG carrying extra pictures (MPO) is opened by the JPEG plugin.
_INPUT_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")


class InputImageRejected(DomainError):
    code = "invalid_image"


def _open(data: bytes, *, field: str, formats=_INPUT_FORMATS) -> Image.Image:
    """Decode an upload, after checking from its header that it is not too many pixels.

    Call it holding a decode slot (core.limits.image_decode_slot).
    """
    if len(data) > MAX_INPUT_BYTES:
        raise InputImageRejected(
            f"The picture is larger than {MAX_INPUT_BYTES // (1024 * 1024)} MB.", field=field
        )
    max_pixels = settings.IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns over its limit (ours, see core.limits): the check below refuses the
            # same pictures and names their size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=formats)  # reads the header only
            if image.width * image.height > max_pixels:
                raise InputImageRejected(
                    image_too_many_pixels_message(image.size, max_pixels, "picture"), field=field
                )
            image.load()
    except InputImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise InputImageRejected(
            f"The picture has too many pixels; pictures can have at most "
            f"{max_pixels // 1_000_000} megapixels.",
            field=field,
        ) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise InputImageRejected(
            "This file is not a picture we can read (use JPEG, PNG, WebP or HEIC).", field=field
        ) from error
    return image


def _upright(image: Image.Image) -> Image.Image:
    """The picture turned as its EXIF says, in place: no copy of an upright picture's pixels."""
    ImageOps.exif_transpose(image, in_place=True)
    return image


def init_image_normalise(data: bytes, *, field: str = "image") -> tuple[bytes, tuple[int, int]]:
    """An uploaded init image as an upright RGB PNG without metadata, at most 2048 px long."""
    with image_decode_slot():
        image = _upright(_open(data, field=field))
        if max(image.size) < 64:
            raise InputImageRejected("The picture is too small (at least 64 pixels).", field=field)
        # Flattened onto white, then shrunk; each full-size copy is dropped as soon as the next
        # exists, so the peak is the decoded picture, its RGBA and the white RGB at once.
        if image.mode in ("RGBA", "LA", "P", "PA"):
            rgba = image if image.mode == "RGBA" else image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            del rgba
            image.close()
            image = flat
        elif image.mode != "RGB":
            converted = image.convert("RGB")
            image.close()
            image = converted
        image.thumbnail((INPUT_LONG_SIDE, INPUT_LONG_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False, compress_level=6)
        return buffer.getvalue(), image.size


def mask_normalise(data: bytes, *, size: tuple[int, int], field: str = "mask") -> bytes:
    """A mask as a black-and-white PNG of the init image's size (white: repaint).

    A drawing with transparency (the page's canvas) counts its painted pixels as white.
    """
    with image_decode_slot():
        image = _upright(_open(data, field=field))
        # Nearest-neighbour picks pixels, so resizing first (at most the init image's size)
        # gives the same mask as converting first, without full-size copies.
        image = image.resize(size, Image.Resampling.NEAREST)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = rgba.getchannel("A")
        grey = rgba.convert("L")
        # Painted (opaque and light) pixels are repainted; transparent ones are kept.
        mask = Image.eval(alpha, lambda value: 255 if value > 127 else 0)
        mask = Image.composite(grey, Image.new("L", rgba.size, 0), mask)
    else:
        mask = image.convert("L")
    mask = mask.point(lambda value: 255 if value >= 128 else 0)
    if mask.getextrema() == (0, 0):
        raise InputImageRejected(
            "The mask is empty: paint the area to change in white.", field=field
        )
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class StoredOutput:
    content: bytes  # the output, with the AI-generated mark added
    format: str  # webp, jpg or png
    width: int
    height: int
    thumbnail: bytes  # WebP
    placeholder_color: str
    placeholder: str  # data: URI of a tiny WebP
    # With `face_copy`: an RGB copy at most FACE_COPY_LONG_SIDE px, to look for faces in.
    face_picture: Image.Image | None = None


# dlib looks for faces on a copy this size at most (likeness.faces.DETECT_MAX_SIDE); made from
# the one decode, it saves decoding the output a second time to score its likeness.
FACE_COPY_LONG_SIDE = 800


def output_process(data: bytes, *, description: str, face_copy: bool = False) -> StoredOutput:
    """Check an output is a picture; mark it as AI-generated; make its thumbnail and placeholder
    (and, with `face_copy`, a small copy to look for faces in).

    The pixels are checked from the header against IMAGE_MAX_PIXELS before they are decoded,
    and only the thumbnail is ever converted: the full-size picture is decoded once, not copied.
    """
    face_picture = None
    max_pixels = settings.IMAGE_MAX_PIXELS
    try:
        with image_decode_slot(), warnings.catch_warnings():
            # Pillow warns over its limit (ours): the check below refuses and names the size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(_OUTPUT_FORMATS)) as image:
                pil_format, size = image.format, image.size
                if size[0] * size[1] > max_pixels:
                    raise DomainError(
                        "The image service sent a picture too large to process: "
                        + image_too_many_pixels_message(size, max_pixels, "picture"),
                        code="invalid_output",
                    )
                draft_side = FACE_COPY_LONG_SIDE if face_copy else THUMBNAIL_LONG_SIDE
                image.draft("RGB", (draft_side, draft_side))  # JPEG: decoded scaled down
                image.load()
                if face_copy:
                    face_picture = _flattened(image)
                    face_picture.thumbnail(
                        (FACE_COPY_LONG_SIDE, FACE_COPY_LONG_SIDE), Image.Resampling.BILINEAR
                    )
                if image.mode in ("RGB", "RGBA", "L", "LA"):
                    thumb = image
                elif image.mode in ("P", "PA") and "transparency" in image.info:
                    thumb = image.convert("RGBA")
                else:
                    thumb = image.convert("RGB")
                # reducing_gap 1: box-reduced by the whole factor first (a 1024 px output is
                # 2x, ~2 ms), Lanczos only for what is left; Lanczos over all of it was ~25 ms.
                thumb.thumbnail(
                    (THUMBNAIL_LONG_SIDE, THUMBNAIL_LONG_SIDE),
                    Image.Resampling.LANCZOS,
                    reducing_gap=1.0,
                )
                thumb = thumb.convert("RGB")
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise DomainError(
            "The image service sent a file that is not a picture.", code="invalid_output"
        ) from error
    output_format = _OUTPUT_FORMATS[pil_format]
    marked = ai_mark_add(data, output_format=output_format, size=size, description=description)
    buffer = io.BytesIO()
    thumb.save(buffer, format="WEBP", quality=THUMBNAIL_QUALITY, method=THUMBNAIL_WEBP_METHOD)
    return StoredOutput(
        content=marked,
        format=output_format,
        width=size[0],
        height=size[1],
        thumbnail=buffer.getvalue(),
        placeholder_color=dominant_color(thumb),
        placeholder=placeholder_data_uri(thumb),
        face_picture=face_picture,
    )


def _flattened(image: Image.Image) -> Image.Image:
    """An RGB copy (transparent parts on white), never the decoded picture itself."""
    if image.mode == "RGB":
        return image.copy()
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def thumbnail_small_name(thumbnail_name: str) -> str:
    """Where the small copy of a stored thumbnail is kept: next to it, named after it."""
    stem, dot, extension = thumbnail_name.rpartition(".")
    return f"{stem}-{THUMBNAIL_SMALL_LONG_SIDE}.{extension}" if dot else f"{thumbnail_name}-small"


def thumbnail_small(thumbnail: bytes) -> bytes:
    """The small copy of a thumbnail we made (WebP at most THUMBNAIL_LONG_SIDE px), as WebP."""
    with Image.open(io.BytesIO(thumbnail)) as image:
        image.draft("RGB", (THUMBNAIL_SMALL_LONG_SIDE, THUMBNAIL_SMALL_LONG_SIDE))
        small = image.convert("RGB")
    small.thumbnail(
        (THUMBNAIL_SMALL_LONG_SIDE, THUMBNAIL_SMALL_LONG_SIDE), Image.Resampling.LANCZOS
    )
    buffer = io.BytesIO()
    # method 6 costs ~10 ms more once per picture and saves ~15% of every later download.
    small.save(buffer, format="WEBP", quality=THUMBNAIL_SMALL_QUALITY, method=6)
    return buffer.getvalue()


def dominant_color(image: Image.Image) -> str:
    """The most frequent of 8 representative colours, as #rrggbb."""
    small = image.convert("RGB").resize((48, 48), Image.Resampling.BILINEAR)
    quantised = small.quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    palette = quantised.getpalette() or [0, 0, 0]
    counts = sorted(quantised.getcolors() or [(1, 0)], reverse=True)
    index = counts[0][1]
    red, green, blue = palette[index * 3 : index * 3 + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"


def placeholder_data_uri(image: Image.Image) -> str:
    tiny = image.convert("RGB").copy()
    tiny.thumbnail((PLACEHOLDER_LONG_SIDE, PLACEHOLDER_LONG_SIDE), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    tiny.save(buffer, format="WEBP", quality=40)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# --- "AI-generated" mark -----------------------------------------------------------------------


def xmp_packet(description: str) -> bytes:
    text = escape(description)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}">'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{text}</rdf:li></rdf:Alt>'
        "</dc:description>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def ai_mark_add(data: bytes, *, output_format: str, size: tuple[int, int], description: str):
    """Add the XMP packet to the file without re-encoding its pixels."""
    packet = xmp_packet(description)
    try:
        if output_format == "png":
            return _png_with_xmp(data, packet)
        if output_format == "jpg":
            return _jpeg_with_xmp(data, packet)
        return _webp_with_xmp(data, packet, size)
    except (ValueError, struct.error) as error:
        # A file we cannot parse is re-encoded by Pillow with the packet (lossless for PNG).
        logger.warning("could not insert XMP without re-encoding: %s", error)
        with Image.open(io.BytesIO(data)) as image:
            buffer = io.BytesIO()
            pil_format = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[output_format]
            image.save(buffer, format=pil_format, xmp=packet, quality=95)
            return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def _png_with_xmp(data: bytes, packet: bytes) -> bytes:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not a PNG")
    # Before the first image data, so that readers find it without decoding the pixels.
    position = 8
    while True:
        if position + 8 > len(data):
            raise ValueError("no IDAT chunk")
        length = struct.unpack(">I", data[position : position + 4])[0]
        if data[position + 4 : position + 8] == b"IDAT":
            break
        position += 12 + length
    # iTXt: keyword, NUL, compression flag 0, method 0, empty language tag and translated keyword.
    chunk = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + packet)
    return data[:position] + chunk + data[position:]


def _jpeg_with_xmp(data: bytes, packet: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    payload = b"http://ns.adobe.com/xap/1.0/\x00" + packet
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("XMP packet too large")
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # After SOI and any APP0 (JFIF) segment, as readers expect.
    position = 2
    if data[2:4] == b"\xff\xe0":
        position = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:position] + segment + data[position:]


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    padding = b"\x00" if len(payload) % 2 else b""
    return kind + struct.pack("<I", len(payload)) + payload + padding


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks, position = [], 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        length = struct.unpack("<I", data[position + 4 : position + 8])[0]
        payload = data[position + 8 : position + 8 + length]
        if len(payload) != length:
            raise ValueError("truncated WebP chunk")
        chunks.append((kind, payload))
        position += 8 + length + (length % 2)
    return chunks


def _webp_with_xmp(data: bytes, packet: bytes, size: tuple[int, int]) -> bytes:
    chunks = [chunk for chunk in _webp_chunks(data) if chunk[0] != b"XMP "]
    kinds = [kind for kind, _ in chunks]
    if b"VP8X" in kinds:
        index = kinds.index(b"VP8X")
        header = bytearray(chunks[index][1])
        header[0] |= 0x04  # XMP present
        chunks[index] = (b"VP8X", bytes(header))
    else:
        flags = 0x04
        if kinds and kinds[0] == b"VP8L" and len(chunks[0][1]) >= 5:
            # The lossless header's alpha_is_used bit (bit 28 after the signature byte).
            bits = int.from_bytes(chunks[0][1][1:5], "little")
            if bits >> 28 & 1:
                flags |= 0x10
        width, height = size
        header = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
        header += (height - 1).to_bytes(3, "little")
        chunks.insert(0, (b"VP8X", header))
    chunks.append((b"XMP ", packet))
    body = b"WEBP" + b"".join(_riff_chunk(kind, payload) for kind, payload in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


# --- Downloads in another format ---------------------------------------------------------------

# Download formats: what a person may ask for, and how each is written.
DOWNLOAD_FORMATS = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "webp": "webp"}
DOWNLOAD_QUALITY = 92  # lossy formats: visually lossless for a generated picture
PREVIEW_LONG_SIDE = 1200  # link previews (Open Graph): what messengers show large
PREVIEW_QUALITY = 85
# Written into every converted file instead of the stored packet: the AI mark stays, the
# generation's id does not (nothing in a downloaded file should lead back to its owner).
CONVERTED_DESCRIPTION = "AI-generated image."


def image_convert(data: bytes, *, output_format: str, long_side: int | None = None) -> bytes:
    """A stored output re-encoded as `output_format` (jpg, png or webp), optionally shrunk.

    Only the pixels and the colour profile are carried over: EXIF (GPS, camera, dates), XMP and
    text chunks are dropped, then the AI-generated mark is added again. The pixels are checked
    from the header first, and the decode holds one of the process's decode slots.
    """
    pil_format = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[output_format]
    max_pixels = settings.IMAGE_MAX_PIXELS
    try:
        with image_decode_slot(), warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=tuple(_OUTPUT_FORMATS)) as image:
                if image.width * image.height > max_pixels:
                    raise DomainError(
                        image_too_many_pixels_message(image.size, max_pixels, "picture"),
                        code="too_many_pixels",
                    )
                icc_profile = image.info.get("icc_profile")
                if long_side:
                    image.draft("RGB", (long_side, long_side))
                image.load()
                pixels = _download_pixels(image, keep_alpha=output_format != "jpg")
                if long_side:
                    pixels.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
                options: dict = {"icc_profile": icc_profile} if icc_profile else {}
                quality = PREVIEW_QUALITY if long_side else DOWNLOAD_QUALITY
                if output_format == "jpg":
                    options.update(quality=quality, optimize=True, progressive=True)
                elif output_format == "webp":
                    options.update(quality=quality, method=4)
                else:
                    options.update(compress_level=6)
                buffer = io.BytesIO()
                pixels.save(buffer, format=pil_format, **options)
                size = pixels.size
    except DomainError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombError,
    ) as error:
        raise DomainError("This picture could not be converted.", code="invalid_image") from error
    return ai_mark_add(
        buffer.getvalue(), output_format=output_format, size=size, description=CONVERTED_DESCRIPTION
    )


def _download_pixels(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """The picture as RGB, or RGBA when it has transparency and the format keeps it (a JPEG
    gets its transparent parts on white)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not has_alpha:
        return image if image.mode == "RGB" else image.convert("RGB")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    if keep_alpha:
        return rgba
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat
