"""Forged dead letters: listed as forged, never replayed into any stream.

Before signatures, anyone able to add to `korpu.deadletters` could have an
operator's `korpu dlq replay` send any entry into any stream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from korpu_contracts import streams
from korpu_runtime import signing
from support import bus
from support.cli import korpu

SHELTER_LETTERS = streams.dead_letters("shelter")
EVENT = '{"forged": "a task request nobody sent"}'


def _letter(origin_stream: str) -> dict[str, str]:
    return {
        "origin_stream": origin_stream,
        "origin_id": "1767225600000-0",
        "group": "shelter",
        "handler": "shelter",
        "error": "refused",
        "deliveries": "1",
        "dead_at": "2026-12-07T00:00:00+00:00",
        streams.ENTRY_FIELD: EVENT,
    }


@pytest.fixture
def client(redis_db: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_db, decode_responses=True) as connection:
        yield connection


def _forge(client: redis.Redis, tmp_path: Path) -> dict[str, str]:
    """Letters in the shelter service's dead letters that it did not write, by name."""
    stream, letters = streams.SHELTER_REQUESTS, SHELTER_LETTERS
    stranger = signing.Signer(tmp_path / "elsewhere", "shelter", create=True)
    forgeries = {
        "unsigned": _letter(stream),
        "signed by another service": bus.signer("legal_aid").signed(letters, _letter(stream)),
        "signed with a key nobody trusts": stranger.signed(letters, _letter(stream)),
        "signed for another service's letters": bus.signer("shelter").signed(
            streams.dead_letters("legal_aid"), _letter(stream)
        ),
        "naming a stream it does not read": bus.signer("shelter").signed(
            letters, _letter("korpu.anything")
        ),
    }
    return {
        name: str(client.xadd(letters, fields))  # type: ignore[arg-type]
        for name, fields in forgeries.items()
    }


def test_a_forged_dead_letter_is_never_replayed(
    client: redis.Redis, redis_db: str, tmp_path: Path
) -> None:
    forged = _forge(client, tmp_path)
    genuine = bus.signer("shelter").signed(SHELTER_LETTERS, _letter(streams.SHELTER_REQUESTS))
    genuine_id = str(client.xadd(SHELTER_LETTERS, genuine))  # type: ignore[arg-type]
    env = {"REDIS_URL": redis_db}
    data_dir = Path(bus.keys_dir()).parent  # the services' own keys, where they keep them

    listed = korpu("dlq", "list", "--json", data_dir=data_dir, env=env)
    assert listed.returncode == 0, listed.stderr
    marked = {letter["id"]: letter["forged"] for letter in json.loads(listed.stdout)}
    assert all(marked[letter_id] for letter_id in forged.values()), marked
    assert marked[genuine_id] is None

    for name, letter_id in forged.items():
        refused = korpu("dlq", "replay", letter_id, data_dir=data_dir, env=env)
        assert refused.returncode == 1, name
        assert "forged" in refused.stderr, name
    replayed = korpu("dlq", "replay", "--all", data_dir=data_dir, env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert f"replayed {genuine_id}" in replayed.stdout

    # Only the genuine letter went back, and only to its own stream.
    assert client.xlen(streams.SHELTER_REQUESTS) == 1
    assert not client.exists("korpu.anything")
    assert set(forged.values()) <= {entry_id for entry_id, _ in client.xrange(SHELTER_LETTERS)}
