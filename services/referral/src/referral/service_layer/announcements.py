"""What the agency is told: every change of a referral, on its own status stream
(`streams.referral_status`), which no other organization may read, and to its webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from korpu_contracts import referral, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_contracts.vocabulary import Consent, Flag, Purpose, ReferralStatus
from korpu_runtime.unit_of_work import UnitOfWork
from referral.domain import model
from referral.service_layer import webhooks

SOURCE = source_of("referral")


@dataclass(frozen=True)
class Case:
    """What the agency is told about: the referral and its tasks by task id."""

    referral_id: str
    organization_id: str
    agency_reference: str
    status: ReferralStatus
    tasks: dict[str, model.Task]
    # Told only by a change about consent or a flag; None leaves them out. Rejected:
    # reading both for every answer of a provider, two more queries on the busiest path.
    consent: dict[Purpose, Consent] | None = None
    flags: list[Flag] | None = None


def announce(uow: UnitOfWork, case: Case, causation: Envelope | None = None) -> None:
    services = {
        task.service: referral.ServiceAnswer(
            status=task.status, reason=task.reason, detail=task.detail
        )
        for task in case.tasks.values()
    }
    changed = referral.ReferralStatusChanged(
        referral_id=case.referral_id,
        organization_id=case.organization_id,
        agency_reference=case.agency_reference,
        status=case.status,
        services=services,
        consent=case.consent,
        flags=case.flags,
    )
    envelope = (
        causation.caused(changed, source=SOURCE)
        if causation
        else Envelope.wrap(changed, source=SOURCE, subject=case.referral_id)
    )
    uow.publish(streams.referral_status(case.organization_id), envelope)
    # In the same transaction as the event: a change committed is a change delivered.
    # Rejected: a consumer of the status stream that delivers, a second copy of every
    # event kept apart from the change it tells of, and one more reader to keep alive.
    webhooks.status_changed(
        uow.conn,
        webhooks.StatusChange(
            message_id=envelope.id,
            organization_id=case.organization_id,
            referral_id=case.referral_id,
            status=str(case.status),
            at=envelope.time,
        ),
    )
