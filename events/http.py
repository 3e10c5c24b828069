"""Outbound requests to the endpoints people register, kept off our own network (SSRF).

A URL someone gives us must never make our worker reach a private, loopback, link-local or
otherwise non-public address: the host is resolved, every address it resolves to is checked,
and the request connects to the checked address itself (the name is not resolved a second
time, so a DNS answer that changes in between — DNS rebinding — cannot redirect it). TLS is
verified against the name (SNI and certificate), the Host header carries the name, redirects
are refused, proxies from the environment are ignored and every request has a timeout.

EVENTS_ALLOW_PRIVATE_ADDRESSES (tests, a development machine) lifts the address rule and lets
plain http through.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

_RESPONSE_BYTES_READ = 1024


class AddressRefused(Exception):
    """The URL's host is, or resolves to, an address deliveries may not reach."""


@dataclass(frozen=True)
class Answer:
    status: int | None  # the HTTP status, None when no answer came
    error: str  # empty when the endpoint answered 2xx
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error


def _private_allowed() -> bool:
    return settings.EVENTS_ALLOW_PRIVATE_ADDRESSES


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def url_problem(url: str, *, resolve: bool = True) -> str | None:
    """What is wrong with `url` as an endpoint, in words for its owner; None when nothing is.

    With `resolve`, a host that resolves to a refused address is refused too (a host that does
    not resolve now is not: every delivery resolves and checks again).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme != "https" and not (parts.scheme == "http" and _private_allowed()):
        return "The URL must start with https://."
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        return "This is not a valid URL."
    if not parts.hostname:
        return "The URL has no host."
    if parts.username or parts.password:
        return "The URL may not contain a user name or password."
    if port == 0:
        return "The URL's port is not valid."
    if not _private_allowed():
        try:
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            literal = None
        if literal is not None and not address_is_public(literal):
            return "The URL points at a private or local address."
        if not resolve:
            return None
        try:
            public_addresses(parts.hostname, port or 443)
        except AddressRefused as refused:
            return str(refused)
        except OSError:
            pass  # not resolvable now: the delivery tells
    return None


def public_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, all of them allowed, or AddressRefused."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not _private_allowed() and not address_is_public(address):
            raise AddressRefused("The URL points at a private or local address.")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise OSError(f"{host} has no address")
    return addresses


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` once, connecting only to a checked address; never raises."""
    started = time.monotonic()

    def answer(status: int | None, error: str) -> Answer:
        return Answer(status, error[:300], int((time.monotonic() - started) * 1000))

    problem = url_problem(url, resolve=False)
    if problem:
        return answer(None, problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        address = public_addresses(host, port)[0]
    except AddressRefused as refused:
        return answer(None, str(refused))
    except (OSError, UnicodeError):
        return answer(None, f"The host name {host} could not be resolved.")
    literal = f"[{address}]" if ":" in address else address
    target = parts._replace(netloc=f"{literal}:{port}").geturl()
    default_port = port == (443 if parts.scheme == "https" else 80)
    named = f"[{host}]" if ":" in host else host
    host_header = named if default_port else f"{named}:{port}"
    timeout = settings.EVENTS_DELIVERY_TIMEOUT_SECONDS
    try:
        # A client per request: its connections are to this address under this name only.
        with (
            httpx.Client(
                timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False
            ) as client,
            client.stream(
                "POST",
                target,
                content=body,
                headers={**headers, "Host": host_header},
                extensions={"sni_hostname": host},
            ) as response,
        ):
            received = 0
            deadline = started + timeout
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received >= _RESPONSE_BYTES_READ or time.monotonic() > deadline:
                    break  # the body is not kept: a slow or large one must not hold the worker
            status = response.status_code
    except httpx.TimeoutException:
        return answer(None, f"No answer within {timeout:g} seconds.")
    except httpx.HTTPError as error:
        return answer(None, f"The connection failed: {type(error).__name__}.")
    if 300 <= status < 400:
        return answer(status, f"HTTP {status}: redirects are not followed.")
    if not 200 <= status < 300:
        return answer(status, f"HTTP {status}.")
    return answer(status, "")
