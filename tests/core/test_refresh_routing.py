"""Where a webhook's task runs: a generation's success (its pictures are decoded, thumbnailed
and scanned in that task) goes to the cpu queue when tasks are routed by shape; every other
piece of news, and any job whose success stores nothing, stays on the io route."""

from __future__ import annotations

import pytest

import gallery.services  # noqa: F401 (registers the generation lifecycle)
import trainings.services  # noqa: F401 (registers the training lifecycle)
from core import webhooks
from core.remote_jobs import lifecycle as lifecycle_module
from core.replicate_gateway import RemoteJob


@pytest.fixture
def sent(monkeypatch):
    """What the webhook handlers hand to the broker: (task name, args, options)."""
    calls = []

    def record(task, args, kwargs, **options):
        calls.append((task.name, args, options))

    monkeypatch.setattr(lifecycle_module, "webhook_task_send", record)
    return calls


def _report(kind: str, status: str) -> None:
    webhooks._handlers[kind](RemoteJob(id=f"{kind}-1", status=status, output=["x"]))


def test_a_generation_success_goes_to_the_cpu_queue_its_other_news_to_io(settings, sent):
    settings.TASK_QUEUES_BY_SHAPE = True
    settings.TASK_QUEUE_CPU = "cpu-here"
    _report("prediction", "succeeded")
    _report("prediction", "processing")
    _report("prediction", "failed")
    _report("training", "succeeded")  # a training's success stores a version, not pictures
    queues = [options.get("queue") for _name, _args, options in sent]
    assert queues == ["cpu-here", None, None, None]
    assert {name for name, _args, _options in sent} == {
        "core.remote_jobs.tasks.remote_job_refresh_task"
    }


def test_without_routing_by_shape_every_task_goes_to_the_default_queue(settings, sent):
    settings.TASK_QUEUES_BY_SHAPE = False
    _report("prediction", "succeeded")
    assert sent[0][2].get("queue") is None
