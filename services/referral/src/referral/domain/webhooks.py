"""Webhooks to agencies (Standard Webhooks): signatures, the retry schedule, which targets are safe.

Pure rules, the standard library only; the sender (entrypoints/webhook_sender.py)
does the sending and the storing.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import hmac
import ipaddress
import random
from collections.abc import Iterable, Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the standard allows 24 to 64
# The standard's schedule: immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h, 14 h, 20 h and 24 h: ten attempts over about three days.
SCHEDULE_SECONDS: tuple[float, ...] = (
    0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600,
)  # fmt: skip
# Each wait is moved by up to this share either way, so endpoints that failed
# together (a receiver's outage) are not all retried in the same second.
JITTER = 0.2
# A Retry-After asking for longer than a day is read as a day: the schedule's longest step.
RETRY_AFTER_CAP_SECONDS = 24 * 3600.0


def new_secret(random_bytes: bytes) -> str:
    """`whsec_` and the base64 of the key, as the standard writes a secret."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one entry of `webhook-signature`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signatures(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one signature per secret, space separated, so a
    receiver holding either secret of a rotation verifies."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets)


def parse_schedule(text: str) -> tuple[float, ...]:
    """`0,5,300` as seconds after each failure; raises ValueError for anything else."""
    steps = tuple(float(step) for step in text.split(",") if step.strip())
    if not steps or any(step < 0 for step in steps):
        raise ValueError("a schedule is one or more seconds, none negative, comma separated")
    return steps


class Verdict(enum.StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # the next attempt is due after `wait_seconds`
    FAILED = "failed"  # the schedule is used up
    GONE = "gone"  # 410: the receiver asked never to be called again


@dataclasses.dataclass(frozen=True)
class Next:
    verdict: Verdict
    wait_seconds: float | None = None


def after_attempt(
    attempts: int,
    status_code: int | None,
    retry_after: float | None,
    schedule: Sequence[float],
    rng: random.Random | None = None,
) -> Next:
    """What follows the `attempts`-th attempt (1 for the first), which was answered
    `status_code` (None: no answer: refused, timed out, an address not allowed).

    A 2xx is delivered; a 410 is gone for good (the standard's way to unsubscribe);
    anything else waits the schedule's next step. A 429 or 503 asking to wait longer
    with Retry-After waits that long instead. Redirects are not followed, so a 3xx is
    a failure like any other. Rejected: retrying a 4xx never (a receiver's 400 is as
    often a bug it fixes within the hour as a refusal), and a 429 not counted as an
    attempt (a receiver answering 429 forever would be called forever).
    """
    if status_code is not None and 200 <= status_code < 300:
        return Next(Verdict.DELIVERED)
    if status_code == 410:
        return Next(Verdict.GONE)
    if attempts >= len(schedule):
        return Next(Verdict.FAILED)
    wait = schedule[attempts] * (1 + (rng or random).uniform(-JITTER, JITTER))
    if status_code in (429, 503) and retry_after is not None:
        wait = max(wait, min(retry_after, RETRY_AFTER_CAP_SECONDS))
    return Next(Verdict.RETRY, wait)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After given in seconds; None when absent or a date (then the schedule applies).

    Rejected: parsing the HTTP-date form too, which receivers rarely send and which a
    skewed clock would turn into a wait of hours.
    """
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


def is_public(address: str) -> bool:
    """An address a webhook may be sent to: globally routable and not multicast.

    `is_global` is False for loopback, private, link-local, shared (100.64/10),
    reserved, documentation and unspecified ranges; an IPv6 address that maps or
    embeds an IPv4 one is judged by the IPv4 one, so `::ffff:127.0.0.1` is loopback.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast
