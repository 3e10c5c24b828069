"""The moderation pages (/moderation/): the review queue of held and reported images, deciding
on one or several, the pictures themselves for moderators, and a second tab with the prompts
the rules stopped and the open reports.

Moderators only: anyone else, signed in or not a moderator, gets the 404 page, so the pages do
not say they exist. Deciding is `services.image_decide`; reading is the review selectors.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, NotFound
from core.redirects import safe_next_url
from moderation.models import Category, PromptBlock
from moderation.selectors import PromptBlockFilters, prompt_block_list
from moderation.strikes import strikes_counting, suspension_active

from .. import selectors, services
from ..media import file_response
from ..models import ImageScan

QUEUE_PAGE = 50  # cards on one page of the queue, oldest first: deciding drains it
BLOCKS_PAGE = 100
BULK_MAX = 200
SCORES_SHOWN = 6

# What a moderator picks when rejecting; the owner reads it (with the note, if any).
REJECT_REASONS = [
    ("", "Breaks the content rules"),
    ("Sexual or explicit pictures are not allowed.", "Sexual or explicit"),
    ("Pictures that could show a minor in this way are not allowed.", "Could show a minor"),
    ("Violent or gory pictures are not allowed.", "Violence or gore"),
    ("Pictures about self-harm are not allowed.", "Self-harm"),
    ("Hateful pictures are not allowed.", "Hate"),
    ("Pictures of real public figures are not allowed.", "Real public figure"),
]


# --- Forms (parsing only) -------------------------------------------------------------------


class ReviewFilterForm(forms.Form):
    reason = forms.ChoiceField(
        required=False,
        label="Why",
        choices=[
            ("", "Any reason"),
            ("prompt", "Prompt rule"),
            ("scan", "Safety scan"),
            ("report", "Reported"),
        ],
    )
    category = forms.ChoiceField(
        required=False, label="Category", choices=[("", "Any category"), *Category.choices]
    )
    owner = forms.EmailField(
        required=False,
        label="User",
        widget=forms.EmailInput(attrs={"placeholder": "someone@example.com"}),
    )


class PromptBlockFilterForm(forms.Form):
    SINCE = {"1": 1, "7": 7, "30": 30}

    category = forms.ChoiceField(
        required=False, label="Category", choices=[("", "Any category"), *Category.choices]
    )
    action = forms.ChoiceField(
        required=False, label="Action", choices=[("", "Any"), *PromptBlock.Action.choices]
    )
    source = forms.ChoiceField(
        required=False, label="Source", choices=[("", "Any source"), *PromptBlock.Source.choices]
    )
    since = forms.ChoiceField(
        required=False,
        label="When",
        choices=[
            ("", "Any time"),
            ("1", "Last 24 hours"),
            ("7", "Last 7 days"),
            ("30", "Last 30 days"),
        ],
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")])
    reason_choice = forms.ChoiceField(required=False, choices=REJECT_REASONS)
    reason_text = forms.CharField(required=False, max_length=300)

    def reason(self) -> str:
        """The sentence the owner reads: the chosen reason, then the moderator's note."""
        if self.cleaned_data["decision"] != "rejected":
            return self.cleaned_data["reason_text"].strip()
        parts = (self.cleaned_data["reason_choice"], self.cleaned_data["reason_text"].strip())
        return " ".join(part for part in parts if part)[:300]


# --- Access ---------------------------------------------------------------------------------


def moderator_required(view):
    """Signed in and a moderator; anyone else gets the 404 page (before the method check, so a
    GET on a POST-only page does not tell a stranger it exists either)."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        selectors.Viewer.moderator(request.user)  # NotFound (404) for anyone else
        return view(request, *args, **kwargs)

    return wrapped


# --- What a card shows ----------------------------------------------------------------------


def _scores(scan: ImageScan | None) -> list[dict]:
    if scan is None:
        return []
    flagged = set(scan.flagged or [])
    rows = sorted((scan.scores or {}).items(), key=lambda item: (-float(item[1]), item[0]))
    shown = [row for row in rows if row[0] in flagged] + [
        row for row in rows if row[0] not in flagged
    ]
    return [
        {
            "name": _label(name),
            "score": float(score),
            "percent": round(float(score) * 100),
            "flagged": name in flagged,
        }
        for name, score in shown[: max(SCORES_SHOWN, len(flagged))]
    ]


def _label(name: str) -> str:
    return name.replace("_", " ").lower()


def _category_label(category: str) -> str:
    return Category(category).label if category in Category.values else _label(category)


def _card(image, *, reports: list, history: dict) -> dict:
    scan = getattr(image, "scan", None)  # no scan row yet: None
    category = image.generation.review_category
    return {
        "image": image,
        "generation": image.generation,
        "why": services.review_reason(image),
        "category": _category_label(category) if category else "",
        "scan": scan,
        "scores": _scores(scan),
        "flagged": [_label(name) for name in (scan.flagged or [])] if scan else [],
        "reports": reports,
        "history": history,
    }


def _cards(images) -> list[dict]:
    """Everything a card shows, for a page of images (a few queries per owner, for the
    history, however many of their pictures wait)."""
    images = list(images)
    reports: dict = {image.pk: [] for image in images}
    for report in selectors.image_reports_open().filter(image_id__in=list(reports)):
        reports[report.image_id].append(report)
    histories: dict = {}
    for image in images:
        if image.owner_id not in histories:
            histories[image.owner_id] = {
                **selectors.owner_review_history(user=image.owner),
                "strikes": strikes_counting(user=image.owner),
                "suspended": suspension_active(user=image.owner) is not None,
            }
    return [
        _card(image, reports=reports[image.pk], history=histories[image.owner_id])
        for image in images
    ]


def _queue_context(request) -> dict:
    form = ReviewFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.ReviewFilters(
        reason=data.get("reason", ""),
        category=data.get("category", ""),
        owner=data.get("owner", ""),
    )
    queue = selectors.review_queue(filters=filters)
    total = queue.count()
    return {
        "queue_total": selectors.review_queue().count() if any(data.values()) else total,
        "form": form,
        "filtered": any(data.values()),
        "cards": _cards(queue[:QUEUE_PAGE]),
        "total": total,
        "page_size": QUEUE_PAGE,
        "reject_reasons": REJECT_REASONS,
        "strike_limit": settings.MODERATION_STRIKE_LIMIT,
        "reports_open": selectors.image_reports_open().count(),
        "tab": "queue",
    }


# --- Pages ----------------------------------------------------------------------------------


@moderator_required
@never_cache
@require_GET
def review_queue(request):
    return render(request, "gallery/review_queue.html", _queue_context(request))


def _back(request) -> str:
    return safe_next_url(request, reverse("gallery:review-queue"))


@moderator_required
@require_POST
def review_decide(request, image_id):
    """Approve or reject one image; from the page's script (htmx), answer the card's new face."""
    image = selectors.review_image_get(moderator=request.user, image_id=image_id)
    form = DecisionForm(request.POST)
    error = ""
    decision = None
    if not form.is_valid():
        error = "Choose approve or reject."
    else:
        try:
            decision = services.image_decide(
                moderator=request.user,
                image=image,
                decision=form.cleaned_data["decision"],
                reason=form.reason(),
            )
        except DomainError as failure:
            error = failure.message
    if request.headers.get("HX-Request"):
        if error:
            image = selectors.review_image_get(moderator=request.user, image_id=image.pk)
            context = {
                "card": _cards([image])[0],
                "error": error,
                "reject_reasons": REJECT_REASONS,
                "strike_limit": settings.MODERATION_STRIKE_LIMIT,
                "next_url": _back(request),
            }
            return render(request, "gallery/review_card.html", context)
        image.refresh_from_db()
        return render(
            request, "gallery/review_decided.html", {"image": image, "decision": decision}
        )
    if error:
        messages.error(request, error)
    elif decision.decision == "approved":
        messages.success(request, "Approved: the owner sees the picture.")
    else:
        messages.success(request, "Rejected: the owner sees why.")
    return redirect(_back(request))


@moderator_required
@require_POST
def review_bulk(request):
    """Approve or reject every selected image with one reason."""
    form = DecisionForm(request.POST)
    image_ids = list(dict.fromkeys(request.POST.getlist("image_ids")))[:BULK_MAX]
    back = _back(request)
    if not form.is_valid() or not image_ids:
        messages.error(request, "Select some pictures, then approve or reject them.")
        return redirect(back)
    decision, reason = form.cleaned_data["decision"], form.reason()
    done, skipped = 0, 0
    for image_id in image_ids:
        try:
            image = selectors.review_image_get(moderator=request.user, image_id=image_id)
            services.image_decide(
                moderator=request.user, image=image, decision=decision, reason=reason
            )
            done += 1
        except DomainError:  # gone, malformed or not scanned yet: the others still count
            skipped += 1
    verb = "Approved" if decision == "approved" else "Rejected"
    text = f"{verb} {done} picture{'' if done == 1 else 's'}."
    if skipped:
        text += f" {skipped} could not be decided (deleted, or not scanned yet)."
    (messages.success if done else messages.error)(request, text)
    return redirect(back)


@moderator_required
@require_GET
def review_image_file(request, image_id, variant):
    """Any image's picture or thumbnail, for a moderator (held and rejected ones too)."""
    image = selectors.review_image_get(moderator=request.user, image_id=image_id)
    if variant == "thumbnail":
        return file_response(name=image.thumbnail.name, media_type="image/webp")
    if variant == "file":
        return file_response(name=image.file.name, media_type=image.media_type)
    raise NotFound("No such file.")


@moderator_required
@never_cache
@require_GET
def review_prompts(request):
    """Tab two: the prompts the rules stopped or sent to review, and the open reports."""
    form = PromptBlockFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    days = PromptBlockFilterForm.SINCE.get(data.get("since") or "")
    blocks = prompt_block_list(
        user=request.user,
        filters=PromptBlockFilters(
            category=data.get("category") or None,
            action=data.get("action") or None,
            source=data.get("source") or None,
            since=timezone.now() - timedelta(days=days) if days else None,
        ),
    )
    reports = list(selectors.image_reports_open())
    return render(
        request,
        "gallery/review_prompts.html",
        {
            "form": form,
            "filtered": any(data.values()),
            "blocks": blocks[:BLOCKS_PAGE],
            "blocks_total": blocks.count(),
            "page_size": BLOCKS_PAGE,
            "reports": reports,
            "reports_open": len(reports),
            "queue_total": selectors.review_queue().count(),
            "tab": "prompts",
        },
    )
