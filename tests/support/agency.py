"""An agency system as a real one behaves: every referral under its own Idempotency-Key,
sent again with the same key after a connection error or a 5xx, until it is accepted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

# How long one referral is retried before the agency gives up: longer than any outage
# a chaos scenario causes (a restart, ten seconds without PostgreSQL).
RETRY_FOR_SECONDS = 60.0
# The agency's own pause between two tries, as a real client backs off: it waits for
# no one, and the next try's answer, not the pause, says whether the service is back.
RETRY_PAUSE_SECONDS = 0.1


class GaveUp(AssertionError):
    """A request that never got a usable answer: a referral the agency could not hand over."""


@dataclass(frozen=True)
class Attempt:
    at: float  # time.monotonic()
    answer: str  # the HTTP status, or the connection error's class name


@dataclass
class Submission:
    key: str
    body: dict[str, Any]
    referral_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)


class Agency:
    """Talks to the referral service's agency API with one organization's key."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = dict(headers)

    def client(self) -> httpx.Client:
        # One per thread: requests from several workers never share a connection.
        return httpx.Client(base_url=self.base_url, headers=self.headers, timeout=10)

    def submit(self, client: httpx.Client, submission: Submission) -> str:
        """POST until a 202; the same key every time, so a retry never creates a second."""
        headers = {"Idempotency-Key": submission.key}
        for answer in _retrying(
            lambda: client.post("/v1/referrals", json=submission.body, headers=headers)
        ):
            submission.attempts.append(Attempt(time.monotonic(), answer.reason))
            if answer.response is None:
                continue
            if answer.response.status_code != 202:
                raise GaveUp(
                    f"{submission.key}: {answer.response.status_code} {answer.response.text}"
                )
            referral_id: str = answer.response.json()["id"]
            submission.referral_id = referral_id
            return referral_id
        raise GaveUp(f"{submission.key}: no answer in {RETRY_FOR_SECONDS}s: {submission.attempts}")

    def view(self, client: httpx.Client, referral_id: str) -> dict[str, Any]:
        """GET one referral, waiting out a restart of the referral service."""
        for answer in _retrying(lambda: client.get(f"/v1/referrals/{referral_id}")):
            if answer.response is None:
                continue
            answer.response.raise_for_status()
            view: dict[str, Any] = answer.response.json()
            return view
        raise GaveUp(f"GET {referral_id}: no answer in {RETRY_FOR_SECONDS}s")


@dataclass(frozen=True)
class _Answer:
    response: httpx.Response | None  # None: try again
    reason: str


def _retrying(send: Any) -> Iterator[_Answer]:
    """Each answer worth looking at; connection errors and 5xx are retried after a pause."""
    deadline = time.monotonic() + RETRY_FOR_SECONDS
    while time.monotonic() < deadline:
        try:
            response: httpx.Response = send()
        except httpx.TransportError as error:
            yield _Answer(None, type(error).__name__)
        else:
            if response.status_code < 500:
                yield _Answer(response, str(response.status_code))
                return
            yield _Answer(None, str(response.status_code))
        time.sleep(RETRY_PAUSE_SECONDS)  # a backoff, not synchronization (see above)


class Burst:
    """Referrals submitted by a few concurrent agency workers, in the background.

    The test triggers its chaos on `accepted` (how many answered 202 so far) while
    the burst goes on, then `join`s it.
    """

    def __init__(self, agency: Agency, submissions: list[Submission], workers: int = 4) -> None:
        self.agency = agency
        self.submissions = submissions
        self._workers = workers
        self._lock = threading.Lock()
        self._accepted = 0
        self._next = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agency")
        self._futures: list[Any] = []

    @property
    def accepted(self) -> int:
        with self._lock:
            return self._accepted

    @property
    def retries(self) -> int:
        """Requests sent again after a connection error or a 5xx: what the chaos cost the agency."""
        return sum(len(s.attempts) - 1 for s in self.submissions if s.attempts)

    def start(self) -> Burst:
        self._futures = [self._pool.submit(self._work) for _ in range(self._workers)]
        return self

    def join(self, timeout: float = 2 * RETRY_FOR_SECONDS) -> list[str]:
        """The referral ids, in submission order; raises what a worker raised."""
        try:
            for future in self._futures:
                future.result(timeout=timeout)
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
        return [s.referral_id for s in self.submissions if s.referral_id is not None]

    def _take(self) -> Submission | None:
        with self._lock:
            if self._next >= len(self.submissions):
                return None
            self._next += 1
            return self.submissions[self._next - 1]

    def _work(self) -> None:
        with self.agency.client() as client:
            while (submission := self._take()) is not None:
                self.agency.submit(client, submission)
                with self._lock:
                    self._accepted += 1
