"""The webhook sender: claims due deliveries, signs and POSTs each, records how it went.

A part of the referral service (bootstrap.py). At least once, like the relay:
a sender that dies after the POST but before recording it sends again, with the
same `webhook-id`, which receivers use to drop the duplicate (the standard says so).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time

import httpx
from sqlalchemy.engine import Connection

from korpu_runtime import background
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database
from referral.adapters import webhook_deliveries as deliveries
from referral.adapters import webhook_targets as targets
from referral.domain import webhooks

log = runtime_logging.get(__name__)
BATCH = 50
# Deliveries in flight at once: a slow receiver holds one slot, not the sender.
CONCURRENCY = 16
USER_AGENT = "Korpu-Webhooks/1"
# The delivery log is pruned this often, a batch per transaction.
PRUNE_EVERY_SECONDS = 3600.0


@dataclasses.dataclass(frozen=True)
class Config:
    """The webhook settings the sender and the routes read (bootstrap.Settings.webhook_config)."""

    allow_private: bool
    schedule: tuple[float, ...]
    timeout_seconds: float
    claim_seconds: float
    max_endpoints: int
    # How long the delivery log keeps a finished delivery.
    log_retention: dt.timedelta = dt.timedelta(days=30)


class WebhookSender(background.Periodic):
    def __init__(self, database: Database, config: Config, *, interval_seconds: float) -> None:
        self._db, self._config = database, config
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._pruned_at: float | None = None
        self.loop = background.Loop("webhook_sender", interval_seconds, self.run_once)

    async def run_once(self) -> int:
        """Send every delivery due; returns how many were attempted."""
        await self._prune_now_and_then()
        attempted = 0
        while True:
            due = await self._db.run(self._claim)
            if not due:
                return attempted
            # Rejected: a client per process kept open, whose pooled connections
            # would skip the address check of the next attempt (targets.resolve).
            sent = await asyncio.gather(*(self._send(one) for one in due), return_exceptions=True)
            for failure in (outcome for outcome in sent if isinstance(outcome, Exception)):
                # The database away while recording: the claim lapses and the row is
                # sent again, with the same webhook-id.
                log.warning("webhook_record_failed", error=type(failure).__name__)
            attempted += len(due)

    async def _prune_now_and_then(self) -> None:
        if self._pruned_at is not None and time.monotonic() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = time.monotonic()
        before = dt.datetime.now(dt.UTC) - self._config.log_retention
        while await self._db.run(lambda conn: deliveries.prune(conn, before)):
            pass

    def _claim(self, conn: Connection) -> list[deliveries.Due]:
        now = dt.datetime.now(dt.UTC)
        until = now + dt.timedelta(seconds=self._config.claim_seconds)
        return deliveries.claim(conn, until, now, BATCH)

    async def _send(self, due: deliveries.Due) -> None:
        async with self._slots:
            attempt = await self._attempt(due)
        retry_after = attempt.retry_after
        after = webhooks.after_attempt(
            due.attempts + 1, attempt.record.status_code, retry_after, self._config.schedule
        )
        await self._db.run(lambda conn: deliveries.record(conn, due, attempt.record, after))
        log.info(
            "webhook_attempted",
            delivery_id=due.id,
            endpoint_id=due.endpoint_id,
            status_code=attempt.record.status_code,
            error=attempt.record.error,
            verdict=str(after.verdict),
        )

    async def _attempt(self, due: deliveries.Due) -> _Tried:
        started, at = time.monotonic(), dt.datetime.now(dt.UTC)
        status, error, retry_after = None, None, None
        try:
            target = await asyncio.to_thread(targets.resolve, due.url, self._config.allow_private)
            answer = await self._post(target, due)
            status = answer.status_code
            retry_after = webhooks.retry_after_seconds(answer.headers.get("retry-after"))
        except targets.Refused:
            error = "address_refused"
        except httpx.TimeoutException:
            error = "timeout"
        except httpx.HTTPError:
            error = "connection_failed"
        duration = int((time.monotonic() - started) * 1000)
        return _Tried(deliveries.Attempt(at, status, error, duration), retry_after)

    async def _post(self, target: targets.Target, due: deliveries.Due) -> httpx.Response:
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": due.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhooks.signatures(
                due.secrets, due.message_id, timestamp, due.body
            ),
            "host": httpx.URL(target.url).netloc.decode(),
        }
        # Connect to the address checked; TLS still verifies the certificate for the name.
        pinned = httpx.URL(target.url).copy_with(host=target.address)
        timeout = httpx.Timeout(self._config.timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            return await client.post(
                pinned, content=due.body, headers=headers, extensions={"sni_hostname": target.host}
            )


@dataclasses.dataclass(frozen=True)
class _Tried:
    record: deliveries.Attempt
    retry_after: float | None
