"""One HTTP client per process in the Replicate gateway: reused by every call and download,
shared by threads, and never inherited by a forked child (gunicorn and Celery fork workers)."""

import os
import threading

from core.replicate_gateway import client as gateway_client


def test_calls_reuse_one_client_per_timeout_and_backend(settings):
    settings.REPLICATE_BASE_URL = "http://127.0.0.1:9"
    first = gateway_client.get_client()
    assert gateway_client.get_client() is first
    assert gateway_client.get_client(timeout=settings.REPLICATE_TIMEOUT_SECONDS) is first
    # Uploads wait longer: a client of their own, reused as well.
    upload = gateway_client.get_client(timeout=settings.REPLICATE_UPLOAD_TIMEOUT_SECONDS)
    assert upload is not first
    assert gateway_client.get_client(timeout=settings.REPLICATE_UPLOAD_TIMEOUT_SECONDS) is upload
    # Another backend (a simulator on another port) is another client.
    settings.REPLICATE_BASE_URL = "http://127.0.0.1:10"
    assert gateway_client.get_client() is not first


def test_the_client_keeps_the_timeout_on_every_request(settings):
    settings.REPLICATE_TIMEOUT_SECONDS = 7.0
    http = gateway_client.get_client()._client
    assert http.timeout.read == 7.0
    assert http.timeout.connect == 5.0


def test_downloads_reuse_one_client():
    first = gateway_client.download_client()
    assert gateway_client.download_client() is first
    assert first.follow_redirects


def test_threads_share_the_same_client(settings):
    settings.REPLICATE_BASE_URL = "http://127.0.0.1:11"
    seen, start = [], threading.Barrier(8)

    def get():
        start.wait()
        seen.append(gateway_client.get_client())

    threads = [threading.Thread(target=get) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in seen}) == 1


def test_a_forked_child_builds_its_own_clients():
    parent, parent_download = gateway_client.get_client(), gateway_client.download_client()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no database, no pytest, just the answer
        try:
            fresh = gateway_client.get_client() is not parent
            fresh_download = gateway_client.download_client() is not parent_download
            os.write(write, b"yes" if fresh and fresh_download else b"no")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 3)
    os.waitpid(pid, 0)
    assert answer == b"yes"
    assert gateway_client.get_client() is parent  # the parent keeps its own
