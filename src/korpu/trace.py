"""`korpu trace`: every event about a referral, event or correlation id, and where each stands now.

An event is found by its envelope's identifiers (event id, correlation id, subject:
the referral id) and by a payload's `referral_id`, read only from the event types
that carry no personal data. Nothing else of a payload is read, and a trace holds
identifiers, types, stream and group names only: it is shown to operators, who
never see a person. An intake entry (a person, sealed or in clear) is found by its
envelope alone; a parked one, whose body stays in the referral service, by its
entry id alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any, cast

import redis

from korpu import catalog, dlq, outboxes, status
from korpu_contracts import registry, streams

# Entries read from Redis, and outbox rows from each service's database, in one look
# at most: a stream of millions must not hang the console's page or the command.
MAX_SCANNED = 200_000
PAGE = 1000
# A referral id's chain is found in three: its events, its intake reply, the intake entry.
MAX_LOOKS = 4
# Ids are UUIDs (events, referrals, correlations) or stream entry ids (`1733-0`).
# Rejected: any text, which would reach LIKE patterns and the operator's screen.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,119}")
# Types whose payload holds a person: only their envelope is ever read.
_PERSONAL_TYPES = frozenset(
    model.TYPE for model in registry.MODELS.values() if model.CARRIES_PERSONAL_DATA
)
_KNOWN_SOURCES = {f"korpu/{service}": service for service in catalog.SERVICES}


class BadQuery(ValueError):
    """Not an id a trace can look for."""


@dataclasses.dataclass(frozen=True)
class State:
    """Where an event stands for one consumer group of its stream, or in an outbox.

    `kind`: done (delivered and acknowledged), pending (delivered, not acknowledged:
    `consumer`, `deliveries`, `idle_s`), undelivered (not yet read by `group`),
    dead_lettered (`service` gave up on it: letter `dead_letter_id`), unread (on a
    stream no consumer group reads: an agency reads it its own way), unsent (in
    `service`'s outbox, not yet sent), gone (sent by `service`, no longer on its
    stream: trimmed, or lost with Redis).
    """

    kind: str
    group: str | None = None
    service: str | None = None
    consumer: str | None = None
    deliveries: int | None = None
    idle_s: float | None = None
    dead_letter_id: str | None = None
    # Why the dead letter is not genuine (`dlq.DeadLetter.forged`); None when it is.
    forged: str | None = None

    def describe(self) -> str:
        texts = {
            "done": f"done in {self.group}",
            "pending": f"pending in {self.group} ({self.consumer}, "
            f"{_deliveries(self.deliveries or 0)}, idle {dlq.age(self.idle_s or 0)})",
            "undelivered": f"not yet delivered to {self.group}",
            "dead_lettered": f"dead-lettered by {self.service} in {self.group} "
            f"(`korpu dlq show {self.dead_letter_id}`)" + (" FORGED" if self.forged else ""),
            "unread": "on its stream, read by no consumer group",
            "unsent": f"unsent in {self.service}'s outbox",
            "gone": f"sent by {self.service}, gone from its stream (trimmed, or lost: "
            "`korpu recover`)",
        }
        return texts[self.kind]


def _deliveries(count: int) -> str:
    return "1 delivery" if count == 1 else f"{count} deliveries"


@dataclasses.dataclass(frozen=True)
class Step:
    """One event on one stream (or in an outbox), and where it stands now."""

    at: str  # ISO 8601, UTC: when the event was made
    service: str  # who published it: a service, or "agency" on the intake
    stream: str
    entry_id: str | None  # None for an event in an outbox, not on its stream
    # None only for a parked intake entry, whose envelope stays in the referral service.
    event_id: str | None
    event_type: str | None
    event_version: int | None
    correlation_id: str | None
    causation_id: str | None
    state: tuple[State, ...]
    replay_of: str | None = None  # the dead letter this entry was replayed from

    def to_dict(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["state"] = [{**dataclasses.asdict(s), "text": s.describe()} for s in self.state]
        return found


@dataclasses.dataclass(frozen=True)
class Trace:
    query: str
    steps: list[Step]  # oldest first
    scanned: int  # stream entries read, and outbox rows naming an id looked for
    truncated: bool  # the bound was hit: older entries were not read
    limit: int
    # Services whose outbox could not be read (database unreachable): their unsent
    # events are missing from `steps`.
    unread_outboxes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        found = dataclasses.asdict(self)
        found["steps"] = [step.to_dict() for step in self.steps]
        found["unread_outboxes"] = list(self.unread_outboxes)
        return found


def checked(wanted: str) -> str:
    """`wanted` stripped, or BadQuery naming what an id may hold (never echoing it)."""
    text = wanted.strip()
    if not _ID.fullmatch(text):
        raise BadQuery(
            "give a referral id, an event id or a correlation id: 1 to 64 letters, "
            "digits, '.', '_', ':' or '-'"
        )
    return text


@dataclasses.dataclass(frozen=True)
class Event:
    """An envelope's identifiers: all a trace reads of an event."""

    event_id: str | None
    event_type: str | None
    version: int | None
    source: str | None
    at: dt.datetime | None
    subject: str | None
    correlation_id: str | None
    causation_id: str | None
    referral_id: str | None  # from the payload, of a type carrying no personal data

    @property
    def names(self) -> set[str]:
        """The ids it is found by."""
        found = {self.event_id, self.correlation_id, self.subject, self.referral_id}
        return {name for name in found if name}


def _identifiers(raw: str | bytes) -> Event | None:
    """The identifiers of an entry's `event` field; None when it is no JSON object."""
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    kind = _matching(_TYPE, document.get("type"))
    data = document.get("data")
    readable = kind in registry.TYPES and kind not in _PERSONAL_TYPES and isinstance(data, dict)
    version = document.get("dataschemaversion")
    return Event(
        event_id=_matching(_ID, document.get("id")),
        event_type=kind,
        version=version if isinstance(version, int) else None,
        source=document.get("source") if isinstance(document.get("source"), str) else None,
        at=_time(document.get("time")),
        subject=_matching(_ID, document.get("subject")),
        correlation_id=_matching(_ID, document.get("correlationid")),
        causation_id=_matching(_ID, document.get("causationid")),
        referral_id=_matching(_ID, cast(dict[str, Any], data).get("referral_id"))
        if readable
        else None,
    )


def _matching(pattern: re.Pattern[str], value: object) -> str | None:
    """`value` when it reads as an id: anything else an agency wrote there is not shown."""
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or dt.UTC).astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True)
class _Entry:
    stream: str
    entry_id: str
    event: Event | None
    replay_of: str | None


@dataclasses.dataclass
class _Found:
    entries: list[_Entry] = dataclasses.field(default_factory=list)
    letters: list[tuple[dlq.DeadLetter, Event | None]] = dataclasses.field(default_factory=list)
    rows: list[tuple[outboxes.Row, Event]] = dataclasses.field(default_factory=list)
    unread: list[str] = dataclasses.field(default_factory=list)
    scanned: int = 0
    truncated: bool = False

    def cases(self) -> set[str]:
        """The correlation and referral ids of every event found: the chains they are of.

        Not subjects: an intake entry's is whatever its agency chose, maybe the same for
        every entry it sends, which would bring in all of them.
        """
        events = [entry.event for entry in self.entries] + [e for _, e in self.letters]
        events += [e for _, e in self.rows]
        found = [(e.correlation_id, e.referral_id) for e in events if e is not None]
        return {name for names in found for name in names if name}


def find(client: redis.Redis, wanted: str, *, limit: int = MAX_SCANNED) -> Trace:
    """Every event about `wanted` in the streams, dead letters and outboxes, oldest first.

    About it: naming it (as its event, correlation or referral id), or of a chain one
    of those is of. Looked for again while a look finds another chain (an event id's
    correlation, a referral's intake reply), `MAX_LOOKS` times at most, each look
    reading up to `limit` entries (and rows of each outbox). Rejected: keeping what
    the first look read to search it again, which would hold `limit` entries' events
    in memory.
    """
    query = checked(wanted)
    names = {query}
    found = _look(client, names, limit)
    for _ in range(MAX_LOOKS - 1):
        wider = names | found.cases()
        if wider == names:
            break
        names, before = wider, found
        found = _look(client, names, limit)
        found.scanned += before.scanned
        found.truncated |= before.truncated
    return Trace(
        query=query,
        steps=_steps(client, found),
        scanned=found.scanned,
        truncated=found.truncated,
        limit=limit,
        unread_outboxes=tuple(found.unread),
    )


def _look(client: redis.Redis, names: set[str], limit: int) -> _Found:
    found = _Found()
    letters = set(streams.DEAD_LETTERS_BY_SERVICE.values())
    keys = dlq.verifier()
    for stream, entry_id, fields in _newest_first(client, status.names(client), limit, found):
        if stream in letters:
            if _names_letter(entry_id, fields, names):
                letter = dlq.DeadLetter.from_entry(stream, entry_id, fields, keys)
                found.letters.append((letter, _identifiers(letter.event)))
        elif _names_entry(entry_id, fields, names):
            raw = fields.get(streams.ENTRY_FIELD, "")
            replay_of = _matching(_ID, fields.get(streams.REPLAY_FIELD))
            found.entries.append(
                _Entry(stream, entry_id, _identifiers(raw) if raw else None, replay_of)
            )
    for service in catalog.SERVICES:
        rows = outboxes.matching(service, names, limit)
        if rows is None:
            found.unread.append(service)
            continue
        read = [(row, _identifiers(row.body)) for row in rows]
        found.rows += [(row, e) for row, e in read if e is not None and e.names & names]
        found.scanned += len(rows)
        found.truncated |= len(rows) >= limit
    return found


def _newest_first(
    client: redis.Redis, names: list[str], limit: int, found: _Found
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every entry of `names`, a page of each stream in turn, newest first, up to `limit`.

    In turn, so one huge stream cannot spend the whole bound; newest first, so what a
    bound leaves out is the oldest, least likely to be stuck.
    """
    before = dict.fromkeys(names, "+")
    while before:
        for stream in list(before):
            count = min(PAGE, limit - found.scanned)
            if count <= 0:
                found.truncated = True
                return
            page = _page(client, stream, before[stream], count)
            found.scanned += len(page)
            if len(page) < count:
                del before[stream]
            else:
                before[stream] = f"({page[-1][0]}"
            for entry_id, fields in page:
                yield stream, entry_id, fields


def _page(client: redis.Redis, stream: str, end: str, count: int) -> list[Any]:
    # The client decodes answers (operations.with_redis), which its types cannot express.
    return cast(list[Any], client.xrevrange(stream, end, "-", count=count))


def _names_entry(entry_id: str, fields: dict[str, str], names: set[str]) -> bool:
    if entry_id in names:
        return True
    raw = fields.get(streams.ENTRY_FIELD, "")
    # A substring test first: parsing every entry read would cost the bound ten times over.
    if not any(name in raw for name in names):
        return False
    found = _identifiers(raw)
    return found is not None and bool(found.names & names)


def _names_letter(entry_id: str, fields: dict[str, str], names: set[str]) -> bool:
    return fields.get("origin_id") in names or _names_entry(entry_id, fields, names)


def _steps(client: redis.Redis, found: _Found) -> list[Step]:
    letters = {(letter.origin_stream, letter.origin_id): (letter, e) for letter, e in found.letters}
    groups: dict[str, list[dict[str, Any]]] = {}
    steps = []
    for entry in found.entries:
        if entry.stream not in groups:
            groups[entry.stream] = client.xinfo_groups(entry.stream)
        state = _states(client, entry, groups[entry.stream], letters)
        steps.append(_step(entry.stream, entry.entry_id, entry.event, state, entry.replay_of))
    on_streams = {(entry.stream, entry.entry_id) for entry in found.entries}
    # A letter whose entry is gone (an intake entry is deleted as it is dead-lettered).
    for (stream, entry_id), (letter, letter_event) in letters.items():
        if (stream, entry_id) not in on_streams:
            state = (_dead(letter),)
            steps.append(_step(stream, entry_id, letter_event, state, letter.replay_of))
    sent = {entry.event.event_id for entry in found.entries if entry.event is not None}
    sent |= {e.event_id for _, e in found.letters if e is not None}
    steps += [
        _outbox_step(row, e) for row, e in found.rows if row.unsent or row.event_id not in sent
    ]
    return sorted(steps, key=_order)


def _states(
    client: redis.Redis,
    entry: _Entry,
    groups: list[dict[str, Any]],
    letters: dict[tuple[str, str], tuple[dlq.DeadLetter, Event | None]],
) -> tuple[State, ...]:
    letter = letters.get((entry.stream, entry.entry_id), (None, None))[0]
    if not groups and letter is None:
        return (State("unread"),)
    found = []
    for info in groups:
        group = str(info["name"])
        if letter is not None and letter.group == group:
            found.append(_dead(letter))
            continue
        pending = client.xpending_range(entry.stream, group, entry.entry_id, entry.entry_id, 1)
        if pending:
            found.append(_pending(group, pending[0]))
        elif _position(entry.entry_id) <= _position(str(info["last-delivered-id"])):
            found.append(State("done", group=group))
        else:
            found.append(State("undelivered", group=group))
    # Given up on by a group since deleted: the letter still says where the event is.
    if letter is not None and letter.group not in {str(info["name"]) for info in groups}:
        found.append(_dead(letter))
    return tuple(found)


def _pending(group: str, item: dict[str, Any]) -> State:
    return State(
        "pending",
        group=group,
        consumer=str(item["consumer"]),
        deliveries=int(item["times_delivered"]),
        idle_s=int(item["time_since_delivered"]) / 1000,
    )


def _dead(letter: dlq.DeadLetter) -> State:
    service = letter.stream.removeprefix(streams.dead_letters(""))
    return State(
        "dead_lettered",
        group=letter.group,
        service=service,
        dead_letter_id=letter.id,
        deliveries=letter.deliveries,
        forged=letter.forged,
    )


def _step(
    stream: str,
    entry_id: str,
    found: Event | None,
    state: tuple[State, ...],
    replay_of: str | None,
) -> Step:
    at = found.at if found is not None and found.at else _entry_time(entry_id)
    return Step(
        at=at.isoformat(timespec="microseconds"),
        service=_publisher(stream, found),
        stream=stream,
        entry_id=entry_id,
        event_id=found.event_id if found else None,
        event_type=found.event_type if found else None,
        event_version=found.version if found else None,
        correlation_id=found.correlation_id if found else None,
        causation_id=found.causation_id if found else None,
        state=state,
        replay_of=replay_of,
    )


def _outbox_step(row: outboxes.Row, found: Event) -> Step:
    kind = "unsent" if row.unsent else "gone"
    return Step(
        at=(found.at or row.created_at).isoformat(timespec="microseconds"),
        service=row.service,
        stream=row.stream,
        entry_id=None,
        event_id=row.event_id,
        event_type=found.event_type,
        event_version=found.version,
        correlation_id=found.correlation_id,
        causation_id=found.causation_id,
        state=(State(kind, service=row.service),),
    )


def _publisher(stream: str, found: Event | None) -> str:
    """The service that sent it, by its envelope's `source`; "agency" on the intake."""
    if found is not None and found.source in _KNOWN_SOURCES:
        return _KNOWN_SOURCES[found.source]
    if streams.template_of(stream) == streams.INTAKE:
        return "agency"
    return "unknown"


def _position(entry_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in entry_id.split("-"))


def _entry_time(entry_id: str) -> dt.datetime:
    """When Redis added the entry: its id's milliseconds."""
    return dt.datetime.fromtimestamp(_position(entry_id)[0] / 1000, dt.UTC)


def _order(step: Step) -> tuple[str, tuple[int, ...]]:
    # Same-time steps by entry id; an outbox row (no entry) after those on streams.
    return step.at, _position(step.entry_id) if step.entry_id else (2**64,)


def table(trace: Trace) -> str:
    """One line per step and group: time, service, type, stream, state; columns as wide
    as their longest value (a stream of an organization is 60 characters)."""
    rows = [("TIME", "SERVICE", "TYPE", "STREAM")]
    for step in trace.steps:
        version = f" v{step.event_version}" if step.event_version else ""
        kind = f"{step.event_type or '-'}{version}"
        rows.append((step.at[:19].replace("T", " "), step.service, kind, step.stream))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    heads = ["  ".join(f"{value:<{width}}" for value, width in zip(row, widths, strict=True))
             for row in rows]  # fmt: skip
    lines = [f"{heads[0]}  STATE"]
    for head, step in zip(heads[1:], trace.steps, strict=True):
        for number, state in enumerate(step.state):
            lines.append(f"{head if number == 0 else ' ' * len(head)}  {state.describe()}")
    if trace.truncated:
        lines.append(f"(stopped after {trace.scanned} entries: older ones were not read)")
    lines.extend(f"({service}'s outbox could not be read)" for service in trace.unread_outboxes)
    return "\n".join(lines)
