from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import Conflict, DomainError
from core.files import private_file_response
from core.forms import form_error_add

from . import selectors, services
from .deletion import account_deletion_request
from .exceptions import ExportGone
from .exports import data_export_request
from .forms import AvatarForm, PasswordConfirmForm, ProfileForm
from .lockout import client_ip, password_confirmation
from .quotas import quota_summary


@login_required
@never_cache
def profile(request):
    user = request.user
    form = ProfileForm(instance=user)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=user)
        if form.is_valid():
            services.user_profile_update(user=user, display_name=form.cleaned_data["display_name"])
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    statement = selectors.credit_statement(user=user, limit=51)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "avatar_form": AvatarForm(),
            "plan": selectors.plan_for_user(user=user),
            "usage": quota_summary(user=user),
            "balance": selectors.credit_balance(user=user),
            "reserved": selectors.credit_reserved(user=user),
            "credit_lines": statement[:50],
            "credit_lines_more": len(statement) > 50,
            **_exports_context(user),
            "email_verified": selectors.user_email_verified(user=user),
        },
    )


@login_required
@never_cache
def avatar(request):
    user = request.user
    if request.method == "POST":
        form = AvatarForm(request.POST, request.FILES)
        if "clear" in request.POST:
            services.user_avatar_clear(user=user)
            messages.success(request, "Your picture is removed.")
        elif form.is_valid():
            try:
                services.user_avatar_set(user=user, content=form.cleaned_data["avatar"].read())
                messages.success(request, "Your picture is saved.")
            except DomainError as error:
                messages.error(request, error.message)
        else:
            messages.error(request, "Choose a picture first.")
        return redirect("accounts:profile")
    if not user.avatar:
        raise Http404("No avatar")
    return private_file_response(name=user.avatar.name, media_type="image/webp")


def _exports_context(user) -> dict:
    exports = list(selectors.data_export_list(user=user)[:5])
    preparing = any(
        export.status in (export.Status.PENDING, export.Status.BUILDING) for export in exports
    )
    return {"exports": exports, "exports_preparing": preparing}


@login_required
@require_POST
def export_request(request):
    data_export_request(user=request.user)
    messages.success(
        request, "We are preparing your export: its download link appears below when it is ready."
    )
    return redirect(reverse("accounts:profile") + "#export-heading")


@login_required
@never_cache
def exports_status(request):
    """The exports list alone: the profile page polls it while an export is being prepared."""
    return render(request, "accounts/_exports.html", _exports_context(request.user))


@login_required
@never_cache
def export_download(request, export_id):
    try:
        export = selectors.data_export_get_downloadable(user=request.user, export_id=export_id)
    except (ExportGone, Conflict) as error:  # expired, or not ready yet
        messages.error(request, error.message)
        return redirect("accounts:profile")
    return private_file_response(
        name=export.file.name,
        media_type="application/zip",
        filename=export.download_filename,
        attachment=True,
    )


@login_required
@never_cache
def account_delete(request):
    form = PasswordConfirmForm()
    if request.method == "POST":
        form = PasswordConfirmForm(request.POST)
        if form.is_valid():
            try:
                with password_confirmation(email=request.user.email, ip=client_ip(request)):
                    account_deletion_request(
                        user=request.user, password=form.cleaned_data["password"]
                    )
            except DomainError as error:
                form_error_add(form, error)
            else:
                logout(request)
                messages.success(
                    request,
                    "Your account is being deleted, with everything it held. Goodbye!",
                )
                return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})


def too_many_requests(request, exception=None):
    return render(request, "accounts/429.html", status=429)
