"""Referrals arriving on the intake stream from agency systems already on the bus."""

from __future__ import annotations

import hashlib
import json

from pydantic import ValidationError

from korpu_contracts import intake, referral, registry, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime import errors
from korpu_runtime import logging as runtime_logging
from korpu_runtime.consumer import Message
from korpu_runtime.unit_of_work import UnitOfWork
from referral.adapters import audit, organizations, sealing, tables
from referral.adapters.repository import now
from referral.domain import exceptions
from referral.service_layer import audited, coordinator

log = runtime_logging.get(__name__)


def handle_submission(uow: UnitOfWork, message: Message) -> None:
    """Register the referral and answer on the replies stream; a bad entry is answered too."""
    envelope = message.envelope
    try:
        command = registry.read(envelope, intake.SubmitReferral)
    except (ValidationError, registry.UnknownEventType) as error:
        bad = _field_errors(error, prefix="data")
        _reject(uow, message.entry_id, envelope.to_json().encode(), bad, envelope.data)
        return
    if not organizations.exists(uow.conn, command.organization_id):
        bad = [referral.FieldError(field="data.organization_id", message="unknown organization")]
        _reject(uow, message.entry_id, envelope.to_json().encode(), bad, envelope.data)
        return
    digest = hashlib.sha256(
        json.dumps(command.referral.model_dump(mode="json"), sort_keys=True).encode()
    ).hexdigest()
    # No key on the bus: the organization the command names acts (the Redis ACL
    # user that may add to the intake stream is the credential).
    actor = audit.Actor(audit.BUS, command.organization_id, command.organization_id)
    try:
        submitted = audited.submit(
            uow,
            actor,
            command.organization_id,
            command.idempotency_key,
            digest,
            command.referral,
            detail={"intake_entry_id": message.entry_id},
        )
    except exceptions.IdempotencyConflict:
        bad = [
            referral.FieldError(field="data.idempotency_key", message="reused with another body")
        ]
        _reject(uow, message.entry_id, envelope.to_json().encode(), bad, envelope.data)
        return
    except exceptions.OpenReferralsCap as cap:
        # As over HTTP: refused, kept, answered; taken again once a case closes.
        message_text = f"{cap.cap} referrals open, the most one organization may have"
        bad = [referral.FieldError(field="data.organization_id", message=message_text)]
        _reject(uow, message.entry_id, envelope.to_json().encode(), bad, envelope.data)
        return
    accepted = referral.ReferralAccepted(
        organization_id=command.organization_id,
        idempotency_key=command.idempotency_key,
        agency_reference=command.referral.agency_reference,
        referral_id=submitted.referral_id,
    )
    uow.publish(streams.INTAKE_REPLIES, envelope.caused(accepted, source=coordinator.SOURCE))


def handle_invalid_entry(
    uow: UnitOfWork, entry_id: str, raw: bytes, error: ValidationError
) -> None:
    """An entry that is not even an envelope: kept, and answered naming the bad fields."""
    _reject(uow, entry_id, raw, _field_errors(error, prefix=""), None)


def _field_errors(error: Exception, prefix: str) -> list[referral.FieldError]:
    if isinstance(error, ValidationError):
        return [
            referral.FieldError(field=".".join(filter(None, [prefix, path])), message=text)
            for path, text in errors.field_errors(error)
        ]
    return [referral.FieldError(field="type", message=str(error))]


def _reject(
    uow: UnitOfWork,
    entry_id: str,
    raw: bytes,
    bad: list[referral.FieldError],
    data: dict[str, object] | None,
) -> None:
    organization_id = _text(data, "organization_id", 64)  # as long as its column
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
        streams.INTAKE_REPLIES,
        Envelope.wrap(rejected, source=coordinator.SOURCE, subject=f"intake-{entry_id}"),
    )
    log.warning("intake_entry_rejected", fields=[item.field for item in bad])


def _text(data: dict[str, object] | None, name: str, longest: int) -> str | None:
    value = (data or {}).get(name)
    return value[:longest] if isinstance(value, str) else None
