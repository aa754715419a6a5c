"""The periodic look for children who turned 18 with their case open (see service_layer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

from korpu_runtime import background
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit
from referral.service_layer import coming_of_age

log = runtime_logging.get(__name__)
ACTOR = audit.Actor(audit.SYSTEM, "referral-consent-review")
# Each batch in its own transaction, so an intake arriving meanwhile waits for
# one batch, not for every child's case.
BATCH = 100
T = TypeVar("T")
Transaction = Callable[[Callable[[UnitOfWork], T]], Awaitable[T]]


class ConsentReview(background.Periodic):
    def __init__(
        self,
        transaction: Transaction[coming_of_age.Round],
        *,
        interval_seconds: float,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._transaction, self._today = transaction, today
        self.loop = background.Loop("consent_review", interval_seconds, self.run_once)

    async def run_once(self, today: dt.date | None = None) -> list[str]:
        """Flag every open case whose child turned 18 by `today`; returns their ids."""
        day = today or self._today()
        flagged: list[str] = []
        after: str | None = ""
        while after is not None:
            batch = await self._transaction(_sweep(day, after))
            flagged += batch.flagged
            after = batch.last_id
        if flagged:
            log.info("consent_reviews_due", referrals=len(flagged))
        return flagged


def _sweep(today: dt.date, after: str) -> Callable[[UnitOfWork], coming_of_age.Round]:
    return lambda uow: coming_of_age.sweep(uow, ACTOR, today, after, BATCH)
