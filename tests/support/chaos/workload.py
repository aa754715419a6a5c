"""The chaos burst: who is referred, and a directory with far fewer places than people.

Places are scarce on purpose: every provider fills every place and puts the rest
on its waitlist, so "allocations against capacity" is checked where it is tight.
Every person fits every place of their category (age, language, region served; an
allowance is paid only from a fund of the referral's own region), so the exact number
each provider must have accepted follows from the counts.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from support.agency import Submission
from support.referrals import referral_body

# Every provider but medical, whose room is days on the calendar: a run across Baku's
# midnight would open a day in the middle of the burst, so how many it must have booked
# would depend on the hour. Medical's own suites pin its clock (tests/integration/medical,
# and the providers' contract suite, replicas on PostgreSQL included).
NEEDS = ("shelter", "employment", "legal_aid", "psychological", "material_assistance")
# 200 places per provider: 500 referrals leave 300 waiting, 300 leave 100. Not fewer: each
# waitlisting recomputes every waiting person's position, so a provider slows as its line grows.
WOMEN_BEDS = {"Baku women's shelter": ("Baku", 100), "Ganja women's shelter": ("Ganja", 60)}
MEN_BEDS = {"Sumqayit men's shelter": ("Sumqayit", 40)}
SEATS = {"Tailoring": ("Baku", 130), "Cooking": ("Ganja", 70)}
LAWYERS = {"R. Quliyev": 50, "N. Əliyeva": 50, "F. Həsənov": 50, "L. Məmmədli": 50}
COUNSELLORS = {"S. Abbasova": 100, "T. Məmmədli": 100}
# One allowance of 700.00 AZN each; paid only in the referral's own region, so each
# region's fund is sized like its beds.
ALLOWANCES = {"Baku": 100, "Ganja": 60, "Sumqayit": 40}
REGIONS = ["Baku", "Ganja", "Sumqayit"]

DIRECTORY: dict[str, list[dict[str, Any]]] = {
    "shelters": [
        *(
            {"name": name, "region": region, "serves": ["women"], "beds": beds}
            for name, (region, beds) in WOMEN_BEDS.items()
        ),
        *(
            {"name": name, "region": region, "serves": ["men"], "beds": beds}
            for name, (region, beds) in MEN_BEDS.items()
        ),
    ],
    "programs": [
        {"name": name, "region": region, "seats": seats, "languages": ["az"], "min_age": 16}
        for name, (region, seats) in SEATS.items()
    ],
    "lawyers": [
        {"name": name, "regions": REGIONS, "languages": ["az", "ru"], "max_caseload": cap}
        for name, cap in LAWYERS.items()
    ],
    "counsellors": [
        {"name": name, "regions": REGIONS, "languages": ["az", "ru"], "max_caseload": cap}
        for name, cap in COUNSELLORS.items()
    ],
    "funds": [
        {"name": f"{region} fund", "region": region, "budget": f"{700 * count}.00",
         "amount_per_person": "700.00", "currency": "AZN"}
        for region, count in ALLOWANCES.items()
    ],
}  # fmt: skip


def _is_man(number: int) -> bool:
    return number % 5 == 0


def submissions(count: int) -> list[Submission]:
    """`count` adults needing every kind of help of `NEEDS`, one in five a man; fresh keys
    every run."""
    run = uuid.uuid4().hex[:8]
    made = []
    for number in range(count):
        person = {
            **referral_body()["person"],
            "given_name": f"Chaos{number}",
            "sex": "male" if _is_man(number) else "female",
        }
        body = referral_body(
            agency_reference=f"CHAOS-{run}-{number}",
            person=person,
            region=_region(number),
            needs=list(NEEDS),
            consent=dict.fromkeys(NEEDS, "granted"),
        )
        made.append(Submission(key=f"chaos-{run}-{number}", body=body))
    return made


def _region(number: int) -> str:
    return "Sumqayit" if _is_man(number) else ("Baku", "Ganja")[number % 2]


def capacity() -> dict[str, int]:
    return {
        "shelter": sum(beds for _, beds in (*WOMEN_BEDS.values(), *MEN_BEDS.values())),
        "employment": sum(seats for _, seats in SEATS.values()),
        "legal_aid": sum(LAWYERS.values()),
        "psychological": sum(COUNSELLORS.values()),
        "material_assistance": sum(ALLOWANCES.values()),
    }


def expected_accepted(count: int) -> dict[str, int]:
    """How many places each provider must have given: every place, or everyone if fewer."""
    men = sum(1 for number in range(count) if _is_man(number))
    women_beds = sum(beds for _, beds in WOMEN_BEDS.values())
    men_beds = sum(beds for _, beds in MEN_BEDS.values())
    places = capacity()
    # An allowance is paid only from the referral's own region's fund.
    by_region = Counter(_region(number) for number in range(count))
    return {
        "shelter": min(count - men, women_beds) + min(men, men_beds),
        "employment": min(count, places["employment"]),
        "legal_aid": min(count, places["legal_aid"]),
        "psychological": min(count, places["psychological"]),
        "material_assistance": sum(
            min(by_region[region], allowances) for region, allowances in ALLOWANCES.items()
        ),
    }
