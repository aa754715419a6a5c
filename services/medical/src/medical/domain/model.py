"""Medical help values: clinics and the appointments of their open days, a person asking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from korpu_provider import categories

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
NOT_ELIGIBLE = "not_eligible"

# How far ahead a clinic books unless its directory entry says: four weeks.
BOOKING_DAYS = 28


def open_days(today: dt.date, booking_days: int) -> tuple[dt.date, ...]:
    """The days a clinic may book now, earliest first: from tomorrow, `booking_days` of them.

    Tomorrow, not today: a referral arrives at any hour and a clinic plans its day
    the evening before; emergency care is the emergency services', not a
    referral's. Rejected: today, which books an examination for this evening
    at 23:00 as readily as at 09:00.
    """
    return tuple(today + dt.timedelta(days=n) for n in range(1, booking_days + 1))


@dataclass(frozen=True)
class Clinic:
    """A clinic giving first examinations (CoE art. 12(1)(b)) to some people, a few a day."""

    id: str
    name: str
    # An ISO 3166-2 code (korpu_contracts.regions), as the request's.
    region: str
    serves: frozenset[categories.Category]
    appointments_per_day: int
    # The days it may book now (`open_days`), and its bookings on them; a day missing
    # from `booked` has none.
    days: tuple[dt.date, ...]
    booked: Mapping[dt.date, int] = field(default_factory=dict)

    @property
    def free_day(self) -> dt.date | None:
        """The earliest open day with a free appointment; None when every one is taken.

        A day booked beyond the cap (the cap was lowered) is full, never negative.
        """
        cap = self.appointments_per_day
        return next((day for day in self.days if self.booked.get(day, 0) < cap), None)

    @property
    def has_room(self) -> bool:
        return self.free_day is not None

    @property
    def free(self) -> int:
        """Free appointments on all its open days together."""
        return sum(max(0, self.appointments_per_day - self.booked.get(d, 0)) for d in self.days)

    @property
    def capacity(self) -> int:
        """Appointments on all its open days together, at today's cap."""
        return self.appointments_per_day * len(self.days)

    @property
    def taken(self) -> int:
        """Appointments booked on its open days (beyond a lowered cap included)."""
        return sum(self.booked.get(d, 0) for d in self.days)


@dataclass(frozen=True)
class ExaminationRequest:
    """What the medical service knows of a person: coarse, never identifying.

    `queued_seq` grows with arrival time; lower waited longer.
    """

    task_id: str
    region: str
    is_child: bool
    sex: str
    queued_seq: int


def serves(clinic: Clinic, request: ExaminationRequest) -> bool:
    """Whether the clinic examines people like this one at all, free appointment or not.

    By age and sex alone (`categories.of_person`): a child only where girls or boys
    are served, since a children's doctor is not an adults' one. Whether the person
    came with children does not matter here: each is examined on their own.
    """
    return bool(clinic.serves & categories.of_person(request.is_child, request.sex))
