"""The periodic sweep escalating new items of the coordinator's Action needed queue
(service_layer/action_needed.py): an event each, and a count by kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import Connection

from korpu_runtime import background
from korpu_runtime import metrics as runtime_metrics
from korpu_runtime.unit_of_work import UnitOfWork
from referral.domain import action_needed as rules_of
from referral.service_layer import action_needed

T = TypeVar("T")
Transaction = Callable[[Callable[[UnitOfWork], T]], Awaitable[T]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Escalation(background.Periodic):
    def __init__(
        self,
        transaction: Transaction[list[rules_of.Item]],
        metrics: runtime_metrics.Metrics,
        rules: rules_of.Rules,
        *,
        interval_seconds: float,
        now: Callable[[], dt.datetime] = _now,
    ) -> None:
        self._transaction, self._metrics, self._rules, self._now = (
            transaction, metrics, rules, now
        )  # fmt: skip
        self.loop = background.Loop("escalation", interval_seconds, self.run_once)

    async def run_once(self) -> list[rules_of.Item]:
        """Escalate every item not escalated yet; returns them."""
        at = self._now()
        new = await self._transaction(lambda uow: action_needed.escalate(uow, self._rules, at))
        # Counted once committed: a round rolled back escalated nothing.
        for item in new:
            self._metrics.escalations.labels(str(item.kind)).inc()
        return new


def reading(rules: rules_of.Rules) -> runtime_metrics.Reading:
    """The gauge of open items by kind, read when Prometheus scrapes."""

    def read(conn: Connection, metrics: runtime_metrics.Metrics) -> None:
        for kind, count in action_needed.counts(conn, rules, _now()).items():
            metrics.action_needed.labels(str(kind)).set(count)

    return read
