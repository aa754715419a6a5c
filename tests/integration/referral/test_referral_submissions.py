"""An agency on the bus, which may only add to intake, learns over HTTP what its entries became."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from korpu_contracts import intake
from referral.adapters import organizations
from support import bus
from support.infra import wait_for
from support.referrals import ReferralService, referral_body


async def _outcome(referral_service: ReferralService, key: str, api_key: str | None = None) -> Any:
    return await referral_service.client.get(
        f"/v1/submissions/{key}", headers=referral_service.headers(api_key, idempotency=None)
    )


async def _answered(referral_service: ReferralService, key: str) -> dict[str, Any]:
    async def found() -> bool:
        return (await _outcome(referral_service, key)).status_code == 200

    await wait_for(found, message=f"the entry {key} was never answered")
    answer: dict[str, Any] = (await _outcome(referral_service, key)).json()
    return answer


async def test_an_entry_on_the_bus_is_found_by_its_key_as_the_referral_it_became(
    referral_service: ReferralService,
) -> None:
    assert (await _outcome(referral_service, "bus-ok")).status_code == 404  # not sent yet
    await referral_service.submit_on_bus("bus-ok", referral_body(), "POL-2026-0001")
    answer = await _answered(referral_service, "bus-ok")
    assert answer["outcome"] == "accepted"
    view = await referral_service.client.get(
        f"/v1/referrals/{answer['referral_id']}", headers=referral_service.headers()
    )
    assert view.status_code == 200 and view.json()["status"] == answer["status"]
    # Another organization's key finds nothing under the same key.
    other = await _outcome(referral_service, "bus-ok", referral_service.other_key)
    assert other.status_code == 404


async def test_a_refused_entry_is_found_naming_its_bad_fields_never_their_values(
    referral_service: ReferralService,
) -> None:
    body = referral_body()
    body["person"] = {**body["person"], "sex": "woman"}
    data = bus.submission(referral_service.organization_id, "bus-bad", body).model_dump(mode="json")
    envelope = {
        "id": "e-9", "type": intake.SubmitReferral.TYPE,
        "dataschemaversion": intake.SubmitReferral.VERSION,
        "source": "agency/ngo", "time": "2026-11-26T10:00:00Z", "subject": "NGO-9",
        "correlationid": "NGO-9", "data": data,
    }  # fmt: skip
    await referral_service.service.redis.xadd(
        referral_service.intake, referral_service.signed(json.dumps(envelope))
    )
    answer = await _answered(referral_service, "bus-bad")
    assert answer["outcome"] == "rejected"
    assert [error["field"] for error in answer["errors"]] == ["data.referral.person.sex"]
    assert "woman" not in json.dumps(answer) and "Aysel" not in json.dumps(answer)


async def test_a_key_without_the_read_scope_is_refused(referral_service: ReferralService) -> None:
    def submit_only_key(conn: sa.Connection) -> str:
        _, key = organizations.create_key(
            conn, referral_service.organization_id, (organizations.SUBMIT,)
        )
        return key

    key = await referral_service.service.db.run(submit_only_key)
    answer = await _outcome(referral_service, "anything", key)
    assert answer.status_code == 403 and answer.json()["missing_scope"] == "referrals:read"
