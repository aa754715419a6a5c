"""An operator watching the queues: `korpu status` and `korpu dlq` against a real Redis."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from korpu_contracts import streams
from support import bus, cli


def _korpu(*args: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "korpu", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "REDIS_URL": redis_url},
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _json(*args: str, redis_url: str) -> Any:
    done = _korpu(*args, "--json", redis_url=redis_url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def client(redis_db: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_db, decode_responses=True) as connection:
        yield connection


def _event(note: str) -> str:
    # Shaped like an envelope; the CLI never looks inside it.
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "korpu.shelter.task_requested",
            "subject": "case-7f3a",
            "data": {"category": "women", "region": "Ganja", "note": note},
        }
    )


def _dead_letter(
    client: redis.Redis,
    event: str,
    *,
    origin_stream: str = streams.SHELTER_REQUESTS,
    replay_of: str | None = None,
) -> str:
    """A dead letter as the runtime writes it (the runtime's side is tested on its own)."""
    fields = {
        "origin_stream": origin_stream,
        "origin_id": "1767225600000-0",
        "group": streams.GROUP_SHELTER,
        "handler": "shelter.entrypoints.consumers.on_task_requested",
        "error": "OperationalError: database is locked\n  File ...\n" + "x" * 200,
        "deliveries": "5",
        "dead_at": dt.datetime.now(dt.UTC).isoformat(),
        streams.ENTRY_FIELD: event,
    }
    if replay_of is not None:
        fields[streams.REPLAY_FIELD] = replay_of
    # Signed as the service reading the origin stream, which alone writes its letters.
    writer = streams.READERS[origin_stream]
    letters = streams.dead_letters(writer)
    letter = bus.signer(writer).signed(letters, fields)
    return str(client.xadd(letters, letter))  # type: ignore[arg-type]


def _resolved(client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange(streams.DEAD_LETTERS_RESOLVED)]


def test_the_list_shows_every_dead_letter_oldest_first_without_its_event(
    redis_db: str, client: redis.Redis
) -> None:
    first = _dead_letter(client, _event("first-body"))
    second = _dead_letter(client, _event("second-body"), replay_of=first)
    letters = _json("dlq", "list", redis_url=redis_db)
    assert [letter["id"] for letter in letters] == [first, second]
    assert letters[0]["origin_stream"] == streams.SHELTER_REQUESTS
    assert letters[0]["group"] == streams.GROUP_SHELTER
    assert letters[0]["deliveries"] == 5
    assert letters[0]["error"].startswith("OperationalError: database is locked")
    assert {"origin_id", "handler", "dead_at"} <= set(letters[0])
    assert (letters[0]["replay_of"], letters[1]["replay_of"]) == (None, first)
    assert all("event" not in letter for letter in letters)
    table = _korpu("dlq", "list", redis_url=redis_db)
    assert table.returncode == 0 and first in table.stdout and second in table.stdout
    assert "first-body" not in table.stdout and "x" * 200 not in table.stdout


def test_show_prints_one_dead_letter_with_its_original_event(
    redis_db: str, client: redis.Redis
) -> None:
    event = _event("show-me")
    letter_id = _dead_letter(client, event)
    shown = _json("dlq", "show", letter_id, redis_url=redis_db)
    assert shown["id"] == letter_id and shown["deliveries"] == 5
    assert shown["event"] == json.loads(event)
    assert "show-me" in _korpu("dlq", "show", letter_id, redis_url=redis_db).stdout
    # An event that is not JSON is shown as it was, not lost.
    raw_id = _dead_letter(client, "not json {")
    assert _json("dlq", "show", raw_id, redis_url=redis_db)["event"] == "not json {"


def test_replay_puts_the_event_back_on_its_stream_marked_as_a_replay(
    redis_db: str, client: redis.Redis
) -> None:
    event = _event("replay-me")
    letter_id = _dead_letter(client, event)
    done = _korpu("dlq", "replay", letter_id, redis_url=redis_db)
    assert done.returncode == 0, done.stderr
    assert letter_id in done.stdout and streams.SHELTER_REQUESTS in done.stdout
    [(_id, fields)] = client.xrange(streams.SHELTER_REQUESTS)
    assert fields == {streams.ENTRY_FIELD: event, streams.REPLAY_FIELD: letter_id}
    assert _json("dlq", "list", redis_url=redis_db) == []
    [record] = _resolved(client)
    assert (record["id"], record["action"], record["reason"]) == (letter_id, "replayed", "")
    assert record["at"]
    # Replayed once only: a second replay finds nothing.
    assert _korpu("dlq", "replay", letter_id, redis_url=redis_db).returncode == 1
    assert client.xlen(streams.SHELTER_REQUESTS) == 1


def test_replay_all_sends_every_dead_letter_home(redis_db: str, client: redis.Redis) -> None:
    to_shelter = _dead_letter(client, _event("a"))
    to_lawyers = _dead_letter(client, _event("b"), origin_stream=streams.LEGAL_AID_REQUESTS)
    done = _korpu("dlq", "replay", "--all", redis_url=redis_db)
    assert done.returncode == 0, done.stderr
    assert to_shelter in done.stdout and to_lawyers in done.stdout
    assert client.xlen(streams.SHELTER_REQUESTS) == client.xlen(streams.LEGAL_AID_REQUESTS) == 1
    assert client.xlen(streams.dead_letters("shelter")) == 0
    assert [record["id"] for record in _resolved(client)] == [to_shelter, to_lawyers]
    # Neither an id nor --all: refused before touching Redis.
    assert _korpu("dlq", "replay", redis_url=redis_db).returncode == 2


def test_discard_needs_a_reason_and_keeps_it(redis_db: str, client: redis.Redis) -> None:
    letter_id = _dead_letter(client, _event("never"))
    for refused in ([], ["--reason", "   "], ["--reason", "r" * 501]):
        done = _korpu("dlq", "discard", letter_id, *refused, redis_url=redis_db)
        assert done.returncode == 2 and "reason" in done.stderr
    assert client.xlen(streams.dead_letters("shelter")) == 1
    reason = "test referral sent by the hotline's staging system"
    done = _korpu("dlq", "discard", letter_id, "--reason", reason, redis_url=redis_db)
    assert done.returncode == 0, done.stderr
    assert client.xlen(streams.dead_letters("shelter")) == 0
    assert client.xlen(streams.SHELTER_REQUESTS) == 0  # discarded, not replayed
    [record] = _resolved(client)
    assert (record["id"], record["action"], record["reason"]) == (letter_id, "discarded", reason)


@pytest.mark.parametrize("command", ["show", "replay", "discard"])
@pytest.mark.parametrize("unknown", ["1-1", "not-an-id"])
def test_an_unknown_dead_letter_is_one_line_and_exit_1(
    redis_db: str, client: redis.Redis, command: str, unknown: str
) -> None:
    _dead_letter(client, _event("bystander"))
    extra = ["--reason", "gone"] if command == "discard" else []
    done = _korpu("dlq", command, unknown, *extra, redis_url=redis_db)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and unknown in done.stderr
    assert client.xlen(streams.dead_letters("shelter")) == 1


def test_status_shows_lengths_lag_pending_consumers_and_dead_letters(
    redis_db: str, client: redis.Redis
) -> None:
    stream, group = streams.SHELTER_REQUESTS, streams.GROUP_SHELTER
    client.xgroup_create(stream, group, id="0", mkstream=True)
    for number in range(3):
        client.xadd(stream, {streams.ENTRY_FIELD: _event(str(number))})
    # One entry delivered and never acknowledged: pending on its consumer.
    client.xreadgroup(group, "shelter-host-1", {stream: ">"}, count=1)
    _dead_letter(client, _event("dead"))
    report = _json("status", redis_url=redis_db)
    assert set(report) == {"at", "streams", "dead_letters", "problems"}
    assert report["dead_letters"] == 1
    by_name = {entry["name"]: entry for entry in report["streams"]}
    # Every stream of the topology, those made per organization as many as exist (none).
    fixed = [name for name in streams.ALL if name not in streams.PER_ORGANIZATION]
    assert list(by_name) == [*fixed, *streams.DEAD_LETTERS_BY_SERVICE.values()]
    assert by_name[streams.SHELTER_UPDATES] == {
        "name": streams.SHELTER_UPDATES,
        "length": 0,
        "groups": [],
    }
    assert by_name[streams.dead_letters("shelter")]["length"] == 1
    shelter = by_name[stream]
    assert set(shelter) == {"name", "length", "groups"} and shelter["length"] == 3
    [info] = shelter["groups"]
    assert set(info) == {
        "name", "lag", "pending", "oldest_pending_age_s", "oldest_undelivered_age_s", "consumers"
    }  # fmt: skip
    assert 0 <= info["oldest_undelivered_age_s"] < 60  # the second of three, added just now
    assert (info["name"], info["lag"], info["pending"]) == (group, 2, 1)
    assert info["oldest_pending_age_s"] >= 0
    [consumer] = info["consumers"]
    assert set(consumer) == {"name", "pending", "idle_s"}
    assert (consumer["name"], consumer["pending"]) == ("shelter-host-1", 1)
    assert consumer["idle_s"] >= 0
    table = _korpu("status", redis_url=redis_db)
    assert table.returncode == 0 and "shelter-host-1" in table.stdout
    assert "dead letters: 1" in table.stdout


def test_status_counts_the_lag_when_redis_cannot_tell(redis_db: str, client: redis.Redis) -> None:
    # The referral service deletes intake entries; a deleted entry after the group's
    # position makes Redis 7 report the lag as null.
    stream, group = streams.intake(str(uuid.uuid4())), streams.GROUP_REFERRAL_INTAKE
    client.xgroup_create(stream, group, id="0", mkstream=True)
    ids = [client.xadd(stream, {streams.ENTRY_FIELD: _event(str(n))}) for n in range(4)]
    client.xreadgroup(group, "referral-host-1", {stream: ">"}, count=1)
    client.xdel(stream, ids[2])
    report = _json("status", redis_url=redis_db)
    [intake] = [entry for entry in report["streams"] if entry["name"] == stream]
    assert intake["groups"][0]["lag"] == 2
    assert intake["groups"][0]["oldest_pending_age_s"] >= 0


def test_nothing_pending_reads_null_not_zero(redis_db: str, client: redis.Redis) -> None:
    client.xgroup_create(streams.SHELTER_UPDATES, streams.GROUP_REFERRAL_COORDINATOR, "0", True)
    report = _json("status", redis_url=redis_db)
    [updates] = [entry for entry in report["streams"] if entry["name"] == streams.SHELTER_UPDATES]
    assert updates["groups"][0]["oldest_pending_age_s"] is None
    assert updates["groups"][0]["oldest_undelivered_age_s"] is None
    assert updates["groups"][0]["lag"] == 0 and updates["groups"][0]["consumers"] == []


@pytest.mark.parametrize("args", [["status"], ["dlq", "list"], ["dlq", "replay", "--all"]])
def test_an_unreachable_redis_is_one_clear_line_and_exit_2(args: list[str]) -> None:
    url = "redis://127.0.0.1:1/0"
    done = _korpu(*args, redis_url=url)
    assert done.returncode == 2
    assert done.stderr.startswith(f"korpu: cannot reach Redis at {url}: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_letters_of_two_services_with_one_id_are_told_apart_by_service(
    client: redis.Redis, redis_db: str
) -> None:
    # Two services giving up in the same millisecond write the same id in their streams.
    for origin in (streams.SHELTER_REQUESTS, streams.LEGAL_AID_REQUESTS):
        writer = streams.reader_of(origin)
        assert writer is not None
        letters = streams.dead_letters(writer)
        fields = {"origin_stream": origin, "error": "x", "deliveries": "5", "event": "{}"}
        client.xadd(letters, bus.signer(writer).signed(letters, fields), id="1767225600000-0")
    listed = {letter["id"] for letter in _json("dlq", "list", redis_url=redis_db)}
    assert listed == {"shelter/1767225600000-0", "legal_aid/1767225600000-0"}
    assert _korpu("dlq", "show", "1767225600000-0", redis_url=redis_db).returncode == 1
    shown = _json("dlq", "show", "legal_aid/1767225600000-0", redis_url=redis_db)
    assert shown["origin_stream"] == streams.LEGAL_AID_REQUESTS
    discarded = _korpu(
        "dlq", "discard", "shelter/1767225600000-0", "--reason", "x", redis_url=redis_db
    )
    assert discarded.returncode == 0, discarded.stderr
    assert client.xlen(streams.dead_letters("shelter")) == 0
    assert client.xlen(streams.dead_letters("legal_aid")) == 1


def test_replay_and_discard_print_one_json_document(redis_db: str, client: redis.Redis) -> None:
    replayed_id = _dead_letter(client, _event("replay-me"))
    discarded_id = _dead_letter(client, _event("never"), origin_stream=streams.LEGAL_AID_REQUESTS)
    replayed = _json("dlq", "replay", replayed_id, redis_url=redis_db)
    [(new_id, _fields)] = client.xrange(streams.SHELTER_REQUESTS)
    assert replayed == {
        "replayed": [
            {"id": replayed_id, "origin_stream": streams.SHELTER_REQUESTS, "entry_id": new_id}
        ],
        "forged": [],
    }
    discarded = _json("dlq", "discard", discarded_id, "--reason", "a test referral",
                      redis_url=redis_db)  # fmt: skip
    assert discarded == {
        "discarded": {
            "id": discarded_id,
            "origin_stream": streams.LEGAL_AID_REQUESTS,
            "reason": "a test referral",
        }
    }
    assert _json("dlq", "replay", "--all", redis_url=redis_db) == {"replayed": [], "forged": []}
    # An error is still one line on stderr, its exit code unchanged, nothing on stdout.
    gone = _korpu("dlq", "discard", discarded_id, "--reason", "x", "--json", redis_url=redis_db)
    assert (gone.returncode, gone.stdout, gone.stderr.count("\n")) == (1, "", 1)


def _read_everything(client: redis.Redis, stream: str, group: str) -> None:
    """A reader that took every entry of `stream` (one at least) and acknowledged it: a quiet
    group. (A reader finding nothing to read is not listed as the group's consumer.)"""
    client.xgroup_create(stream, group, id="0", mkstream=True)
    client.xadd(stream, {streams.ENTRY_FIELD: _event("done")})
    for _stream, entries in client.xreadgroup(group, "host-1", {stream: ">"}):
        client.xack(stream, group, *(entry_id for entry_id, _fields in entries))


def _check(redis_url: str) -> tuple[int, str, list[dict[str, Any]]]:
    """`korpu status --check`: exit code, its stderr; and the problems of `--check --json`."""
    text = _korpu("status", "--check", redis_url=redis_url)
    assert text.stdout == "", "--check prints the problems on stderr only"
    as_json = _korpu("status", "--check", "--json", redis_url=redis_url)
    assert as_json.returncode == text.returncode, as_json.stderr
    return text.returncode, text.stderr, json.loads(as_json.stdout)["problems"]


def test_status_check_is_quiet_and_0_on_a_quiet_system(redis_db: str, client: redis.Redis) -> None:
    _read_everything(client, streams.SHELTER_REQUESTS, streams.GROUP_SHELTER)
    assert _check(redis_db) == (0, "", [])
    report = _json("status", redis_url=redis_db)
    assert set(report) == {"at", "streams", "dead_letters", "problems"}
    assert report["problems"] == []
    assert _korpu("status", redis_url=redis_db).stdout.endswith("problems: none\n")


def test_status_check_exits_1_on_a_group_nobody_reads(redis_db: str, client: redis.Redis) -> None:
    _read_everything(client, streams.SHELTER_REQUESTS, streams.GROUP_SHELTER)
    # A group with an entry added two minutes ago, and no consumer ever came for it.
    stream, group = streams.LEGAL_AID_REQUESTS, streams.GROUP_LEGAL_AID
    client.xgroup_create(stream, group, id="0", mkstream=True)
    assert _check(redis_db) == (0, "", [])  # a group with nothing to read needs no reader
    added_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 120_000
    client.xadd(stream, {streams.ENTRY_FIELD: _event("waiting")}, id=f"{added_ms}-0")
    code, stderr, [problem] = _check(redis_db)
    message = f"{stream}, group {group}: no reader (an entry waiting 2m, no consumer)"
    assert (code, stderr) == (1, f"korpu status: {message}\n")
    assert set(problem) == {"check", "stream", "group", "value", "limit", "message"}
    assert (problem["check"], problem["stream"], problem["group"]) == ("no_reader", stream, group)
    assert (problem["limit"], problem["message"]) == (60, message)
    assert problem["value"] >= 120


def test_a_problem_is_one_line_without_escape_sequences_whatever_a_group_is_named(
    redis_db: str, client: redis.Redis
) -> None:
    # Anyone with access to Redis names groups; the operator's terminal stays theirs.
    named = "x\x1b]0;pwned\x07\nkorpu status: all is well\x1b[2J"
    client.xgroup_create(streams.SHELTER_REQUESTS, named, id="0", mkstream=True)
    added_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000) - 120_000
    client.xadd(streams.SHELTER_REQUESTS, {streams.ENTRY_FIELD: "{}"}, id=f"{added_ms}-0")
    code, stderr, [problem] = _check(redis_db)
    assert code == 1 and problem["group"] == named  # JSON carries it, escaped by JSON
    assert stderr.count("\n") == 1 and "\x1b" not in stderr and "\x07" not in stderr
    table = _korpu("status", redis_url=redis_db).stdout
    assert "\x1b" not in table and "\nkorpu status: all is well" not in table


def test_status_check_exits_1_on_a_dead_letter_an_old_pending_entry_and_a_long_lag(
    redis_db: str, client: redis.Redis
) -> None:
    _read_everything(client, streams.SHELTER_REQUESTS, streams.GROUP_SHELTER)
    _dead_letter(client, _event("dead"))
    # An entry delivered to a reader and never acknowledged, 400 s ago (XCLAIM's IDLE).
    stuck, group = streams.EMPLOYMENT_REQUESTS, streams.GROUP_EMPLOYMENT
    client.xgroup_create(stuck, group, id="0", mkstream=True)
    entry_id = client.xadd(stuck, {streams.ENTRY_FIELD: _event("stuck")})
    client.xreadgroup(group, "employment-host-1", {stuck: ">"})
    client.xclaim(stuck, group, "employment-host-1", 0, [entry_id], idle=400_000)
    # 1001 entries no reader took yet, behind one that was.
    behind = streams.LEGAL_AID_REQUESTS
    _read_everything(client, behind, streams.GROUP_LEGAL_AID)
    with client.pipeline() as pipe:
        for number in range(1001):
            pipe.xadd(behind, {streams.ENTRY_FIELD: str(number)})
        pipe.execute()
    code, stderr, problems = _check(redis_db)
    assert code == 1
    found = {(p["check"], p["stream"]): p for p in problems}
    assert set(found) == {
        ("dead_letters", streams.dead_letters("shelter")),
        ("pending_too_long", stuck),
        ("lag_too_high", behind),
    }
    assert found["dead_letters", streams.dead_letters("shelter")]["value"] == 1
    assert found["pending_too_long", stuck]["value"] >= 400
    assert found["pending_too_long", stuck]["limit"] == 300
    assert (found["lag_too_high", behind]["value"], found["lag_too_high", behind]["limit"]) == (
        1001,
        1000,
    )
    assert stderr.count("\n") == 3 and all(
        line.startswith("korpu status: ") for line in stderr.splitlines()
    )
    assert "pending for 6m" in stderr and "lag 1001 entries" in stderr


@pytest.mark.parametrize("as_json", [True, False], ids=["ndjson", "text"])
def test_status_watch_looks_again_until_ctrl_c_and_exits_0(redis_db: str, as_json: bool) -> None:
    args = ["status", "--watch", "--interval", "0.2", *(["--json"] if as_json else [])]
    watch = subprocess.Popen(
        [sys.executable, "-m", "korpu", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "REDIS_URL": redis_db},
    )  # fmt: skip
    with cli.stopped_at_the_end(watch, signal.SIGKILL):
        assert watch.stdout is not None
        looks: list[str] = []
        for line in watch.stdout:  # ends if the process does
            if line.startswith("{" if as_json else "korpu status, every 0.2 s"):
                looks.append(line)
            if len(looks) == 2:
                break
        assert len(looks) == 2, watch.stderr and watch.stderr.read()
        watch.send_signal(signal.SIGINT)
        _rest, stderr = watch.communicate(timeout=30)
    assert watch.returncode == 0 and stderr == ""
    if as_json:
        first, second = (json.loads(line) for line in looks)
        assert set(first) == set(second) == {"at", "streams", "dead_letters", "problems"}
        assert first["at"] < second["at"]
