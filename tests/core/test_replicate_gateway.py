"""The Replicate gateway, driven through the real `replicate` client against the simulator."""

import base64
import hashlib
import hmac
import io
import json
import socket
import time
import zipfile

import pytest
from django.core.cache import cache
from PIL import Image
from replicate.exceptions import ReplicateError

from core import replicate_gateway as gateway
from core.services import webhook_delivery_record

pytestmark = pytest.mark.django_db


def _photo_zip(count: int = 3) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(count):
            image = Image.new("RGB", (640, 640), (40 * number, 120, 200))
            encoded = io.BytesIO()
            image.save(encoded, "JPEG")
            archive.writestr(f"{number:03d}.jpg", encoded.getvalue())
            archive.writestr(f"{number:03d}.txt", "a photo of ZQX")
    return buffer.getvalue()


def _wait_terminal(get, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        job = get()
        if job.is_terminal or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def _sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@pytest.fixture
def trained_model(replicate_backend):
    """A destination model with one version trained through the gateway."""
    name = f"gw-{time.monotonic_ns()}"
    remote = gateway.destination_model_create(name=name, description="gateway test")
    images_url = gateway.file_upload(
        data=_photo_zip(), filename="photos.zip", content_type="application/zip"
    )
    training = gateway.training_start(
        destination=remote.full_name,
        training_input={"input_images": images_url, "trigger_word": "ZQX", "steps": 100},
        webhook_url=None,
    )
    finished = _wait_terminal(lambda: gateway.training_get(training_id=training.id))
    assert finished.status == "succeeded", (finished.error, finished.logs[-500:])
    return remote, finished


def test_a_training_runs_to_succeeded_and_creates_a_version(trained_model, replicate_backend):
    remote, training = trained_model
    assert remote.visibility == "private"
    assert remote.owner == "avatars"
    version_id = training.output_version_id
    assert version_id and len(version_id) == 64
    assert training.output["version"] == f"{remote.full_name}:{version_id}"
    model = replicate_backend.client().models.get(remote.full_name)
    assert model.latest_version.id == version_id
    assert "Extracted 6 files" in training.logs  # 3 photos + 3 captions


def test_creating_the_same_destination_twice_returns_the_existing_model(replicate_backend):
    name = f"twice-{time.monotonic_ns()}"
    first = gateway.destination_model_create(name=name)
    second = gateway.destination_model_create(name=name)
    assert first == second


def test_a_prediction_runs_to_succeeded_and_its_outputs_download(trained_model):
    _, training = trained_model
    started = gateway.prediction_start(
        version_id=training.output_version_id,
        prediction_input={
            "prompt": "a photo of ZQX on the moon",
            "num_outputs": 2,
            "output_format": "png",
            "seed": 7,
            "aspect_ratio": "16:9",
            "extra_lora": None,  # left out: must not be sent upstream
        },
    )
    assert started.status in ("starting", "processing")
    assert "extra_lora" not in started.input
    done = _wait_terminal(lambda: gateway.prediction_get(prediction_id=started.id))
    assert done.status == "succeeded", done.error
    assert len(done.output_urls) == 2
    data, media_type = gateway.output_download(url=done.output_urls[0])
    assert media_type == "image/png"
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    assert image.size == (1344, 768)


def test_official_models_run_by_name(replicate_backend):
    started = gateway.prediction_start(
        model_name="black-forest-labs/flux-schnell",
        prediction_input={"prompt": "a lighthouse", "output_format": "jpg"},
    )
    done = _wait_terminal(lambda: gateway.prediction_get(prediction_id=started.id))
    assert done.status == "succeeded"
    data, media_type = gateway.output_download(url=done.output_urls[0])
    assert media_type == "image/jpeg"
    assert Image.open(io.BytesIO(data)).format == "JPEG"


def test_cancel_stops_a_running_prediction(replicate_backend):
    replicate_backend.configure(prediction_seconds=5)
    started = gateway.prediction_start(
        model_name="black-forest-labs/flux-schnell", prediction_input={"prompt": "slow"}
    )
    canceled = gateway.prediction_cancel(prediction_id=started.id)
    assert canceled.status == "canceled"
    assert gateway.prediction_get(prediction_id=started.id).status == "canceled"


def test_cancel_stops_a_running_training(replicate_backend):
    replicate_backend.configure(training_seconds=5)
    remote = gateway.destination_model_create(name=f"cancel-{time.monotonic_ns()}")
    url = gateway.file_upload(data=_photo_zip(), filename="p.zip", content_type="application/zip")
    training = gateway.training_start(
        destination=remote.full_name, training_input={"input_images": url}, webhook_url=None
    )
    assert gateway.training_cancel(training_id=training.id).status == "canceled"


def test_deleting_a_model_deletes_its_versions_first_and_can_be_repeated(
    trained_model, replicate_backend
):
    remote, _ = trained_model
    gateway.destination_model_delete(full_name=remote.full_name)
    with pytest.raises(ReplicateError) as missing:
        replicate_backend.client().models.get(remote.full_name)
    assert missing.value.status == 404
    gateway.destination_model_delete(full_name=remote.full_name)  # already gone: no error


def test_invalid_input_reaches_the_caller_as_a_clear_error(trained_model):
    _, training = trained_model
    with pytest.raises(gateway.ReplicateInvalidInput) as caught:
        gateway.prediction_start(
            version_id=training.output_version_id,
            prediction_input={"prompt": "x", "num_outputs": 9},
        )
    assert caught.value.status == 422
    assert "num_outputs" in caught.value.message
    assert caught.value.status_code == 400


def test_unknown_version_is_not_found(replicate_backend):
    with pytest.raises(gateway.ReplicateNotFound):
        gateway.prediction_start(version_id="0" * 64, prediction_input={"prompt": "x"})


def test_throttled_and_failing_gets_are_retried_then_succeed(replicate_backend):
    started = gateway.prediction_start(
        model_name="black-forest-labs/flux-schnell", prediction_input={"prompt": "retry me"}
    )
    replicate_backend.configure(throttle_next=2, retry_after=1)
    began = time.monotonic()
    assert gateway.prediction_get(prediction_id=started.id).id == started.id
    assert time.monotonic() - began >= 1.5  # Retry-After: 1 was honoured twice
    replicate_backend.configure(error_next=2, error_status=500)
    assert gateway.prediction_get(prediction_id=started.id).id == started.id
    replicate_backend.configure(error_next=2, error_status=503)
    assert gateway.prediction_get(prediction_id=started.id).id == started.id


def test_a_throttled_create_is_retried_because_it_did_nothing(replicate_backend):
    replicate_backend.configure(throttle_next=1, retry_after=0)
    started = gateway.prediction_start(
        model_name="black-forest-labs/flux-schnell", prediction_input={"prompt": "again"}
    )
    assert started.id


def test_a_create_that_failed_on_the_server_is_not_repeated(replicate_backend):
    replicate_backend.configure(error_next=1, error_status=500)
    with pytest.raises(gateway.ReplicateUnavailable) as caught:
        gateway.prediction_start(
            model_name="black-forest-labs/flux-schnell", prediction_input={"prompt": "once"}
        )
    assert caught.value.status == 500
    assert "try again" in caught.value.message


def test_an_unreachable_backend_is_a_clear_error(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.REPLICATE_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(gateway.ReplicateUnavailable) as caught:
        gateway.prediction_get(prediction_id="abc")
    assert caught.value.message == "The image service could not be reached."


def test_a_wrong_token_is_a_configuration_error(settings, replicate_backend):
    settings.REPLICATE_SIMULATOR_TOKEN = "r8_wrong"
    with pytest.raises(gateway.ReplicateConfigurationError):
        gateway.prediction_get(prediction_id="abc")


# --- Webhooks -------------------------------------------------------------------------------


def test_a_signed_webhook_from_the_simulator_verifies(replicate_backend, webhook_receiver):
    cache.clear()
    started = gateway.prediction_start(
        model_name="black-forest-labs/flux-schnell",
        prediction_input={"prompt": "webhook"},
        webhook_url=webhook_receiver.url,
    )
    delivered = webhook_receiver.wait_for(lambda r: r.json()["status"] == "succeeded")[0]
    job = gateway.webhook_verify(headers=delivered.headers, body=delivered.body)
    assert job.id == started.id
    assert job.status == "succeeded"
    assert job.output_urls
    # The secret was fetched from the API, as with the real Replicate.
    assert gateway.webhook_secret_get() == replicate_backend.webhook_secret


def _signed_headers(secret, body, *, webhook_id="msg_test_1", timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": _sign(secret, webhook_id, timestamp, body),
    }


def test_tampered_stale_and_unsigned_webhooks_are_rejected(settings, replicate_backend):
    settings.REPLICATE_WEBHOOK_SECRET = replicate_backend.webhook_secret
    body = json.dumps({"id": "p1", "status": "succeeded", "output": ["https://x/y.png"]}).encode()
    headers = _signed_headers(replicate_backend.webhook_secret, body)
    assert gateway.webhook_verify(headers=headers, body=body).id == "p1"

    with pytest.raises(gateway.WebhookRejected):
        gateway.webhook_verify(headers=headers, body=body.replace(b"p1", b"p2"))
    stale = _signed_headers(
        replicate_backend.webhook_secret, body, timestamp=int(time.time()) - 400
    )
    with pytest.raises(gateway.WebhookRejected):
        gateway.webhook_verify(headers=stale, body=body)
    with pytest.raises(gateway.WebhookRejected):
        gateway.webhook_verify(headers={"webhook-id": "msg_x"}, body=body)
    other_secret = "whsec_" + base64.b64encode(b"another-secret-of-32-bytes-long!").decode()
    with pytest.raises(gateway.WebhookRejected):
        gateway.webhook_verify(headers=_signed_headers(other_secret, body), body=body)


def test_a_replayed_webhook_id_is_recognised(settings, replicate_backend):
    assert webhook_delivery_record(webhook_id="msg_1", remote_id="p1", remote_status="succeeded")
    assert not webhook_delivery_record(
        webhook_id="msg_1", remote_id="p1", remote_status="succeeded"
    )
