"""Decide a request for a first examination: book a day, waitlist or reject."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from korpu_provider.decisions import Decision, Refuse, give_or_wait
from medical.domain import model


def decide(request: model.ExaminationRequest, clinics: Iterable[model.Clinic]) -> Decision:
    """Book the earliest free day at a clinic serving the person, their region first.

    No clinic anywhere serving the person is not eligible. Every open day taken at
    every clinic serving them is no capacity: they wait in the kit's order, for a
    cancelled appointment or a clinic seeded with more. The day itself is the
    clinic's `free_day`, which the provider's `take` books.
    """
    serving = [clinic for clinic in clinics if model.serves(clinic, request)]
    if not serving:
        return Refuse(model.NOT_ELIGIBLE)
    return give_or_wait(serving, lambda clinic: _preference(request, clinic))


def _preference(
    request: model.ExaminationRequest, clinic: model.Clinic
) -> tuple[bool, dt.date, str, str]:
    # The requested region first, as the shelter: the person is housed there, and an
    # examination elsewhere is a journey; out of region beats waiting, since a doctor
    # seen soon is the need. Then the earliest day; name then id only to make the
    # choice reproducible. Rejected: the earliest day anywhere, which would send a
    # person in Ganja to Baku to be seen one day sooner.
    return (clinic.region != request.region, clinic.free_day or dt.date.max, clinic.name, clinic.id)
