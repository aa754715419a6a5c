"""On start: the blind index of every stored person computed again when the name folding changed.

Each stored `match_key` was taken over a name folded as its version of
domain/matching.py folded it; a new version (`matching.INDEX_VERSION`) folds
more away, so a person stored before would not match the same name sent now.
This part opens each person's name and birth date, in batches of short
transactions, writes the new index where it differs, and records the version
as done, so later starts do nothing but look. Two replicas doing it at once
write the same values. Rejected: re-indexing in `korpu keys rotate` (an
upgrade would match badly until an operator thought to run it), and in one
transaction at start (SQLite's one writer held for the whole run).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from korpu_runtime import background
from korpu_runtime import logging as runtime_logging
from korpu_runtime.database import Database
from referral.adapters import match_index
from referral.domain import matching

log = runtime_logging.get(__name__)
BATCH = 200
# Soon after start, then only a look at a flag: a loop waits its interval first.
INTERVAL_SECONDS = 1.0


class MatchReindex(background.Periodic):
    def __init__(self, database: Database, *, interval_seconds: float = INTERVAL_SECONDS) -> None:
        self._db = database
        self.done = False
        self.loop = background.Loop("match_reindex", interval_seconds, self.run_once)

    async def run_once(self) -> int:
        """Re-index what is stale, once per process; how many indexes changed."""
        if self.done:
            return 0
        if await self._db.run(match_index.index_is_current):
            self.done = True
            return 0
        changed = 0
        after: str | None = ""
        while after is not None:
            after, batch = await self._db.run(_batch(after))
            changed += batch
        await self._db.run(lambda conn: match_index.mark_index_current(conn, changed))
        self.done = True
        log.info("match_index_rebuilt", version=matching.INDEX_VERSION, changed=changed)
        return changed


def _batch(after: str) -> Callable[[Connection], tuple[str | None, int]]:
    return lambda conn: match_index.reindex_batch(conn, after, BATCH)
