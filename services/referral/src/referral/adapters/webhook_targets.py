"""Where a webhook may go: an https URL whose host resolves to public addresses only.

Checked when an endpoint is registered and again before every attempt, since a
name can be pointed elsewhere after registration (server-side request forgery:
an agency's key must not make Körpü call its own network). The attempt then
connects to the address checked, not to a second lookup of the name (DNS
rebinding), with the name kept for TLS and the Host header.
Rejected: an allow-list of agencies' hosts, which each new agency would wait on.
"""

from __future__ import annotations

import dataclasses
import socket
import urllib.parse

from referral.domain import webhooks

MAX_URL = 2048


class Refused(ValueError):
    """A target Körpü will not call; the message says why, naming no address."""


@dataclasses.dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    address: str  # checked; the attempt connects here


def parse(url: str, allow_private: bool) -> urllib.parse.SplitResult:
    """The URL's parts when its form is acceptable; raises `Refused`."""
    if len(url) > MAX_URL:
        raise Refused(f"a URL is at most {MAX_URL} characters")
    if not url.isprintable() or any(c.isspace() for c in url):
        raise Refused("a URL has no spaces or control characters")
    parts = urllib.parse.urlsplit(url)
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise Refused("a webhook URL is https")
    if not parts.hostname:
        raise Refused("a URL names a host")
    if parts.username is not None or parts.password is not None:
        raise Refused("a URL carries no user name or password: it would be stored and shown")
    if parts.fragment:
        raise Refused("a URL has no #fragment")
    try:
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError:
        raise Refused("the URL's port is not a port") from None
    return parts


def resolve(url: str, allow_private: bool) -> Target:
    """The target with an address to connect to; raises `Refused`. Blocking: call it on a thread."""
    parts = parse(url, allow_private)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused("the URL's host does not resolve") from None
    addresses = [str(info[4][0]) for info in found]
    # Every address must be public, not only the first: a name with one public and
    # one private address would otherwise reach the private one on some attempts.
    if not allow_private and not all(webhooks.is_public(address) for address in addresses):
        raise Refused(
            "the URL's host is a private, loopback, link-local or reserved address; "
            "Körpü sends webhooks to public addresses only"
        )
    return Target(url, host, port, addresses[0])
