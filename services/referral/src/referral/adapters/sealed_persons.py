"""A `persons` row sealed field by field, and opened back into the person as sent.

Sealed: every field that tells who the person is or what happened to them
(names, birth date, age estimate, languages, nationality, phone, circumstances,
notes). In clear: `sex` and `possibly_minor`, coarse attributes that every task
request carries already, and the blind index. A null stays null: that a phone
number is unknown tells nothing about the person.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from korpu_contracts import intake
from referral.adapters import sealing
from referral.domain import matching

SEALED = (
    "given_name",
    "family_name",
    "date_of_birth",
    "age_estimate",
    "languages",
    "nationality",
    "contact_phone",
    "circumstances",
    "notes",
)
CLEAR = ("possibly_minor", "sex")
INTERNAL = ("match_key",)  # never handed out with the person


def place(referral_id: str, field: str) -> str:
    """The associated data: a sealed value opens only in its own row and column."""
    return f"persons/{referral_id}/{field}"


def match_key(
    keyring: sealing.Keyring, given_name: str, family_name: str, date_of_birth: dt.date | None
) -> str | None:
    identity = matching.identity(given_name, family_name, date_of_birth)
    return None if identity is None else keyring.blind_index(identity)


def match_keys_before(
    keyring: sealing.Keyring, given_name: str, family_name: str, date_of_birth: dt.date | None
) -> list[str]:
    """The blind indexes earlier foldings gave the person (`matching.identities_before`)."""
    texts = matching.identities_before(given_name, family_name, date_of_birth)
    return [keyring.blind_index(text) for text in texts]


def seal(
    keyring: sealing.Keyring, referral_id: str, request: intake.ReferralRequest
) -> dict[str, Any]:
    """The row to insert for the request's person."""
    person = request.person
    plain: dict[str, Any] = {
        **person.model_dump(mode="json"),
        "circumstances": request.circumstances.model_dump(mode="json"),
        "notes": request.notes,
    }
    row: dict[str, Any] = {
        "referral_id": referral_id,
        **{name: plain[name] for name in CLEAR},
        "match_key": match_key(
            keyring, person.given_name, person.family_name, person.date_of_birth
        ),
    }
    for name in SEALED:
        value = plain[name]
        row[name] = (
            None if value is None else keyring.seal(json.dumps(value), place(referral_id, name))
        )
    return row


def reseal(keyring: sealing.Keyring, row: Mapping[str, Any]) -> dict[str, Any]:
    """The sealed columns of a stored row, sealed again under the current key."""
    referral_id = row["referral_id"]
    return {
        name: keyring.seal(
            keyring.open(row[name], place(referral_id, name)), place(referral_id, name)
        )
        for name in SEALED
        if row[name] is not None
    }


def open_row(keyring: sealing.Keyring, row: Mapping[str, Any]) -> dict[str, Any]:
    """The person as stored, every column in clear, as it was before sealing."""
    referral_id = row["referral_id"]
    person: dict[str, Any] = {
        name: value for name, value in row.items() if name not in SEALED + INTERNAL
    }
    for name in SEALED:
        sealed = row[name]
        person[name] = (
            None if sealed is None else json.loads(keyring.open(sealed, place(referral_id, name)))
        )
    if person["date_of_birth"] is not None:
        person["date_of_birth"] = dt.date.fromisoformat(person["date_of_birth"])
    return person
