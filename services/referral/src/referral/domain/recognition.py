"""Identification and the recovery and reflection period: the rules, no I/O.

The Council of Europe Convention (art. 13) gives a person with reasonable
grounds to be a victim a recovery and reflection period of at least 30 days;
the competent authority's decision identifies them (or not). docs/domain.md.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from korpu_contracts.vocabulary import Identification

# The Convention's least (art. 13(1)); a country may set more (REFERRAL_RECOVERY_PERIOD_DAYS).
RECOVERY_DAYS = 30
# One extension at a time; a longer one is a decision to take again later.
MOST_EXTENSION_DAYS = 365


class ExtensionReason(StrEnum):
    """Why a recovery period is extended: a code, never free text (it would be personal data)."""

    HEALTH = "health"  # physical or mental recovery needs more time
    SAFETY = "safety"  # the person is not yet safe from the traffickers
    PROCEEDINGS = "criminal_proceedings"  # a decision on cooperating is pending
    IDENTIFICATION_PENDING = "identification_pending"  # the authority has not decided yet
    CHILD_BEST_INTERESTS = "child_best_interests"
    OTHER = "other"


class InvalidDecision(ValueError):
    """A decision the coordinator cannot record: its message names the field, never a value."""


def recovery_ends_on(received_on: dt.date, days: int = RECOVERY_DAYS) -> dt.date:
    return received_on + dt.timedelta(days=days)


def check_decision(
    status: Identification, decided_on: dt.date, received_on: dt.date, today: dt.date
) -> None:
    """A decision is `identified` or `not_identified`, dated between the referral and today."""
    if status is Identification.POTENTIAL:
        raise InvalidDecision("status: a decision is identified or not_identified")
    if decided_on > today:
        raise InvalidDecision("decided_on: a decision is not dated in the future")
    if decided_on < received_on - dt.timedelta(days=365):
        # The authority may have decided before the referral (a person referred by it),
        # not years before: a typo of the year.
        raise InvalidDecision("decided_on: more than a year before the referral")


def extended(ends_on: dt.date, days: int, today: dt.date) -> dt.date:
    """The new last day: from the old one, or from today when it has already passed."""
    if not 1 <= days <= MOST_EXTENSION_DAYS:
        raise InvalidDecision(f"extend_days: 1 to {MOST_EXTENSION_DAYS}")
    return max(ends_on, today) + dt.timedelta(days=days)
