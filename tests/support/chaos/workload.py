"""The chaos burst: who is referred, and a directory with far fewer places than people.

Places are scarce on purpose: every provider fills every place and puts the rest
on its waitlist, so "allocations against capacity" is checked where it is tight.
Every person fits every place of their category (age, language, region served),
so the exact number each provider must have accepted follows from the counts.
"""

from __future__ import annotations

import uuid
from typing import Any

from support.agency import Submission
from support.referrals import referral_body

NEEDS = ("shelter", "employment", "legal_aid")
# 200 places per provider: 500 referrals leave 300 waiting, 300 leave 100. Not fewer: each
# waitlisting recomputes every waiting person's position, so a provider slows as its line grows.
WOMEN_BEDS = {"Baku women's shelter": ("Baku", 100), "Ganja women's shelter": ("Ganja", 60)}
MEN_BEDS = {"Sumqayit men's shelter": ("Sumqayit", 40)}
SEATS = {"Tailoring": ("Baku", 130), "Cooking": ("Ganja", 70)}
LAWYERS = {"R. Quliyev": 50, "N. Əliyeva": 50, "F. Həsənov": 50, "L. Məmmədli": 50}
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
}


def _is_man(number: int) -> bool:
    return number % 5 == 0


def submissions(count: int) -> list[Submission]:
    """`count` adults needing all three services, one in five a man; fresh keys every run."""
    run = uuid.uuid4().hex[:8]
    made = []
    for number in range(count):
        man = _is_man(number)
        person = {
            **referral_body()["person"],
            "given_name": f"Chaos{number}",
            "sex": "male" if man else "female",
        }
        region = "Sumqayit" if man else ("Baku", "Ganja")[number % 2]
        body = referral_body(agency_reference=f"CHAOS-{run}-{number}", person=person, region=region)
        made.append(Submission(key=f"chaos-{run}-{number}", body=body))
    return made


def capacity() -> dict[str, int]:
    return {
        "shelter": sum(beds for _, beds in (*WOMEN_BEDS.values(), *MEN_BEDS.values())),
        "employment": sum(seats for _, seats in SEATS.values()),
        "legal_aid": sum(LAWYERS.values()),
    }


def expected_accepted(count: int) -> dict[str, int]:
    """How many places each provider must have given: every place, or everyone if fewer."""
    men = sum(1 for number in range(count) if _is_man(number))
    women_beds = sum(beds for _, beds in WOMEN_BEDS.values())
    men_beds = sum(beds for _, beds in MEN_BEDS.values())
    places = capacity()
    return {
        "shelter": min(count - men, women_beds) + min(men, men_beds),
        "employment": min(count, places["employment"]),
        "legal_aid": min(count, places["legal_aid"]),
    }
