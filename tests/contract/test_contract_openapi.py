"""The committed OpenAPI documents are the ones the services serve."""

from __future__ import annotations

import json

from korpu import openapi


def test_the_committed_openapi_documents_are_up_to_date() -> None:
    assert openapi.write_or_check(check=True) == 0, "regenerate with `korpu openapi`"


def test_the_referral_document_lists_every_answer_of_the_contract() -> None:
    document = json.loads(openapi.documents()["referral.json"])
    submit = document["paths"]["/v1/referrals"]["post"]
    assert {"202", "400", "401", "413", "422"} <= set(submit["responses"])
    parameters = {p["name"].lower() for p in submit["parameters"]}
    assert {"authorization", "idempotency-key"} <= parameters
    read = document["paths"]["/v1/referrals/{referral_id}"]["get"]
    assert "404" in read["responses"]
