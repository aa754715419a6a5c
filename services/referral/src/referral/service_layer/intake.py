"""Referrals arriving on the intake stream from agency systems already on the bus."""

from __future__ import annotations

import hashlib
import json

from pydantic import ValidationError

from korpu_contracts import intake, referral, registry, sealed, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime import errors, signing
from korpu_runtime import logging as runtime_logging
from korpu_runtime.consumer import InvalidEntry, Message
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit, bus_keys, intake_keys, organizations, sealing, tables
from referral.adapters.repository import now
from referral.domain import exceptions
from referral.service_layer import audited, coordinator

log = runtime_logging.get(__name__)

# The intake subscriptions' name; each organization's, under which its inbox
# records what was handled, is `subscription_of` it.
SUBSCRIPTION = "referral.intake"


def subscription_of(organization_id: str) -> str:
    return f"{SUBSCRIPTION}.{organization_id}"


def handle_submission(uow: UnitOfWork, message: Message) -> None:
    """Register the referral and answer on the replies stream; a bad entry is answered too.

    The entry comes on its organization's own intake stream, signed with that
    organization's bus key (adapters/bus_keys.py): an entry unsigned, signed by
    another organization, or naming another, is refused and nothing of it kept. The referral arrives
    sealed to this service's intake key (korpu_contracts.sealed); one sent in clear is
    refused naming why, and its person is not kept.
    """
    envelope = message.envelope
    organization_id = _stream_organization(message.stream)
    try:
        signer = bus_keys.organization_of(uow.conn, message.stream, message.fields)
    except signing.Refused as refused:
        bad = [referral.FieldError(field="signature", message=str(refused))]
        _reject_unverified(uow, message, bad)
        return
    if signer != organization_id:
        message_text = "signed by another organization than the one whose intake stream it is on"
        bad = [referral.FieldError(field="signature", message=message_text)]
        _reject_unverified(uow, message, bad)
        return
    if envelope.data.get("organization_id") != signer:
        message_text = "names another organization than the one whose bus key signed it"
        bad = [referral.FieldError(field="data.organization_id", message=message_text)]
        _reject_unverified(uow, message, bad)
        return
    if envelope.type == intake.SubmitReferral.TYPE and "referral" in envelope.data:
        bad = [referral.FieldError(field="data.referral", message=sealed.MUST_BE_SEALED)]
        _refuse(uow, message, _without_person(envelope), bad)
        return
    try:
        command = registry.read(envelope, intake.SubmitReferral)
    except registry.RetiredVersion as retired:
        bad = [referral.FieldError(field="dataschemaversion", message=str(retired))]
        _refuse(uow, message, envelope.to_json().encode(), bad)
        return
    except (ValidationError, registry.UnknownEventType) as error:
        bad = _field_errors(error, prefix="data")
        _refuse(uow, message, envelope.to_json().encode(), bad)
        return
    if not organizations.exists(uow.conn, command.organization_id):
        bad = [referral.FieldError(field="data.organization_id", message="unknown organization")]
        _refuse(uow, message, envelope.to_json().encode(), bad)
        return
    try:
        plain = intake_keys.of(uow.conn).open(
            command.sealed_referral, command.organization_id, command.idempotency_key
        )
    except sealed.Unopened as unopened:
        bad = [referral.FieldError(field="data.sealed_referral", message=str(unopened))]
        _refuse(uow, message, envelope.to_json().encode(), bad)
        return
    try:
        body = intake.ReferralRequest.model_validate_json(plain)
    except ValidationError as error:
        # Kept opened (and sealed at rest, as every rejected entry): an operator can
        # see what was wrong, which the ciphertext would not show once its key retires.
        bad = _field_errors(error, prefix="data.referral")
        _refuse(uow, message, _opened(envelope, plain), bad)
        return
    digest = hashlib.sha256(
        json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    # The organization whose bus key signed the entry, which the command names too.
    actor = audit.Actor(audit.BUS, command.organization_id, command.organization_id)
    try:
        submitted = audited.submit(
            uow,
            actor,
            command.organization_id,
            command.idempotency_key,
            digest,
            body,
            detail={"intake_entry_id": message.entry_id},
        )
    except exceptions.IdempotencyConflict:
        bad = [
            referral.FieldError(field="data.idempotency_key", message="reused with another body")
        ]
        _refuse(uow, message, envelope.to_json().encode(), bad)
        return
    except exceptions.OpenReferralsCap as cap:
        # As over HTTP: refused, kept, answered; taken again once a case closes.
        message_text = f"{cap.cap} referrals open, the most one organization may have"
        bad = [referral.FieldError(field="data.organization_id", message=message_text)]
        _refuse(uow, message, envelope.to_json().encode(), bad)
        return
    accepted = referral.ReferralAccepted(
        organization_id=command.organization_id,
        idempotency_key=command.idempotency_key,
        agency_reference=body.agency_reference,
        referral_id=submitted.referral_id,
    )
    reply = envelope.caused(accepted, source=coordinator.SOURCE)
    uow.publish(streams.intake_replies(organization_id), reply)


def _stream_organization(stream: str) -> str:
    organization_id = streams.organization_of(stream)
    if organization_id is None:  # a subscription wired to another stream: a bug, not input
        raise ValueError(f"{stream} is not an organization's intake stream")
    return organization_id


def _reject_unverified(uow: UnitOfWork, message: Message, bad: list[referral.FieldError]) -> None:
    """An entry not shown to come from the organization it names: answered, nothing kept.

    Not its data (a forger's, or a person's), not even the organization it names as
    the row's: `GET /v1/submissions` would show that organization a refusal it never
    caused. The idempotency key alone comes back, for an honest agency that forgot to
    sign to find its answer."""
    envelope = message.envelope
    key = _text(envelope.data, "idempotency_key", intake.IDEMPOTENCY_KEY_MAX)
    kept = envelope.model_copy(update={"data": {}}).to_json().encode()
    unverified: dict[str, object] | None = {"idempotency_key": key} if key else None
    _reject(uow, message.stream, message.entry_id, kept, bad, unverified)
    # Its event id is the sender's choice: a forgery must not claim a genuine entry's.
    uow.forget(subscription_of(_stream_organization(message.stream)), envelope.id)


def _without_person(envelope: Envelope) -> bytes:
    """The entry as kept when its referral came in clear: everything but the referral.

    The agency put the person where every copy of Redis keeps it; this service
    does not add one more copy."""
    data = {key: value for key, value in envelope.data.items() if key != "referral"}
    return envelope.model_copy(update={"data": data}).to_json().encode()


def _opened(envelope: Envelope, plain: bytes) -> bytes:
    """The entry with its sealed referral opened, to keep beside the reasons it was refused."""
    try:
        opened: object = json.loads(plain)
    except ValueError:
        opened = plain.decode("utf-8", errors="replace")
    data = {key: value for key, value in envelope.data.items() if key != "sealed_referral"}
    return envelope.model_copy(update={"data": {**data, "referral": opened}}).to_json().encode()


def handle_invalid_entry(uow: UnitOfWork, entry: InvalidEntry, error: ValidationError) -> None:
    """An entry that is not even an envelope: answered naming the bad fields, and kept when
    its organization signed it (an agency's bug, for the operator to see).

    Unsigned, or signed by another than the stream's organization, nothing of it is kept:
    anyone's bytes, where Redis has no users. One holding a referral in clear is kept
    without it, and answered saying so too."""
    try:
        signer = bus_keys.organization_of(uow.conn, entry.stream, entry.fields)
    except signing.Refused as refused:
        signer, why = None, str(refused)
    else:
        why = "signed by another organization than the one whose intake stream it is on"
    if signer != _stream_organization(entry.stream):
        bad = [referral.FieldError(field="signature", message=why)]
        _reject(uow, entry.stream, entry.entry_id, b"", bad, None)
        return
    raw = entry.raw
    bad = _field_errors(error, prefix="")
    try:
        document = json.loads(raw)
    except ValueError:
        document = None
    data = document.get("data") if isinstance(document, dict) else None
    if isinstance(data, dict) and "referral" in data:
        del data["referral"]
        raw = json.dumps(document).encode()
        bad.append(referral.FieldError(field="data.referral", message=sealed.MUST_BE_SEALED))
    _reject(uow, entry.stream, entry.entry_id, raw, bad, None)


def _field_errors(error: Exception, prefix: str) -> list[referral.FieldError]:
    if isinstance(error, ValidationError):
        return [
            referral.FieldError(field=".".join(filter(None, [prefix, path])), message=text)
            for path, text in errors.field_errors(error)
        ]
    return [referral.FieldError(field="type", message=str(error))]


def _refuse(uow: UnitOfWork, message: Message, kept: bytes, bad: list[referral.FieldError]) -> None:
    """A signed entry of the stream's own organization refused: `kept` is what is kept of it."""
    _reject(uow, message.stream, message.entry_id, kept, bad, message.envelope.data)


def _reject(
    uow: UnitOfWork,
    stream: str,
    entry_id: str,
    raw: bytes,
    bad: list[referral.FieldError],
    data: dict[str, object] | None,
) -> None:
    # The organization is the stream's, on which no other may add where Redis has its
    # users; the one an entry names is shown only when it is that one.
    stream_organization = _stream_organization(stream)
    named = _text(data, "organization_id", 64)
    organization_id = named if named == stream_organization else None
    key = _text(data, "idempotency_key", intake.IDEMPOTENCY_KEY_MAX)
    if key is not None and not intake.is_idempotency_key(key):
        key = None  # stored and shown to the agency: never a control character as sent
    # Sealed like a person's fields: the entry may name one (adapters/sealing.py).
    sealed = sealing.of(uow.conn).seal(
        raw.decode("utf-8", errors="replace"), sealing.rejection_place(entry_id)
    )
    uow.conn.execute(
        tables.intake_rejections.insert().values(
            entry_id=entry_id,
            organization_id=organization_id,
            idempotency_key=key,
            errors=[item.model_dump() for item in bad],
            raw_entry=sealed,
            received_at=now(),
        )
    )
    # The organization named in a refused entry is unverified text: not an actor.
    actor = audit.Actor(audit.BUS, "intake")
    audit.record(uow.conn, actor, audit.INTAKE_ENTRY_KEPT, detail={"intake_entry_id": entry_id})
    rejected = referral.ReferralRejected(
        organization_id=organization_id, idempotency_key=key, intake_entry_id=entry_id, errors=bad
    )
    uow.publish(
        streams.intake_replies(stream_organization),
        Envelope.wrap(rejected, source=coordinator.SOURCE, subject=f"intake-{entry_id}"),
    )
    log.warning("intake_entry_rejected", fields=[item.field for item in bad])


def _text(data: dict[str, object] | None, name: str, longest: int) -> str | None:
    value = (data or {}).get(name)
    return value[:longest] if isinstance(value, str) else None
