"""Dead letters: the entries the runtime gave up on, and what an operator does with each."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import redis

from korpu_contracts import streams
from korpu_runtime import audit, signing

# An error is often a traceback: the table shows its start, `show` prints it whole.
ERROR_WIDTH = 60
TEXT_FIELDS = ("origin_stream", "origin_id", "group", "handler", "error", "dead_at")


class UnknownDeadLetter(LookupError):
    """No dead letter has this id: mistyped, or already replayed or discarded."""


class ForgedDeadLetter(ValueError):
    """A letter not written by the service reading its origin stream: never replayed."""


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    id: str
    # The dead letters it is in: its writer's own (streams.DEAD_LETTERS_BY_SERVICE).
    stream: str
    origin_stream: str
    origin_id: str
    group: str
    handler: str
    error: str
    deliveries: int
    dead_at: str
    replay_of: str | None
    event: str
    # Set instead of `event` for an entry carrying personal data (streams.PARKED_FIELD).
    parked: str | None = None
    # The original entry's signature, sent back with it on a replay.
    event_signature: str = ""
    # Why the letter is not genuine (korpu_runtime.signing), or None when it is.
    forged: str | None = None

    @classmethod
    def from_entry(
        cls, stream: str, entry_id: str, fields: dict[str, str], verifier: signing.Verifier
    ) -> DeadLetter:
        # A tolerant reader: a field the runtime did not write reads empty rather than
        # making the one tool an operator has in an incident crash on it.
        text = {name: fields.get(name, "") for name in TEXT_FIELDS}
        deliveries = fields.get("deliveries", "")
        return cls(
            id=entry_id,
            stream=stream,
            **text,
            deliveries=int(deliveries) if deliveries.isdigit() else 0,
            replay_of=fields.get(streams.REPLAY_FIELD) or None,
            event=fields.get(streams.ENTRY_FIELD, ""),
            parked=fields.get(streams.PARKED_FIELD) or None,
            event_signature=fields.get(streams.EVENT_SIGNATURE_FIELD, ""),
            forged=_forged(verifier, stream, fields),
        )

    @property
    def entry_id(self) -> str:
        """The id in its stream (`id` is `<service>/<entry id>` where two services share it)."""
        return self.id.rpartition("/")[2]

    @property
    def event_type(self) -> str:
        """The type its envelope names; "" for a parked entry or one that is not JSON."""
        if self.parked:
            return ""
        event = _parsed(self.event)
        found = event.get("type") if isinstance(event, dict) else None
        return found if isinstance(found, str) else ""

    @property
    def dead_at_ms(self) -> int:
        """When it was written, from its id: no date parsing needed."""
        return int(self.entry_id.split("-")[0])

    def summary(self) -> dict[str, Any]:
        """Every field but the event, which may be large, and its signature."""
        result = dataclasses.asdict(self)
        del result["event"], result["event_signature"]
        return result

    def full(self) -> dict[str, Any]:
        return {**self.summary(), "event": _parsed(self.event)}


def _forged(verifier: signing.Verifier, stream: str, fields: dict[str, str]) -> str | None:
    try:
        verifier.dead_letter_writer(stream, fields)
    except signing.Refused as refused:
        return str(refused)
    return None


def verifier() -> signing.Verifier:
    """The services' public keys, found where the services keep them."""
    from korpu_runtime.settings import ServiceSettings

    return signing.Verifier(ServiceSettings(service="operator").keys_dir)


def list_all(client: redis.Redis) -> list[DeadLetter]:
    """Every service's, oldest first: stream ids grow with time."""
    keys = verifier()
    letters = [
        DeadLetter.from_entry(stream, *entry, keys)
        for stream in streams.DEAD_LETTERS_BY_SERVICE.values()
        for entry in _entries(client, stream, "-", "+")
    ]
    # Two services may give up on an entry in the same millisecond: the same id in two
    # streams. Such a letter is named `<service>/<entry id>`, which `get` also takes.
    seen = Counter(letter.id for letter in letters)
    named = [_qualified(letter) if seen[letter.id] > 1 else letter for letter in letters]
    return sorted(named, key=lambda letter: _order(letter.entry_id))


def _qualified(letter: DeadLetter) -> DeadLetter:
    service = letter.stream.removeprefix(streams.dead_letters(""))
    return dataclasses.replace(letter, id=f"{service}/{letter.entry_id}")


def _order(entry_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in entry_id.split("-"))


def get(client: redis.Redis, letter_id: str, stream: str | None = None) -> DeadLetter:
    """The letter with this id, looked for in every service's dead letters (or `stream`)."""
    keys = verifier()
    service, _, entry_id = letter_id.rpartition("/")
    if service:
        stream = streams.dead_letters(service)
    found = []
    for where in (stream,) if stream else streams.DEAD_LETTERS_BY_SERVICE.values():
        try:
            entries = _entries(client, where, entry_id, entry_id)
        except redis.ResponseError as error:  # not a stream id at all
            raise UnknownDeadLetter(letter_id) from error
        found += [DeadLetter.from_entry(where, *entry, keys) for entry in entries]
    if len(found) != 1:  # none, or the same id in two streams: `<service>/<id>` then
        raise UnknownDeadLetter(letter_id)
    return dataclasses.replace(found[0], id=letter_id)


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which letters an operator means: every field set must match (all, when none is)."""

    stream: str = ""  # its origin stream
    type: str = ""  # its event's type
    error: str = ""  # a part of its error, any case
    since_ms: int | None = None
    until_ms: int | None = None

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (not self.stream or letter.origin_stream == self.stream)
            and (not self.type or letter.event_type == self.type)
            and (not self.error or self.error.casefold() in letter.error.casefold())
            and (self.since_ms is None or letter.dead_at_ms >= self.since_ms)
            and (self.until_ms is None or letter.dead_at_ms <= self.until_ms)
        )


def select(client: redis.Redis, selection: Selection) -> list[DeadLetter]:
    """The letters `selection` matches, oldest first."""
    return [letter for letter in list_all(client) if selection.matches(letter)]


def resolver() -> str:
    """Who resolves a letter from the command line: the login and host, as in the audit."""
    return audit.operator().id


def replay(client: redis.Redis, letter_id: str, by: str = "") -> tuple[DeadLetter, str]:
    """Put the original event back on its stream; returns the letter and the new entry id.

    Only a genuine letter, and only to the stream it names: its reader wrote and
    signed it (ForgedDeadLetter otherwise). The event goes back with its original
    signature, which its reader checks again: a replay makes nobody's entry valid.
    """

    def queue(pipe: redis.client.Pipeline, letter: DeadLetter) -> None:
        if letter.forged:
            raise ForgedDeadLetter(f"{letter.id}: {letter.forged}")
        fields = {streams.ENTRY_FIELD: letter.event, streams.REPLAY_FIELD: letter.id}
        if letter.event_signature:
            fields[streams.SIGNATURE_FIELD] = letter.event_signature
        if letter.parked:
            fields[streams.PARKED_FIELD] = letter.parked
        pipe.xadd(letter.origin_stream, fields)  # type: ignore[arg-type]
        _resolve(pipe, letter, "replayed", "", by or resolver())

    letter, results = _resolved_atomically(client, letter_id, queue)
    return letter, str(results[0])


def discard(client: redis.Redis, letter_id: str, reason: str, by: str = "") -> DeadLetter:
    """Drop a letter that must never be processed, keeping why (and who) in the resolved
    stream."""

    def queue(pipe: redis.client.Pipeline, letter: DeadLetter) -> None:
        _resolve(pipe, letter, "discarded", reason, by or resolver())

    return _resolved_atomically(client, letter_id, queue)[0]


def _resolved_atomically(
    client: redis.Redis,
    letter_id: str,
    queue: Callable[[redis.client.Pipeline, DeadLetter], None],
) -> tuple[DeadLetter, list[Any]]:
    """Read the letter, then run what `queue` adds and its removal in one MULTI/EXEC.

    One transaction, so a crash never leaves a letter both replayed and still listed
    (rejected: separate commands). WATCH makes two operators resolving the same letter
    at once act on it once: the second re-reads, finds it gone, gets UnknownDeadLetter.
    """
    stream = get(client, letter_id).stream
    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(stream)  # type: ignore[no-untyped-call]
                letter = get(pipe, letter_id, stream)  # immediate mode while watching
                pipe.multi()
                queue(pipe, letter)
                return letter, pipe.execute()
            except redis.WatchError:
                continue  # the stream changed (maybe a new letter): read again


def _entries(
    client: redis.Redis, stream: str, start: str = "-", end: str = "+"
) -> list[tuple[str, dict[str, str]]]:
    # The client decodes responses (cli._with_redis), which its types cannot express.
    return cast(list[tuple[str, dict[str, str]]], client.xrange(stream, start, end))


def _resolve(
    pipe: redis.client.Pipeline, letter: DeadLetter, action: str, reason: str, by: str
) -> None:
    pipe.xdel(letter.stream, letter.entry_id)
    at = dt.datetime.now(dt.UTC).isoformat()
    # `by`: a console user's name (`console:<name>`), or a command line's login@host.
    record = {"id": letter.id, "action": action, "reason": reason, "at": at, "by": by}
    pipe.xadd(streams.DEAD_LETTERS_RESOLVED, record)  # type: ignore[arg-type]


def table(letters: list[DeadLetter]) -> str:
    if not letters:
        return "No dead letters."
    now_ms = dt.datetime.now(dt.UTC).timestamp() * 1000
    lines = [f"{'ID':<17} {'ORIGIN STREAM':<26} {'DELIVERIES':>10} {'AGE':>6}  ERROR"]
    for letter in letters:
        # The entry id's time is when the letter was written: no date parsing needed.
        age_s = (now_ms - int(letter.entry_id.split("-")[0])) / 1000
        error = " ".join(letter.error.split())
        if letter.forged:
            error = f"FORGED: {error}"  # why, in `korpu dlq show`
        if len(error) > ERROR_WIDTH:
            error = error[: ERROR_WIDTH - 1] + "…"
        lines.append(
            f"{letter.id:<17} {letter.origin_stream:<26} {letter.deliveries:>10} "
            f"{age(age_s):>6}  {error}"
        )
    return "\n".join(lines)


def describe(letter: DeadLetter) -> str:
    """Every field, then the event pretty-printed when it is JSON."""
    lines = [
        f"{key + ':':<15} {'-' if value is None else value}"
        for key, value in letter.summary().items()
    ]
    return "\n".join([*lines, "event:", describe_event(letter)])


def describe_event(letter: DeadLetter) -> str:
    """The event pretty-printed when it is JSON; for a parked entry, only where it is."""
    if letter.parked:
        where = letter.origin_stream
        return f"(carries personal data: parked in the database of the service reading {where})"
    event = _parsed(letter.event)
    return event if isinstance(event, str) else json.dumps(event, indent=2, ensure_ascii=False)


def age(seconds: float) -> str:
    """3s, 4m, 2h, 6d: as precise as an operator reads at a glance."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(seconds, 0):.0f}s"


def _parsed(event: str) -> Any:
    try:
        return json.loads(event)
    except json.JSONDecodeError:
        return event
