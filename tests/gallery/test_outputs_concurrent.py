"""A finished generation's outputs are fetched at the same time: the slowest download, not the
sum of them, and a failed one neither loses the others nor scans anything before the retry."""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from core.exceptions import DomainError
from gallery.models import GeneratedImage, Generation, ImageScan
from gallery.services.images import generation_outputs_store
from tests.gallery.factories import make_generation

pytestmark = pytest.mark.django_db

DELAY = 0.4  # seconds each output takes to answer


def _png(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def slow_outputs():
    """A file server on loopback: /N.png answers after DELAY; /missing.png is a 404. Records
    how many requests were in flight at once."""
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            try:
                time.sleep(DELAY)
                if self.path.startswith("/missing"):
                    self.send_error(404)
                    return
                number = int(self.path.strip("/").split(".")[0])
                body = _png((40 * number, 120, 200))
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                with lock:
                    state["now"] -= 1

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, state
    server.shutdown()
    server.server_close()


def test_four_outputs_are_downloaded_at_once_and_stored_with_thumbnails_and_scans(
    owner, slow_outputs, settings
):
    settings.GENERATION_OUTPUT_THREADS = 4
    base, state = slow_outputs
    generation = make_generation(owner, status=Generation.Status.PROCESSING, num_outputs=4)
    stored = generation_outputs_store(
        generation=generation, urls=[f"{base}/{n}.png" for n in range(4)], seed=7
    )
    assert state["most"] == 4  # all four in flight together; one after another it would be 1
    assert sorted(image.index for image in stored) == [0, 1, 2, 3]
    images = GeneratedImage.objects.filter(generation=generation)
    assert images.count() == 4
    assert all(image.thumbnail.name and image.seed == 7 for image in images)
    assert ImageScan.objects.filter(image__generation=generation).count() == 4
    assert set(images.values_list("moderation_state", flat=True)) == {"approved"}


def test_a_failed_download_keeps_the_others_and_the_retry_fetches_only_what_is_missing(
    owner, slow_outputs, settings
):
    settings.GENERATION_OUTPUT_THREADS = 4
    base, state = slow_outputs
    generation = make_generation(owner, status=Generation.Status.PROCESSING, num_outputs=3)
    urls = [f"{base}/0.png", f"{base}/missing.png", f"{base}/2.png"]
    with pytest.raises(DomainError):
        generation_outputs_store(generation=generation, urls=urls, seed=None)
    kept = GeneratedImage.objects.filter(generation=generation)
    assert sorted(kept.values_list("index", flat=True)) == [0, 2]
    # Nothing is scanned before every output is stored.
    assert set(kept.values_list("moderation_state", flat=True)) == {"pending"}

    state["most"] = 0
    stored = generation_outputs_store(
        generation=generation, urls=[f"{base}/0.png", f"{base}/1.png", f"{base}/2.png"], seed=None
    )
    assert [image.index for image in stored] == [1]
    assert state["most"] == 1  # only the missing output was fetched again
    assert GeneratedImage.objects.filter(generation=generation).count() == 3
    assert set(
        GeneratedImage.objects.filter(generation=generation).values_list(
            "moderation_state", flat=True
        )
    ) == {"approved"}
