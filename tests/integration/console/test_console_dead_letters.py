"""Dead letters from the page: an operator replays or discards; the server refuses a viewer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
import sqlalchemy as sa

from korpu.console import tables
from korpu_contracts import streams
from korpu_runtime.database import Database
from support import bus
from support.console import ConsoleProcess, SignedIn

LETTERS = streams.dead_letters("shelter")


@pytest.fixture
def client(redis_db: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_db, decode_responses=True) as connection:
        yield connection


def _dead_letter(client: redis.Redis, event_type: str, error: str) -> str:
    """A letter as the shelter service writes one: signed by it, for a stream it reads."""
    event = {"id": f"ev-{event_type}", "type": event_type, "subject": "case-1", "data": {}}
    fields = {
        "origin_stream": streams.SHELTER_REQUESTS,
        "origin_id": "1767225600000-0",
        "group": "shelter",
        "handler": "shelter",
        "error": error,
        "deliveries": "5",
        "dead_at": "2026-12-07T00:00:00+00:00",
        streams.ENTRY_FIELD: json.dumps(event),
    }
    signed = bus.signer("shelter").signed(LETTERS, fields)
    return str(client.xadd(LETTERS, signed))  # type: ignore[arg-type]


@pytest.fixture
def operator(console: ConsoleProcess) -> Iterator[SignedIn]:
    name = f"op-{id(console) % 10_000}-{len(console.korpu('users', 'list').stdout)}"
    signed = console.signed_in(name, console.account(name, "operator"))
    yield signed
    signed.http.close()


@pytest.fixture
def viewer(console: ConsoleProcess) -> Iterator[SignedIn]:
    name = f"view-{len(console.korpu('users', 'list').stdout)}"
    signed = console.signed_in(name, console.account(name, "viewer"))
    yield signed
    signed.http.close()


def _resolved(client: redis.Redis) -> list[dict[str, str]]:
    return [fields for _id, fields in client.xrange(streams.DEAD_LETTERS_RESOLVED)]


def _audit(console: ConsoleProcess, action: str) -> list[sa.Row[tuple[str, str | None]]]:
    database = Database(f"sqlite:///{console.database}")
    try:
        table = tables.TRAIL.table
        return list(
            database.transaction(
                lambda conn: conn.execute(
                    sa.select(table.c.actor_id, table.c.target).where(table.c.action == action)
                ).all()
            )
        )
    finally:
        database.close()


def test_an_operator_replays_a_dead_letter_and_it_goes_back_to_its_stream(
    console: ConsoleProcess, client: redis.Redis, operator: SignedIn
) -> None:
    letter = _dead_letter(client, "referral.task.requested", "database is locked")
    page = operator.http.get(f"/dead-letter?id={letter}")
    assert page.status_code == 200
    assert "database is locked" in page.text
    answer = operator.post("/dead-letters/replay", id=letter)
    assert answer.status_code == 303
    assert "Replayed" in operator.http.get(answer.headers["location"]).text
    assert client.xlen(LETTERS) == 0
    (replayed,) = [fields for _id, fields in client.xrange(streams.SHELTER_REQUESTS)]
    assert replayed[streams.REPLAY_FIELD] == letter
    (resolved,) = _resolved(client)
    name = operator.http.get("/").text.split('class="who"', 1)[1].split("<span>", 1)[1].split()[0]
    assert resolved["action"] == "replayed"
    assert resolved["by"] == f"console:{name}"
    assert (name, letter) in [tuple(row) for row in _audit(console, "dead_letter_replayed")]


def test_a_viewer_sees_the_letter_but_the_server_refuses_the_replay(
    client: redis.Redis, viewer: SignedIn
) -> None:
    letter = _dead_letter(client, "referral.task.requested", "boom")
    page = viewer.http.get(f"/dead-letter?id={letter}")
    assert page.status_code == 200
    assert 'action="/dead-letters/replay"' not in page.text
    # The form a viewer's page never shows, sent anyway with the viewer's own token.
    for action in ["/dead-letters/replay", "/dead-letters/discard", "/recover"]:
        refused = viewer.post(action, id=letter, reason="no", since="1h")
        assert refused.status_code == 403, action
    refused = viewer.post("/dead-letters/replay-selected", stream="", expected="1")
    assert refused.status_code == 403
    assert client.xlen(LETTERS) == 1
    assert _resolved(client) == []


def test_a_replay_without_the_page_s_token_or_from_another_site_is_refused(
    client: redis.Redis, operator: SignedIn
) -> None:
    letter = _dead_letter(client, "referral.task.requested", "boom")
    forged = operator.http.post("/dead-letters/replay", data={"id": letter, "csrf": "guessed"})
    assert forged.status_code == 403
    elsewhere = operator.http.post(
        "/dead-letters/replay",
        data={"id": letter, "csrf": operator.csrf},
        headers={"Origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert client.xlen(LETTERS) == 1


def test_a_discard_needs_a_reason_and_keeps_it_with_the_operator_s_name(
    console: ConsoleProcess, client: redis.Redis, operator: SignedIn
) -> None:
    letter = _dead_letter(client, "referral.task.requested", "boom")
    assert operator.post("/dead-letters/discard", id=letter, reason=" ").status_code == 400
    assert client.xlen(LETTERS) == 1
    answer = operator.post("/dead-letters/discard", id=letter, reason="sent twice by mistake")
    assert answer.status_code == 303
    (resolved,) = _resolved(client)
    assert (resolved["action"], resolved["reason"]) == ("discarded", "sent twice by mistake")
    assert resolved["by"].startswith("console:op-")
    assert client.xlen(streams.SHELTER_REQUESTS) == 0
    assert letter in [row.target for row in _audit(console, "dead_letter_discarded")]


def test_letters_are_found_by_type_and_error_and_paged(
    client: redis.Redis, viewer: SignedIn
) -> None:
    for number in range(55):
        _dead_letter(client, "referral.task.requested", f"timeout number {number}")
    other = _dead_letter(client, "referral.task.cancelled", "a schema violation")
    first = viewer.http.get("/dead-letters")
    assert "56 dead letters, page 1 of 2" in first.text
    assert "older →" in first.text
    assert "page 2 of 2" in viewer.http.get("/dead-letters?page=2").text
    by_type = viewer.http.get("/dead-letters?type=referral.task.cancelled")
    assert "1 dead letter, page 1 of 1" in by_type.text
    assert other in by_type.text
    by_error = viewer.http.get(f"/dead-letters?error={quote('SCHEMA')}")
    assert "1 dead letter, page 1 of 1" in by_error.text
    unreadable = viewer.http.get("/dead-letters?since=yesterday")
    assert unreadable.status_code == 200
    assert "cannot read" in unreadable.text


def test_a_filtered_set_is_replayed_only_after_a_dry_run_of_the_same_count(
    client: redis.Redis, operator: SignedIn
) -> None:
    for _ in range(3):
        _dead_letter(client, "referral.task.requested", "redis timeout")
    kept = _dead_letter(client, "referral.task.cancelled", "redis timeout")
    dry = operator.post("/dead-letters/replay-selected", type="referral.task.requested")
    assert dry.status_code == 200
    assert "Replay these 3" in dry.text
    assert client.xlen(LETTERS) == 4
    # One more arrived meanwhile: the count shown no longer holds, the dry run comes again.
    _dead_letter(client, "referral.task.requested", "redis timeout")
    again = operator.post(
        "/dead-letters/replay-selected", type="referral.task.requested", expected="3"
    )
    assert "The set changed" in again.text
    assert client.xlen(LETTERS) == 5
    done = operator.post(
        "/dead-letters/replay-selected", type="referral.task.requested", expected="4"
    )
    assert done.status_code == 303
    assert client.xlen(streams.SHELTER_REQUESTS) == 4
    assert [entry_id for entry_id, _ in client.xrange(LETTERS)] == [kept]


def test_an_unknown_or_malformed_letter_is_a_404(viewer: SignedIn) -> None:
    assert viewer.http.get("/dead-letter?id=1-0").status_code == 404
    assert viewer.http.get("/dead-letter?id=../../etc").status_code == 404


def test_a_link_cannot_make_the_page_say_what_was_done(viewer: SignedIn) -> None:
    said = viewer.http.get("/dead-letters?done=All+letters+deleted&replayed=call+us&entry=1-0")
    assert said.status_code == 200
    assert "All letters deleted" not in said.text
    assert "call us" not in said.text
    assert 'role="status"' not in said.text
