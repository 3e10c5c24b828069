"""Review of generated images: the classifier's scan, moderators' decisions, viewers' reports.

An output is stored `pending` (visible to nobody). `image_scan` runs the image classifier once
per image (the scan row is keyed by the image) and moves it to `approved`, or to `held` when the
classifier flags it, fails or times out, or when a prompt rule sent the generation to review.
Held and rejected images are served to moderators only. A scan that timed out or failed says
nothing about the picture, so it is tried again (`image_rescan`) before a moderator is needed.
A moderator's decision (`image_decide`) approves or rejects, closes the image's open reports,
and counts a strike against the owner on a rejection. Every decision is an audit record.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from core.exceptions import Conflict, DomainError
from events import payloads as event_data
from events.services import event_publish
from moderation.audit import audit_record
from moderation.classifier import image_classify
from moderation.strikes import strike_add

from ..models import GeneratedImage, ImageDecision, ImageReport, ImageScan, ShareLink
from ..tasks import image_rescan_task

logger = logging.getLogger(__name__)

Moderation = GeneratedImage.Moderation

HELD_FOR_REVIEW = "A moderator checks this picture before it is shown. This usually takes a day."
_REVIEW_REASONS = {
    "over_threshold": "The safety scan flagged this picture.",
    "classifier_error": "The safety scan could not read this picture.",
    "classifier_timeout": "The safety scan did not finish in time.",
}
REJECTED_DEFAULT = "A moderator found that this picture breaks the content rules."
# Holds that come from the classifier's run, not from the picture: worth another scan.
_SCAN_FAILED = frozenset({"classifier_error", "classifier_timeout"})


def image_scan(*, image: GeneratedImage, classified=None) -> GeneratedImage:
    """Scan a stored output once and decide whether it may be shown. Safe to run twice, even at
    the same time: the second run finds the first one's scan and applies the same decision.
    `classified`: the classifier's result on these bytes, when the caller had them in memory."""
    scan = ImageScan.objects.filter(image=image).first()
    if scan is None:
        result = classified
        if result is None:
            with default_storage.open(image.file.name, "rb") as stored:
                result = image_classify(stored.read())
        try:
            with transaction.atomic():
                scan = ImageScan.objects.create(
                    image=image,
                    verdict=result.verdict.value,
                    reason=result.reason.value if result.reason else "",
                    scores=result.scores,
                    flagged=result.flagged,
                    seconds=round(result.seconds, 4),
                )
        except IntegrityError:  # another run scanned it first: its verdict stands
            scan = ImageScan.objects.get(image=image)
    category = image.generation.review_category
    if scan.verdict == ImageScan.Verdict.APPROVED and not category:
        state, reason = Moderation.APPROVED, ""
    else:
        state, reason = Moderation.HELD, HELD_FOR_REVIEW
    # Only from pending: a moderator's decision is never overwritten by a late scan.
    moved = GeneratedImage.objects.filter(pk=image.pk, moderation_state=Moderation.PENDING).update(
        moderation_state=state, moderation_reason=reason, moderated_at=timezone.now()
    )
    image.refresh_from_db(fields=["moderation_state", "moderation_reason", "moderated_at"])
    if moved and state == Moderation.HELD:
        event_publish(user=image.owner, type="image.held", data=event_data.image(image))
        if scan.reason in _SCAN_FAILED and not category:
            _rescan_schedule(image=image, attempts=scan.attempts)
    if state == Moderation.HELD:
        logger.info(
            "image %s held for review (%s)", image.pk, category or scan.reason or "classifier"
        )
    return image


def _rescan_schedule(*, image: GeneratedImage, attempts: int) -> None:
    if attempts >= settings.MODERATION_SCAN_ATTEMPTS:
        return
    delay = settings.MODERATION_RESCAN_AFTER_SECONDS * 2 ** (attempts - 1)
    transaction.on_commit(
        lambda: image_rescan_task.apply_async(args=[str(image.pk)], countdown=delay)
    )


def image_rescan(*, image: GeneratedImage) -> GeneratedImage:
    """Scan again an image held only because its scan timed out or failed. A clean result
    approves it, unless a moderator decided first; another failed scan tries once more later,
    up to MODERATION_SCAN_ATTEMPTS scans, after which a moderator decides. Safe to run twice:
    each attempt is claimed by a conditional update of the scan's count."""
    scan = ImageScan.objects.filter(image=image).first()
    if (
        scan is None
        or scan.verdict != ImageScan.Verdict.HELD
        or scan.reason not in _SCAN_FAILED
        or scan.attempts >= settings.MODERATION_SCAN_ATTEMPTS
        or image.generation.review_category
    ):
        return image
    claimed = ImageScan.objects.filter(image=image, attempts=scan.attempts).update(
        attempts=F("attempts") + 1
    )
    if not claimed:  # another run took this attempt
        return image
    attempts = scan.attempts + 1
    try:
        with default_storage.open(image.file.name, "rb") as stored:
            data = stored.read()
    except OSError:  # the stored picture is gone: nothing to scan, a moderator decides
        logger.warning("image %s: its file could not be read for a second scan", image.pk)
        return image
    result = image_classify(data)
    ImageScan.objects.filter(image=image).update(
        verdict=result.verdict.value,
        reason=result.reason.value if result.reason else "",
        scores=result.scores,
        flagged=result.flagged,
        seconds=round(result.seconds, 4),
    )
    if not result.approved:
        logger.info("image %s scanned again (%s): still held", image.pk, result.reason)
        if result.reason and result.reason.value in _SCAN_FAILED:
            _rescan_schedule(image=image, attempts=attempts)
        return image
    # Only while held and undecided: a moderator's decision is never overwritten.
    decided = ImageDecision.objects.filter(image=OuterRef("pk"))
    moved = GeneratedImage.objects.filter(
        ~Exists(decided), pk=image.pk, moderation_state=Moderation.HELD
    ).update(
        moderation_state=Moderation.APPROVED, moderation_reason="", moderated_at=timezone.now()
    )
    image.refresh_from_db(fields=["moderation_state", "moderation_reason", "moderated_at"])
    if moved:
        logger.info("image %s approved by a second scan (attempt %s)", image.pk, attempts)
        audit_record(
            actor=None,
            action="image.approved",
            target=image,
            summary="held → approved: the safety scan, tried again, passed it",
            before={"moderation_state": Moderation.HELD},
            after={"moderation_state": Moderation.APPROVED},
        )
    return image


def images_scan_pending(*, generation, classified: dict | None = None) -> int:
    """Scan every output of `generation` stored but not decided yet (a scan that failed part
    way through, or a task that died, is picked up again here). Returns how many.
    `classified`: results already computed, by output index."""
    pending = list(generation.images.filter(moderation_state=Moderation.PENDING))
    for image in pending:
        image_scan(image=image, classified=(classified or {}).get(image.index))
    return len(pending)


def review_reason(image: GeneratedImage) -> str:
    """Why an image is in the queue, in a moderator's words."""
    category = image.generation.review_category
    if category:
        return f"Prompt rule: {category.replace('_', ' ')}"
    scan = getattr(image, "scan", None)
    if scan is not None and scan.verdict == ImageScan.Verdict.HELD:
        return _REVIEW_REASONS.get(scan.reason, "Held by the safety scan")
    if image.reports.filter(status=ImageReport.Status.OPEN).exists():
        return "Reported"
    if scan is None:
        return "Not scanned yet"
    # Passed the scan, reported by no one: listed only among earlier decisions.
    return "Passed the safety scan"


@transaction.atomic
def image_decide(
    *, moderator, image: GeneratedImage, decision: str, reason: str = ""
) -> ImageDecision:
    """A moderator approves or rejects an image (held, reported or already decided).

    A rejection tells the owner why and counts a strike against them; either way the image's
    open reports are closed and the decision is an audit record.
    """
    if decision not in ImageDecision.Decision.values:
        raise DomainError("Choose approve or reject.", field="decision")
    reason = (reason or "").strip()[:300]
    image = GeneratedImage.objects.select_for_update().get(pk=image.pk)
    if image.moderation_state == Moderation.PENDING:
        raise Conflict("This picture has not been scanned yet. Try again in a moment.")
    before = image.moderation_state
    record = ImageDecision.objects.create(
        image=image, moderator=moderator, decision=decision, reason=reason
    )
    image.moderation_state = decision
    image.moderation_reason = (reason or REJECTED_DEFAULT) if decision == "rejected" else ""
    image.moderated_at = timezone.now()
    image.save(update_fields=["moderation_state", "moderation_reason", "moderated_at"])
    ImageReport.objects.filter(image=image, status=ImageReport.Status.OPEN).update(
        status=ImageReport.Status.CLOSED, decision=record, closed_at=timezone.now()
    )
    audit_record(
        actor=moderator,
        action=f"image.{decision}",
        target=image,
        summary=f"{before} → {decision}",
        before={"moderation_state": before},
        after={"moderation_state": decision},
        reason=reason,
    )
    if decision == "rejected" and before != Moderation.REJECTED:
        event_publish(user=image.owner, type="image.rejected", data=event_data.image(image))
        strike_add(
            user=image.owner,
            kind="rejected_image",
            category=image.generation.review_category or "other",
            reference=f"image:{image.pk}",
        )
    return record


def image_report_create(
    *, image: GeneratedImage, reason: str, reporter=None, share_link: ShareLink | None = None
) -> ImageReport:
    """Someone shown `image` reports it; it joins the moderators' queue until a decision."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say what is wrong with this picture.", field="reason")
    if len(reason) > 1000:
        raise DomainError("At most 1000 characters.", field="reason")
    reporter = reporter if reporter is not None and reporter.is_authenticated else None
    if reporter is not None and reporter.pk == image.owner_id:
        raise DomainError("You cannot report your own picture: delete it instead.")
    duplicate = ImageReport.objects.filter(
        image=image, status=ImageReport.Status.OPEN, reporter=reporter, share_link=share_link
    )
    if reporter is not None and (existing := duplicate.first()):
        return existing
    return ImageReport.objects.create(
        image=image, reporter=reporter, share_link=share_link, reason=reason
    )
