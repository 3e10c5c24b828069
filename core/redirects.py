"""Where to send someone after a form: the `next` they asked for, when it stays on this site."""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request, fallback: str, *, field: str = "next") -> str:
    """The `next` of the request (POST, else GET) when it is a URL of this site, else `fallback`.

    `https://evil.example`, `//evil.example` and `/\\evil.example` all leave the site and are
    refused; so is plain http from a page served over https.
    """
    url = request.POST.get(field) or request.GET.get(field) or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback
