"""Replicate answering 503 to everything: a submission keeps trying until its deadline, says so
on its page, then fails plainly, refunds and e-mails its owner; an outage that ends in time
leaves no trace but a late start. Real Celery workers, the simulator's fault flags.
"""

from __future__ import annotations

import time
from email import message_from_bytes
from pathlib import Path

import pytest

from accounts.selectors import credit_balance
from core.models import JobStatus
from tests.reliability.jobs import (
    CREDITS,
    FAST_RETRIES,
    charges,
    generate,
    predictions_since,
    train,
    trainings_since,
    wait_for_end,
)
from tests.simulator_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WINDOW = 6  # seconds a submission keeps trying (ten minutes in production)
STORM = {**FAST_RETRIES, "REPLICATE_SUBMIT_WINDOW_SECONDS": str(WINDOW)}


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


def _mail_to(mail_dir: Path, address: str) -> list:
    messages = [message_from_bytes(path.read_bytes()) for path in mail_dir.glob("*.log")]
    return [message for message in messages if address in message["To"]]


def _job(kind: str, user, trained, as_user):
    if kind == "training":
        return train(user)
    return generate(user, trained, as_user)


def _remote_jobs(kind: str, job, since) -> list:
    if kind == "training":
        return trainings_since(since, job.lora_model.trigger_word)
    return predictions_since(since, job.prompt)


def _page(kind: str, job) -> str:
    return f"/trainings/runs/{job.pk}/" if kind == "training" else f"/generations/{job.pk}/"


@pytest.mark.parametrize("kind", ["training", "prediction"])
def test_a_503_storm_past_the_window_fails_refunds_and_emails_once(
    kind, workers, funded, trained, as_user, client, simulator, since, mail_dir
):
    simulator.configure(error_every=1, error_status=503)
    workers.start(**STORM, TEST_EMAIL_FOLDER=str(mail_dir))
    began = time.monotonic()
    job = _job(kind, funded, trained, as_user)

    # While it keeps trying, its page says so, and until when.
    def says_it_waits() -> bool:
        job.refresh_from_db()
        return job.submit_retrying_until is not None

    wait_until(says_it_waits, timeout=WINDOW, interval=0.1, message="no retry was recorded")
    client.force_login(funded)
    page = client.get(_page(kind, job)).content.decode()
    assert "is not answering" in page
    assert job.submit_retrying_until.strftime("%H:%M") in page
    assert credit_balance(user=funded) < CREDITS  # still set aside

    ended = wait_for_end(job, timeout=WINDOW + 20)
    assert ended.status == JobStatus.FAILED
    assert time.monotonic() - began >= WINDOW - 1  # it kept trying for the window
    assert "did not answer for too long" in ended.error_message
    assert charges(ended) == ["refund"]
    assert credit_balance(user=funded) == CREDITS
    simulator.configure(error_every=0)  # so that the test can look
    assert _remote_jobs(kind, job, since) == []  # nothing reached Replicate
    page = client.get(_page(kind, job)).content.decode()
    assert "is not answering" not in page
    # A training's page explains its failure with advice that fits it; a generation's says it.
    told = 'data-failure-kind="unavailable"' if kind == "training" else "did not answer for too"
    assert told in page

    wait_until(lambda: _mail_to(mail_dir, funded.email), timeout=10, message="no e-mail sent")
    time.sleep(1)  # a second message, if any, would be on its way
    (message,) = _mail_to(mail_dir, funded.email)
    body = message.get_payload(decode=True).decode()
    assert str(job.pk) in body


@pytest.mark.parametrize("kind", ["training", "prediction"])
def test_a_503_storm_that_ends_in_time_starts_the_job_once(
    kind, workers, funded, trained, as_user, simulator, since, mail_dir
):
    simulator.configure(error_every=1, error_status=503)
    workers.start(**{**STORM, "REPLICATE_SUBMIT_WINDOW_SECONDS": "60"})
    job = _job(kind, funded, trained, as_user)

    def waiting() -> bool:
        job.refresh_from_db()
        return job.submit_retrying_until is not None

    wait_until(waiting, timeout=10, interval=0.1, message="no retry was recorded")
    time.sleep(3)  # a few more failed tries
    simulator.configure(error_every=0)

    ended = wait_for_end(job, timeout=45)
    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert [remote.id for remote in _remote_jobs(kind, job, since)] == [ended.replicate_id]
    assert charges(ended) == ["capture"]
    assert ended.submit_retrying_until is None
