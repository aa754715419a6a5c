"""Consuming stream entries: parse, deduplicate through the inbox, run the handler, ack."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Connection

from korpu_contracts import registry, streams
from korpu_contracts.envelope import Envelope, source_of
from korpu_runtime import errors, parking, signing
from korpu_runtime import logging as runtime_logging
from korpu_runtime.unit_of_work import UnitOfWork

log = runtime_logging.get(__name__)


@dataclass(frozen=True)
class Message:
    stream: str
    entry_id: str
    envelope: Envelope
    # The entry's fields as written (the envelope's among them): for a handler that
    # checks a signature the runtime does not (an agency's, on the intake).
    fields: Mapping[bytes, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class InvalidEntry:
    """An entry that is not a valid envelope at all: its `event` field as it came."""

    stream: str
    entry_id: str
    raw: bytes
    fields: Mapping[bytes, bytes]


Handler = Callable[[UnitOfWork, Message], None]
# Called instead of the handler when an entry is not a valid envelope at all.
InvalidHandler = Callable[[UnitOfWork, InvalidEntry, ValidationError], None]


EnvelopeHandler = Callable[[UnitOfWork, Envelope], None]


def by_type(handlers: dict[str, EnvelopeHandler]) -> Handler:
    """One handler for a stream carrying several event types, dispatching on `type`.

    An unknown type raises, so the entry goes to the dead letters (`PERMANENT`), out
    of the inbox, to be replayed once a build knows it. Rejected: acknowledging and
    dropping it, which would lose, say, a new kind of cancellation sent by a newer
    publisher.
    """

    def dispatch(uow: UnitOfWork, message: Message) -> None:
        handler = handlers.get(message.envelope.type)
        if handler is None:
            raise registry.UnknownEventType(message.envelope.type)
        handler(uow, message.envelope)

    return dispatch


@dataclass(frozen=True)
class Subscription:
    """One stream a service reads, in its own consumer group, with one handler."""

    name: str
    stream: str
    group: str
    handler: Handler
    on_invalid: InvalidHandler | None = None
    # The stream carries personal data in transit (the intake): each entry is
    # deleted once stored, and one given up on is parked in the service's own
    # database, never copied to the dead letters (`parking`).
    personal_data: bool = False
    # The services whose signed entries this stream takes (`signing`); by default
    # its producers in the contracts. Empty: entries no service signs (the intake).
    producers: tuple[str, ...] | None = None

    @property
    def writers(self) -> tuple[str, ...] | None:
        return self.producers if self.producers is not None else streams.producers_of(self.stream)


@dataclass
class BatchOutcome:
    done: list[str] = field(default_factory=list)
    # Of `done`, the entries the inbox found already handled: acknowledged, handler not run.
    duplicates: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Entry id -> why it was refused (`signing.Refused`), and why it cannot be read
    # (`PERMANENT`): no retry can help either, so neither is handled nor retried; the
    # caller dead-letters them at once.
    refused: dict[str, str] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    # Entry id -> what went wrong, safe to log and keep (no values, no personal data).
    errors: dict[str, str] = field(default_factory=dict)
    # Entry id -> seconds its handling took (`korpu_runtime.metrics`).
    seconds: dict[str, float] = field(default_factory=dict)
    published: int = 0


Entry = tuple[str, dict[bytes, bytes]]

# What no retry can change: an entry that is not an envelope, or whose payload fails
# its schema (`ValidationError`), or whose type or version this build does not read.
# Dead-lettered at its first failure with the reason; a build that reads it can have
# it replayed (`korpu dlq replay`). Rejected: retrying them like a database outage,
# which held a pending slot for minutes and five tries before the same dead letter.
# A handler's own exception, the database's or Redis's is transient: retried.
PERMANENT = (ValidationError, registry.UnknownEventType)


def process_batch(
    conn: Connection,
    subscription: Subscription,
    entries: list[Entry],
    outbox: sa.Table,
    inbox: sa.Table,
    verifier: signing.Verifier,
    sealer: parking.Sealer | None = None,
) -> BatchOutcome:
    """All entries of one read in one transaction, each in its own savepoint.

    One commit per batch instead of per entry is what makes SQLite keep up;
    the savepoint keeps a failing entry from undoing the others. Rejected: one
    transaction per entry (a commit costs more than the work) and all-or-nothing
    batches (one poison entry would hold back every entry read with it).
    """
    uow = UnitOfWork(conn, outbox, inbox)
    outcome = BatchOutcome()
    for entry_id, fields in entries:
        started = time.perf_counter()
        with structlog.contextvars.bound_contextvars(stream_entry_id=entry_id):
            try:
                with conn.begin_nested():
                    handled = _process_one(uow, subscription, entry_id, fields, verifier, sealer)
            except signing.Refused as refused:
                # Told without the entry's content: whoever wrote it chose that.
                log.error("entry_refused", stream=subscription.stream, reason=str(refused))
                outcome.refused[entry_id] = f"refused: {refused}"
            except PERMANENT as unreadable:
                described = errors.describe(unreadable)
                log.error("entry_unreadable", stream=subscription.stream, error=described)
                outcome.unreadable[entry_id] = f"unreadable: {described}"
            except Exception as error:
                described = errors.describe(error)
                log.error(
                    "handler_failed",
                    handler=subscription.name,
                    stream=subscription.stream,
                    error=described,
                )
                outcome.failed.append(entry_id)
                outcome.errors[entry_id] = described
            else:
                outcome.done.append(entry_id)
                if not handled:
                    outcome.duplicates.append(entry_id)
        outcome.seconds[entry_id] = time.perf_counter() - started
    outcome.published = uow.published
    return outcome


def _process_one(
    uow: UnitOfWork,
    subscription: Subscription,
    entry_id: str,
    fields: dict[bytes, bytes],
    verifier: signing.Verifier,
    sealer: parking.Sealer | None,
) -> bool:
    """Handle one entry; False when the inbox finds it already handled and drops it.

    Refused (`signing.Refused`) unless signed by a service that writes the stream,
    with an envelope naming that service as its source. A handler may refuse too:
    an answer about a task that its signer was never sent.
    """
    raw = fields.get(streams.ENTRY_FIELD.encode(), b"")
    token = fields.get(streams.PARKED_FIELD.encode())
    if token is not None and subscription.personal_data:
        raw = parking.take_back(uow.conn, token.decode(), sealer)
        # The signature is over the entry as first sent, before it was parked.
        parked = streams.PARKED_FIELD.encode()
        fields = {name: value for name, value in fields.items() if name != parked}
        fields[streams.ENTRY_FIELD.encode()] = raw
    signer = verifier.signer(subscription.stream, fields, subscription.writers)
    try:
        envelope = Envelope.from_json(raw)
    except ValidationError as invalid:
        if subscription.on_invalid is None:
            raise
        if not uow.first_time(subscription.name, f"entry:{entry_id}"):
            return False
        entry = InvalidEntry(subscription.stream, entry_id, raw, fields)
        subscription.on_invalid(uow, entry, invalid)
        return True
    if signer and envelope.source != source_of(signer):
        raise signing.Refused(f"signed by {signer} but not sent as {signer}")
    with structlog.contextvars.bound_contextvars(
        event_id=envelope.id,
        event_type=envelope.type,
        correlation_id=envelope.correlationid,
    ):
        if not uow.first_time(subscription.name, envelope.id):
            log.info("duplicate_dropped", handler=subscription.name)
            return False
        subscription.handler(uow, Message(subscription.stream, entry_id, envelope, fields))
        return True
