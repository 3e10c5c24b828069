"""Deleting an account leaves no row and no stored file of the user's.

`one_of_everything()` creates one of every kind of thing a user can own. When your app adds a
model that belongs to a user (directly or through another one), add one of it there, made
the way your app makes it (stored files included): `test_every_user_owned_model_is_covered`
fails until you do, and `test_deleting_an_account_leaves_nothing_of_it` then proves your
eraser (registered with `accounts.deletion.register_eraser`) removes it. Remote models on
Replicate are checked by the owning app's eraser test against the simulator.
"""

import io
import os
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress, EmailConfirmation
from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase, override_settings
from PIL import Image
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import deletion
from accounts.exports import data_export_build, data_export_request
from accounts.models import CreditEntry, User
from accounts.services import (
    credits_capture,
    credits_grant,
    credits_refund,
    credits_reserve,
    user_avatar_set,
)
from accounts.tasks import account_delete_task
from core.exceptions import DomainError
from core.models import IdempotencyRecord
from gallery.models import GeneratedImage, ImageReport
from likeness.models import ModelIdentity
from likeness.services import selfie_take
from moderation.services import PromptBlocked, prompt_guard
from moderation.strikes import suspension_appeal
from tests.billing.factories import billing_one_of_everything
from tests.events.factories import events_one_of_everything
from tests.factories import TEST_PASSWORD
from tests.gallery.factories import gallery_one_of_everything
from tests.trainings.portraits import portrait_jpegs
from trainings.models import LoraVersion, TrainingRun
from trainings.services import dataset_create, dataset_images_add, lora_model_create

pytestmark = pytest.mark.django_db

# Relations that record who did something to another user's row: that row stays (the
# field is set to null), it was never the deleted user's.
NOT_OWNERSHIP = {
    ("accounts.creditentry", "granted_by"),
    ("moderation.promptrule", "created_by"),
    ("moderation.promptrule", "updated_by"),
    ("moderation.auditrecord", "actor"),
    ("moderation.suspension", "lifted_by"),
    ("gallery.imagedecision", "moderator"),
    # An admin's copy of a picture for the catalogue is the platform's (the link goes null).
    ("gallery.stylepresetexample", "source_image"),
}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def one_of_everything(user: User, *, someone_else: User) -> None:
    """One of every kind of thing a user can own. Extend it as your app adds data."""
    # accounts: verified address and a pending confirmation, tokens, avatar, credits, export
    address, _ = EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    EmailConfirmation.create(address)
    RefreshToken.for_user(user)
    RefreshToken.for_user(user).blacklist()
    user_avatar_set(user=user, content=_png())
    credits_grant(user=user, amount=50, reason="Welcome")
    credits_capture(reservation=credits_reserve(user=user, amount=5, reason="Training"))
    credits_refund(reservation=credits_reserve(user=user, amount=5, reason="Generation"))
    data_export_build(export_id=data_export_request(user=user).id)
    # A grant this user made to someone else stays with that someone (granted_by -> null).
    credits_grant(user=someone_else, amount=1, reason="Gift", granted_by=user)
    # auth / admin: group, permission, an admin log line
    user.groups.add(Group.objects.get(name="moderator"))
    user.user_permissions.add(Permission.objects.get(codename="moderate_content"))
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=User.objects.filter(pk=user.pk),
        action_flag=ADDITION,
        change_message="made by the test",
        single_object=True,
    )
    # core: a request sent with an Idempotency-Key, and its stored answer
    IdempotencyRecord.objects.create(
        user=user,
        key="retry-1",
        route="api:me-export",
        fingerprint="0" * 64,
        status_code=202,
        body=b"{}",
        expires_at=user.date_joined,
    )
    # A signed-in browser session.
    browser = Client()
    browser.force_login(user)
    # trainings: a dataset with a processed photo (files in storage), a model with a version
    # and a run. Remote models are covered by tests/trainings/test_erasure.py.
    _one_of_each_training_thing(user)
    # gallery: generations, images (files), collections, share links, a report on a picture
    # someone else shared.
    gallery_one_of_everything(user)
    _one_of_each_moderation_thing(user)
    events_one_of_everything(user)  # events: an endpoint, events and their deliveries
    billing_one_of_everything(user)  # billing: purchases of credit packs


def _one_of_each_moderation_thing(user: User) -> None:
    """A stopped prompt, strikes past the limit (so a suspension) with an appeal, a report."""
    for number in range(settings.MODERATION_STRIKE_LIMIT):
        with pytest.raises(PromptBlocked):
            prompt_guard(user=user, prompt=f"a nude portrait, take {number}", source="web")
    suspension_appeal(user=user, text="It was a mistake.")
    # A report the user made (on one of their own pictures, so that every file this call
    # stores is the user's; the service itself refuses reporting your own picture).
    ImageReport.objects.create(
        image=GeneratedImage.objects.filter(owner=user).first(), reporter=user, reason="Test"
    )


def _one_of_each_training_thing(user: User) -> None:
    dataset = dataset_create(user=user, name="Me", face_consent=True)  # so faces are stored
    with TestCase.captureOnCommitCallbacks(execute=True):
        dataset_images_add(dataset=dataset, files=portrait_jpegs(1))
    lora_model = lora_model_create(user=user, name="Me", trigger_word=f"ZORVAK{user.pk}")
    run = TrainingRun.objects.create(owner=user, dataset=dataset, lora_model=lora_model)
    LoraVersion.objects.create(
        lora_model=lora_model, replicate_version_id=f"{user.pk:064d}", training_run=run
    )
    ModelIdentity.objects.create(lora_model=lora_model, vector=[0.0] * 128)
    selfie = SimpleUploadedFile("me.jpg", portrait_jpegs(1)[0][1], content_type="image/jpeg")
    with override_settings(LIKENESS_SELFIE_REQUIRED=True):
        selfie_take(user=user, lora_model=lora_model, upload=selfie)  # a check, its file kept


def _user_relations():
    """(model, field) pairs of every foreign key to User, and of models owned through them."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    owned = {user_model}
    relations = []
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            for field in model._meta.concrete_fields:
                if not field.is_relation or field.related_model not in owned:
                    continue
                if (model._meta.label_lower, field.name) in NOT_OWNERSHIP:
                    continue
                if field.related_model is model:
                    continue
                if (model, field) not in relations:
                    relations.append((model, field))
                if model not in owned:
                    owned.add(model)
                    changed = True
    return relations


def _owned_rows(user) -> dict[str, set]:
    """Every row that belongs to `user`, following foreign keys out from the user row."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    rows: dict = {user_model: {user.pk}}
    changed = True
    relations = _user_relations()
    while changed:
        changed = False
        for model, field in relations:
            parents = rows.get(field.related_model, set())
            if not parents:
                continue
            target = field.target_field.attname
            lookup = f"{field.name}__{target}__in" if target != "id" else f"{field.name}__in"
            found = set(
                model._default_manager.filter(**{lookup: parents}).values_list("pk", flat=True)
            )
            if not found <= rows.get(model, set()):
                rows[model] = rows.get(model, set()) | found
                changed = True
    return {model._meta.label_lower: pks for model, pks in rows.items()}


def _stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {
        str(Path(folder, name).relative_to(root))
        for folder, _, names in os.walk(root)
        for name in names
    }


def _session_user_ids() -> list[str]:
    return [str(s.get_decoded().get("_auth_user_id")) for s in Session.objects.all()]


def test_every_user_owned_model_is_covered(owner, other_user):
    """Fails when an app adds a model owned by users that one_of_everything does not create."""
    one_of_everything(owner, someone_else=other_user)
    rows = _owned_rows(owner)
    missing = sorted(
        {model._meta.label_lower for model, _ in _user_relations()}
        - {k for k, v in rows.items() if v}
    )
    assert not missing, f"Add one of each to one_of_everything(): {missing}"


def test_deleting_an_account_leaves_nothing_of_it(
    owner, other_user, django_capture_on_commit_callbacks
):
    files_before = _stored_files()
    one_of_everything(owner, someone_else=other_user)
    owner_files = _stored_files() - files_before
    one_of_everything(other_user, someone_else=owner)
    other_files = _stored_files() - files_before - owner_files
    owner_rows = _owned_rows(owner)
    other_rows = _owned_rows(other_user)
    assert owner_files and other_files
    assert str(owner.pk) in _session_user_ids()

    with django_capture_on_commit_callbacks(execute=True):
        deletion.account_deletion_request(user=owner, password=TEST_PASSWORD)

    for label, pks in owner_rows.items():
        model = apps.get_model(label)
        assert not model._default_manager.filter(pk__in=pks).exists(), label
    for model, field in _user_relations():
        if field.related_model is apps.get_model(settings.AUTH_USER_MODEL):
            assert not model._default_manager.filter(**{field.attname: owner.pk}).exists()
    remaining = _stored_files()
    assert not (owner_files & remaining), sorted(owner_files & remaining)
    assert other_files <= remaining
    assert str(owner.pk) not in _session_user_ids()
    assert str(other_user.pk) in _session_user_ids()

    # The other user's things are untouched, and their gift from the deleted user stays.
    for label, pks in other_rows.items():
        if label == "accounts.user" or pks:
            model = apps.get_model(label)
            assert model._default_manager.filter(pk__in=pks).count() == len(pks), label
    gift = CreditEntry.objects.get(user=other_user, reason="Gift")
    assert gift.granted_by is None


def test_deletion_request_deactivates_and_revokes_at_once(owner, api):
    refresh = str(RefreshToken.for_user(owner))
    deletion.account_deletion_request(user=owner, password=TEST_PASSWORD)  # task not run
    owner.refresh_from_db()
    assert owner.is_active is False
    assert owner.deletion_requested_at is not None
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401


@pytest.fixture
def erasers(monkeypatch):
    """The erasers registered so far, in a copy that the test may add to and then drops."""
    monkeypatch.setattr(deletion, "_erasers", dict(deletion._erasers))


def test_the_task_retries_after_an_eraser_fails_and_can_run_twice(owner, erasers):
    calls = []

    def flaky(*, user):
        calls.append(user.pk)
        if len(calls) == 1:
            raise ConnectionError("Replicate is down")

    deletion.register_eraser(flaky)
    User.objects.filter(pk=owner.pk).update(
        is_active=False, deletion_requested_at="2026-01-01T00:00:00Z"
    )
    with pytest.raises(ConnectionError):
        account_delete_task(owner.pk)
    assert User.objects.filter(pk=owner.pk).exists()  # kept for the retry
    assert account_delete_task(owner.pk) is True
    assert calls == [owner.pk, owner.pk]
    assert not User.objects.filter(pk=owner.pk).exists()
    assert account_delete_task(owner.pk) is False  # nothing left to do
    assert Exception in account_delete_task.autoretry_for


def test_an_account_without_a_deletion_request_is_never_erased(owner):
    assert deletion.account_erase(user_id=owner.pk) is False
    assert User.objects.filter(pk=owner.pk).exists()


def test_a_wrong_password_deletes_nothing(owner):
    with pytest.raises(DomainError):
        deletion.account_deletion_request(user=owner, password="wrong")
    owner.refresh_from_db()
    assert owner.is_active and owner.deletion_requested_at is None


def test_erasers_registered_by_other_apps_run_before_the_user_goes(owner, erasers):
    seen = []

    def app_eraser(*, user):
        seen.append(User.objects.filter(pk=user.pk).exists())

    deletion.register_eraser(app_eraser)
    User.objects.filter(pk=owner.pk).update(deletion_requested_at="2026-01-01T00:00:00Z")
    deletion.account_erase(user_id=owner.pk)
    assert seen == [True]
