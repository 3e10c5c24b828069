"""Zip files in both directions: a person's zip of photos in, the training zip for Replicate out.

Reading (`read_photo_zip`) trusts nothing in the archive: names are checked for absolute paths
and `..`, symbolic links and encrypted entries are refused, and sizes are enforced on the bytes
actually decompressed, never on what the headers claim. Each entry gets its own result, so one
bad entry does not spoil the others. Nothing is written to disk: photos are returned as bytes,
to be decoded and re-encoded by `trainings.imaging.normalise_image`.

Writing (`build_training_zip`) streams numbered photos and captions (`001.jpg`, `001.txt`, ...)
into a spooled temporary file, the layout ostris/flux-dev-lora-trainer reads.
"""

from __future__ import annotations

import io
import posixpath
import re
import stat
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from core.exceptions import DomainError
from trainings.imaging import MAX_UPLOAD_BYTES

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
CAPTION_EXTENSION = ".txt"
# Files that operating systems and archivers add on their own: skipped without a word.
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini"})

_READ_CHUNK = 64 * 1024
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 60  # photos and captions; skipped system files do not count
    # Entries listed in the central directory, counted before zipfile parses it: a zip a few MB
    # in size can list millions of entries, and zipfile would hold every one in memory.
    max_declared_entries: int = 1000
    max_archive_bytes: int = 500 * 1024 * 1024  # the zip file itself
    max_total_bytes: int = 400 * 1024 * 1024  # decompressed, over all entries
    max_file_bytes: int = MAX_UPLOAD_BYTES  # decompressed, one photo
    max_ratio: int = 100  # decompressed : compressed, per entry and overall; JPEG/HEIC are ~1:1
    # Below this many decompressed bytes the ratio is not checked: a small text file of repeated
    # characters compresses far better than 100:1 and is harmless.
    ratio_floor_bytes: int = 1024 * 1024
    max_caption_chars: int = 1000


DEFAULT_LIMITS = ZipLimits()


class ArchiveRejected(DomainError):
    """The zip as a whole cannot be read; `message` tells the person why."""

    code = "archive_rejected"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code, field="archive")

    def __repr__(self) -> str:
        return f"ArchiveRejected({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class ZipPhoto:
    """A file of the zip that may be a photo (it is decoded for real afterwards)."""

    name: str
    data: bytes
    caption: str | None


@dataclass(frozen=True)
class ZipRefusal:
    """An entry that was not used: its name in the zip, a code, and a reason for a person."""

    name: str
    code: str
    message: str


ZipEntryResult = ZipPhoto | ZipRefusal


def read_photo_zip(
    fileobj: BinaryIO, *, limits: ZipLimits = DEFAULT_LIMITS
) -> Iterator[ZipEntryResult]:
    """Check an uploaded zip and return an iterator over its entries.

    The archive itself is checked at once (not a zip, too big, too many entries declared):
    ArchiveRejected is raised by this call, not later. Entries are then read one at a time, in
    the archive's order; each gives a ZipPhoto (bytes and caption) or a ZipRefusal (name, code,
    message). Captions (`name.txt` beside `name.jpg`) are attached to their photo, not yielded;
    directories, `__MACOSX/` and dotfiles are skipped.

    Refusal codes: absolute_path, parent_path, symlink, not_a_file, encrypted, duplicate_name,
    not_a_photo, caption_without_image, caption_not_utf8, caption_too_long, empty_file,
    file_too_large, compression_ratio, corrupt_entry, unsupported_compression; and, for every
    entry after a limit was reached, too_many_files or archive_too_large. Each message names
    the entry.
    """
    archive = _open_archive(fileobj, limits)
    return _iter_entries(archive, limits)


def _open_archive(fileobj: BinaryIO, limits: ZipLimits) -> zipfile.ZipFile:
    try:
        fileobj.seek(0, io.SEEK_END)
        size = fileobj.tell()
        fileobj.seek(0)
    except (AttributeError, OSError) as error:
        raise ValueError("the zip must be given as a seekable binary file") from error
    if size == 0:
        raise ArchiveRejected("not_a_zip", "The zip file is empty.")
    if size > limits.max_archive_bytes:
        raise ArchiveRejected(
            "archive_too_large",
            f"The zip file is larger than {_mb(limits.max_archive_bytes)}. "
            "Upload fewer or smaller photos.",
        )
    declared = _declared_entry_count(fileobj, size)
    if declared is None:
        raise ArchiveRejected("not_a_zip", "This file is not a zip archive we can read.")
    if declared > limits.max_declared_entries:
        raise ArchiveRejected(
            "too_many_files",
            f"The zip lists {declared} files; at most {limits.max_entries} photos and captions "
            "are accepted. Zip only the photos you want to use.",
        )
    fileobj.seek(0)
    try:
        return zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ArchiveRejected(
            "not_a_zip", "This zip file is damaged or not a zip archive, so it cannot be read."
        ) from error


def _declared_entry_count(fileobj: BinaryIO, size: int) -> int | None:
    """The entry count from the end-of-central-directory record (zip64 too), or None.

    Read before zipfile parses the central directory, which holds every entry in memory.
    """
    tail_size = min(size, 22 + 65535 + 20 + 56)
    fileobj.seek(size - tail_size)
    tail = fileobj.read(tail_size)
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or len(tail) - position < 22:
        return None
    count = struct.unpack("<H", tail[position + 10 : position + 12])[0]
    if count != 0xFFFF:
        return count
    # zip64: the locator just before the record points to the zip64 record with the real count.
    locator = tail[position - 20 : position] if position >= 20 else b""
    if len(locator) != 20 or locator[:4] != b"PK\x06\x07":
        return None
    offset = struct.unpack("<Q", locator[8:16])[0]
    if offset > size - 56:
        return None
    fileobj.seek(offset)
    record = fileobj.read(56)
    if len(record) != 56 or record[:4] != b"PK\x06\x06":
        return None
    return struct.unpack("<Q", record[32:40])[0]


@dataclass
class _Budget:
    entries: int = 0
    decompressed: int = 0
    compressed: int = 0
    # Once a limit of the whole archive is reached, every later entry is refused the same way:
    # (code, message with {name} in it).
    exhausted: tuple[str, str] | None = None

    def exhaust(self, name: str, code: str, message: str) -> ZipRefusal:
        self.exhausted = (code, message)
        return ZipRefusal(name, code, message.format(name=name))


def _iter_entries(archive: zipfile.ZipFile, limits: ZipLimits) -> Iterator[ZipEntryResult]:
    with archive:
        budget = _Budget()
        photos: list[tuple[zipfile.ZipInfo, str]] = []
        captions: dict[str, tuple[zipfile.ZipInfo, str]] = {}
        seen: set[str] = set()
        # First pass, no decompression: sort the entries and refuse the unsafe ones.
        for info in archive.infolist():
            name = _display_name(info.filename)
            if _is_ignored(info):
                continue
            refusal = _unsafe(info, name)
            if refusal is None and name in seen:
                refusal = ZipRefusal(
                    name,
                    "duplicate_name",
                    f"{name} appears twice in the zip; the second is ignored.",
                )
            if refusal is not None:
                yield refusal
                continue
            seen.add(name)
            stem, extension = posixpath.splitext(name)
            extension = extension.lower()
            if extension == CAPTION_EXTENSION:
                captions[stem.casefold()] = (info, name)
            elif extension in IMAGE_EXTENSIONS:
                photos.append((info, name))
            else:
                yield ZipRefusal(
                    name,
                    "not_a_photo",
                    f"{name} is not a photo: only JPEG, PNG, WebP and HEIC photos are used, "
                    "with optional .txt captions of the same name.",
                )

        # Captions are read first: they are small, and a photo needs its caption when it is
        # yielded, wherever the caption sits in the archive.
        caption_texts: dict[str, str] = {}
        photo_stems = {posixpath.splitext(name)[0].casefold() for _, name in photos}
        for stem, (info, name) in captions.items():
            if stem not in photo_stems:
                yield ZipRefusal(
                    name,
                    "caption_without_image",
                    f"{name} is a caption but there is no photo with the same name beside it.",
                )
                continue
            text = yield from _read_caption(archive, info, name, budget, limits)
            if text is not None:
                caption_texts[stem] = text

        for info, name in photos:
            data = yield from _read_entry(
                archive, info, name, limits.max_file_bytes, budget, limits
            )
            if data is not None:
                stem = posixpath.splitext(name)[0].casefold()
                yield ZipPhoto(name=name, data=data, caption=caption_texts.get(stem) or None)


def _display_name(filename: str) -> str:
    return filename.replace("\\", "/")


def _is_ignored(info: zipfile.ZipInfo) -> bool:
    parts = [p for p in _display_name(info.filename).split("/") if p]
    if info.is_dir() or not parts:
        return True
    if parts[0] == "__MACOSX" or parts[-1].lower() in _IGNORED_NAMES:
        return True
    # Dotfiles (.DS_Store, ._photo.jpg); `..` is not a dotfile, it is refused as unsafe.
    return any(p.startswith(".") and p not in (".", "..") for p in parts)


_DRIVE = re.compile(r"^[a-zA-Z]:")


def _unsafe(info: zipfile.ZipInfo, name: str) -> ZipRefusal | None:
    if name.startswith("/") or _DRIVE.match(name):
        return ZipRefusal(
            name, "absolute_path", f"{name} has an absolute path; zip entries must be relative."
        )
    if ".." in name.split("/"):
        return ZipRefusal(
            name, "parent_path", f"{name} points outside the zip (it contains ..); it is refused."
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return ZipRefusal(name, "symlink", f"{name} is a symbolic link, not a file; it is refused.")
    if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return ZipRefusal(name, "not_a_file", f"{name} is not a regular file; it is refused.")
    if info.flag_bits & 0x1:
        return ZipRefusal(
            name,
            "encrypted",
            f"{name} is encrypted (password-protected). Zip the photos without a password.",
        )
    return None


def _read_caption(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    budget: _Budget,
    limits: ZipLimits,
) -> Iterator[ZipRefusal]:
    """Yield a refusal or return the caption text (a generator used with `yield from`)."""
    # UTF-8 takes at most 4 bytes a character; a little more for a BOM and line ends.
    cap = limits.max_caption_chars * 4 + 16
    data = yield from _read_entry(archive, info, name, cap, budget, limits, kind="caption")
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        yield ZipRefusal(
            name,
            "caption_not_utf8",
            f"{name} is not UTF-8 text. Save the caption as UTF-8; the photo is kept without it.",
        )
        return None
    text = " ".join(text.split())
    if len(text) > limits.max_caption_chars:
        yield ZipRefusal(
            name,
            "caption_too_long",
            f"{name} has {len(text)} characters; captions can have at most "
            f"{limits.max_caption_chars}. The photo is kept without it.",
        )
        return None
    return text


def _read_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    cap: int,
    budget: _Budget,
    limits: ZipLimits,
    *,
    kind: str = "photo",
) -> Iterator[ZipRefusal]:
    """Yield a refusal or return the entry's bytes, counting what is decompressed.

    The header sizes are not trusted: reading stops as soon as the bytes actually produced pass
    the per-file cap, the remaining total, or the ratio to the compressed size.
    """
    if budget.exhausted is not None:
        code, message = budget.exhausted
        yield ZipRefusal(name, code, message.format(name=name))
        return None
    if budget.entries >= limits.max_entries:
        yield budget.exhaust(
            name,
            "too_many_files",
            f"The zip has more than {limits.max_entries} photos and captions; {{name}} and the "
            "rest are ignored. Zip only the photos you want to use.",
        )
        return None
    budget.entries += 1

    # zipfile never reads more compressed bytes than the central directory declares, so the
    # declared compressed size bounds the input; the output is what we count.
    compressed = max(info.compress_size, 1)
    remaining = limits.max_total_bytes - budget.decompressed
    chunks: list[bytes] = []
    produced = 0
    refusal: ZipRefusal | None = None
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(_READ_CHUNK)
                if not chunk:
                    break
                produced += len(chunk)
                chunks.append(chunk)
                if produced > cap:
                    refusal = _too_large(name, kind, cap)
                    break
                if produced > remaining:
                    refusal = budget.exhaust(
                        name,
                        "archive_too_large",
                        f"The photos in the zip add up to more than "
                        f"{_mb(limits.max_total_bytes)}; {{name}} and the rest are ignored.",
                    )
                    break
                if produced > limits.ratio_floor_bytes and produced > limits.max_ratio * compressed:
                    refusal = ZipRefusal(
                        name,
                        "compression_ratio",
                        f"{name} expands more than {limits.max_ratio} times when unzipped, "
                        "which photos never do; it is refused as a possible zip bomb.",
                    )
                    break
    except NotImplementedError:
        refusal = ZipRefusal(
            name,
            "unsupported_compression",
            f"{name} uses a compression method we cannot read. Zip it again with standard "
            "(deflate) compression.",
        )
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError) as error:
        refusal = ZipRefusal(
            name,
            "corrupt_entry",
            f"{name} is damaged in the zip and cannot be read ({_short(error)}).",
        )
    finally:
        budget.decompressed += produced
        budget.compressed += min(info.compress_size, compressed)

    if refusal is None and (
        budget.decompressed > limits.ratio_floor_bytes
        and budget.decompressed > limits.max_ratio * max(budget.compressed, 1)
    ):
        refusal = budget.exhaust(
            name,
            "compression_ratio",
            f"The zip expands more than {limits.max_ratio} times when unzipped, which photos "
            "never do; {name} and the rest are refused as a possible zip bomb.",
        )
    if refusal is not None:
        yield refusal
        return None
    if kind == "photo" and produced == 0:
        yield ZipRefusal(name, "empty_file", f"{name} is empty.")
        return None
    return b"".join(chunks)


def _too_large(name: str, kind: str, cap: int) -> ZipRefusal:
    if kind == "caption":
        return ZipRefusal(
            name, "caption_too_long", f"{name} is too long for a caption; the photo is kept."
        )
    return ZipRefusal(
        name, "file_too_large", f"{name} is larger than {_mb(cap)}; photos can be at most that."
    )


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


# ================================================================================================
# The training zip
# ================================================================================================

_SPOOL_IN_MEMORY_BYTES = 32 * 1024 * 1024


def build_training_zip(
    items: Iterable[tuple[str, bytes, str | None]],
    *,
    fileobj: BinaryIO | None = None,
) -> BinaryIO:
    """Write (filename, image bytes, caption) items as `001.jpg` + `001.txt`, ... into a zip.

    The extension comes from the bytes (JPEG, PNG or WebP), not from `filename`, which only
    names the photo in error messages. A caption, when there is one, is written as UTF-8 beside
    its photo. Photos are stored (already compressed), captions deflated, and every timestamp
    is the same, so the same photos and captions give the same bytes. Returns `fileobj` (by
    default a SpooledTemporaryFile that stays in memory up to 32 MB) rewound to the start.
    """
    # The caller owns the file it gets back and closes it (after the upload to Replicate).
    out = fileobj or tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    count = 0
    try:
        with zipfile.ZipFile(out, "w") as archive:
            for count, (filename, data, caption) in enumerate(items, start=1):
                stem = f"{count:03d}"
                entry = zipfile.ZipInfo(f"{stem}.{_extension_of(data, filename)}", _ZIP_EPOCH)
                entry.compress_type = zipfile.ZIP_STORED
                entry.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(entry, data)
                text = " ".join(caption.split()) if caption else ""
                if text:
                    caption_entry = zipfile.ZipInfo(f"{stem}.txt", _ZIP_EPOCH)
                    caption_entry.compress_type = zipfile.ZIP_DEFLATED
                    caption_entry.external_attr = (stat.S_IFREG | 0o644) << 16
                    archive.writestr(caption_entry, text.encode("utf-8"))
        if count == 0:
            raise ValueError("a training zip needs at least one photo")
    except BaseException:
        if fileobj is None:
            out.close()
        raise
    out.seek(0)
    return out


def _extension_of(data: bytes, filename: str) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise ValueError(f"{filename}: a training photo must be JPEG, PNG or WebP bytes")
