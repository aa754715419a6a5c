"""An in-test event bus: moves outbox rows to the services that read them, in order or not.

No Redis: what is under test is the handlers under reordering and duplicates,
so the bus hands entries straight to `korpu_runtime.consumer.process_batch`,
the very function a running service calls for each read, on the service's own
database. Every entry goes twice, as a relay that re-sent it would. In order,
the copy comes right behind the first, first published first. Shuffled (in
some runs the second copy is a new event with the same content), the next
batch is drawn at random from everything pending on every stream, and a
handler fails now and then, its entry put back to be retried later, as the
reclaimer would.

What the inbox did is taken from the runtime (`BatchOutcome.duplicates`, the
entries it dropped) and from the handlers themselves (the bus sees every call
that committed), never inferred from an entry having gone through without
error: a duplicate handed to a handler that happens to tolerate it must show.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from ordering_trace import Trace
from sqlalchemy.engine import Connection

from korpu_contracts import entry_signature, streams
from korpu_contracts.envelope import Envelope
from korpu_runtime import consumer, signing
from korpu_runtime.database import Database
from korpu_runtime.unit_of_work import UnitOfWork
from support import bus

T = TypeVar("T")

# Most steps deliver; a batch holds up to this many entries of one subscription.
MAX_BATCH = 3
# A failed entry waits up to this many batches before it can be drawn again, as
# one left pending waits for the reclaimer while newer entries go past it.
MAX_RETRY_DELAY = 12
# Far more steps than any scenario here needs: a bus still busy then is looping.
STEP_LIMIT = 20_000
# Every event is delivered this many times to each subscription that reads it.
COPIES = 2


class InjectedFailure(RuntimeError):
    """A handler failing for a reason outside the event (a lost connection, a deadlock)."""


@dataclass
class Node:
    """One service under test: its own database and the subscriptions it reads."""

    name: str
    database: Database
    metadata: sa.MetaData
    subscriptions: tuple[consumer.Subscription, ...]

    @property
    def outbox(self) -> sa.Table:
        return self.metadata.tables["outbox"]

    @property
    def inbox(self) -> sa.Table:
        return self.metadata.tables["inbox"]

    def transaction(self, work: Callable[[UnitOfWork], T]) -> T:
        """A command of this service (an HTTP call, say) in one transaction with its outbox."""
        return self.database.transaction(
            lambda conn: work(UnitOfWork(conn, self.outbox, self.inbox))
        )


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


@dataclass(frozen=True)
class Entry:
    """One delivery of one published event to one subscription."""

    node: Node
    subscription: consumer.Subscription
    entry_id: str
    fields: bus.Fields
    envelope: Envelope
    # Position in the order of publication, over every service: older is lower.
    published: int


@dataclass
class Bus:
    """Every service's outbox feeding every service's subscriptions."""

    nodes: list[Node]
    rng: random.Random | None = None
    failure_rate: float = 0.0
    # Shuffled only: the second copy of each event is a new event (a new id, the same
    # data), as if its publisher had built it twice. The inbox cannot stop it; only
    # the handlers' own checks can (task id, idempotency key, revision).
    second_copy_is_new: bool = False
    # Every event published, by whom and on which stream, in order; what was handled.
    published: list[tuple[str, str, Envelope]] = field(default_factory=list, init=False)
    trace: Trace = field(default_factory=Trace, init=False)
    pending: list[Entry] = field(default_factory=list, init=False)
    # Failed entries with the step from which they can be drawn again.
    retrying: list[tuple[int, Entry]] = field(default_factory=list, init=False)
    _steps: int = field(default=0, init=False)
    _sent: dict[str, int] = field(default_factory=dict, init=False)
    _readers: dict[str, list[tuple[Node, consumer.Subscription]]] = field(
        default_factory=dict, init=False
    )

    # Entry ids whose handler ran in the batch being delivered.
    _ran: set[str] = field(default_factory=set, init=False)
    nodes_by_name: dict[str, Node] = field(default_factory=dict, init=False)
    verifier: signing.Verifier = field(init=False)
    # What the agency signs its intake entries with (its organization's bus key).
    agency_key: entry_signature.AgencyKey | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.nodes_by_name = {node.name: node for node in self.nodes}
        self.verifier = signing.Verifier(bus.keys_dir())
        for node in self.nodes:
            for subscription in node.subscriptions:
                self.add_reader(node.name, subscription)

    def add_reader(self, name: str, subscription: consumer.Subscription) -> None:
        """The service `name` reads one more stream (an organization's intake, once known)."""
        handler = self._witnessed(subscription.handler)
        if self.rng is not None:
            handler = self._flaky(handler)
        subscription = dataclasses.replace(subscription, handler=handler)
        node = self.nodes_by_name[name]
        self._readers.setdefault(subscription.stream, []).append((node, subscription))

    def put(self, source: str, stream: str, envelope: Envelope) -> None:
        """An event from outside the services (an agency system on the bus)."""
        self._enqueue(source, stream, envelope.to_json())

    def collect(self) -> None:
        """Take every outbox row written since the last call, in the order it was written."""
        for node in self.nodes:
            for row in node.database.transaction(self._unsent(node)):
                self._enqueue(node.name, row.stream, row.body)
                self._sent[node.name] = row.id

    def _unsent(self, node: Node) -> Callable[[Connection], list[sa.Row[Any]]]:
        outbox = node.outbox
        query = (
            sa.select(outbox.c.id, outbox.c.stream, outbox.c.body)
            .where(outbox.c.id > self._sent.get(node.name, 0))
            .order_by(outbox.c.id)
        )
        return lambda conn: list(conn.execute(query))

    def _enqueue(self, source: str, stream: str, body: str) -> None:
        envelope = Envelope.from_json(body)
        published = len(self.published)
        self.published.append((source, stream, envelope))
        # Streams nobody reads here (the agency's) are only recorded.
        for node, subscription in self._readers.get(stream, []):
            for copy in range(COPIES):
                entry_id = f"{published}-{copy}"
                sent = self._renewed(envelope) if copy and self.second_copy_is_new else envelope
                # Signed as its publisher's relay signs it; an agency's with its bus key.
                if source not in self.nodes_by_name and self.agency_key is not None:
                    fields = self.agency_key.signed(stream, {streams.ENTRY_FIELD: sent.to_json()})
                else:
                    fields = bus.entry(
                        stream, sent.to_json(), source if source in self.nodes_by_name else None
                    )
                entry = Entry(node, subscription, entry_id, fields, sent, published)
                self.pending.append(entry)

    def _renewed(self, envelope: Envelope) -> Envelope:
        assert self.rng is not None
        return envelope.model_copy(update={"id": str(uuid.UUID(int=self.rng.getrandbits(128)))})

    def step(self) -> bool:
        """Deliver one batch; False when nothing is pending."""
        self._steps += 1
        self._due_again()
        if not self.pending:
            return False
        batch = self._next_batch()
        first = batch[0]
        entries: list[consumer.Entry] = [
            (entry.entry_id, {name.encode(): _bytes(value) for name, value in entry.fields.items()})
            for entry in batch
        ]
        node, subscription = first.node, first.subscription
        self._ran.clear()
        outcome = node.database.transaction(
            lambda conn: consumer.process_batch(
                conn, subscription, entries, node.outbox, node.inbox, self.verifier
            )
        )
        failed, dropped = set(outcome.failed), set(outcome.duplicates)
        for entry in batch:
            if entry.entry_id in failed:
                # Left pending: delivered again later, like an entry the reclaimer takes.
                self.trace.failed()
                assert self.rng is not None, "a handler failed in the clean run"
                due = self._steps + self.rng.randint(1, MAX_RETRY_DELAY)
                self.retrying.append((due, entry))
            elif entry.entry_id in dropped:
                self.trace.dropped(entry.node.name, entry.subscription.name, entry.envelope)
            else:
                self.trace.done(
                    entry.node.name,
                    entry.subscription.name,
                    entry.envelope,
                    entry.published,
                    ran=entry.entry_id in self._ran,
                )
        self.collect()
        return True

    def settle(self) -> None:
        """Deliver until nothing is pending (what the services' events cause included)."""
        for _ in range(STEP_LIMIT):
            if not self.step():
                return
        raise AssertionError(f"the bus never settled: {len(self.pending)} entries pending")

    def _due_again(self) -> None:
        """Failed entries whose wait is over go back among those pending.

        With nothing else pending the wait ends at once: the reclaimer would
        get to them, only later.
        """
        if not self.pending and self.retrying:
            self._steps = max(self._steps, min(due for due, _ in self.retrying))
        self.pending += [entry for due, entry in self.retrying if due <= self._steps]
        self.retrying = [(due, entry) for due, entry in self.retrying if due > self._steps]

    def _next_batch(self) -> list[Entry]:
        if self.rng is None:
            return [self.pending.pop(0)]
        first = self.pending.pop(self.rng.randrange(len(self.pending)))
        same = [
            i
            for i, entry in enumerate(self.pending)
            if entry.subscription.name == first.subscription.name
        ]
        more = self.rng.sample(same, min(len(same), self.rng.randrange(MAX_BATCH)))
        batch = [first, *(self.pending[i] for i in more)]
        for i in sorted(more, reverse=True):
            del self.pending[i]
        return batch

    def _witnessed(self, handler: consumer.Handler) -> consumer.Handler:
        """The handler, noting each entry it is called for (undone by a failure or not)."""

        def run(uow: UnitOfWork, message: consumer.Message) -> None:
            self._ran.add(message.entry_id)
            handler(uow, message)

        return run

    def _flaky(self, handler: consumer.Handler) -> consumer.Handler:
        """The handler, failing at `failure_rate`: half before it acts, half after.

        Failing after it acted checks that the savepoint undoes the entry's
        effects, its events and its inbox record alike, so the retry starts clean.
        """

        def run(uow: UnitOfWork, message: consumer.Message) -> None:
            assert self.rng is not None
            roll = self.rng.random()
            if roll < self.failure_rate / 2:
                raise InjectedFailure("before the handler")
            handler(uow, message)
            if roll < self.failure_rate:
                raise InjectedFailure("after the handler")

        return run
