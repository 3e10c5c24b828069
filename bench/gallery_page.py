"""The web gallery page of 50 pictures: bytes on the wire, as a phone and a laptop load it.

A user with 50 pictures (1024 px photos from scikit-image's bundled ones, stored the way outputs
are: a 512 px WebP thumbnail each) opens /gallery/ with 50 a page. The HTML is fetched the way a
browser asks for it (gzip accepted, through the middleware); then, for each screen, the thumbnail
every <img> would load is chosen from its srcset/sizes as Chrome does (between the two
candidates around the screen's density, the denser one from their geometric mean up) and fetched
through the app, all 50 (the whole page scrolled through; `loading="lazy"` only delays them).

Rows:
- before: the page as it was, HTML uncompressed and 50 thumbnails of 512 px. The baseline.
- HTML uncompressed / gzip.
- <width> px x<density>: the page, gzip HTML plus the thumbnails that screen loads.
- the small thumbnail made on first request: time per picture (once, then kept in storage).
Runs in a database and a media folder of its own (SQLite or the configured PostgreSQL).
"""

from __future__ import annotations

import argparse
import html.parser
import io
import logging
import math
import re
import statistics
import tempfile
import time
from typing import TextIO

from django.test import Client, override_settings

from bench import Figure, bench_database

BASELINE = "before: HTML + 512 px thumbnails"
GOAL_KB = 600
# (viewport width in CSS px, device pixel ratio): a phone of today and a laptop.
SCREENS = ((390, 3), (390, 2), (1280, 1), (1280, 2))
ROOT_FONT_PX = 16


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pictures", type=int, default=50, help="pictures on the page (50)")


class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _length_px(length: str, viewport: int) -> float:
    """A CSS length of `sizes`: px, rem, vw, or calc(a +/- b) of those."""
    length = length.strip()
    if length.startswith("calc(") and length.endswith(")"):
        parts = re.split(r"\s+([+-])\s+", length[5:-1].strip())
        total = _length_px(parts[0], viewport)
        for sign, term in zip(parts[1::2], parts[2::2], strict=True):
            total += _length_px(term, viewport) * (1 if sign == "+" else -1)
        return total
    number, unit = re.fullmatch(r"([\d.]+)(px|rem|vw)", length).groups()
    scale = {"px": 1, "rem": ROOT_FONT_PX, "vw": viewport / 100}[unit]
    return float(number) * scale


def slot_width(sizes: str, viewport: int) -> float:
    """The width `sizes` gives an image on a viewport: the first entry whose condition holds."""
    for entry in sizes.split(", "):
        match = re.fullmatch(r"\((max|min)-width:\s*(\d+)px\)\s+(.+)", entry.strip())
        if match is None:
            return _length_px(entry, viewport)
        kind, limit, length = match.groups()
        if (viewport <= int(limit)) if kind == "max" else (viewport >= int(limit)):
            return _length_px(length, viewport)
    return viewport


def chosen_source(image: dict[str, str], viewport: int, density: float) -> str:
    """The srcset candidate Chrome loads (HTMLSrcsetParser's pick): of the two candidates around
    the screen's density, the denser one when the density reaches their geometric mean (or, on a
    screen of density 1, whenever the lighter one falls short of it)."""
    if not image.get("srcset"):
        return image["src"]
    slot = slot_width(image.get("sizes", "100vw"), viewport)
    candidates = []
    for candidate in image["srcset"].split(", "):
        url, width = candidate.rsplit(" ", 1)
        candidates.append((int(width.rstrip("w")) / slot, url))
    candidates.sort()
    index = 0
    while index < len(candidates) - 1:
        current, following = candidates[index][0], candidates[index + 1][0]
        if following < density:
            index += 1
            continue
        if (density <= 1 and density > current) or density >= math.sqrt(current * following):
            index += 1
        break
    return candidates[index][1]


def _seed(count: int):
    from accounts.models import User
    from tests.gallery.factories import make_generation, make_image
    from tests.photos import large_photo

    user = User.objects.create_user(email="page-weight@example.com", password=None)
    generation = make_generation(user, parameters={"num_outputs": count})
    for index in range(count):
        buffer = io.BytesIO()
        large_photo(index, (1024, 1024)).save(buffer, "WEBP", quality=90)
        make_image(user, generation=generation, index=index, content=buffer.getvalue())
    return user


def _body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def measure(count: int) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="avatars-bench-page-") as media:
        storages = {
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": media},
            },
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with (
            bench_database("page"),
            override_settings(MEDIA_ROOT=media, STORAGES=storages, GALLERY_PAGE_SIZE=count),
        ):
            logging.getLogger("core.request").setLevel(logging.WARNING)  # a line per thumbnail
            client = Client()
            client.force_login(_seed(count))
            plain = _body(client.get("/gallery/"))
            compressed = client.get("/gallery/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
            gzipped = _body(compressed)
            parser = _Images()
            parser.feed(plain.decode())
            images = [image for image in parser.images if "/gallery/images/" in image["src"]]
            assert len(images) == count, len(images)

            sizes: dict[str, int] = {}
            make_ms: list[float] = []
            for image in images:
                candidates = (c.rsplit(" ", 1)[0] for c in image["srcset"].split(", "))
                for url in {image["src"], *candidates}:
                    started = time.perf_counter()
                    sizes[url] = len(_body(client.get(url)))
                    if "thumbnail_small" in url:
                        make_ms.append((time.perf_counter() - started) * 1000)
            large = [sizes[url] for url in sizes if "/thumbnail/" in url]
            small = [sizes[url] for url in sizes if "/thumbnail_small/" in url]

            figures = [
                Figure(BASELINE, (len(plain) + sum(large)) / 1024, "KB"),
                Figure("HTML uncompressed", len(plain) / 1024, "KB"),
                Figure(
                    "HTML gzip",
                    len(gzipped) / 1024,
                    "KB",
                    baseline="HTML uncompressed",
                    note=f"Content-Encoding {compressed.get('Content-Encoding', 'none')}",
                ),
                Figure("thumbnail 512 px, mean", statistics.mean(large) / 1024, "KB"),
                Figure(
                    "thumbnail 256 px, mean",
                    statistics.mean(small) / 1024,
                    "KB",
                    baseline="thumbnail 512 px, mean",
                ),
            ]
            for viewport, density in SCREENS:
                loaded = [sizes[chosen_source(image, viewport, density)] for image in images]
                small_count = sum(
                    "thumbnail_small" in chosen_source(image, viewport, density) for image in images
                )
                figures.append(
                    Figure(
                        f"{viewport} px x{density}: page",
                        (len(gzipped) + sum(loaded)) / 1024,
                        "KB",
                        baseline=BASELINE,
                        note=f"{small_count} of {count} small",
                    )
                )
            figures.append(Figure.of_times("small thumbnail made on first request", make_ms))
            return figures


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    figures = measure(args.pictures)
    print(
        f"gallery_page: /gallery/ with {args.pictures} pictures, bytes on the wire "
        f"(goal {GOAL_KB} KB); each screen loads all {args.pictures} thumbnails.",
        file=out,
    )
    base = next(figure.value for figure in figures if figure.name == BASELINE)
    width = max(len(figure.name) for figure in figures)
    for figure in figures:
        ratio = f"{figure.value / base:6.2f}x" if figure.unit == "KB" else ""
        note = f"  ({figure.note})" if figure.note else ""
        print(
            f"{figure.name:{width}}  {figure.value:9.1f} {figure.unit:3}  {ratio}{note}", file=out
        )
    return figures
