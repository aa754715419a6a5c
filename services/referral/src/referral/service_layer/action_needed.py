"""The national coordinator's Action needed queue, and its escalation: an event once per item.

Built afresh from the cases each time, never stored: an item clears the moment
its condition no longer holds (the task answered, the review resolved, the flag
settled, the period extended), with nothing to forget to clear. Only the fact
that an item was escalated is stored (adapters/action_needed.py), so each is
told once. Rejected: a queue table written by every handler that could raise or
clear an item, which each new way of acting on a case would have to keep right.
"""

from __future__ import annotations

import collections
import datetime as dt

from sqlalchemy.engine import Connection

from korpu_contracts import referral, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import ActionNeeded, Service
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import action_needed as sources
from referral.domain import action_needed
from referral.service_layer import announcements

log = runtime_logging.get(__name__)


def queue(
    conn: Connection, rules: action_needed.Rules, now: dt.datetime
) -> list[action_needed.Item]:
    """Every item, the longest waiting first."""
    items = action_needed.task_items(sources.open_tasks(conn), rules, now)
    items += sources.review_items(conn)
    items += sources.coming_of_age_items(conn)
    today = now.date()
    last = today + dt.timedelta(days=rules.recovery_warning_days)
    for referral_id, ends_on in sources.recovery_ending(conn, today, last):
        item = action_needed.recovery_item(referral_id, ends_on, rules, today)
        if item is not None:
            items.append(item)
    return sorted(items)


def counts(
    conn: Connection, rules: action_needed.Rules, now: dt.datetime
) -> dict[ActionNeeded, int]:
    """Open items by kind, every kind present (0 when none), for the gauge."""
    found = collections.Counter(item.kind for item in queue(conn, rules, now))
    return {kind: found[kind] for kind in ActionNeeded}


def escalate(
    uow: UnitOfWork, rules: action_needed.Rules, now: dt.datetime
) -> list[action_needed.Item]:
    """Publish each item not escalated before (through the outbox, with its record); the new ones.

    Two replicas sweeping at once may find the same new item: the second insert
    breaks the escalations' key and its round is rolled back, to find nothing new
    next time. Rejected: a lock on the whole table each round.
    """
    items = queue(uow.conn, rules, now)
    done = sources.escalated(uow.conn, (item.referral_id for item in items))
    new = [item for item in items if (item.referral_id, item.key) not in done]
    sources.mark_escalated(uow.conn, new)
    uow.publish_all(
        [
            (
                streams.ESCALATIONS,
                Envelope.wrap(_event(item), source=announcements.SOURCE, subject=item.referral_id),
            )
            for item in new
        ]
    )
    for item in new:
        log.info("case_escalated", referral_id=item.referral_id, kind=str(item.kind))
    return new


def _event(item: action_needed.Item) -> referral.Escalated:
    return referral.Escalated(
        referral_id=item.referral_id,
        kind=item.kind,
        service=None if item.service is None else Service(item.service),
        since=item.since,
        due=item.due,
    )
