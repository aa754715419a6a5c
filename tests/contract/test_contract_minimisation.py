"""No event can carry personal data: every field of every event is walked and justified."""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

import pytest
from pydantic import BaseModel, ConfigDict, StringConstraints, create_model

from korpu_contracts import intake, registry, tolerant
from korpu_contracts.envelope import Envelope, Payload

# A field whose name holds one of these could name, locate or contact a person,
# whatever its type: even an enum `nationality` singles someone out in a small group.
DENIED_FRAGMENTS = (
    "name", "birth", "phone", "mobile", "email", "mail", "address", "street", "note",
    "passport", "nationality", "citizenship", "contact", "comment", "remark", "narrative",
    "description", "story", "statement", "identity", "document", "photo", "image",
    "fingerprint", "biometric", "location", "coordinates", "surname", "given", "family",
    "relative", "guardian",
)  # fmt: skip
# Short ones only as a whole word of the snake_case name ("dob", not "adobe").
DENIED_WORDS = frozenset({"text", "dob", "tel", "fio", "ip", "gps", "lat", "lon", "ssn", "pin"})

# Every unconstrained string (no pattern, no closed vocabulary) an event may hold, and
# why it cannot carry a person. Keyed by the model that declares the field; `[]` is a
# list item, `{key}` and `{value}` a mapping's keys and values. A new free-text field
# fails until it is added here, with a reason a reviewer can check.
ALLOWED_STRINGS: dict[str, str] = {
    "Envelope.id": "a UUID the publisher generates",
    "Envelope.type": "an event type, a constant of the contracts package",
    "Envelope.source": "the publishing service's name",
    "Envelope.subject": "the pseudonymous referral id (or `intake-<entry id>`)",
    "Envelope.correlationid": "a generated id, the referral id by default",
    "Envelope.causationid": "the id of the event that caused this one",
    "ReferralAccepted.organization_id": "an id the referral service generated",
    "ReferralAccepted.idempotency_key": "the agency's own request key, echoed to the agency",
    "ReferralAccepted.agency_reference": "the agency's own case number, echoed to the agency",
    "ReferralAccepted.referral_id": "the pseudonymous case id",
    "ReferralRejected.organization_id": "the id the agency sent, echoed to the agency",
    "ReferralRejected.idempotency_key": "the agency's own request key, echoed to the agency",
    "ReferralRejected.intake_entry_id": "a Redis stream entry id",
    "FieldError.field": "a dotted field path built by korpu_runtime.errors, never a value",
    "FieldError.message": "pydantic's message without the input (korpu_runtime.errors)",
    "TaskRequestedV1.task_id": "a generated id",
    "TaskRequestedV1.referral_id": "the pseudonymous case id",
    "TaskRequestedV1.region": "a region's name as the agency wrote it, coarse by design",
    "TaskRequestedV1.languages[]": "a language code the person speaks, coarse by design",
    "TaskRequested.task_id": "a generated id",
    "TaskRequested.referral_id": "the pseudonymous case id",
    "TaskRequested.region": "a region's ISO 3166-2 code (korpu_contracts.regions), coarse",
    "TaskRequested.languages[]": "a language code the person speaks, coarse by design",
    "TaskCancelled.task_id": "a generated id",
    "TaskCancelled.referral_id": "the pseudonymous case id",
    "ReferralStatusChanged.referral_id": "the pseudonymous case id",
    "Escalated.referral_id": "the pseudonymous case id",
    "ReferralStatusChanged.organization_id": "an id the referral service generated",
    "ReferralStatusChanged.agency_reference": "the agency's own case number, echoed to it",
    "ServiceAnswer.detail{key}": "what was given: facility, region, program, lawyer, position",
    "ServiceAnswer.detail{value}": "a provider directory entry (facility, program, lawyer), "
    "never the person's data: see providers.TaskUpdated",
    "TaskUpdated.task_id": "a generated id",
    "TaskUpdated.referral_id": "the pseudonymous case id",
    "TaskUpdated.detail{key}": "what was given: facility, region, program, lawyer, position",
    "TaskUpdated.detail{value}": "a provider directory entry (facility, program, lawyer), "
    "never the person's data",
}

# The one message that may carry a person: the intake command, which travels only
# on the intake stream to the referral service and is deleted once stored. Its
# version 1 (retired) held the person in clear; version 2 holds it sealed.
CARRIERS = {intake.SubmitReferralV1, intake.SubmitReferral}
# Types that can hold nothing but a bounded value.
CLOSED_TYPES = (bool, int, float, dt.datetime, type(None))


def _denied_name(name: str) -> bool:
    lowered = name.lower()
    words = set(re.split(r"[_\W]+", lowered))
    return any(part in lowered for part in DENIED_FRAGMENTS) or bool(words & DENIED_WORDS)


def _constrained(metadata: list[Any]) -> bool:
    """A string with a pattern is bounded; a length limit alone still fits a name."""
    return any(getattr(item, "pattern", None) for item in metadata)


def problems(model: type[BaseModel], *, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every field of `model`, nested models included, that could carry personal data."""
    yield from _walk_model(model, model.__name__, set(), skip)


def _walk_model(
    model: type[BaseModel], path: str, seen: set[type[BaseModel]], skip: frozenset[str]
) -> Iterator[str]:
    if model in seen:
        return
    seen = seen | {model}
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        where = f"{path}.{name}"
        for label in {name, field.alias or name}:
            if _denied_name(label):
                yield f"{where}: the name {label!r} suggests personal data"
        yield from _walk_type(
            field.annotation, list(field.metadata), where, f"{model.__name__}.{name}", seen
        )


def _walk_type(
    annotation: Any, metadata: list[Any], where: str, key: str, seen: set[type[BaseModel]]
) -> Iterator[str]:
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        yield from _walk_type(args[0], [*metadata, *annotation.__metadata__], where, key, seen)
    elif origin in (Union, types.UnionType):
        for arg in args:
            yield from _walk_type(arg, metadata, where, key, seen)
    elif origin in (list, set, frozenset, tuple):
        for arg in args:
            if arg is not Ellipsis:
                yield from _walk_type(arg, [], f"{where}[]", f"{key}[]", seen)
    elif origin is dict:
        yield from _walk_type(args[0], [], f"{where}{{key}}", f"{key}{{key}}", seen)
        yield from _walk_type(args[1], [], f"{where}{{value}}", f"{key}{{value}}", seen)
    elif origin is Literal or (isinstance(annotation, type) and issubclass(annotation, enum.Enum)):
        return
    elif annotation is tolerant.Unknown:
        return  # a vocabulary's value added later, read only if a code (`tolerant.CODE`)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _walk_model(annotation, where, seen, frozenset())
    elif annotation is str:
        if not _constrained(metadata) and key not in ALLOWED_STRINGS:
            yield f"{where}: free text, neither a pattern nor a closed vocabulary ({key})"
    elif isinstance(annotation, type) and issubclass(annotation, CLOSED_TYPES):
        # dt.datetime before dt.date: an event's timestamp, never a birth date.
        return
    else:
        # dt.date (a birth date), bytes, Any, an unknown class: refused until reviewed.
        yield f"{where}: {annotation!r} could carry personal data"


EVENTS = sorted(registry.MODELS.items())


@pytest.mark.parametrize(
    "model", [model for _, model in EVENTS], ids=[f"{t}.v{v}" for (t, v), _ in EVENTS]
)
def test_no_event_has_a_field_that_could_carry_personal_data(model: type[Payload]) -> None:
    if model in CARRIERS:
        pytest.skip("the intake command carries the person: see the tests below")
    assert list(problems(model)) == []


def test_the_envelope_carries_ids_and_constants_only() -> None:
    # `data` is the payload, walked per event type above.
    assert list(problems(Envelope, skip=frozenset({"data"}))) == []


def test_only_the_intake_command_is_declared_to_carry_a_person() -> None:
    carriers = {model for model in registry.MODELS.values() if model.CARRIES_PERSONAL_DATA}
    assert carriers == CARRIERS


def test_the_retired_intake_command_did_carry_a_person_so_the_walk_sees_one() -> None:
    """The declaration is true and the walk is not blind: it finds the person here."""
    found = "\n".join(problems(intake.SubmitReferralV1))
    for field in ("given_name", "family_name", "date_of_birth", "nationality", "notes"):
        assert f".{field}" in found


def test_the_intake_command_keeps_its_person_under_referral_only() -> None:
    """Its routing fields are ids; only the referral (the agency's body) holds the person:
    in clear in version 1, sealed (base64 under patterns, nothing to read) in version 2."""
    expected = [
        "{model}.organization_id: free text, neither a pattern nor a closed vocabulary "
        "({model}.organization_id)",
        "{model}.idempotency_key: free text, neither a pattern nor a closed vocabulary "
        "({model}.idempotency_key)",
    ]
    for model in (intake.SubmitReferralV1, intake.SubmitReferral):
        skip = frozenset({"referral"})
        assert list(problems(model, skip=skip)) == [
            line.format(model=model.__name__) for line in expected
        ]


def test_every_allowed_string_is_still_a_field() -> None:
    """A stale entry would let a new field of the same name in unreviewed."""
    reached: set[str] = set()
    for model in [Envelope, *registry.MODELS.values()]:
        reached |= _keys(model, set())
    assert set(ALLOWED_STRINGS) <= reached


def _keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    keys: set[str] = set()
    if model in seen:
        return keys
    seen.add(model)
    for name, field in model.model_fields.items():
        base = f"{model.__name__}.{name}"
        keys |= {base, f"{base}[]", f"{base}{{key}}", f"{base}{{value}}"}
        stack = [field.annotation]
        while stack:
            current = stack.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                keys |= _keys(current, seen)
            stack.extend(get_args(current))
    return keys


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Holder(_Strict):
    contact: str


class _Reference(_Strict):
    code: Annotated[str, StringConstraints(max_length=20)]


class _Anything(_Strict):
    label: str


ShortText = Annotated[str, StringConstraints(max_length=40)]

# What someone might add to an event one day, each refused on its own.
LEAKS: dict[str, tuple[Any, Any]] = {
    "given_name: str": (str, ...),
    "family_name: str | None": (str | None, None),
    "date_of_birth: date": (dt.date, ...),
    "birth_year: int": (int, ...),
    "nationality: Literal": (Literal["AZ", "RU"], "AZ"),
    "contact_phone: short str": (ShortText | None, None),
    "notes: list of short str": (list[ShortText], ...),
    "label: plain str": (str, ...),
    "summary: length-limited str": (ShortText, ...),
    "extra: dict[str, str]": (dict[str, str], ...),
    "anything: Any": (Any, ...),
    "holder: nested model with contact": (_Holder, ...),
    "refs: list of nested short codes": (list[_Reference], ...),
    "items: dict of nested models": (dict[str, _Anything], ...),
}


def _event_with(field: str, spec: tuple[Any, Any]) -> type[Payload]:
    name = field.split(":")[0]
    model: type[Payload] = create_model(  # type: ignore[call-overload]
        "ThrowawayEvent", __base__=Payload, **{name: spec}
    )
    return model


@pytest.mark.parametrize("field", list(LEAKS))
def test_a_field_that_could_carry_a_person_is_refused(field: str) -> None:
    model = _event_with(field, LEAKS[field])
    assert list(problems(model)) != []


def test_ids_codes_and_closed_vocabularies_pass() -> None:
    class Mood(enum.StrEnum):
        CALM = "calm"

    class Fine(Payload):
        TYPE: ClassVar[str] = "korpu.test.fine"

        task_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
        count: int
        when: dt.datetime
        mood: Mood
        flags: dict[Mood, bool]
        kind: Literal["a", "b"] | None = None

    assert list(problems(Fine)) == []
