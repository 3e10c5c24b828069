"""Zip files in and out: reading an uploaded zip of photos safely, building the training zip.

Reading never writes to disk and never trusts the zip's own numbers: every entry is read
through a cap, so a zip bomb stops at the limit whatever its header claims. Bad entries
(paths that climb out, absolute paths, links, encrypted or oversized entries) are refused by
name while the good ones are kept.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

from core.exceptions import DomainError

MAX_ENTRIES = 80  # photos and their captions
MAX_ENTRY_BYTES = 25 * 1024 * 1024
MAX_TOTAL_BYTES = 400 * 1024 * 1024
MAX_RATIO = 100  # uncompressed / compressed, per entry
MAX_CAPTION_CHARS = 1000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"}
_READ_CHUNK = 1024 * 1024


class ArchiveRejected(DomainError):
    """The zip as a whole cannot be used (not a zip, too many entries, too large)."""

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code, field="archive")


@dataclass(frozen=True)
class ZipImage:
    name: str
    data: bytes
    caption: str | None = None


@dataclass(frozen=True)
class ZipRefusal:
    name: str
    code: str
    message: str


@dataclass
class ZipIntake:
    images: list[ZipImage] = field(default_factory=list)
    refused: list[ZipRefusal] = field(default_factory=list)


class _TooLarge(Exception):
    pass


def _unsafe_path_reason(name: str) -> str | None:
    if "\x00" in name:
        return "The file name is not valid."
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return "The zip names a file by an absolute path; it was not extracted."
    if ".." in PurePosixPath(normalised).parts:
        return "The zip names a file outside its own folder (“..”); it was not extracted."
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """Read an entry, stopping as soon as it passes `limit` bytes, whatever its header says."""
    chunks, size = [], 0
    with archive.open(info) as entry:
        while True:
            chunk = entry.read(_READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
    return b"".join(chunks)


def _skipped(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return (
        name.endswith("/")
        or path.parts[:1] == ("__MACOSX",)
        or any(part.startswith(".") for part in path.parts)
    )


def read_zip(stream: BinaryIO) -> ZipIntake:
    """Read the photos and same-named `.txt` captions of an uploaded zip."""
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ArchiveRejected("not_a_zip", "This file is not a zip archive we can read.") from error
    with archive:
        entries = [info for info in archive.infolist() if not _skipped(info.filename)]
        if len(entries) > MAX_ENTRIES:
            raise ArchiveRejected(
                "too_many_files",
                f"The zip holds {len(entries)} files; at most {MAX_ENTRIES} "
                "(photos and captions) are accepted.",
            )
        intake = ZipIntake()
        images: list[tuple[str, bytes]] = []
        captions: dict[str, str] = {}
        total = 0
        for info in entries:
            name = info.filename
            reason = _unsafe_path_reason(name)
            if reason is None and _is_link(info):
                reason = "The zip holds a link, not a file; it was not extracted."
            if reason is None and info.flag_bits & 0x1:
                reason = "The file is encrypted; upload it without a password."
            if reason:
                intake.refused.append(ZipRefusal(name, "unsafe_entry", reason))
                continue
            suffix = PurePosixPath(name).suffix.lower()
            if suffix not in IMAGE_SUFFIXES and suffix != ".txt":
                intake.refused.append(
                    ZipRefusal(
                        name,
                        "unsupported_format",
                        "Only photos (JPEG, PNG, WebP, HEIC) and .txt captions are used.",
                    )
                )
                continue
            # The ratio is checked against what the entry declares, then the read is capped at
            # the smaller of the per-file limit and what the ratio allows, so a lying header
            # cannot make us inflate more than that.
            ratio_cap = max(info.compress_size, 1) * MAX_RATIO
            limit = min(MAX_ENTRY_BYTES, ratio_cap, MAX_TOTAL_BYTES - total)
            if info.file_size > MAX_ENTRY_BYTES:
                intake.refused.append(
                    ZipRefusal(name, "file_too_large", "The file is larger than 25 MB.")
                )
                continue
            try:
                data = _read_capped(archive, info, limit)
            except _TooLarge:
                if limit == MAX_TOTAL_BYTES - total:
                    raise ArchiveRejected(
                        "archive_too_large",
                        "The zip unpacks to more than "
                        f"{MAX_TOTAL_BYTES // (1024 * 1024)} MB; upload fewer or smaller photos.",
                    ) from None
                code = "file_too_large" if limit == MAX_ENTRY_BYTES else "suspicious_compression"
                message = (
                    "The file is larger than 25 MB."
                    if code == "file_too_large"
                    else "The file unpacks to far more than its compressed size "
                    "(a zip bomb?); it was not extracted."
                )
                intake.refused.append(ZipRefusal(name, code, message))
                continue
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
                intake.refused.append(
                    ZipRefusal(name, "damaged_entry", "The file is damaged inside the zip.")
                )
                continue
            total += len(data)
            if suffix == ".txt":
                text = data.decode("utf-8", errors="replace")
                captions[_stem_key(name)] = " ".join(text.split())[:MAX_CAPTION_CHARS]
            else:
                images.append((name, data))
        for name, data in images:
            intake.images.append(ZipImage(name, data, captions.pop(_stem_key(name), None)))
        for key in captions:
            intake.refused.append(
                ZipRefusal(f"{key}.txt", "caption_without_image", "No photo with the same name.")
            )
        return intake


def _stem_key(name: str) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    return str(path.with_suffix("")).lower()


def build_training_zip(entries: Iterable[tuple[str, bytes, str]]) -> BinaryIO:
    """Write `NNN.jpg` + `NNN.txt` pairs into a temporary file (in memory while small)."""
    spooled = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    with zipfile.ZipFile(spooled, "w", compression=zipfile.ZIP_STORED) as archive:
        for number, (name, data, caption) in enumerate(entries):
            suffix = PurePosixPath(name).suffix.lower() or ".jpg"
            archive.writestr(f"{number:03d}{suffix}", data)
            if caption:
                archive.writestr(f"{number:03d}.txt", caption)
    spooled.seek(0)
    return spooled
