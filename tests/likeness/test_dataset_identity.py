"""One person per dataset: the quality report names a photo of someone else and refuses
training until it is removed, and on a group photo marks which face is the dataset's person;
the owner's word on which face of a group photo is theirs is taken, with a warning when it looks
unlike the rest.

Real photos: the owner's (the astronaut pasted on varied scenes, tests/trainings/portraits.py)
and six different people cut from one group photo (tests/people.py)."""

from __future__ import annotations

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from accounts.services import credits_grant
from tests import people
from tests.likeness.dataset_rows import dataset_with_consent, photo_add
from tests.trainings.portraits import portrait
from trainings import selectors
from trainings.imaging import faces_of
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun
from trainings.services import dataset_create, dataset_images_add

pytestmark = pytest.mark.django_db

OWN_PHOTOS = 11  # one more than training needs, so training is possible without the stranger


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _owner_photos(dataset: Dataset, count: int = OWN_PHOTOS) -> list[DatasetImage]:
    return [
        photo_add(dataset, f"me-{i:02d}.jpg", lambda i=i: portrait(i, (512, 640)))
        for i in range(count)
    ]


def _report(client, dataset) -> dict:
    response = client.get(f"/api/v1/datasets/{dataset.id}/report/")
    assert response.status_code == 200
    return response.json()


def _check_of(report: dict, image: DatasetImage) -> dict:
    (check,) = [photo for photo in report["photos"] if photo["image"] == str(image.id)]
    return check


# --- someone else's photo -----------------------------------------------------------------------


def test_a_strangers_photo_is_named_and_training_is_refused_until_it_is_removed(owner, as_user):
    dataset = dataset_with_consent(owner)
    mine = _owner_photos(dataset)
    theirs = photo_add(dataset, "holiday.jpg", lambda: people.stranger(5, 512))
    client = as_user(owner)

    report = _report(client, dataset)

    assert report["can_train"] is False
    assert [f["code"] for f in report["blocking"]] == ["other_person"]
    assert report["identity_checked"] is True and report["identity_note"] is None
    (finding,) = [f for f in report["blocking"] if f["code"] == "other_person"]
    assert finding["image"] == str(theirs.id) and finding["image_name"] == "holiday.jpg"
    assert "holiday.jpg" in finding["message"]
    assert "looks like someone else" in finding["message"]
    assert _check_of(report, theirs)["identity"] == "other"
    assert {_check_of(report, photo)["identity"] for photo in mine} == {"main"}

    page = _signed_in(owner).get(reverse("trainings:dataset", args=[dataset.id]))
    text = page.content.decode()
    assert "This looks like someone else: holiday.jpg" in text
    assert "Ready to train" not in text
    model = LoraModel.objects.create(owner=owner, name="Me", trigger_word="ohwxme")
    refused = client.post(
        "/api/v1/trainings/", {"dataset": str(dataset.id), "model": str(model.id)}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "dataset_not_ready"
    assert "holiday.jpg" in refused.json()["detail"]
    assert not TrainingRun.objects.exists()

    removed = _signed_in(owner).post(
        reverse("trainings:dataset-image-delete", args=[dataset.id, theirs.id])
    )
    assert removed.status_code == 302

    report = _report(client, dataset)
    assert report["can_train"] is True
    assert not [f for f in report["blocking"] if f["code"] == "other_person"]
    assert (
        "Ready to train"
        in _signed_in(owner).get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    )


def test_without_consent_the_check_is_skipped_and_the_report_says_so(owner):
    dataset = Dataset.objects.create(owner=owner, name="Me")
    _owner_photos(dataset)
    photo_add(dataset, "holiday.jpg", lambda: people.stranger(5, 512))

    report = selectors.dataset_report(dataset=dataset)

    assert report.identity_checked is False
    assert "did not agree to face processing" in report.identity_note
    assert not [f for f in report.blocking if f.code == "other_person"]
    assert {check.identity for check in report.photos} == {"unknown"}
    page = _signed_in(owner).get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    assert report.identity_note in page


def test_photos_whose_faces_were_not_looked_for_are_unknown(owner):
    dataset = dataset_with_consent(owner)
    _owner_photos(dataset)
    earlier = photo_add(dataset, "earlier.jpg", lambda: people.stranger(5, 512))
    DatasetImage.objects.filter(pk=earlier.pk).update(faces=[], faces_checked_at=None)

    report = selectors.dataset_report(dataset=dataset)

    (check,) = [c for c in report.photos if c.image == str(earlier.id)]
    assert check.identity == "unknown"
    assert report.can_train


# --- the subject of a group photo ---------------------------------------------------------------


def _cuts_of(person: int) -> list:
    """Four different cuts of one person's photo: as it is, tighter, wider-cropped, smaller."""
    photo = people.stranger(person, 640)
    return [
        lambda: photo,
        lambda: photo.crop((60, 40, 600, 620)).resize((512, 550)),
        lambda: photo.crop((0, 80, 560, 640)),
        lambda: photo.resize((400, 400)),
    ]


def _group_faces_left_to_right():
    return sorted(faces_of(people.group_photo()), key=lambda face: face.box[0])


def test_the_subject_of_a_group_photo_is_the_datasets_person(owner, as_user):
    person = 2  # the third from the left: neither the largest face nor the first
    dataset = dataset_with_consent(owner)
    for index, make in enumerate(_cuts_of(person)):
        photo_add(dataset, f"me-{index}.jpg", make, key=f"person-{person}-cut-{index}")
    group = photo_add(dataset, "team.jpg", people.group_photo)

    report = _report(as_user(owner), dataset)

    check = _check_of(report, group)
    assert check["identity"] == "main"
    expected = _group_faces_left_to_right()[person].box
    assert check["subject_face"]["box"] == list(expected)
    assert check["subject_face"]["confirmed"] is False
    (warning,) = [f for f in report["warnings"] if f["code"] == "subject_face"]
    assert warning["image"] == str(group.id) and "team.jpg" in warning["message"]
    assert not [f for f in report["blocking"] if f["code"] == "other_person"]


def test_confirming_the_marked_face_ends_the_warning(owner):
    dataset = dataset_with_consent(owner)
    for index, make in enumerate(_cuts_of(2)):
        photo_add(dataset, f"me-{index}.jpg", make, key=f"person-2-cut-{index}")
    group = photo_add(dataset, "team.jpg", people.group_photo)
    client = _signed_in(owner)
    page = client.get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    assert "Yes, I&#x27;m the one marked" in page or "Yes, I'm the one marked" in page
    assert 'class="subject-face"' in page
    index = next(c.subject_face.index for c in selectors.dataset_report(dataset=dataset).photos
                 if c.image == str(group.id))  # fmt: skip

    response = client.post(
        reverse("trainings:dataset-image-subject-confirm", args=[dataset.id, group.id]),
        {"face": str(index)},
    )

    assert response.status_code == 302
    group.refresh_from_db()
    assert group.subject_face == index
    report = selectors.dataset_report(dataset=dataset)
    assert not [f for f in report.warnings if f.code == "subject_face"]
    (check,) = [c for c in report.photos if c.image == str(group.id)]
    assert check.subject_face.confirmed is True and check.identity == "main"


def test_confirming_a_face_unlike_the_set_on_a_group_photo_is_taken_at_the_owners_word(
    owner, as_user
):
    dataset = dataset_with_consent(owner)
    for index, make in enumerate(_cuts_of(2)):
        photo_add(dataset, f"me-{index}.jpg", make, key=f"person-2-cut-{index}")
    group = photo_add(dataset, "team.jpg", people.group_photo)
    faces = _group_faces_left_to_right()
    other = group.faces.index(next(f for f in group.faces if tuple(f["box"]) == faces[0].box))

    response = as_user(owner).patch(
        f"/api/v1/datasets/{dataset.id}/images/{group.id}/",
        {"subject_face": other},
        format="json",
    )

    assert response.status_code == 200
    report = _report(as_user(owner), dataset)
    check = _check_of(report, group)
    assert check["identity"] == "main"
    assert check["subject_face"]["index"] == other and check["subject_face"]["confirmed"] is True
    assert not [f for f in report["blocking"] if f["image"] == str(group.id)]
    (warning,) = [f for f in report["warnings"] if f["code"] == "subject_unlike"]
    assert warning["image"] == str(group.id)
    assert "does not look much like your other photos" in warning["message"]
    assert "consent selfie check still applies" in warning["message"]


def test_a_group_photo_of_strangers_blocks_until_the_owner_marks_a_face_then_trains(owner, as_user):
    dataset = dataset_with_consent(owner)
    _owner_photos(dataset)  # the astronaut: nobody in the group photo looks like her
    group = photo_add(dataset, "team.jpg", people.group_photo)
    page = _signed_in(owner)
    client = as_user(owner)

    report = _report(client, dataset)
    assert report["can_train"] is False
    (blocked,) = [f for f in report["blocking"] if f["code"] == "other_person"]
    assert blocked["image"] == str(group.id)
    assert "mark which one is you" in blocked["message"]
    text = page.get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    assert "the one marked: use it" in text
    marked = _check_of(report, group)["subject_face"]["index"]

    response = page.post(
        reverse("trainings:dataset-image-subject-confirm", args=[dataset.id, group.id]),
        {"face": str(marked)},
    )

    assert response.status_code == 302
    report = _report(client, dataset)
    assert report["can_train"] is True
    assert report["usable"] == OWN_PHOTOS + 1
    assert _check_of(report, group)["identity"] == "main"
    (warning,) = [f for f in report["warnings"] if f["code"] == "subject_unlike"]
    assert warning["image"] == str(group.id)
    text = page.get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    assert "does not look much like your other photos" in text
    assert "Ready to train" in text
    credits_grant(user=owner, amount=1000, reason="test")
    model = LoraModel.objects.create(owner=owner, name="Me", trigger_word="ohwxme")
    started = client.post(
        "/api/v1/trainings/", {"dataset": str(dataset.id), "model": str(model.id)}
    )
    assert started.status_code == 201, started.json()
    assert TrainingRun.objects.get().image_count == OWN_PHOTOS + 1


def test_a_one_face_photo_of_someone_else_cannot_be_confirmed_as_the_owner(owner, as_user):
    dataset = dataset_with_consent(owner)
    _owner_photos(dataset)
    theirs = photo_add(dataset, "holiday.jpg", lambda: people.stranger(5, 512))
    client = as_user(owner)

    response = client.patch(
        f"/api/v1/datasets/{dataset.id}/images/{theirs.id}/", {"subject_face": 0}, format="json"
    )

    assert response.status_code == 400
    assert "subject_face" in response.json()["errors"]
    # Even an answer stored by an earlier version does not vouch for a lone stranger's face.
    DatasetImage.objects.filter(pk=theirs.pk).update(subject_face=0)
    report = _report(client, dataset)
    assert report["can_train"] is False
    assert [f["image"] for f in report["blocking"] if f["code"] == "other_person"] == [
        str(theirs.id)
    ]
    assert not [f for f in report["warnings"] if f["code"] == "subject_unlike"]
    text = _signed_in(owner).get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    assert "the one marked: use it" not in text


def test_a_face_that_is_not_there_is_a_400_naming_the_field(owner, as_user):
    dataset = dataset_with_consent(owner)
    group = photo_add(dataset, "team.jpg", people.group_photo)

    response = as_user(owner).patch(
        f"/api/v1/datasets/{dataset.id}/images/{group.id}/", {"subject_face": 6}, format="json"
    )
    assert response.status_code == 400
    assert "subject_face" in response.json()["errors"]

    page = _signed_in(owner).post(
        reverse("trainings:dataset-image-subject-confirm", args=[dataset.id, group.id]),
        {"face": "first"},
    )
    assert page.status_code == 302
    group.refresh_from_db()
    assert group.subject_face is None


def test_another_users_photo_is_not_found(owner, stranger, as_user):
    dataset = dataset_with_consent(owner)
    group = photo_add(dataset, "team.jpg", people.group_photo)

    page = _signed_in(stranger).post(
        reverse("trainings:dataset-image-subject-confirm", args=[dataset.id, group.id]),
        {"face": "0"},
    )
    api = as_user(stranger).patch(
        f"/api/v1/datasets/{dataset.id}/images/{group.id}/", {"subject_face": 0}, format="json"
    )

    assert page.status_code == 404 and api.status_code == 404
    group.refresh_from_db()
    assert group.subject_face is None


# --- end to end, through the upload and the worker ----------------------------------------------


def test_an_uploaded_strangers_photo_is_caught(owner, as_user):
    dataset = dataset_create(user=owner, name="Me", target_size=512, face_consent=True)
    files = [(f"me-{i:02d}.jpg", people.jpeg_bytes(portrait(i, (512, 640)))) for i in range(4)]
    files.append(("friend.jpg", people.jpeg_bytes(people.stranger(3, 512))))
    with TestCase.captureOnCommitCallbacks(execute=True):
        dataset_images_add(dataset=dataset, files=files)

    report = _report(as_user(owner), dataset)

    assert report["can_train"] is False
    (finding,) = [f for f in report["blocking"] if f["code"] == "other_person"]
    assert finding["image_name"] == "friend.jpg"
    identities = {p["image_name"]: p["identity"] for p in report["photos"]}
    assert identities.pop("friend.jpg") == "other"
    assert set(identities.values()) == {"main"}
