"""Share links: sharing an image or a collection, the list of your links, revoking one, and the
public pages a link opens (/s/<token>/) with their pictures, and reporting one of them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.lockout import client_ip
from core.exceptions import DomainError, NotFound

from .. import selectors, services
from ..forms import ShareForm
from ..media import image_file_response


def _share(request, *, image=None, collection=None, back):
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how many days the link lasts.")
        return redirect(back)
    try:
        link = services.share_link_create(
            user=request.user,
            image=image,
            collection=collection,
            expires_in_days=form.cleaned_data.get("expires_in_days"),
            never_expires=form.cleaned_data.get("never_expires", False),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    url = request.build_absolute_uri(
        reverse("gallery:shared", kwargs={"token": services.share_link_token(link)})
    )
    messages.success(request, f"Anyone with this link can see it: {url}")
    return redirect(back)


@login_required
@require_POST
def image_share(request, image_id):
    image = selectors.image_get(user=request.user, image_id=image_id)
    return _share(request, image=image, back=reverse("gallery:image", args=[image.id]))


@login_required
@require_POST
def collection_share(request, collection_id):
    collection = selectors.collection_get(user=request.user, collection_id=collection_id)
    return _share(
        request, collection=collection, back=reverse("gallery:collection", args=[collection.id])
    )


@login_required
@never_cache
def share_links(request):
    links = [
        {"link": link, "token": services.share_link_token(link)}
        for link in selectors.share_link_list(user=request.user)
    ]
    return render(request, "gallery/share_links.html", {"links": links})


@login_required
@require_POST
def share_link_revoke(request, link_id):
    link = selectors.share_link_get(user=request.user, link_id=link_id)
    services.share_link_revoke(link=link)
    messages.success(request, "The link is revoked: it no longer opens.")
    return redirect("gallery:share_links")


# --- Public pages ---------------------------------------------------------------------------


@never_cache
@require_GET
def shared(request, token):
    link = services.share_link_resolve(token=token)
    images = list(selectors.shared_images(link=link)[:200])
    if link.image_id and not images:
        raise NotFound("Nothing to show.")
    services.share_link_viewed(link=link)
    response = render(
        request,
        "gallery/shared.html",
        {"link": link, "token": token, "images": images, "collection": link.collection},
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def shared_file(request, token, image_id, variant):
    link = services.share_link_resolve(token=token)
    viewer = selectors.Viewer.holding(link)
    image = selectors.image_for_viewer(viewer=viewer, image_id=image_id)
    return image_file_response(image, variant=variant, variants=("thumbnail", "file"))


# At most this many reports an hour from one IP address (a share page is public).
REPORTS_PER_HOUR = 10


def _report_allowed(request) -> bool:
    """Count this report against the sender's IP; False past REPORTS_PER_HOUR in the hour."""
    key = f"gallery:share-report:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= REPORTS_PER_HOUR


@never_cache
@require_POST
def share_report(request, token, image_id):
    """Someone shown a picture through a link reports it (signed in or not); it joins the
    moderators' queue. Only a picture the link shows right now can be reported."""
    link = services.share_link_resolve(token=token)
    image = selectors.image_for_viewer(viewer=selectors.Viewer.holding(link), image_id=image_id)
    back = reverse("gallery:shared", kwargs={"token": token})
    if not _report_allowed(request):
        response = render(request, "gallery/share_report_limit.html", {"back": back}, status=429)
        response["Retry-After"] = "3600"
        return response
    try:
        services.image_report_create(
            image=image,
            reason=request.POST.get("reason", ""),
            reporter=request.user,
            share_link=link,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{back}#report-{image.id}")
    messages.success(request, "Thank you for telling us: a moderator will look at this picture.")
    return redirect(back)
