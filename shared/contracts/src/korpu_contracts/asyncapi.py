"""The AsyncAPI 3.0 document of every stream, event and service role, built from the contracts.

`python -m korpu_contracts.asyncapi [--check] [PATH]` writes it (default:
`docs/asyncapi.json` of this checkout); `--check` only compares and exits 1 when stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from korpu_contracts import intake, providers, referral, registry, schemas, streams, vocabulary
from korpu_contracts.envelope import Payload

Action = Literal["send", "receive"]

AGENCY: Final = "agency"
REFERRAL: Final = "referral"

_REPO_ROOT = Path(__file__).resolve().parents[4]

INFO_DESCRIPTION: Final = f"""\
Every event Körpü services and agency systems exchange over Redis Streams.

**Stream entries.** Each entry has exactly one field, `{streams.ENTRY_FIELD}`, whose value \
is the event as one JSON document: a CloudEvents-style envelope (`specversion`, `id`, \
`type`, `dataschemaversion`, `source`, `time`, `subject` = the pseudonymous case id, \
`correlationid`, `causationid`, `datacontenttype`) around `data`, the payload of that type \
and version. Any Redis client can read it (`XREADGROUP`, then parse the field as JSON); \
there is no framework-specific framing.

**Versions.** Publishers are strict: they send only the fields of the schema. Readers are \
tolerant: they ignore fields they do not know, so an added optional field keeps the \
version. Any other change is a new `dataschemaversion`; readers upcast older versions. \
Each message below is one type and version; its JSON Schema is also committed as \
`shared/contracts/schemas/<type>/v<version>.json`.

**Personal data.** Only `{intake.SubmitReferral.TYPE}` carries a person, sealed with HPKE \
(RFC 9180) to the referral service's intake key (`korpu keys intake show`, \
`korpu_contracts.sealed`); v1, which held it in clear, is refused. The referral \
service deletes its intake entry once the referral is stored. Every other event carries \
the pseudonymous case id and coarse attributes only.

**Consumer groups.** Each Körpü service reads its streams through the consumer group \
named in the channel description; an agency system picks its own group name."""

# Why each stream exists; a stream missing here fails the build, so none goes undocumented.
STREAM_DESCRIPTIONS: Final[dict[str, str]] = {
    streams.INTAKE: (
        "One agency system on the bus submits its referrals here: one stream per "
        "organization, which only that organization's Redis user may add to. The referral "
        "service reads, stores and then deletes each entry, because it carries personal "
        "data. Each entry is signed with its organization's bus key (field `signature`, "
        "`korpu_contracts.entry_signature`; `korpu org keys create ORG --bus`), and its "
        "referral sealed to the referral service's intake key (`korpu_contracts.sealed`): "
        "an entry unsigned, signed by another organization, naming another or holding a "
        "referral in clear is refused on the organization's replies stream."
    ),
    streams.INTAKE_REPLIES: (
        "Answers to one organization's intake entries: accepted with the referral id, or "
        "rejected naming every bad field (never the value sent). Only that organization's "
        "Redis user may read it."
    ),
    streams.REFERRAL_STATUS: (
        "Every change of the coordinated status of one organization's referrals, however "
        "they were sent (HTTP or bus). Only that organization's Redis user may read it."
    ),
    streams.ESCALATIONS: (
        "Cases entering the national coordinator's Action needed queue: a task unanswered "
        "past its service's response deadline, a person at high risk waiting for a bed, a "
        "waitlist past a band, a possible duplicate across organizations, a child come of "
        "age, a recovery period about to end. Once per item; no personal data."
    ),
    **{
        streams.requests(service): (
            f"Task requests and cancellations for the {service.replace('_', ' ')} service."
        )
        for service in vocabulary.Service
    },
    **{
        streams.updates(service): (
            f"The {service} service's answers about its tasks, read by the referral "
            "coordinator. Only that service may add to it."
        )
        for service in vocabulary.Service
    },
}

# Which payloads travel on which stream (every version of each type in registry.MODELS).
STREAM_PAYLOADS: Final[dict[str, tuple[type[Payload], ...]]] = {
    streams.INTAKE: (intake.SubmitReferral,),
    streams.INTAKE_REPLIES: (referral.ReferralAccepted, referral.ReferralRejected),
    streams.REFERRAL_STATUS: (referral.ReferralStatusChanged,),
    streams.ESCALATIONS: (referral.Escalated,),
    **{
        stream: (referral.TaskRequested, referral.TaskCancelled)
        for stream in streams.REQUESTS_BY_SERVICE.values()
    },
    **{stream: (providers.TaskUpdated,) for stream in streams.UPDATES_BY_SERVICE.values()},
}

PROVIDER_GROUPS: Final[dict[str, str]] = {
    str(service): streams.group(service) for service in vocabulary.Service
}


def roles() -> list[tuple[str, Action, str, str | None]]:
    """(service, action, stream, consumer group when Körpü fixes one) for every service."""
    table: list[tuple[str, Action, str, str | None]] = [
        (AGENCY, "send", streams.INTAKE, None),
        (REFERRAL, "receive", streams.INTAKE, streams.GROUP_REFERRAL_INTAKE),
        (REFERRAL, "send", streams.INTAKE_REPLIES, None),
        (AGENCY, "receive", streams.INTAKE_REPLIES, None),
        (REFERRAL, "send", streams.REFERRAL_STATUS, None),
        (AGENCY, "receive", streams.REFERRAL_STATUS, None),
        (REFERRAL, "send", streams.ESCALATIONS, None),
    ]
    for service in vocabulary.Service:
        name, requests, updates = str(service), streams.requests(service), streams.updates(service)
        table += [
            (REFERRAL, "send", requests, None),
            (name, "receive", requests, streams.group(service)),
            (name, "send", updates, None),
            (REFERRAL, "receive", updates, streams.GROUP_REFERRAL_COORDINATOR),
        ]
    return table


def channel_ids() -> dict[str, str]:
    """Stream name -> channel id: `intake`, `intake_replies`, `referral_status`, then
    `<provider>_requests` and `<provider>_updates` for each provider."""
    ids = {
        streams.INTAKE: "intake",
        streams.INTAKE_REPLIES: "intake_replies",
        streams.REFERRAL_STATUS: "referral_status",
        streams.ESCALATIONS: "escalations",
    }
    for service in vocabulary.Service:
        ids[streams.requests(service)] = f"{service}_requests"
        ids[streams.updates(service)] = f"{service}_updates"
    return {stream: ids[stream] for stream in streams.ALL}


def message_id(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}"


def _message_ids(stream: str) -> list[str]:
    types = {payload.TYPE for payload in STREAM_PAYLOADS[stream]}
    return [message_id(*key) for key in sorted(registry.MODELS) if key[0] in types]


def _components() -> dict[str, Any]:
    models = sorted(registry.MODELS.items())
    envelopes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (schemas.envelope_model(model), "validation") for _, model in models
    ]
    refs, definitions = models_json_schema(envelopes, ref_template="#/components/schemas/{model}")
    component_schemas: dict[str, Any] = definitions["$defs"]
    messages: dict[str, Any] = {}
    for ((event_type, version), model), envelope in zip(models, envelopes, strict=True):
        ref = refs[envelope]["$ref"]
        schemas.pin(component_schemas[ref.rsplit("/", 1)[1]], model)
        messages[message_id(event_type, version)] = {
            "name": event_type,
            "title": f"{event_type} v{version}",
            "summary": (model.__doc__ or event_type).splitlines()[0],
            "description": schemas.describe(model),
            "contentType": "application/json",
            "correlationId": {
                "description": "The correlation id every event of one referral shares.",
                "location": "$message.payload#/correlationid",
            },
            "payload": {"$ref": ref},
            "x-korpu-carries-personal-data": model.CARRIES_PERSONAL_DATA,
            "x-korpu-dataschemaversion": version,
        }
    return {"messages": messages, "schemas": component_schemas}


def _channels(ids: dict[str, str]) -> dict[str, Any]:
    groups: dict[str, list[str]] = {stream: [] for stream in streams.ALL}
    for service, action, stream, group in roles():
        if action == "receive" and group is not None:
            groups[stream].append(f"`{group}` ({service} service)")
    channels: dict[str, Any] = {}
    for stream in streams.ALL:
        readers = ", ".join(groups[stream]) or "none fixed by Körpü; the agency names its own"
        channel: dict[str, Any] = {
            "address": stream,
            "title": stream,
            "description": f"{STREAM_DESCRIPTIONS[stream]}\n\nConsumer groups: {readers}.",
            "messages": {
                name: {"$ref": f"#/components/messages/{name}"} for name in _message_ids(stream)
            },
        }
        if stream in streams.PER_ORGANIZATION:
            channel["parameters"] = {
                "organization_id": {
                    "description": "The organization's id (a UUID in lower case), as "
                    "`korpu org create` printed it."
                }
            }
        channels[ids[stream]] = channel
    return channels


def _operations(ids: dict[str, str]) -> dict[str, Any]:
    operations: dict[str, Any] = {}
    for service, action, stream, group in roles():
        channel = ids[stream]
        operation: dict[str, Any] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{name}"} for name in _message_ids(stream)
            ],
            "summary": f"The {service} {action}s on {stream}"
            + (f" through consumer group `{group}`." if group else "."),
            "tags": [{"name": service}],
        }
        if group is not None:
            operation["x-korpu-consumer-group"] = group
        operations[f"{service}.{action}.{channel}"] = operation
    return operations


def _check_complete() -> None:
    """A stream or event type the document would leave out is a mistake, not an omission."""
    for stream in streams.ALL:
        if stream not in STREAM_DESCRIPTIONS or stream not in STREAM_PAYLOADS:
            raise ValueError(f"stream {stream} has no description or no messages here")
    carried = {payload.TYPE for payloads in STREAM_PAYLOADS.values() for payload in payloads}
    for event_type, _ in registry.MODELS:
        if event_type not in carried:
            raise ValueError(f"event type {event_type} travels on no stream here")


def build() -> dict[str, Any]:
    _check_complete()
    ids = channel_ids()
    return {
        "asyncapi": "3.0.0",
        "id": "urn:korpu:events",
        "info": {
            "title": "Körpü events",
            "version": metadata.version("korpu-contracts"),
            "description": INFO_DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "redis": {
                "host": "{host}",
                "protocol": "redis",
                "description": "Redis 7 named by REDIS_URL; `korpu up` starts an embedded "
                "one when it is unset.",
                "variables": {
                    "host": {"default": "localhost:6379", "description": "host:port"},
                },
            },
        },
        "channels": _channels(ids),
        "operations": _operations(ids),
        "components": _components(),
    }


def default_path() -> Path | None:
    """`docs/asyncapi.json` when running from a checkout; None when installed."""
    if (_REPO_ROOT / "shared" / "contracts" / "pyproject.toml").is_file():
        return _REPO_ROOT / "docs" / "asyncapi.json"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m korpu_contracts.asyncapi", description="Write the AsyncAPI document."
    )
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("path", nargs="?", type=Path, help="default: docs/asyncapi.json")
    args = parser.parse_args(argv)
    path: Path | None = args.path or default_path()
    if path is None:
        parser.error("not running from a Körpü checkout: name the file")
    text = schemas.render(build())
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if args.check:
        if current != text:
            print(f"stale: {path}", file=sys.stderr)
            print("regenerate with: python -m korpu_contracts.asyncapi", file=sys.stderr)
            return 1
        return 0
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
