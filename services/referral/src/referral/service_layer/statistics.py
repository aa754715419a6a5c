"""People assisted per quarter, by service, region, sex and child or adult, small groups hidden.

Who counts: a case whose person consented to reporting (`granted`, or for a
child `not_required_child`, as for every other purpose: a child's guardian or
the competent authority acts for them, and leaving children out would hide
exactly the cases the Convention cares most about), and whom at least one
service assisted: its task reached `accepted`, `in-progress` or `completed`,
even if later cancelled. A service counts the person under it when its task
did. Cases, not people: a person referred again after their first case closed
counts twice (duplicates of an open case are flagged and never coordinated).

Which quarter: the one the referral was received in (UTC). It never moves, so
a published quarter keeps its people, and one person is in one quarter only,
so quarters add up. The latest quarters grow as services answer. Rejected: the
quarter a service accepted, which would put one person in several quarters.

Read from what erasure keeps (referrals, history, consents): never the
persons table, so an erased case still counts.

Hiding: a count of 1 to 4 is never shown. A reader who knows the quarter's
total may know the sum of a service's cells (when everyone assisted had that
service); so when a service's hidden cells would give themselves away by
subtraction (one alone, or sums only one split can make), the next smallest
cells are hidden too. Only whole quarters are counted, whatever `from` and `to`
say, so two overlapping questions never differ by a few people. No total over
the whole period: with one quarter hidden, it would give that quarter away.
Identified and potential victims are counted apart (issue 13): each quarter's
people assisted by their identification as recorded now (`potential`,
`identified`, `not_identified`), hidden as a service's cells are, since the
three add up to the quarter's total. A case counts as it stands when asked:
a decision recorded later moves it from potential to identified in its quarter.
This is not a full disclosure-control audit: counts asked for on different
days differ by the people assisted in between.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import regions
from korpu_contracts.vocabulary import Consent, Identification, Purpose, Service, TaskStatus
from referral.adapters import tables
from referral.domain import model

THRESHOLD = 5
ASSISTED = (TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)
MAX_QUARTERS = 40


@dataclasses.dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)


def quarters(first: dt.date, last: dt.date) -> list[Quarter]:
    """Every quarter from the one holding `first` to the one holding `last`."""
    found, quarter = [], Quarter.of(first)
    while quarter <= Quarter.of(last):
        found.append(quarter)
        quarter = quarter.next()
    return found


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    service: str
    region: str
    sex: str
    age_group: str  # "child" or "adult"


@dataclasses.dataclass(frozen=True)
class Count:
    people: int | None  # None when suppressed

    @property
    def suppressed(self) -> bool:
        return self.people is None


@dataclasses.dataclass(frozen=True)
class QuarterFigures:
    quarter: Quarter
    people_assisted: Count
    cells: list[tuple[Cell, Count]]
    # People assisted by identification, every status present (0 when none).
    identification: list[tuple[Identification, Count]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class _Case:
    quarter: Quarter
    region: str
    sex: str
    age_group: str
    identification: Identification = Identification.POTENTIAL
    services: set[str] = dataclasses.field(default_factory=set)


def figures(conn: Connection, first: dt.date, last: dt.date) -> list[QuarterFigures]:
    """The figures of every whole quarter from the one holding `first` to the one holding `last`."""
    covered = quarters(first, last)
    cases = _cases(conn, covered[0].first_day, covered[-1].last_day)
    by_quarter: dict[Quarter, list[_Case]] = collections.defaultdict(list)
    for case in cases:
        by_quarter[case.quarter].append(case)
    return [_quarter_figures(quarter, by_quarter[quarter]) for quarter in covered]


def _cases(conn: Connection, first: dt.date, last: dt.date) -> list[_Case]:
    referrals, history, consents = tables.referrals, tables.history, tables.consents
    start = dt.datetime.combine(first, dt.time(), dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.UTC)
    assisted = sa.and_(
        history.c.referral_id == referrals.c.id,
        history.c.service.is_not(None),
        history.c.status.in_([str(status) for status in ASSISTED]),
    )
    reporting = sa.and_(
        consents.c.referral_id == referrals.c.id, consents.c.purpose == str(Purpose.REPORTING)
    )
    query = (
        sa.select(
            referrals.c.id,
            referrals.c.created_at,
            referrals.c.region,
            referrals.c.sex,
            referrals.c.is_child,
            referrals.c.identification,
            consents.c.consent,
            history.c.service,
        )
        .distinct()
        .join(history, assisted)
        .outerjoin(consents, reporting)
        .where(referrals.c.created_at >= start, referrals.c.created_at < end)
    )
    cases: dict[str, _Case] = {}
    for row in conn.execute(query):
        if not _consented(row.consent, bool(row.is_child)):
            continue
        case = cases.get(row.id)
        if case is None:
            age_group = "child" if row.is_child else "adult"
            # A region stored as a name before regions were codes counts with its code.
            region = regions.code_or_as_sent(row.region)
            quarter = Quarter.of(_utc_day(row.created_at))
            identification = Identification(row.identification)
            case = _Case(quarter, region, row.sex, age_group, identification)
            cases[row.id] = case
        case.services.add(row.service)
    return list(cases.values())


def _utc_day(at: dt.datetime) -> dt.date:
    # SQLite hands back naive UTC; PostgreSQL an aware time in the session's zone.
    return (at.astimezone(dt.UTC) if at.tzinfo else at).date()


def _consented(consent: str | None, child: bool) -> bool:
    return model.consent_allows(None if consent is None else Consent(consent), child)


def _quarter_figures(quarter: Quarter, cases: list[_Case]) -> QuarterFigures:
    total = _shown(len(cases))
    counts: collections.Counter[Cell] = collections.Counter(
        Cell(service, case.region, case.sex, case.age_group)
        for case in cases
        for service in case.services
    )
    hidden: set[Cell] = set()
    for service in Service:
        group = {cell: n for cell, n in counts.items() if cell.service == service}
        hidden |= cells_to_hide(group, total_shown=not total.suppressed)
    cells = [(cell, Count(None if cell in hidden else n)) for cell, n in sorted(counts.items())]
    return QuarterFigures(quarter, total, cells, _identification(cases, total))


def _identification(cases: list[_Case], total: Count) -> list[tuple[Identification, Count]]:
    found = collections.Counter(case.identification for case in cases)
    if total.suppressed:
        hidden = {str(status) for status in Identification}  # a 0 would tell as much
    else:
        # A 0 is shown, as an empty cell is left out: nobody to protect in it.
        group = {str(status): n for status, n in found.items() if n}
        hidden = cells_to_hide(group, total_shown=True)
    return [
        (status, Count(None if str(status) in hidden else found[status]))
        for status in Identification
    ]


def _shown(people: int) -> Count:
    return Count(None if 0 < people < THRESHOLD else people)


K = TypeVar("K", Cell, str)


def cells_to_hide(group: dict[K, int], total_shown: bool) -> set[K]:
    """The cells of one group (a service's, the identification statuses) to hide: the small
    ones, and enough others to protect them."""
    if not total_shown:
        return set(group)  # every cell is as small as the hidden total, a 0 as telling
    hidden = {cell for cell, n in group.items() if n < THRESHOLD}
    visible = sorted((n, cell) for cell, n in group.items() if n >= THRESHOLD)
    while hidden and visible and _given_away([group[cell] for cell in hidden]):
        hidden.add(visible.pop(0)[1])
    return hidden


def _given_away(values: list[int]) -> bool:
    """Whether knowing only the sum of these hidden counts would tell each of them.

    A reader knows each hidden count is either small (1 to 4) or, hidden to
    protect one, at least the threshold: a lone hidden count, or a sum that only
    the smallest (or, with no protecting cell, the largest) values can make,
    gives every one away.
    """
    if len(values) == 1:
        return True
    small = sum(1 for value in values if value < THRESHOLD)
    protecting = len(values) - small
    total = sum(values)
    lowest = small + THRESHOLD * protecting
    return total == lowest or (protecting == 0 and total == (THRESHOLD - 1) * small)
