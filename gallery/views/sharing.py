"""Share links: sharing an image or a collection, the list of your links, revoking one, and the
public pages a link opens (/s/<token>/) with their pictures, and reporting one of them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.lockout import client_ip
from core.exceptions import DomainError, NotFound

from .. import downloads, selectors, services
from ..forms import ShareForm
from ..media import image_file_response
from ..services.sharing import ShareLinkGone


def share_url(request, link) -> str:
    """The link's public address, absolute (to copy, or for a messenger's preview)."""
    return request.build_absolute_uri(
        reverse("gallery:shared", kwargs={"token": services.share_link_token(link)})
    )


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
    messages.success(request, f"Anyone with this link can see it: {share_url(request, link)}")
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
        {"link": link, "token": services.share_link_token(link), "url": share_url(request, link)}
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


def _unavailable(request, *, reason: str, status: int):
    """A link that does not open, saying why: revoked or expired (410 Gone), never existed or
    its picture is no longer shown (404)."""
    response = render(request, "gallery/share_unavailable.html", {"reason": reason}, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def shared(request, token):
    try:
        link = services.share_link_resolve(token=token)
    except ShareLinkGone as gone:
        return _unavailable(request, reason="revoked" if gone.revoked else "expired", status=410)
    except NotFound:
        return _unavailable(request, reason="unknown", status=404)
    images = list(selectors.shared_images(link=link)[:200])
    if link.image_id and not images:
        return _unavailable(request, reason="hidden", status=404)
    services.share_link_viewed(link=link)
    cover = images[0] if images else None
    preview = None
    if cover is not None:
        width, height = downloads.preview_size(cover)
        preview = {
            "url": request.build_absolute_uri(
                reverse("gallery:shared_file", args=[token, cover.id, "preview"])
            ),
            "width": width,
            "height": height,
        }
    response = render(
        request,
        "gallery/shared.html",
        {
            "link": link,
            "token": token,
            "images": images,
            "collection": link.collection,
            "preview": preview,
            "page_url": request.build_absolute_uri(request.path),
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def shared_file(request, token, image_id, variant):
    """A picture a link shows: its thumbnail, the picture, or the JPEG preview that messengers
    show for the link (Open Graph)."""
    link = services.share_link_resolve(token=token)
    viewer = selectors.Viewer.holding(link)
    image = selectors.image_for_viewer(viewer=viewer, image_id=image_id)
    if variant == "preview":
        try:
            return downloads.image_preview_response(image)
        except DomainError as error:
            return HttpResponse(
                error.message, status=error.status_code, content_type="text/plain; charset=utf-8"
            )
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
