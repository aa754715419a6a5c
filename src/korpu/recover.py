"""`korpu recover --since TIME`: send again every event written since TIME, after Redis lost them.

Every service keeps its published events in its outbox for the outbox retention
period (`<SERVICE>_OUTBOX_RETENTION_HOURS`, a week by default). Recovering marks
those written since TIME as unsent; each running service's relay sends them again
within about a second (a stopped service sends them when it starts). Readers drop
the events they had already processed, by event id, so recovering too much costs
time, never a double placement. Rejected: publishing from this command, which
would race the relays that are running.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from korpu import catalog
from korpu_runtime.database import Database

_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class RecoverError(ValueError):
    """TIME could not be read, or a service's database could not be reached."""


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC when it names no zone) or a span back from now: 90s, 30m, 2h, 1d."""
    now = now or datetime.now(UTC)
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise RecoverError(
            f"cannot read {text!r} as a time: use ISO 8601 (2026-11-26T14:30:00Z) "
            "or a span back from now (30m, 2h, 1d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise RecoverError(f"{text!r} is in the future")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Recovered:
    service: str
    events: int
    # False when the service has no database yet (a SQLite file never created).
    found: bool = True
    # Published events older than the retention were purged: they cannot be sent again.
    retention_hours: float = 0.0


def recover(
    since: datetime,
    told: Callable[[Recovered, int], None] = lambda *_: None,
    dry_run: bool = False,
) -> list[Recovered]:
    """Each service's events since `since` marked unsent; `told` each one's, as it is done,
    with its number. A dry run changes nothing and counts what would be sent again."""
    results: list[Recovered] = []
    for service in catalog.SERVICES:
        results.append(_recover_one(service, since, dry_run))
        told(results[-1], len(results))
    return results


def _recover_one(service: str, since: datetime, dry_run: bool) -> Recovered:
    settings = catalog.settings(service)
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return Recovered(service, 0, found=False)
    database = Database(settings.database_url, workers=1)
    try:
        work = _count_sent if dry_run else _mark_unsent
        count = database.transaction(lambda conn: work(conn, since))
    except sa.exc.SQLAlchemyError as error:
        # The error's type only: a driver's message may quote the statement's values.
        reason = type(error).__name__
        raise RecoverError(f"{service}: database unreachable ({reason})") from None
    finally:
        database.close()
    return Recovered(service, count, retention_hours=settings.outbox_retention_hours)


_OUTBOX = sa.table(
    "outbox",
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("published_at", sa.DateTime(timezone=True)),
    sa.column("claimed_by"),
    sa.column("claimed_until", sa.DateTime(timezone=True)),
)


def _sent_since(since: datetime) -> list[sa.ColumnElement[bool]]:
    return [_OUTBOX.c.created_at >= since, _OUTBOX.c.published_at.is_not(None)]


def _mark_unsent(conn: sa.Connection, since: datetime) -> int:
    result = conn.execute(
        _OUTBOX.update()
        .where(*_sent_since(since))
        .values(published_at=None, claimed_by=None, claimed_until=None)
    )
    return int(result.rowcount or 0)


def _count_sent(conn: sa.Connection, since: datetime) -> int:
    found = conn.execute(sa.select(sa.func.count()).select_from(_OUTBOX).where(*_sent_since(since)))
    return int(found.scalar_one())
