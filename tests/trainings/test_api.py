"""The trainings API: what the owner may do, what others may not, and clear errors."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from PIL import Image

from accounts.selectors import credit_balance
from accounts.services import credits_grant
from tests.trainings.portraits import portrait_jpegs
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun
from trainings.services import dataset_create, lora_model_create

pytestmark = pytest.mark.django_db


def _jpeg(size=(800, 600), color=(120, 80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


def _upload(client, dataset, files):
    """Upload through the API; the processing tasks it enqueues run as its transaction commits."""
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("api:dataset-images", args=[dataset.id]),
            {"files": uploads},
            format="multipart",
        )


@pytest.fixture
def dataset(owner):
    return dataset_create(user=owner, name="Me")


@pytest.fixture
def lora_model(owner):
    return lora_model_create(user=owner, name="Me", trigger_word="ZORVAK")


def test_create_and_list_datasets(owner, as_user):
    client = as_user(owner)
    response = client.post("/api/v1/datasets/", {"name": "Holiday photos", "target_size": 512})
    assert response.status_code == 201, response.json()
    assert response.json()["target_size"] == 512
    listed = client.get("/api/v1/datasets/").json()
    assert [row["name"] for row in listed["results"]] == ["Holiday photos"]


def test_bad_dataset_input_names_the_field(owner, as_user):
    response = as_user(owner).post("/api/v1/datasets/", {"name": "", "target_size": 300})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "target_size"}
    assert not Dataset.objects.exists()


def test_uploaded_photos_are_processed_and_captions_paired(owner, as_user, dataset):
    photos = portrait_jpegs(2)
    response = _upload(
        as_user(owner),
        dataset,
        [*photos, ("me-00.txt", b"a photo of me smiling  in Paris\n")],
    )
    assert response.status_code == 201, response.json()
    added = response.json()["added"]
    assert len(added) == 2
    assert {row["status"] for row in added} == {"pending"}  # processed in the background
    listed = as_user(owner).get(f"/api/v1/datasets/{dataset.id}/images/").json()["results"]
    assert {row["status"] for row in listed} == {"ready"}
    first = DatasetImage.objects.get(original_name="me-00.jpg")
    assert first.caption == "a photo of me smiling in Paris"
    assert first.face_count == 1
    assert (first.width, first.height) == (768, 960)  # never upscaled
    thumbnail = as_user(owner).get(listed[0]["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/webp"


def test_refused_files_are_named_and_the_rest_is_kept(owner, as_user, dataset):
    response = _upload(
        as_user(owner),
        dataset,
        [
            ("good.jpg", _jpeg()),
            ("notes.jpg", b"this is a text file, not a photo"),
            ("anim.gif", b"GIF89a" + b"\x00" * 100),
            ("tiny.jpg", _jpeg((200, 200))),
        ],
    )
    assert response.status_code == 201
    body = response.json()
    refused = {row["name"]: row["code"] for row in body["refused"]}
    assert refused == {"notes.jpg": "unsupported_format", "anim.gif": "unsupported_format"}
    images = {image.original_name: image for image in dataset.images.all()}
    assert images["good.jpg"].status == DatasetImage.Status.READY
    # Too small is only known once decoded: refused in the background, with the reason kept.
    assert images["tiny.jpg"].status == DatasetImage.Status.REJECTED
    assert "512" in images["tiny.jpg"].rejection_message
    assert not images["tiny.jpg"].upload


def test_an_upload_with_nothing_usable_is_a_400_naming_each_file(owner, as_user, dataset):
    response = _upload(as_user(owner), dataset, [("a.jpg", b"nope")])
    assert response.status_code == 400
    assert response.json()["errors"]["files"][0].startswith("a.jpg:")
    assert not dataset.images.exists()


def test_a_dataset_holds_at_most_30_photos(owner, as_user, dataset):
    photo = _jpeg()
    response = _upload(as_user(owner), dataset, [(f"{i}.jpg", photo) for i in range(32)])
    # Refused whole: storing 30 of 32 would leave the person to guess which two are missing.
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_images"
    assert not dataset.images.exists()


def test_report_blocks_training_until_the_set_can_work(owner, as_user, dataset, lora_model):
    client = as_user(owner)
    _upload(client, dataset, portrait_jpegs(3))
    report = client.get(f"/api/v1/datasets/{dataset.id}/report/").json()
    assert report["can_train"] is False
    assert report["usable"] == 3
    assert any(f["code"] == "too_few" for f in report["blocking"])
    credits_grant(user=owner, amount=1000, reason="test")
    response = client.post(
        "/api/v1/trainings/", {"dataset": str(dataset.id), "model": str(lora_model.id)}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "dataset_not_ready"
    assert not TrainingRun.objects.exists()
    assert credit_balance(user=owner) == 1000


def test_training_parameters_are_checked_before_anything_happens(
    owner, as_user, dataset, lora_model
):
    credits_grant(user=owner, amount=1000, reason="test")
    response = as_user(owner).post(
        "/api/v1/trainings/",
        {"dataset": str(dataset.id), "model": str(lora_model.id), "steps": 9000, "lora_rank": 0},
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"steps", "lora_rank"}
    assert not TrainingRun.objects.exists()


def test_trigger_words_must_be_made_up_and_unique(owner, other_user, as_user):
    client = as_user(owner)
    english = client.post("/api/v1/models/", {"name": "A", "trigger_word": "house"})
    assert english.status_code == 400
    assert "English word" in english.json()["errors"]["trigger_word"][0]
    created = client.post("/api/v1/models/", {"name": "A", "trigger_word": "Zorvak"})
    assert created.status_code == 201
    taken = as_user(other_user).post("/api/v1/models/", {"name": "B", "trigger_word": "ZORVAK"})
    assert taken.status_code == 400
    assert "already in use" in taken.json()["detail"]
    suggested = as_user(other_user).post("/api/v1/models/", {"name": "C"})
    assert suggested.status_code == 201
    word = suggested.json()["trigger_word"]
    assert word.isalpha() and word.isupper()
    check = as_user(owner).get("/api/v1/models/trigger-word/", {"word": "moon"}).json()
    assert "English word" in check["problem"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/{dataset}/",
        "/api/v1/datasets/{dataset}/images/",
        "/api/v1/datasets/{dataset}/report/",
        "/api/v1/models/{model}/",
        "/api/v1/trainings/{run}/",
    ],
)
def test_other_users_objects_are_404_and_anonymous_is_401(
    path, owner, stranger, as_user, api, dataset, lora_model
):
    run = TrainingRun.objects.create(owner=owner, dataset=dataset, lora_model=lora_model)
    url = path.format(dataset=dataset.id, model=lora_model.id, run=run.id)
    assert as_user(owner).get(url).status_code == 200
    assert as_user(stranger).get(url).status_code == 404
    assert api.get(url).status_code == 401


def test_strangers_cannot_change_or_delete(owner, stranger, as_user, dataset, lora_model):
    client = as_user(stranger)
    assert client.patch(f"/api/v1/datasets/{dataset.id}/", {"name": "x"}).status_code == 404
    assert client.delete(f"/api/v1/datasets/{dataset.id}/").status_code == 404
    assert client.delete(f"/api/v1/models/{lora_model.id}/").status_code == 404
    assert _upload(client, dataset, [("a.jpg", _jpeg())]).status_code == 404
    run = TrainingRun.objects.create(owner=owner, dataset=dataset, lora_model=lora_model)
    assert client.post(f"/api/v1/trainings/{run.id}/cancel/").status_code == 404
    assert client.post(f"/api/v1/trainings/{run.id}/retry/").status_code == 404
    # Starting a run on someone else's dataset or model is a 404 too.
    credits_grant(user=stranger, amount=1000, reason="test")
    start = client.post(
        "/api/v1/trainings/", {"dataset": str(dataset.id), "model": str(lora_model.id)}
    )
    assert start.status_code == 404
    assert Dataset.objects.filter(pk=dataset.pk).exists()
    assert LoraModel.objects.filter(pk=lora_model.pk).exists()


def test_session_forms_enforce_csrf(owner, dataset):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse("trainings:dataset-delete", args=[dataset.id]))
    assert response.status_code == 403
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_the_schema_matches_the_lists_and_a_new_model(owner, as_user, client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    for path in ("datasets/", "models/", "trainings/"):
        operation = schema["paths"][f"/api/v1/{path}"]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = components[ref.rsplit("/", 1)[1]]
        assert {"next", "previous", "results"} <= set(page["properties"]), path
        assert {"cursor", "page_size"} <= {p["name"] for p in operation["parameters"]}, path
    # A model has no version until its first training succeeds: the schema must allow null.
    created = as_user(owner).post("/api/v1/models/", {"name": "New", "trigger_word": "QUORBEX"})
    assert created.status_code == 201
    assert created.json()["current_version"] is None
    assert components["LoraModel"]["properties"]["current_version"]["nullable"] is True
    assert "403" in schema["paths"]["/api/v1/models/"]["post"]["responses"]
    for path in ("trainings/", "trainings/{run_id}/cancel/", "trainings/{run_id}/retry/"):
        assert "409" in schema["paths"][f"/api/v1/{path}"]["post"]["responses"], path


def test_a_photo_with_no_detected_face_can_be_confirmed_by_its_owner(
    owner, stranger, as_user, dataset
):
    scene = io.BytesIO()
    Image.open(io.BytesIO(portrait_jpegs(1)[0][1])).crop((0, 700, 768, 960)).resize(
        (1024, 768)
    ).save(scene, "JPEG")
    _upload(as_user(owner), dataset, [("back.jpg", scene.getvalue())])
    image = dataset.images.get()
    assert image.face_count == 0
    report = as_user(owner).get(f"/api/v1/datasets/{dataset.id}/report/").json()
    assert [f["code"] for f in report["blocking"] if f["image"] == str(image.id)] == ["no_face"]

    url = f"/api/v1/datasets/{dataset.id}/images/{image.id}/"
    assert as_user(stranger).patch(url, {"face_confirmed": True}).status_code == 404
    assert as_user(owner).patch(url, {}).status_code == 400
    response = as_user(owner).patch(url, {"face_confirmed": True})
    assert response.status_code == 200
    assert response.json()["face_confirmed"] is True
    report = as_user(owner).get(f"/api/v1/datasets/{dataset.id}/report/").json()
    assert not [f for f in report["blocking"] if f["image"] == str(image.id)]
    assert [f["code"] for f in report["warnings"] if f["image"] == str(image.id)] == [
        "face_confirmed"
    ]
    assert report["usable"] == 1
