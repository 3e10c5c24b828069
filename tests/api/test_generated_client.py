"""The schema serves a client generator: a client made from it by `openapi-python-client` (the
generator a mobile team would use) imports in full and carries a person's whole journey
against the live server, from signing up to deleting the account.

The training and the generation run on the Replicate simulator; its webhooks reach the live
server, whose eager Celery tasks (in the server's thread) apply them.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
import yaml
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from accounts.services import credits_grant
from tests.trainings.portraits import portrait_jpegs

PACKAGE = "avatars_client"
ROOT = Path(__file__).resolve().parents[2]
# The configuration a mobile team uses too (binary answers read as bytes).
GENERATOR_CONFIG = ROOT / "docs" / "openapi-python-client.yaml"
PASSWORD = "a long and unusual passphrase 7"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client generated from the schema, importable as `avatars_client`."""
    folder = tmp_path_factory.mktemp("client")
    schema = folder / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    config = folder / "generator.yaml"
    config.write_text(GENERATOR_CONFIG.read_text())
    result = subprocess.run(
        [
            *(sys.executable, "-m", "openapi_python_client", "generate"),
            *("--path", str(schema), "--output-path", str(folder / PACKAGE)),
            *("--meta", "none", "--config", str(config), "--fail-on-warning"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def test_the_schema_validates_without_a_warning():
    # --fail-on-warn makes any warning (or error) of the generation a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_every_generated_module_imports(generated):
    modules, failures = [], {}
    for info in pkgutil.walk_packages(generated.__path__, f"{PACKAGE}."):
        try:
            importlib.import_module(info.name)
        except Exception as error:
            failures[info.name] = repr(error)
        modules.append(info.name)
    assert not failures
    operations = [name for name in modules if name.startswith(f"{PACKAGE}.api.")]
    # Every operation of the schema has its module (none was left out with a warning).
    assert len([name for name in operations if name.count(".") == 3]) >= 70
    assert f"{PACKAGE}.api.datasets.dataset_images_upload" in modules


def _wait(fetch, done, *, timeout=60.0, what=""):
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not finish: {value!r}")
        time.sleep(0.2)


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.parsed


@pytest.mark.django_db(transaction=True)
def test_a_journey_through_the_generated_client(
    generated, live_server, replicate_backend, settings
):
    settings.PUBLIC_BASE_URL = live_server.url  # the simulator's webhooks come here
    api = importlib.import_module(f"{PACKAGE}.api")
    models = importlib.import_module(f"{PACKAGE}.models")
    types = importlib.import_module(f"{PACKAGE}.types")

    def op(name):
        return importlib.import_module(f"{api.__name__}.{name}")

    anonymous = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)

    # Sign up, confirm the address from the e-mail, sign in, refresh.
    registered = _ok(
        op("auth.auth_register").sync_detailed(
            client=anonymous,
            body=models.RegistrationRequest(email="journey@example.com", password=PASSWORD),
        ),
        201,
    )
    assert registered.email == "journey@example.com"
    [message] = mail.outbox
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", message.body).group(1)
    _ok(
        op("auth.auth_email_verify").sync_detailed(
            client=anonymous, body=models.EmailVerificationRequest(key=key)
        )
    )
    pair = _ok(
        op("auth.auth_token_create").sync_detailed(
            client=anonymous,
            body=models.TokenObtainRequest(email="journey@example.com", password=PASSWORD),
        )
    )
    refreshed = _ok(
        op("auth.auth_token_refresh").sync_detailed(
            client=anonymous, body=models.TokenRefreshRequest(refresh=pair.refresh)
        )
    )
    assert refreshed.refresh != pair.refresh
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=refreshed.access, timeout=httpx.Timeout(120)
    )
    profile = _ok(op("me.me_get").sync_detailed(client=client))
    assert profile.email_verified is True
    credits_grant(user=User.objects.get(email="journey@example.com"), amount=1000, reason="test")

    # A dataset of 15 photos (multipart), checked in the background, then a model trained.
    dataset = _ok(
        op("datasets.datasets_create").sync_detailed(
            client=client, body=models.DatasetCreateRequest(name="Me")
        ),
        201,
    )
    files = [
        types.File(payload=io.BytesIO(data), file_name=name, mime_type="image/jpeg")
        for name, data in portrait_jpegs(15)
    ]
    uploaded = _ok(
        op("datasets.dataset_images_upload").sync_detailed(
            dataset.id, client=client, body=models.DatasetUploadRequest(files=files)
        ),
        201,
    )
    assert len(uploaded.added) == 15 and not uploaded.refused
    photos = _ok(
        op("datasets.dataset_images_list").sync_detailed(dataset.id, client=client, page_size=10)
    )
    assert len(photos.results) == 10 and photos.has_more and photos.next_cursor
    rest = _ok(
        op("datasets.dataset_images_list").sync_detailed(
            dataset.id, client=client, page_size=10, cursor=photos.next_cursor
        )
    )
    assert len(rest.results) == 5 and not rest.has_more and rest.next_cursor is None
    report = _wait(
        lambda: _ok(op("datasets.dataset_report_get").sync_detailed(dataset.id, client=client)),
        lambda report: report.pending == 0,
        what="the photos' checks",
    )
    assert report.can_train, report
    model = _ok(
        op("models.models_create").sync_detailed(
            client=client, body=models.LoraModelCreateRequest(name="Me", trigger_word="ZORVAK")
        ),
        201,
    )
    run = _ok(
        op("trainings.trainings_create").sync_detailed(
            client=client,
            body=models.TrainingRunCreateRequest(dataset=dataset.id, model=model.id, steps=500),
        ),
        201,
    )
    run = _wait(
        lambda: _ok(op("trainings.training_get").sync_detailed(run.id, client=client)),
        lambda run: run.status in ("succeeded", "failed", "canceled"),
        what="the training",
    )
    assert run.status == "succeeded", run.error_message
    assert run.parameters.steps == 500
    model = _ok(op("models.model_get").sync_detailed(model.id, client=client))
    assert model.is_ready and model.current_version

    # A generation of two pictures, followed to its end, then the gallery page by page.
    created = _ok(
        op("generations.generations_create").sync_detailed(
            client=client,
            body=models.GenerationCreateRequest(
                prompt="ZORVAK on a beach at sunset",
                lora_model=model.id,
                num_outputs=2,
                base_model=models.BaseModelEnum.DEV,
            ),
        ),
        201,
    )
    [generation] = created.generations
    generation = _wait(
        lambda: _ok(op("generations.generation_get").sync_detailed(generation.id, client=client)),
        lambda generation: generation.status in ("succeeded", "failed", "canceled"),
        what="the generation",
    )
    assert generation.status == "succeeded", generation.error_message
    assert generation.parameters.base_model == models.BaseModelEnum.DEV
    assert generation.parameters.num_outputs == 2
    first = _ok(op("images.images_list").sync_detailed(client=client, page_size=1))
    assert first.has_more and first.next_cursor and first.next_.startswith(live_server.url)
    second = _ok(
        op("images.images_list").sync_detailed(client=client, page_size=1, cursor=first.next_cursor)
    )
    assert not second.has_more and second.next_ is None and second.next_cursor is None
    image_ids = {first.results[0].id, second.results[0].id}
    assert image_ids == {image.id for image in generation.images}
    image = first.results[0]
    picture = op("images.image_file_get").sync_detailed(image.id, client=client)
    assert picture.status_code in (200, 302) and (picture.status_code == 302 or picture.content)

    # A favourite, a share link that opens, an export to download.
    favourite = _ok(op("images.image_favourite").sync_detailed(image.id, client=client))
    assert favourite.is_favourite is True
    link = _ok(
        op("share_links.share_links_create").sync_detailed(
            client=client, body=models.ShareLinkCreateRequest(image=image.id)
        ),
        201,
    )
    assert httpx.get(link.url, timeout=30).status_code == 200
    export = _ok(op("me.me_exports_create").sync_detailed(client=client), 202)
    export = _wait(
        lambda: _ok(op("me.me_export_get").sync_detailed(export.id, client=client)),
        lambda export: export.status in ("ready", "failed"),
        what="the export",
    )
    assert export.status == "ready", export.error
    download = op("me.me_export_download").sync_detailed(export.id, client=client)
    assert download.status_code == 200
    assert zipfile.is_zipfile(io.BytesIO(download.content))

    # An error is the one error shape, its code among the schema's.
    missing = op("datasets.dataset_get").sync_detailed(generation.id, client=client)
    assert missing.status_code == 404
    assert missing.parsed.code == "not_found"

    # Deleting the account: every token stops working at once.
    deleted = op("me.me_delete").sync_detailed(
        client=client, body=models.AccountDeleteRequest(password=PASSWORD)
    )
    assert deleted.status_code == 202, deleted.content
    gone = op("me.me_get").sync_detailed(client=client)
    assert gone.status_code == 401
    # The account is erased at once here (eager tasks): its token names no one any more.
    assert gone.parsed.code in (
        models.ErrorCodeEnum.USER_NOT_FOUND,
        models.ErrorCodeEnum.USER_INACTIVE,
        models.ErrorCodeEnum.TOKEN_NOT_VALID,
    )


def _schema(path: Path) -> dict:
    return yaml.safe_load(path.read_text())
