"""The sweep that erases the personal data of cases closed for longer than the retention period."""

from __future__ import annotations

import asyncio
import datetime as dt

from korpu_runtime import background
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database
from referral.adapters import audit
from referral.adapters import erasure as erasure_adapter
from referral.service_layer import erasure

log = runtime_logging.get(__name__)
ACTOR = audit.Actor(audit.SYSTEM, "referral-retention")
# Each round erases at most this many, each batch in its own transaction, so an
# intake arriving meanwhile waits for one batch, not for a backlog of years.
BATCH = 100


class PersonalDataRetention(background.Periodic):
    def __init__(
        self, database: Database, *, retention: dt.timedelta, interval_seconds: float
    ) -> None:
        self._db, self._retention = database, retention
        self.loop = background.Loop("personal_data_retention", interval_seconds, self.run_once)

    async def run_once(self) -> int:
        """Erase every case due; returns how many."""
        erased = 0
        while True:
            batch = await self._db.run(
                lambda conn: erasure.erase_due(conn, self._retention, ACTOR, BATCH)
            )
            erased += len(batch)
            if len(batch) < BATCH:
                break
        if erased:
            await asyncio.to_thread(erasure_adapter.checkpoint, self._db.engine)
            log.info("personal_data_erased", referrals=erased, basis=erasure.Basis.RETENTION)
        return erased
