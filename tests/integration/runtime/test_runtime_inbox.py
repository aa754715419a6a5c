"""The inbox under a real handler: an agency's entry read twice is answered once.

The referral service's intake handler, unlike the providers' handlers, cannot
tell a repeated entry from a retry by the agency (the same idempotency key asks
for the same answer again), so a copy the inbox let through would answer the
agency twice. These tests fail without the inbox, where a stand-in handler's
test could not say whether a service would notice.
"""

from __future__ import annotations

import sqlalchemy as sa

from korpu_contracts import intake, referral, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime import consumer
from korpu_runtime.service import Service
from referral.adapters import tables
from referral.entrypoints import consumers
from support import bus
from support.infra import wait_for
from support.referrals import ReferralService, referral_body


def _submission(organization_id: str) -> Envelope:
    command = bus.submission(
        organization_id,
        "bus-twice",
        intake.ReferralRequest.model_validate(referral_body()),
    )
    return Envelope.wrap(command, source="agency/police", subject="POL-2026-0001")


async def _replies_written(service: Service, organization_id: str) -> list[str]:
    """The types of the answers the service wrote for the agency (its outbox, before the relay)."""
    outbox = service.outbox
    replies = streams.intake_replies(organization_id)
    query = sa.select(outbox.c.body).where(outbox.c.stream == replies)
    rows = await service.db.run(lambda conn: list(conn.execute(query)))
    return [Envelope.from_json(row.body).type for row in rows]


async def _count(service: Service, table: sa.Table) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    counted: int = await service.db.run(lambda conn: conn.execute(query).scalar_one())
    return counted


async def test_a_submission_sent_twice_on_the_bus_is_one_referral_answered_once(
    referral_service: ReferralService,
) -> None:
    service = referral_service.service
    envelope = _submission(referral_service.organization_id)
    # The same event in two entries: an agency system's XADD retried after a timeout,
    # or a relay sending again a row whose publication it could not confirm.
    for _ in range(2):
        await service.redis.xadd(referral_service.intake, referral_service.signed(envelope))

    async def both_handled() -> bool:
        # An intake entry is deleted only once its handling committed (it carries a person).
        return await service.redis.xlen(referral_service.intake) == 0

    await wait_for(both_handled, message="the intake entries were not both handled")
    replies = await _replies_written(service, referral_service.organization_id)
    assert replies == [referral.ReferralAccepted.TYPE]
    assert await _count(service, tables.referrals) == 1


async def test_an_invalid_entry_redelivered_after_a_lost_ack_is_rejected_once(
    referral_service: ReferralService,
) -> None:
    service = referral_service.service
    intake_subscription = consumers.intake_of(referral_service.organization_id)
    entry: consumer.Entry = ("1-0", {streams.ENTRY_FIELD.encode(): b"not json"})
    # Handled and committed, its acknowledgement lost: the reclaimer hands it over again.
    first = await service.consume(intake_subscription, [entry])
    again = await service.consume(intake_subscription, [entry])

    assert (first.done, first.duplicates) == (["1-0"], [])
    assert (again.done, again.duplicates) == (["1-0"], ["1-0"])
    replies = await _replies_written(service, referral_service.organization_id)
    assert replies == [referral.ReferralRejected.TYPE]
    assert await _count(service, tables.intake_rejections) == 1
