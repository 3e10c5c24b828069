"""What the simulated `ostris/flux-dev-lora-trainer` does with its input: unpack the zip, keep the
photos (later used to render this LoRA's outputs), and produce a small but real weights tarball.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .rendering import open_image

ZIP_ERROR = "input_images must be a zip file"
IMAGE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".heic",
    ".heif",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".avif",
}
MAX_PHOTOS = 60
PHOTO_SIDE = 1024
MAX_IMAGE_PIXELS = 80_000_000


@dataclass
class TrainingSet:
    file_count: int
    photos: list[tuple[str, Image.Image]] = field(default_factory=list)
    captions: dict[str, str] = field(default_factory=dict)


class TrainingInputError(Exception):
    pass


def read_training_zip(data: bytes) -> TrainingSet:
    """Unpack the images (and optional .txt captions) of a training zip, like the trainer."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise TrainingInputError(ZIP_ERROR) from error
    result = TrainingSet(file_count=0)
    with archive:
        for info in archive.infolist():
            name = info.filename
            base = Path(name).name
            if info.is_dir() or name.startswith("__MACOSX/") or base.startswith("."):
                continue
            result.file_count += 1
            suffix = Path(base).suffix.lower()
            if suffix == ".txt":
                result.captions[Path(base).stem] = archive.read(info).decode("utf-8", "replace")
                continue
            if suffix not in IMAGE_SUFFIXES or len(result.photos) >= MAX_PHOTOS:
                continue
            if info.file_size > 50 * 1024 * 1024:
                continue
            try:
                image = open_image(archive.read(info), max_side=PHOTO_SIDE)
            except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
                continue
            image.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            result.photos.append((base, image))
    if not result.photos:
        raise TrainingInputError(ZIP_ERROR)
    return result


def save_photos(training_set: TrainingSet, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, (_name, image) in enumerate(training_set.photos):
        path = folder / f"{number:03d}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def _safetensors(trigger_word: str, lora_rank: int, steps: int) -> bytes:
    """A valid (tiny) safetensors file: header length, JSON header, then the tensor bytes."""
    rank = max(1, min(int(lora_rank), 128))
    tensor = struct.pack(f"<{rank * 4}f", *([0.0] * rank * 4))
    header = {
        "__metadata__": {
            "format": "pt",
            "trigger_word": trigger_word,
            "steps": str(steps),
            "generator": "replicate-sim",
        },
        "transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": {
            "dtype": "F32",
            "shape": [rank, 4],
            "data_offsets": [0, len(tensor)],
        },
    }
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + tensor


def weights_tar(trigger_word: str, lora_rank: int, steps: int, captions: dict[str, str]) -> bytes:
    """`trained_model.tar` with `output/flux_train_replicate/lora.safetensors` like the trainer."""
    buffer = io.BytesIO()
    files = {
        "output/flux_train_replicate/lora.safetensors": _safetensors(
            trigger_word, lora_rank, steps
        ),
        "output/flux_train_replicate/config.yaml": (
            f"job: extension\nconfig:\n  name: flux_train_replicate\n  trigger_word: {trigger_word}"
            f"\n  steps: {steps}\n  rank: {lora_rank}\n"
        ).encode(),
    }
    for stem, text in sorted(captions.items()):
        files[f"output/flux_train_replicate/captions/{stem}.txt"] = text.encode()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()
