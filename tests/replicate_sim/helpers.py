"""Small builders shared by the simulator tests: images, zips, pixel statistics."""

from __future__ import annotations

import base64
import io
import secrets
import time
import zipfile

from PIL import Image, ImageDraw, ImageStat

from tests.people import jpeg_bytes

TRAINER = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "4ffd32160efd92e956d39c5338a9b8fbafca58e03f791f6d8011f3e20e8ea6fa"
TERMINAL = {"succeeded", "failed", "canceled"}


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A stand-in for a portrait: bright upper half (sky, face), dark lower half (clothes)."""
    width, height = size
    image = Image.new("RGB", size, (20 + seed * 5, 15, 25))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, height // 2), fill=(250, 235 - seed * 10, 215))
    draw.ellipse(
        (width // 2 - 60, height // 4 - 70, width // 2 + 60, height // 4 + 70), fill=(230, 190, 160)
    )
    return image


def encode(image: Image.Image, fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def training_zip(count: int = 4) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(count):
            archive.writestr(f"photo-{number}.jpg", encode(photo(number)))
        archive.writestr("photo-0.txt", "a photo of TOK smiling")
    buffer.seek(0)
    buffer.name = "photos.zip"
    return buffer


def version_trained_on(
    simulator, photos: list[Image.Image], *, name_prefix: str
) -> tuple[str, str]:
    """Train a LoRA on the simulator from a zip of these photos, as JPEG: (model name, version
    id). The simulator's outputs of that version are made from the photos."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, image in enumerate(photos):
            archive.writestr(f"photo-{number}.jpg", jpeg_bytes(image))
    buffer.seek(0)
    buffer.name = "photos.zip"
    return version_trained_on_zip(simulator, buffer, name_prefix=name_prefix)


def version_trained_on_zip(simulator, archive: io.BytesIO, *, name_prefix: str) -> tuple[str, str]:
    """Train a LoRA on the simulator from this zip of photos: (model name, version id)."""
    client = simulator.client()
    name = f"{name_prefix}-{int(time.time() * 1000)}-{secrets.token_hex(2)}"
    client.models.create(
        owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    training = client.trainings.create(
        model=TRAINER,
        version=TRAINER_VERSION,
        input={"input_images": archive, "steps": 200, "trigger_word": "TOK"},
        destination=f"{simulator.owner}/{name}",
    )
    deadline = time.monotonic() + 30
    while training.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.05)
        training.reload()
    assert training.status == "succeeded", (training.status, training.error)
    return name, training.output["version"].split(":", 1)[1]


def data_uri(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(encode(image, "PNG")).decode()


def open_bytes(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def mean_luminance(image: Image.Image, box: tuple[float, float, float, float]) -> float:
    """Mean grey level inside a box given in fractions of the image size."""
    width, height = image.size
    left, top, right, bottom = box
    region = image.convert("L").crop(
        (int(left * width), int(top * height), int(right * width), int(bottom * height))
    )
    return ImageStat.Stat(region).mean[0]


def mean_rgb(image: Image.Image, box: tuple[float, float, float, float]) -> list[float]:
    width, height = image.size
    left, top, right, bottom = box
    region = image.convert("RGB").crop(
        (int(left * width), int(top * height), int(right * width), int(bottom * height))
    )
    return ImageStat.Stat(region).mean
