"""Every event type and version, the upcasters between versions, and tolerant reading."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from korpu_contracts import intake, providers, referral, sealed, tolerant
from korpu_contracts.envelope import Envelope, Payload

PayloadT = TypeVar("PayloadT", bound=Payload)

# (type, version) -> model. A new version is added here with an upcaster from the
# one before; old versions stay so that golden files of every version still read.
MODELS: dict[tuple[str, int], type[Payload]] = {
    (model.TYPE, model.VERSION): model
    for model in (
        intake.SubmitReferralV1,
        intake.SubmitReferral,
        referral.ReferralAccepted,
        referral.ReferralRejected,
        referral.TaskRequestedV1,
        referral.TaskRequested,
        referral.TaskCancelled,
        referral.ReferralStatusChanged,
        referral.Escalated,
        providers.TaskUpdated,
    )
}

# Every type this build knows, whatever its version.
TYPES = frozenset(name for name, _ in MODELS)

# (type, from_version) -> function turning that version's data into the next one's.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    (referral.TaskRequestedV1.TYPE, 1): referral.upcast_task_requested_v1,
}

# (type, version) -> why no reader takes it any more. For a version no upcaster can
# turn into the next: the intake command's v1 held the person in clear, and only the
# agency that wrote it can seal it. Refused naming this reason; never read.
RETIRED: dict[tuple[str, int], str] = {
    (intake.SubmitReferralV1.TYPE, intake.SubmitReferralV1.VERSION): sealed.MUST_BE_SEALED,
}


def shown(event_type: str) -> str:
    """A type as a log line, an error or a dead letter may show it: one the registry knows,
    else only its length. An entry's `type` is its sender's text, up to 120 characters of it
    (an escape sequence, a name). Rejected: a pattern of plausible type names, which a
    lowercase name passes."""
    return event_type if event_type in TYPES else f"<unknown type, {len(event_type)} characters>"


class UnknownEventType(ValueError):
    """A type (or version) this reader cannot read; the message names the type as `shown`."""

    def __init__(self, event_type: str, problem: str = "unknown event type") -> None:
        super().__init__(f"{problem}: {shown(event_type)}")
        self.event_type = event_type


class RetiredVersion(UnknownEventType):
    """A version no reader takes any more (`RETIRED`); the message is the reason alone."""

    def __init__(self, event_type: str, version: int) -> None:
        ValueError.__init__(self, RETIRED[(event_type, version)])
        self.event_type = event_type


def latest_version(event_type: str) -> int:
    versions = [version for (name, version) in MODELS if name == event_type]
    if not versions:
        raise UnknownEventType(event_type)
    return max(versions)


def read(envelope: Envelope, expected: type[PayloadT]) -> PayloadT:
    """The payload as the reader's model, upcast from older versions.

    Tolerant: fields the reader does not know are ignored, so a publisher may add
    an optional field without breaking this reader; a vocabulary's value added
    after this reader was built is read as each field says (`tolerant`).
    """
    if envelope.type != expected.TYPE:
        raise UnknownEventType(envelope.type, f"expected {expected.TYPE}, got")
    data = dict(envelope.data)
    version = envelope.dataschemaversion
    if (envelope.type, version) in RETIRED:
        raise RetiredVersion(envelope.type, version)
    if version > expected.VERSION:
        raise UnknownEventType(
            envelope.type, f"v{version} is newer than this reader (v{expected.VERSION}) of"
        )
    while version < expected.VERSION:
        data = UPCASTERS[(envelope.type, version)](data)
        version += 1
    known = {key: value for key, value in data.items() if key in expected.model_fields}
    return expected.model_validate(known, context=tolerant.READING)
