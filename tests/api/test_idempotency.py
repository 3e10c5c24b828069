"""`Idempotency-Key` on the API's POSTs that spend credits or start work (core.idempotency):
a retry gets the first answer and spends nothing twice; a reused key, a key in use, a bad key
and a 5xx each answer as Stripe's do."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import JsonResponse
from django.test import TestCase
from django.urls import path
from django.utils import timezone
from rest_framework.views import APIView

from accounts.models import CreditEntry, DataExport
from accounts.selectors import credit_balance
from core.models import IdempotencyRecord
from core.tasks import idempotency_record_prune_task
from gallery.models import Generation
from tests.trainings.portraits import portrait_jpegs
from trainings.models import DatasetImage
from trainings.services import dataset_create

GENERATIONS = "/api/v1/generations/"


def _post(client, url, body, key, *, capture=None, **extra):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    if capture is None:
        return client.post(url, body, format="json", **headers, **extra)
    with capture(execute=True):
        return client.post(url, body, format="json", **headers, **extra)


# --- A retry gets the first answer ------------------------------------------------------------


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_first_answer_and_is_charged_once(
    owner, credits, as_user, replicate_backend, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    body = {"prompt": "a red bicycle", "num_outputs": 2}
    first = _post(client, GENERATIONS, body, "key-1", capture=django_capture_on_commit_callbacks)
    assert first.status_code == 201, first.json()
    assert "Idempotent-Replayed" not in first
    assert credit_balance(user=owner) == credits - 2

    # The same JSON with its keys in another order is the same request.
    retry = _post(client, GENERATIONS, {"num_outputs": 2, "prompt": "a red bicycle"}, "key-1")
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry["Content-Type"] == first["Content-Type"]
    assert retry.json() == first.json()
    assert Generation.objects.filter(owner=owner).count() == 1
    assert CreditEntry.objects.filter(user=owner, kind="reserve").count() == 1
    assert credit_balance(user=owner) == credits - 2

    # Without a key, the same body is a new request (what the key protects against).
    again = _post(client, GENERATIONS, body, None, capture=django_capture_on_commit_callbacks)
    assert again.status_code == 201
    assert Generation.objects.filter(owner=owner).count() == 2


@pytest.mark.django_db
def test_the_same_key_with_another_body_or_route_is_refused(
    owner, credits, as_user, replicate_backend, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    capture = django_capture_on_commit_callbacks
    assert _post(client, GENERATIONS, {"prompt": "a cat"}, "k", capture=capture).status_code == 201
    other_body = _post(client, GENERATIONS, {"prompt": "a dog"}, "k")
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    other_route = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="k")
    assert other_route.status_code == 422
    assert other_route.json()["code"] == "idempotency_key_reused"
    assert Generation.objects.filter(owner=owner).count() == 1
    assert not DataExport.objects.exists()


@pytest.mark.django_db
def test_keys_are_scoped_per_user(
    owner, other_user, credits, as_user, replicate_backend, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    body = {"prompt": "a lighthouse"}
    mine = _post(as_user(owner), GENERATIONS, body, "shared", capture=capture)
    assert mine.status_code == 201
    # Another user with the same key and body: their own request (here: no credits), no replay.
    theirs = _post(as_user(other_user), GENERATIONS, body, "shared", capture=capture)
    assert theirs.status_code == 403, theirs.json()
    assert "Idempotent-Replayed" not in theirs
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("key", "status"), [("", 400), ("x" * 256, 400), ("x" * 255, 202)])
def test_an_empty_or_too_long_key_is_a_400(owner, as_user, key, status):
    response = as_user(owner).post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == status
    if status == 400:
        assert response.json()["code"] == "idempotency_key_invalid"
        assert not DataExport.objects.exists()
    else:
        assert DataExport.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_callers_get_the_views_401_and_no_key_is_kept(api):
    response = api.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="anon")
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_data_export_retried_after_it_was_built_is_not_built_again(
    owner, as_user, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="export-1")
    assert first.status_code == 202
    assert DataExport.objects.get().status == DataExport.Status.READY
    retry = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="export-1")
    assert retry.status_code == 202 and retry.json() == first.json()
    assert DataExport.objects.count() == 1
    # A new key is a new export (the first one is ready, so a new one is built).
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="export-2").status_code == 202
    assert DataExport.objects.count() == 2


@pytest.mark.django_db
def test_the_simple_service_replays_its_202_with_location(
    owner, credits, as_user, replicate_backend, settings
):
    settings.GENERATION_SYNC_WAIT_SECONDS = 0  # answer 202 at once
    client = as_user(owner)
    first = _post(client, "/api/v1/image/default", {"prompt": "a boat"}, "simple-1")
    assert first.status_code == 202, first.content[:300]
    retry = _post(client, "/api/v1/image/default", {"prompt": "a boat"}, "simple-1")
    assert retry.status_code == 202
    assert retry["Location"] == first["Location"]
    assert retry["Retry-After"] == first["Retry-After"]
    assert retry.json() == first.json()
    assert Generation.objects.filter(owner=owner).count() == 1


# --- Multipart uploads: fingerprinted by their parts, not the boundary -------------------------


@pytest.mark.django_db
def test_a_dataset_upload_retried_adds_the_photos_once(owner, as_user):
    dataset = dataset_create(user=owner, name="Me")
    url = f"/api/v1/datasets/{dataset.id}/images/"
    client = as_user(owner)
    photos = portrait_jpegs(2)

    def upload(files, key):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return client.post(
                url,
                {"files": [SimpleUploadedFile(name, data) for name, data in files]},
                format="multipart",
                HTTP_IDEMPOTENCY_KEY=key,
            )

    first = upload(photos, "upload-1")
    assert first.status_code == 201, first.json()
    retry = upload(photos, "upload-1")  # a new multipart boundary, the same files
    assert retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert DatasetImage.objects.filter(dataset=dataset).count() == 2
    # The same names with other bytes are another request.
    changed = [(photos[0][0], photos[1][1]), photos[1]]
    refused = upload(changed, "upload-1")
    assert refused.status_code == 422
    assert refused.json()["code"] == "idempotency_key_reused"
    assert DatasetImage.objects.filter(dataset=dataset).count() == 2


# --- In progress, expired, abandoned ----------------------------------------------------------


def _record(user, key, route, *, age=timedelta(0), **fields):
    now = timezone.now()
    return IdempotencyRecord.objects.create(
        user=user,
        key=key,
        route=route,
        fingerprint=fields.pop("fingerprint", "f" * 64),
        created_at=now - age,
        expires_at=fields.pop("expires_at", now - age + timedelta(hours=24)),
        **fields,
    )


@pytest.mark.django_db
def test_a_retry_while_the_first_request_runs_is_a_409_and_starts_nothing(
    owner, credits, as_user, replicate_backend, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    body = {"prompt": "a red bicycle"}
    first = _post(client, GENERATIONS, body, "running", capture=django_capture_on_commit_callbacks)
    assert first.status_code == 201
    # The same key, as it was while the first request was still running.
    IdempotencyRecord.objects.filter(key="running").update(status_code=None, body=b"")
    busy = _post(client, GENERATIONS, body, "running")
    assert busy.status_code == 409
    assert busy.json()["code"] == "idempotency_key_in_use"
    assert int(busy["Retry-After"]) >= 1
    assert Generation.objects.filter(owner=owner).count() == 1
    assert credit_balance(user=owner) == credits - 1


@pytest.mark.django_db
def test_a_request_abandoned_by_a_dead_process_is_taken_over(owner, as_user, settings):
    client = as_user(owner)
    first = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="dead")
    assert first.status_code == 202
    record = IdempotencyRecord.objects.get(key="dead")
    DataExport.objects.all().delete()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=None, created_at=timezone.now() - timedelta(seconds=10)
    )
    assert client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="dead").status_code == 409
    settings.IDEMPOTENCY_LOCK_SECONDS = 5  # the holder is now past any request's lifetime
    taken = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="dead")
    assert taken.status_code == 202
    assert "Idempotent-Replayed" not in taken
    assert DataExport.objects.count() == 1
    assert IdempotencyRecord.objects.get(pk=record.pk).status_code == 202


@pytest.mark.django_db
def test_keys_expire_after_a_day_and_are_pruned(owner, as_user, settings):
    assert settings.IDEMPOTENCY_KEY_TTL_HOURS == 24
    client = as_user(owner)
    first = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="old")
    assert first.status_code == 202
    record = IdempotencyRecord.objects.get(key="old")
    assert timedelta(hours=23, minutes=59) < record.expires_at - record.created_at
    assert record.expires_at - record.created_at <= timedelta(hours=24)
    # A day later the key is forgotten: the same key runs the request again.
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    DataExport.objects.all().delete()
    again = client.post("/api/v1/me/export/", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 202 and "Idempotent-Replayed" not in again
    assert DataExport.objects.count() == 1
    # The hourly task deletes what expired, and only that.
    _record(owner, "stale", "api:me-export", expires_at=timezone.now() - timedelta(minutes=1))
    assert idempotency_record_prune_task() == 1
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"old"}


# --- A 5xx is not kept: the key is free for the retry ----------------------------------------


class _FlakyApi(APIView):
    calls = 0

    def post(self, request):
        type(self).calls += 1
        if type(self).calls == 1:
            return JsonResponse({"detail": "down", "code": "service_unavailable"}, status=503)
        return JsonResponse({"call": type(self).calls}, status=201)


urlpatterns = [
    path("api/v1/flaky/", _FlakyApi.as_view(), name="flaky"),
]


@pytest.mark.django_db
def test_a_5xx_answer_is_not_kept_so_the_retry_runs(owner, as_user, settings):
    settings.ROOT_URLCONF = __name__
    settings.IDEMPOTENT_ROUTES = ["flaky"]
    _FlakyApi.calls = 0
    client = as_user(owner)
    failed = client.post("/api/v1/flaky/", {}, format="json", HTTP_IDEMPOTENCY_KEY="flaky-1")
    assert failed.status_code == 503
    assert not IdempotencyRecord.objects.exists()
    retried = client.post("/api/v1/flaky/", {}, format="json", HTTP_IDEMPOTENCY_KEY="flaky-1")
    assert retried.status_code == 201 and retried.json() == {"call": 2}
    replayed = client.post("/api/v1/flaky/", {}, format="json", HTTP_IDEMPOTENCY_KEY="flaky-1")
    assert replayed.json() == {"call": 2} and _FlakyApi.calls == 2


# --- Concurrent retries -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_generation_and_charge_once(
    owner, credits, as_user, replicate_backend
):
    key = str(uuid.uuid4())
    body = {"prompt": "a red bicycle", "num_outputs": 1}
    clients = [as_user(owner) for _ in range(8)]
    start = threading.Barrier(len(clients))
    answers = [None] * len(clients)

    def send(index):
        try:
            start.wait(timeout=10)
            answers[index] = _post(clients[index], GENERATIONS, body, key)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(answer.status_code for answer in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = [answer for answer in answers if answer.status_code == 201]
    assert created
    assert all(answer.json() == created[0].json() for answer in created)
    assert sum("Idempotent-Replayed" not in answer for answer in created) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "idempotency_key_in_use"
    assert Generation.objects.filter(owner=owner).count() == 1
    assert CreditEntry.objects.filter(user=owner, kind="reserve").count() == 1
    assert credit_balance(user=owner) == credits - 1
    # Once the first answer is stored, a late retry gets it too.
    late = _post(clients[0], GENERATIONS, body, key)
    assert late.status_code == 201 and late.json() == created[0].json()


# --- The routes -----------------------------------------------------------------------------


def test_every_idempotent_route_exists_and_takes_a_post(settings):
    from core.api_headers import _route_names

    views = {name: view for view, names in _route_names().items() for name in names}
    for name in settings.IDEMPOTENT_ROUTES:
        assert name in views, f"{name} is not a URL name: the key would be silently ignored"
        assert hasattr(views[name], "post"), name


@pytest.mark.django_db
def test_a_training_retry_is_answered_once_per_key(owner, as_user):
    from trainings.models import TrainingRun
    from trainings.services import lora_model_create

    dataset = dataset_create(user=owner, name="Me")
    model = lora_model_create(user=owner, name="Me", trigger_word="ZORVAK")
    run = TrainingRun.objects.create(owner=owner, dataset=dataset, lora_model=model)
    url = f"/api/v1/trainings/{run.id}/retry/"
    client = as_user(owner)
    first = client.post(url, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 409  # a queued run cannot be retried: an answer like any other
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.FAILED)
    # The retry of the request gets the first answer, although a new request would now run.
    retry = client.post(url, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert retry.status_code == 409 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert TrainingRun.objects.filter(owner=owner).count() == 1
    fresh = client.post(url, HTTP_IDEMPOTENCY_KEY="retry-2")
    assert fresh.status_code != 409 and "Idempotent-Replayed" not in fresh
