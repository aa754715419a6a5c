"""Helpers for tests of the referral service: a running instance and the contract's example body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from korpu_contracts import entry_signature, intake, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime.service import Service
from support import bus


@dataclass
class ReferralService:
    service: Service
    client: httpx.AsyncClient
    api_key: str
    organization_id: str
    other_key: str
    redis_url: str
    # The organization's bus key, which signs its intake entries (adapters/bus_keys.py).
    bus_key: entry_signature.AgencyKey | None = None

    def headers(self, key: str | None = None, idempotency: str | None = "key-1") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {key or self.api_key}"}
        if idempotency is not None:
            headers["Idempotency-Key"] = idempotency
        return headers

    async def submit_on_bus(
        self, idempotency_key: str, body: dict[str, Any], reference: str
    ) -> Envelope:
        """The organization's agency system on the bus: the referral sealed, the entry signed."""
        command = bus.submission(
            self.organization_id, idempotency_key, intake.ReferralRequest.model_validate(body)
        )
        return await bus.publish(
            self.redis_url, self.intake, command, reference, agency_key=self.bus_key
        )

    async def submit_unchecked_on_bus(self, idempotency_key: str, body: dict[str, Any]) -> None:
        """As `submit_on_bus`, with a body the contract may refuse: sealed as it is, unvalidated."""
        envelope = {
            "id": f"e-{idempotency_key}",
            "type": intake.SubmitReferral.TYPE,
            "dataschemaversion": intake.SubmitReferral.VERSION,
            "source": "agency/ngo",
            "time": "2026-11-26T10:00:00Z",
            "subject": "NGO-7",
            "correlationid": "NGO-7",
            "data": bus.submission(self.organization_id, idempotency_key, body).model_dump(
                mode="json"
            ),
        }
        await self.service.redis.xadd(self.intake, self.signed(json.dumps(envelope)))  # type: ignore[arg-type]

    def signed(self, envelope: Envelope | str | bytes) -> bus.Fields:
        """An entry of the organization's intake as its agency writes it: signed."""
        return bus.agency_entry(self.intake, envelope, self.bus_key)

    @property
    def intake(self) -> str:
        """The organization's own intake stream."""
        return streams.intake(self.organization_id)

    @property
    def replies(self) -> str:
        return streams.intake_replies(self.organization_id)

    @property
    def status(self) -> str:
        """The organization's status changes."""
        return streams.referral_status(self.organization_id)


def referral_body(**overrides: Any) -> dict[str, Any]:
    """The contract's example referral, fictional person."""
    body: dict[str, Any] = {
        "agency_reference": "POL-2026-0001",
        "person": {
            "given_name": "Aysel",
            "family_name": "Məmmədova",
            "date_of_birth": "2001-04-12",
            "age_estimate": None,
            "possibly_minor": False,
            "sex": "female",
            "languages": ["az", "ru"],
            "nationality": "AZ",
            "contact_phone": "+994501234567",
        },
        "region": "Baku",
        "needs": ["shelter", "employment", "legal_aid"],
        "consent": {"shelter": "granted", "employment": "granted", "legal_aid": "granted"},
        "circumstances": {
            "exploitation": ["labour"],
            "accompanying_children": 0,
            "pregnant": False,
            "disability": False,
            "safety_risk": "high",
        },
        "notes": "Met at the border crossing; speaks of a debt.",
    }
    body.update(overrides)
    return body
