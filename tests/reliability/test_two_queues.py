"""Work of two shapes on two queues: a burst of pictures on `cpu` does not hold up `io`.

Two real workers (one process each), each consuming only its queue, as Procfile.production runs
them; the routing is `config.celery.route_by_shape` over `TASK_SHAPES` (config/settings/queues.py).
"""

import io
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from config.celery import app as celery_app
from core.models import WebhookDelivery
from core.tasks import webhook_delivery_prune_task
from tests.photos import source, upscale
from tests.worker_fixtures import Workers
from trainings.models import Dataset, DatasetImage
from trainings.services import dataset_images_add

PHOTOS = 4


def _registered_task_names() -> set[str]:
    celery_app.loader.import_default_modules()
    ours = ("accounts.", "billing.", "core.", "events.", "gallery.", "likeness.", "moderation.")
    ours += ("operations.", "trainings.")
    return {name for name in celery_app.tasks if name.startswith(ours)}


def test_every_task_is_routed_to_a_queue_of_its_shape():
    names = _registered_task_names()
    assert "trainings.tasks.dataset_image_process_task" in names  # the discovery found them
    unrouted = sorted(names - set(settings.TASK_SHAPES))
    assert not unrouted, f"name these tasks in TASK_SHAPES (config/settings/queues.py): {unrouted}"
    assert set(settings.TASK_SHAPES.values()) == {"io", "cpu"}
    assert not set(settings.TASK_SHAPES) - names, "TASK_SHAPES names a task that does not exist"


def test_routing_follows_the_setting(settings):
    router = celery_app.amqp.router
    task = celery_app.tasks["trainings.tasks.dataset_image_process_task"]
    settings.TASK_QUEUES_BY_SHAPE = True
    settings.TASK_QUEUE_CPU = "pictures"
    assert router.route({}, task.name, (), {}, task)["queue"].name == "pictures"
    settings.TASK_QUEUES_BY_SHAPE = False
    assert (
        router.route({}, task.name, (), {}, task)["queue"].name
        == settings.CELERY_TASK_DEFAULT_QUEUE
    )


def _photos(count: int) -> list[tuple[str, bytes]]:
    """Phone-sized photos without a face: the slowest kind for the face search."""
    scene = upscale(source("coffee"), (2400, 1800), seed=7)
    photos = []
    for index in range(count):
        buffer = io.BytesIO()
        scene.rotate(index * 3, resample=Image.Resampling.NEAREST).save(buffer, "JPEG", quality=90)
        photos.append((f"photo-{index}.jpg", buffer.getvalue()))
    return photos


def _pending() -> int:
    return DatasetImage.objects.filter(status=DatasetImage.Status.PENDING).count()


@pytest.mark.slow
def test_a_burst_on_the_cpu_queue_does_not_delay_the_io_queue(workers, settings, owner, tmp_path):
    names = {"io": f"{workers.queue}-io", "cpu": f"{workers.queue}-cpu"}
    routing = {
        "TASK_QUEUES_BY_SHAPE": "true",
        "TASK_QUEUE_IO": names["io"],
        "TASK_QUEUE_CPU": names["cpu"],
    }
    settings.TASK_QUEUES_BY_SHAPE = True
    settings.TASK_QUEUE_IO, settings.TASK_QUEUE_CPU = names["io"], names["cpu"]
    started = {}
    for shape, queue in names.items():
        (tmp_path / shape).mkdir()
        pool = Workers(
            queue=queue, base_env={**workers.base_env, **routing}, log_dir=tmp_path / shape
        )
        started[shape] = pool.start()
        workers.started.append(started[shape])  # the fixture stops it

    dataset = Dataset.objects.create(owner=owner, name="Burst", face_consent_at=timezone.now())
    result = dataset_images_add(dataset=dataset, files=_photos(PHOTOS))
    assert len(result.added) == PHOTOS
    Workers.wait_for_line(started["cpu"], "dataset_image_process_task[", timeout=30)

    old = WebhookDelivery.objects.create(
        webhook_id=f"msg_{uuid.uuid4().hex}", remote_id="old", remote_status="succeeded"
    )
    WebhookDelivery.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - timedelta(days=400)
    )
    sent = time.monotonic()
    webhook_delivery_prune_task.delay()
    deadline = sent + 30
    while WebhookDelivery.objects.filter(pk=old.pk).exists():
        assert time.monotonic() < deadline, started["io"].log_text()
        time.sleep(0.02)
    io_latency = time.monotonic() - sent
    still_pending = _pending()

    # The I/O task ran at once, while the burst still held the CPU worker.
    assert io_latency < 2.0, io_latency
    assert still_pending >= PHOTOS // 2, (still_pending, io_latency)
    print(f"io task {io_latency * 1000:.0f} ms with {still_pending} of {PHOTOS} photos pending")
    # Each worker received only its own shape of work (the rest of the burst is left to stop).
    assert "webhook_delivery_prune_task[" in started["io"].log_text()
    assert "webhook_delivery_prune_task[" not in started["cpu"].log_text()
    assert "dataset_image_process_task[" not in started["io"].log_text()
