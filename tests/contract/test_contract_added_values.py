"""A value added to a vocabulary after its reader was built: read as its field says, never written.

Each event is written as raw JSON by a newer writer, with a value no vocabulary
of this build has ("tutoring", "referred_on"), and read as a service reads it
(`registry.read`). The rule: `korpu_contracts.tolerant`.
"""

from __future__ import annotations

import json
from typing import Any

import goldens
import pytest
from pydantic import ValidationError

from korpu_contracts import intake, providers, referral, registry, schemas, tolerant
from korpu_contracts.envelope import Envelope, Payload
from korpu_contracts.vocabulary import Reason, SafetyRisk, Sex, TaskStatus
from support.referrals import referral_body


def _read(model: type[Payload], **data: Any) -> Any:
    """The golden event of `model` with `data` written over, read as its reader reads it."""
    document = goldens.load(goldens.GOLDEN_DIR / f"{model.TYPE}/v{model.VERSION}.json")
    assert isinstance(document["data"], dict)
    written = {**document, "data": {**document["data"], **data}}
    return registry.read(Envelope.from_json(json.dumps(written)), model)


def test_an_answer_in_a_status_added_later_keeps_it_for_the_reader_to_leave_unapplied() -> None:
    update = _read(providers.TaskUpdated, status="referred_on", reason="tutoring")

    assert isinstance(update.status, tolerant.Unknown)
    assert update.status == "referred_on"
    assert update.reason is Reason.OTHER


def test_an_answer_naming_a_service_added_later_keeps_it_so_no_task_of_this_build_matches() -> None:
    update = _read(providers.TaskUpdated, service="tutoring")

    assert isinstance(update.service, tolerant.Unknown)


def test_a_request_with_a_sex_or_safety_risk_added_later_reads_them_as_not_said() -> None:
    asked = _read(referral.TaskRequested, sex="intersex", safety_risk="critical")

    assert (asked.sex, asked.safety_risk) == (Sex.UNKNOWN, SafetyRisk.UNKNOWN)


def test_a_cancellation_for_a_reason_added_later_reads_as_other() -> None:
    assert _read(referral.TaskCancelled, reason="relocated").reason is Reason.OTHER


def test_an_agency_reads_a_status_change_leaving_out_what_it_does_not_know() -> None:
    changed = _read(
        referral.ReferralStatusChanged,
        status="paused",
        services={
            "shelter": {"status": "referred_on", "reason": "tutoring"},
            "tutoring": {"status": "accepted"},
        },
        consent={"shelter": "granted", "tutoring": "granted", "employment": "partly"},
        flags=["possible_duplicate", "interpreter_needed"],
    )

    assert isinstance(changed.status, tolerant.Unknown)
    (answer,) = changed.services.values()
    assert list(changed.services) == ["shelter"]
    assert (answer.status, answer.reason) == ("referred_on", Reason.OTHER)
    assert isinstance(answer.status, tolerant.Unknown)
    # A consent of a kind not known is read as not given, never as granted.
    assert changed.consent == {"shelter": "granted"}
    assert changed.flags == ["possible_duplicate"]


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (providers.TaskUpdated, {"status": "Referred On!"}),
        (providers.TaskUpdated, {"reason": 7}),
        (referral.TaskRequested, {"sex": "x" * 65}),
        (referral.ReferralStatusChanged, {"flags": ["Not A Flag"]}),
    ],
    ids=["not a code", "not a string", "too long", "a list item not a code"],
)
def test_a_reader_still_refuses_what_is_no_code(model: type[Payload], data: dict[str, Any]) -> None:
    # Only a value a newer writer could have added is tolerated: anything else is a
    # broken event, refused naming the field as before.
    (field,) = data
    with pytest.raises(ValidationError, match=field):
        _read(model, **data)


def test_a_service_on_its_own_request_stream_stays_strict() -> None:
    # The reader is that service: one it does not know is not the reader's.
    with pytest.raises(ValidationError, match="service"):
        _read(referral.TaskRequested, service="tutoring")


def test_a_writer_refuses_a_value_the_vocabulary_does_not_have() -> None:
    with pytest.raises(ValidationError, match="status"):
        providers.TaskUpdated(
            task_id="t-1",
            referral_id="r-1",
            service="shelter",
            status=tolerant.Unknown("referred_on"),  # even as read from another event
        )
    with pytest.raises(ValidationError, match="reason"):
        referral.TaskCancelled(task_id="t-1", referral_id="r-1", service="shelter", reason="other2")
    with pytest.raises(ValidationError, match="flags"):
        referral.ReferralStatusChanged.model_validate(
            {
                "referral_id": "r-1",
                "organization_id": "o-1",
                "agency_reference": "POL-1",
                "status": "coordinating",
                "services": {},
                "flags": ["interpreter_needed"],
            }
        )


def test_an_agency_body_refuses_a_need_or_consent_added_later_even_read_as_an_event_is() -> None:
    # The agency writes it: a need the referral service does not know is the agency's
    # error to be told (422, or a rejection on the bus), never a request left out.
    body = referral_body(needs=["shelter", "tutoring"], consent={"tutoring": "granted"})
    with pytest.raises(ValidationError) as refused:
        intake.ReferralRequest.model_validate(body, context=tolerant.READING)
    assert {error["loc"] for error in refused.value.errors()} == {
        ("needs", 1),
        ("consent", "tutoring", "[key]"),
    }


def test_the_published_schemas_list_the_known_values_only() -> None:
    model = providers.TaskUpdated
    schema = schemas.schema_of(model)
    assert schema["$defs"]["TaskStatus"]["enum"] == [status.value for status in TaskStatus]
    assert "Unknown" not in json.dumps(schema)


@pytest.mark.parametrize(
    "model",
    [providers.TaskUpdated, referral.TaskRequested, referral.TaskCancelled],
    ids=lambda model: model.TYPE,
)
def test_a_tolerant_field_is_written_as_before(model: type[Payload]) -> None:
    document = goldens.load(goldens.GOLDEN_DIR / f"{model.TYPE}/v{model.VERSION}.json")
    read = registry.read(Envelope.from_json(json.dumps(document)), model)
    assert read.model_dump(mode="json") == document["data"]


def test_a_status_change_is_written_as_before_and_a_kept_value_as_its_code() -> None:
    model = referral.ReferralStatusChanged
    document = goldens.load(goldens.GOLDEN_DIR / f"{model.TYPE}/v{model.VERSION}.json")
    assert _read(model).model_dump(mode="json") == document["data"]
    assert _read(model, status="paused").model_dump(mode="json")["status"] == "paused"
