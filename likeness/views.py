"""HTML pages of the consent selfie: taking it on a model's page, and the moderators' tab of
identity checks (the selfie and the dataset's photos side by side, approve or reject).

The moderators' pages answer 404 to anyone else (the selectors check), like the review queue.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, NotFound
from core.files import private_file_response
from gallery import selectors as gallery_selectors
from trainings import selectors as training_selectors

from . import selectors, services


class SelfieForm(forms.Form):
    selfie = forms.FileField(label="Your selfie")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")])
    reason = forms.CharField(required=False, max_length=300)


@login_required
@require_POST
def selfie_take(request, model_id):
    lora_model = training_selectors.lora_model_get(user=request.user, model_id=model_id)
    form = SelfieForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose or take a selfie first.")
    else:
        try:
            check = services.selfie_take(
                user=request.user, lora_model=lora_model, upload=form.cleaned_data["selfie"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if not check.selfie_has_face:
                messages.success(
                    request,
                    "Selfie saved. No face was found in it, so a person will check it when you "
                    "start the training.",
                )
            else:
                messages.success(request, "Selfie saved. You can start the training now.")
    return redirect("trainings:model", model_id=lora_model.pk)


@login_required
@never_cache
@require_GET
def identity_review(request):
    checks = list(selectors.identity_check_queue(moderator=request.user))
    cards = [
        {"check": check, "photos": selectors.identity_check_photos(check=check)} for check in checks
    ]
    return render(
        request,
        "likeness/identity_review.html",
        {
            "cards": cards,
            "tab": "identity",
            "queue_total": gallery_selectors.review_queue().count(),
            "reports_open": gallery_selectors.image_reports_open().count(),
        },
    )


@login_required
@require_POST
def identity_decide(request, check_id):
    selectors.identity_check_for_review(moderator=request.user, check_id=check_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose approve or reject.")
        return redirect("likeness:review")
    try:
        if form.cleaned_data["decision"] == "approved":
            services.identity_check_approve(moderator=request.user, check_id=check_id)
            messages.success(request, "Approved: the training starts.")
        else:
            services.identity_check_reject(
                moderator=request.user, check_id=check_id, reason=form.cleaned_data["reason"]
            )
            messages.success(request, "Rejected: the training failed and its credits came back.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("likeness:review")


@login_required
@require_GET
def identity_selfie_file(request, check_id):
    check = selectors.identity_check_for_review(moderator=request.user, check_id=check_id)
    if not check.selfie:
        raise NotFound("The selfie was deleted after the decision.")
    return private_file_response(name=check.selfie.name, media_type="image/jpeg")


@login_required
@require_GET
def identity_photo_file(request, check_id, image_id):
    check = selectors.identity_check_for_review(moderator=request.user, check_id=check_id)
    photo = selectors.identity_check_photo(check=check, image_id=image_id)
    if not photo.thumbnail:
        raise NotFound("No such photo.")
    return private_file_response(name=photo.thumbnail.name, media_type="image/webp")
