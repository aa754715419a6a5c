"""Readers are tolerant of fields they do not know; publishers refuse them."""

from __future__ import annotations

import json

import goldens
import pytest
from pydantic import ValidationError

from korpu_contracts import providers, referral, registry
from korpu_contracts.envelope import Envelope, Payload
from korpu_contracts.vocabulary import Service, TaskStatus

LATEST = sorted(
    {event_type: goldens.latest_model(event_type) for event_type, _ in registry.MODELS}.items()
)


def _golden(model: type[Payload]) -> dict[str, object]:
    path = goldens.GOLDEN_DIR / f"{model.TYPE}/v{model.VERSION}.json"
    return goldens.load(path)


@pytest.mark.parametrize(("event_type", "model"), LATEST, ids=[t for t, _ in LATEST])
def test_a_reader_ignores_unknown_fields_in_data_and_in_the_envelope(
    event_type: str, model: type[Payload]
) -> None:
    plain = _golden(model)
    data = plain["data"]
    assert isinstance(data, dict)
    extended = {
        **plain,
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "data": {**data, "added_later": {"nested": True}},
    }

    read = registry.read(Envelope.from_json(json.dumps(extended)), model)

    assert read == registry.read(Envelope.from_json(json.dumps(plain)), model)


@pytest.mark.parametrize(("event_type", "model"), LATEST, ids=[t for t, _ in LATEST])
def test_a_publisher_refuses_a_field_the_contract_does_not_have(
    event_type: str, model: type[Payload]
) -> None:
    data = _golden(model)["data"]
    assert isinstance(data, dict)
    with pytest.raises(ValidationError, match="misspelt"):
        model.model_validate({**data, "misspelt": "value"})


def test_building_a_task_request_with_a_misspelt_field_raises() -> None:
    with pytest.raises(ValidationError, match="pregnnant"):
        referral.TaskRequested(
            task_id="t-1",
            referral_id="r-1",
            service="shelter",
            region="Baku",
            is_child=False,
            sex="female",
            pregnnant=True,  # type: ignore[call-arg]  # the misspelling is the point
        )


def test_a_reader_refuses_an_event_of_another_type() -> None:
    envelope = Envelope.from_json((goldens.GOLDEN_DIR / "korpu.task.updated/v1.json").read_bytes())
    with pytest.raises(registry.UnknownEventType):
        registry.read(envelope, referral.TaskRequested)


def test_a_task_update_sent_before_revisions_existed_reads_as_unnumbered() -> None:
    # `revision` was added to v1 as an optional field: an answer from a provider
    # built before it still reads, with 0 ("not numbered"), not as an error.
    document = goldens.load(goldens.GOLDEN_DIR / "korpu.task.updated/v1.json")
    data = document["data"]
    assert isinstance(data, dict)
    older = {**document, "data": {k: v for k, v in data.items() if k != "revision"}}

    update = registry.read(Envelope.from_json(json.dumps(older)), providers.TaskUpdated)

    assert update.revision == 0
    assert update.status == data["status"]


def _accepted(revision: int) -> Envelope:
    return providers.answer(
        source="korpu/shelter",
        service=Service.SHELTER,
        task_id="t-1",
        referral_id="r-1",
        status=TaskStatus.ACCEPTED,
        revision=revision,
    )


def test_a_provider_numbers_every_answer_it_builds_from_1() -> None:
    assert registry.read(_accepted(3), providers.TaskUpdated).revision == 3
    with pytest.raises(ValueError, match="from 1"):
        _accepted(0)
