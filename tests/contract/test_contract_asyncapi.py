"""The AsyncAPI document lists every stream, every event version and who sends and receives what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from korpu_contracts import asyncapi, intake, referral, registry, streams
from korpu_contracts.vocabulary import Service

DOC = asyncapi.build()
UPDATES = tuple(streams.UPDATES_BY_SERVICE.values())
# Every provider in the list of services -> the stream of its requests.
PROVIDERS = {str(service): streams.requests(service) for service in Service}
REQUESTS = tuple(PROVIDERS.values())
FIRST_PROVIDERS = ("shelter", "employment", "legal_aid")


@pytest.mark.parametrize("name", FIRST_PROVIDERS)
def test_the_first_providers_streams_and_group_keep_their_names(name: str) -> None:
    # Deployments rely on these names: deriving them from the list must not change them.
    assert streams.REQUESTS_BY_SERVICE[name] == f"korpu.{name}.requests"
    assert streams.UPDATES_BY_SERVICE[name] == f"korpu.{name}.updates"
    assert streams.group(Service(name)) == name
    assert [str(service) for service in Service][:3] == list(FIRST_PROVIDERS)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _follow(ref: str) -> Any:
    node: Any = DOC
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _address(channel_ref: str) -> str:
    address: str = _follow(channel_ref)["address"]
    return address


def test_it_is_an_asyncapi_3_document() -> None:
    assert DOC["asyncapi"] == "3.0.0"
    assert DOC["info"]["title"] and DOC["info"]["version"]


def test_the_info_says_an_entry_is_one_field_holding_the_json_envelope() -> None:
    description = DOC["info"]["description"]
    assert f"`{streams.ENTRY_FIELD}`" in description
    assert "JSON" in description and "envelope" in description


def test_every_stream_is_a_channel_addressed_by_its_name() -> None:
    channels = DOC["channels"].values()
    assert sorted(channel["address"] for channel in channels) == sorted(streams.ALL)
    assert all(channel["description"] for channel in channels)


@pytest.mark.parametrize(
    ("stream", "group"),
    [
        (streams.INTAKE, streams.GROUP_REFERRAL_INTAKE),
        *((stream, streams.GROUP_REFERRAL_COORDINATOR) for stream in UPDATES),
        *((streams.requests(service), streams.group(service)) for service in Service),
    ],
)
def test_a_channel_names_the_consumer_group_reading_it(stream: str, group: str) -> None:
    (channel,) = [c for c in DOC["channels"].values() if c["address"] == stream]
    assert f"`{group}`" in channel["description"]


def test_every_event_type_and_version_is_a_message_with_its_envelope_schema() -> None:
    messages = DOC["components"]["messages"]
    assert sorted(messages) == sorted(f"{t}.v{v}" for t, v in registry.MODELS)
    for (event_type, version), model in registry.MODELS.items():
        message = messages[f"{event_type}.v{version}"]
        payload = _follow(message["payload"]["$ref"])
        assert payload["properties"]["type"]["const"] == event_type
        assert payload["properties"]["dataschemaversion"]["const"] == version
        data = _follow(payload["properties"]["data"]["$ref"])
        assert set(data["properties"]) == set(model.model_fields)


def test_every_reference_resolves() -> None:
    for ref in set(_refs(DOC)):
        assert ref.startswith("#/"), ref
        _follow(ref)


def test_operations_say_who_sends_and_receives_on_which_stream() -> None:
    found = {
        (operation["tags"][0]["name"], operation["action"], _address(operation["channel"]["$ref"]))
        for operation in DOC["operations"].values()
    }
    expected = {
        ("agency", "send", streams.INTAKE),
        ("agency", "receive", streams.INTAKE_REPLIES),
        ("agency", "receive", streams.REFERRAL_STATUS),
        ("referral", "receive", streams.INTAKE),
        *(("referral", "receive", stream) for stream in UPDATES),
        ("referral", "send", streams.INTAKE_REPLIES),
        ("referral", "send", streams.REFERRAL_STATUS),
        ("referral", "send", streams.ESCALATIONS),
        *(("referral", "send", stream) for stream in REQUESTS),
        *((service, "receive", stream) for service, stream in PROVIDERS.items()),
        *((service, "send", streams.UPDATES_BY_SERVICE[service]) for service in PROVIDERS),
    }
    assert found == expected


def test_an_operation_only_names_messages_of_its_channel() -> None:
    for operation in DOC["operations"].values():
        channel_ref = operation["channel"]["$ref"]
        assert operation["messages"]
        for message in operation["messages"]:
            assert message["$ref"].startswith(f"{channel_ref}/messages/")


def test_task_requests_and_cancellations_travel_on_every_provider_stream() -> None:
    for stream in REQUESTS:
        (channel,) = [c for c in DOC["channels"].values() if c["address"] == stream]
        assert set(channel["messages"]) == {
            f"{event_type}.v{version}"
            for event_type, version in registry.MODELS
            if event_type in {referral.TaskRequested.TYPE, referral.TaskCancelled.TYPE}
        }


def test_only_the_intake_command_is_marked_as_carrying_personal_data() -> None:
    marked = {
        name
        for name, message in DOC["components"]["messages"].items()
        if message["x-korpu-carries-personal-data"]
    }
    assert marked == {
        f"{event_type}.v{version}"
        for event_type, version in registry.MODELS
        if event_type == intake.SubmitReferral.TYPE
    }
