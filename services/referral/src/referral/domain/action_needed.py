"""The national coordinator's Action needed queue: which waits are past their limits. No I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from korpu_contracts.vocabulary import HOUSING, ActionNeeded, SafetyRisk, Service, TaskStatus

# How long a provider has to answer a task before the coordinator is told: a bed is
# needed tonight, the rest within days. Set per service (REFERRAL_RESPONSE_DEADLINE_HOURS).
DEFAULT_RESPONSE_HOURS = 72.0
RESPONSE_HOURS: Mapping[str, float] = {str(Service.SHELTER): 24.0}
# A waitlist past a month, then past three, is the coordinator's to look at.
WAITLIST_BANDS_DAYS = (30, 90)
# A recovery period ending within this many days is shown so it can be extended in time.
RECOVERY_WARNING_DAYS = 7


@dataclass(frozen=True)
class Rules:
    response_hours: Mapping[str, float] = field(default_factory=lambda: dict(RESPONSE_HOURS))
    default_response_hours: float = DEFAULT_RESPONSE_HOURS
    waitlist_bands_days: tuple[int, ...] = WAITLIST_BANDS_DAYS
    recovery_warning_days: int = RECOVERY_WARNING_DAYS

    def response_deadline(self, service: str) -> dt.timedelta:
        return dt.timedelta(hours=self.response_hours.get(service, self.default_response_hours))


@dataclass(frozen=True, order=True)
class Item:
    """One thing to act on. `since`: when the wait began; `due`: the limit passed or coming."""

    since: dt.datetime
    kind: ActionNeeded
    referral_id: str
    service: str | None = None
    due: dt.datetime | None = None
    # The waitlist band passed, in days (`WAITLIST_BAND` only).
    band_days: int | None = None

    @property
    def key(self) -> str:
        """The item's identity: the same wait found again is the same item, escalated once."""
        parts = (self.kind, self.service or "", str(self.band_days or ""), self.since.isoformat())
        return ":".join(parts)


@dataclass(frozen=True)
class OpenTask:
    """A task not yet final of a case still open, and since when it is in its status."""

    referral_id: str
    service: str
    status: TaskStatus
    since: dt.datetime
    safety_risk: str | None = None


def task_items(tasks: Iterable[OpenTask], rules: Rules, now: dt.datetime) -> list[Item]:
    """Tasks unanswered past their deadline, high-risk people waiting, waitlists past a band."""
    tasks = list(tasks)
    housing_asked = {
        t.referral_id for t in tasks if t.service == HOUSING and t.status is TaskStatus.REQUESTED
    }
    items: list[Item] = []
    for task in tasks:
        if task.status is TaskStatus.REQUESTED:
            items += _overdue(task, rules, now, held=task.referral_id in housing_asked)
        elif task.status is TaskStatus.ON_HOLD:
            items += _waiting(task, rules, now)
    return items


def _overdue(task: OpenTask, rules: Rules, now: dt.datetime, *, held: bool) -> list[Item]:
    # A task held back for the shelter's answer (`model.waits_for_housing`) was never
    # sent: its provider cannot be late; the shelter's own task is the one overdue.
    if held and task.service != HOUSING:
        return []
    due = task.since + rules.response_deadline(task.service)
    if due > now:
        return []
    return [Item(task.since, ActionNeeded.TASK_OVERDUE, task.referral_id, task.service, due)]


def _waiting(task: OpenTask, rules: Rules, now: dt.datetime) -> list[Item]:
    items = []
    if task.service == HOUSING and task.safety_risk == SafetyRisk.HIGH:
        items.append(
            Item(task.since, ActionNeeded.HIGH_RISK_WAITING, task.referral_id, task.service)
        )
    passed = [d for d in rules.waitlist_bands_days if task.since + dt.timedelta(days=d) <= now]
    if passed:
        band = max(passed)
        due = task.since + dt.timedelta(days=band)
        items.append(
            Item(task.since, ActionNeeded.WAITLIST_BAND, task.referral_id, task.service, due, band)
        )
    return items


def recovery_item(referral_id: str, ends_on: dt.date, rules: Rules, today: dt.date) -> Item | None:
    """The recovery period ends within the warning days (and has not ended yet)."""
    warning = ends_on - dt.timedelta(days=rules.recovery_warning_days)
    if not warning <= today <= ends_on:
        return None
    since = dt.datetime.combine(warning, dt.time(), dt.UTC)
    due = dt.datetime.combine(ends_on, dt.time(), dt.UTC)
    return Item(since, ActionNeeded.RECOVERY_ENDING, referral_id, due=due)
