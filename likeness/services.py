"""The consent selfie: taken before a model's first training, compared with the dataset's main
identity when the training is requested, and decided by a moderator when it does not match.

A training whose selfie does not match is not refused: it is created with its credits
reserved and held (`IdentityCheck.Outcome.WAITING`) until a moderator approves it (it is then
sent to Replicate, once) or rejects it (it fails and its credits come back). The selfie is
deleted at the decision, automatic or not; the record stays with the model. A selfie no
training used is deleted after SELFIE_KEEP_HOURS (`selfies_expire`). A selfie that is a copy of
a dataset photo, or dated days ago by its camera, never matches automatically (selfie_proof).
The selfie's face vector is never stored: it is computed when the training is requested, and
only when the dataset has face consent (without it there is nothing to compare it with).
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from core.exceptions import Conflict, DomainError, NotFound
from moderation.audit import audit_record

from .faces import SAME_PERSON_DISTANCE, Face, face_distance, faces_detect, faces_find
from .identity import dataset_identity
from .models import IdentityCheck
from .selfie_proof import (
    WHY_COPY,
    selfie_capture_time,
    selfie_copies_a_photo,
    selfie_too_old_reason,
)

logger = logging.getLogger(__name__)

Outcome = IdentityCheck.Outcome

SELFIE_LONG_SIDE = 1024
# A laptop camera gives 640 x 480: smaller than a training photo may be, enough for a face.
SELFIE_MIN_SHORT_SIDE = 240
_NO_FACE_MISSES = "likeness:selfie-no-face:{model_id}"
_NO_FACE_MISSES_SECONDS = 3600

# Why a training waits for a person; the run page puts it after "Waiting for a person to check
# that the photos are of you: ".
WHY_NO_CONSENT = (
    "the dataset has no consent to face processing, so its photos could not be compared with "
    "your selfie."
)
WHY_NO_DATASET_FACE = "no face was found in the dataset's photos to compare with your selfie."
WHY_NO_SELFIE_FACE = "no face was found in your selfie."
WHY_NOT_MATCHED = "your selfie does not look enough like the person in the dataset's photos."
REJECTED_DEFAULT = (
    "A moderator could not confirm that the photos are of you, so this training was not "
    "started. Your credits were refunded."
)


def selfie_required(*, lora_model) -> bool:
    """Whether the next training of `lora_model` needs a selfie: until one check passed."""
    if not settings.LIKENESS_SELFIE_REQUIRED:
        return False
    return not lora_model.identity_checks.filter(outcome__in=IdentityCheck.PASSED).exists()


def _selfie_forget(check: IdentityCheck) -> None:
    """Empty the selfie fields; the file goes once the transaction has committed."""
    name = check.selfie.name
    IdentityCheck.objects.filter(pk=check.pk).update(selfie="")
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def selfie_take(*, user, lora_model, upload) -> IdentityCheck:
    """Store a selfie for the next training of `lora_model` (replacing one not used yet).

    Decoded and re-encoded like any upload (no metadata kept; its EXIF date is read first). A
    selfie in which no face is found is refused a few times (LIKENESS_SELFIE_NO_FACE_RETRIES)
    so the person can take it again; after that it is kept, and the training it is for goes
    to a moderator. Faces are only looked for here, not described: which dataset the selfie
    is compared with, and whether it has face consent, is known when the training starts."""
    from trainings.imaging import MAX_UPLOAD_BYTES, normalise_image  # trainings imports likeness

    if lora_model.owner_id != user.pk:
        raise NotFound("Unknown model.")
    if not selfie_required(lora_model=lora_model):
        raise Conflict("This model needs no selfie: its photos were already confirmed as you.")
    if lora_model.identity_checks.filter(outcome=Outcome.WAITING).exists():
        raise Conflict("A moderator is already checking a selfie of this model.")
    data = upload if isinstance(upload, bytes) else upload.read(MAX_UPLOAD_BYTES + 1)
    try:
        picture = normalise_image(
            data,
            long_side=SELFIE_LONG_SIDE,
            measure=False,
            min_short_side=SELFIE_MIN_SHORT_SIDE,
        )
    except DomainError as error:
        raise DomainError(error.message, code=error.code, field="selfie") from error
    with Image.open(io.BytesIO(picture.training)) as decoded:
        faces = faces_detect(decoded, retry_upsample=1)
    if not faces:
        key = _NO_FACE_MISSES.format(model_id=lora_model.pk)
        misses = cache.get(key, 0) + 1
        cache.set(key, misses, _NO_FACE_MISSES_SECONDS)
        if misses <= settings.LIKENESS_SELFIE_NO_FACE_RETRIES:
            raise DomainError(
                "No face was found in this selfie. Face the camera in good light, with nothing "
                "covering your face, and take it again.",
                code="selfie_no_face",
                field="selfie",
            )
    with transaction.atomic():
        for unused in lora_model.identity_checks.select_for_update().filter(
            outcome=Outcome.SELFIE_TAKEN
        ):
            unused.delete()  # its file goes with it (likeness.signals)
        check = IdentityCheck(
            lora_model=lora_model,
            selfie_has_face=bool(faces),
            selfie_captured_at=selfie_capture_time(data),
        )
        # In the owner's folder, which account erasure deletes with their photos.
        check.selfie.name = default_storage.save(
            f"datasets/{user.public_id}/selfies/{check.id}.{picture.training_extension}",
            ContentFile(picture.training),
        )
        check.save()
    cache.delete(_NO_FACE_MISSES.format(model_id=lora_model.pk))
    return check


def identity_gate_claim(*, lora_model) -> IdentityCheck | None:
    """In the transaction that starts a training: the selfie it is checked with (locked), or
    None when the model needs none. No selfie yet: refused, with the field named."""
    if not selfie_required(lora_model=lora_model):
        return None
    check = (
        lora_model.identity_checks.select_for_update()
        .filter(outcome=Outcome.SELFIE_TAKEN)
        .order_by("-created_at")
        .first()
    )
    if check is None:
        raise DomainError(
            "Take a selfie first: before a model's first training we check that the photos "
            "are of you.",
            code="selfie_required",
            field="selfie",
        )
    return check


def _selfie_face(check: IdentityCheck) -> Face | None:
    """The largest face of the stored selfie (the person holding the camera), computed here
    and never stored."""
    with default_storage.open(check.selfie.name, "rb") as stored, Image.open(stored) as picture:
        faces = faces_find(picture)
    return faces[0] if faces else None


def identity_gate_apply(*, check: IdentityCheck, run, dataset) -> bool:
    """Compare the selfie with the dataset's main identity, for `run`. True when the run must
    wait for a moderator; False when the selfie matched (recorded, and the selfie deleted)."""
    distance = None
    # First whether the selfie shows the person now: an old or copied picture proves nothing,
    # however well it matches.
    too_old = selfie_too_old_reason(captured_at=check.selfie_captured_at, taken_at=check.created_at)
    if too_old:
        reason = too_old
    elif check.selfie and selfie_copies_a_photo(selfie_name=check.selfie.name, dataset=dataset):
        reason = WHY_COPY
    elif dataset.face_consent_at is None:
        reason = WHY_NO_CONSENT
    elif (identity := dataset_identity(dataset)) is None:
        reason = WHY_NO_DATASET_FACE
    elif not check.selfie_has_face or (face := _selfie_face(check)) is None:
        reason = WHY_NO_SELFIE_FACE
    else:
        distance = face_distance(face, identity.centre)
        reason = "" if distance < SAME_PERSON_DISTANCE else WHY_NOT_MATCHED
    now = timezone.now()
    if not reason:
        IdentityCheck.objects.filter(pk=check.pk).update(
            outcome=Outcome.MATCHED, training_run=run, distance=distance, decided_at=now
        )
        _selfie_forget(check)
        return False
    IdentityCheck.objects.filter(pk=check.pk).update(
        outcome=Outcome.WAITING, training_run=run, distance=distance, reason=reason
    )
    return True


def _decide(*, moderator, check_id, outcome: str, reason: str) -> IdentityCheck:
    """Move a waiting check to `outcome`, once: a second decision is a Conflict."""
    decided = IdentityCheck.objects.filter(pk=check_id, outcome=Outcome.WAITING).update(
        outcome=outcome, decided_by=moderator, decided_at=timezone.now(), reason=reason[:300]
    )
    check = IdentityCheck.objects.select_related("training_run").filter(pk=check_id).first()
    if check is None:
        raise NotFound("No such identity check.")
    if not decided:
        raise Conflict("This identity check was already decided.")
    _selfie_forget(check)
    audit_record(
        actor=moderator,
        action=f"identity_check.{outcome}",
        target=check,
        summary=f"Consent selfie of model {check.lora_model_id}: {outcome}",
        reason=reason,
    )
    return check


@transaction.atomic
def identity_check_approve(*, moderator, check_id) -> IdentityCheck:
    """The photos are of the person who asked: the held training is sent to Replicate, once."""
    from trainings.services.runs import training_run_release  # trainings imports likeness

    check = _decide(
        moderator=moderator, check_id=check_id, outcome=Outcome.APPROVED, reason="Approved"
    )
    if check.training_run is not None:
        training_run_release(run=check.training_run)
    return check


@transaction.atomic
def identity_check_reject(*, moderator, check_id, reason: str = "") -> IdentityCheck:
    """The photos may not be of the person who asked: the held training fails with a plain
    reason and its credits are refunded."""
    from trainings.services.runs import training_run_refuse

    message = reason.strip() or REJECTED_DEFAULT
    check = _decide(
        moderator=moderator, check_id=check_id, outcome=Outcome.REJECTED, reason=message
    )
    if check.training_run is not None:
        training_run_refuse(run=check.training_run, reason=message)
    return check


def identity_check_run_ended(*, run) -> None:
    """A held training ended before any decision (its owner canceled it): its selfie stays,
    for the next training of the model, and it leaves the moderators' queue."""
    IdentityCheck.objects.filter(training_run=run, outcome=Outcome.WAITING).update(
        outcome=Outcome.SELFIE_TAKEN, training_run=None, reason="", distance=None
    )


def selfies_expire(*, now=None) -> int:
    """Delete the selfies that never reached a decision (taken for a training never started,
    or given back when the owner canceled it) once SELFIE_KEEP_HOURS old, with their checks:
    a new training of the model asks for a new selfie. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.SELFIE_KEEP_HOURS)
    expired = 0
    stale = IdentityCheck.objects.filter(outcome=Outcome.SELFIE_TAKEN, created_at__lt=cutoff)
    for check_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            # Re-read and locked: a training may have claimed it since.
            check = stale.select_for_update(skip_locked=True).filter(pk=check_id).first()
            if check is not None:
                check.delete()  # its file goes with it (likeness.signals)
                expired += 1
    return expired
