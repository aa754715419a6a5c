"""The korpu command as a newcomer runs it: demo on the embedded default, org create, seed."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _korpu(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.pop("KORPU_DATA_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "korpu", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _blocks(printed: str) -> dict[str, str]:
    """The demo's block for each referral (its line, then one per kind of help), by reference."""
    blocks: dict[str, str] = {}
    for block in printed.split("\n\n"):
        if block.startswith("DEMO-"):
            blocks.setdefault(block.split()[0], block)  # the first: not the linked line
    return blocks


def test_the_demo_shows_how_each_referral_was_coordinated(tmp_path: Path) -> None:
    # No REDIS_URL: the demo starts its own Redis, with its data in the data folder.
    done = _korpu("demo", data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = _blocks(done.stdout)
    # All six kinds of help, each accepted with what was given.
    first = rows["DEMO-001"]
    assert ": coordinated\n" in first and first.count("accepted") == 6
    for given in (
        "shelter               accepted: Baku Assistance Center shelter",
        "employment            accepted: Tailoring",
        "legal aid             accepted: N. Əliyeva",
        "psychological         accepted: S. Abbasova",
        "medical               accepted: Baku City Clinical Hospital No. 1 on 20",
        "material assistance   accepted: Baku one-off allowance fund, 700.00 AZN",
    ):
        assert given in first, first
    assert "rejected (not_eligible)" in rows["DEMO-002"]  # a boy of 15: no program takes him
    # ... and is housed where only children are, never with the men of the police shelter.
    assert "Baku children's shelter" in rows["DEMO-002"] and "police" not in rows["DEMO-002"]
    # Ganja has no bed for a man: housed in Baku, said so, and his course and lawyer follow.
    assert "Baku police shelter (AZ-BA, out of region)" in rows["DEMO-003"]
    assert "IT basics" in rows["DEMO-003"] and "R. Quliyev" in rows["DEMO-003"]
    # ... and so do his counsellor and his examination, in Baku; his allowance is paid
    # where he was referred, from Ganja's fund.
    assert "psychological         accepted: S. Abbasova" in rows["DEMO-003"]
    assert "medical               accepted: Baku City Clinical Hospital No. 1" in rows["DEMO-003"]
    assert "accepted: Ganja one-off allowance fund" in rows["DEMO-003"]
    assert "withdrawn" in rows["DEMO-004"]
    assert any("on-hold" in rows[ref] for ref in ("DEMO-005", "DEMO-006", "DEMO-007"))
    # Aysel of DEMO-001 again: a duplicate, coordinated nowhere, linked to her open case.
    assert "DEMO-008 is the person of DEMO-001" in done.stdout
    assert ": closed\n" in rows["DEMO-008"] and "accepted" not in rows["DEMO-008"]
    # A girl in Ganja: the children's unit of the women's centre there.
    assert "accepted: Ganja Regional Rehabilitation-Reintegration Center" in rows["DEMO-009"]
    # No age, said not to be a minor: housed and taught as an adult.
    assert "Baku Assistance Center shelter" in rows["DEMO-010"]
    assert rows["DEMO-010"].count("accepted") == 6 and "rejected" not in rows["DEMO-010"]
    assert (tmp_path / "demo" / "redis" / "appendonlydir").exists()
    # The shelter's case workers read its beds with a key of their own; nobody without one.
    assert "with their key (without one: 401)" in done.stdout
    beds = [line for line in done.stdout.splitlines() if line.endswith(" taken")]
    assert len(beds) == 5 and any("Baku police shelter" in line for line in beds)


def test_org_create_prints_the_key_once_as_json(tmp_path: Path) -> None:
    done = _korpu("org", "create", "Hotline 152", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"org_id", "api_key"}
    assert answer["api_key"].startswith("korpu_")
    # Stored hashed: the key itself is nowhere in the database files (WAL included).
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("referral.db*"))
    assert answer["org_id"].encode() in stored
    assert answer["api_key"].encode() not in stored


def test_seed_refuses_a_bad_file_with_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "directory.json"
    bad.write_text(json.dumps({"shelters": [{"name": "X", "region": "Baku", "beds": -1}]}))
    done = _korpu("seed", str(bad), data_dir=tmp_path)
    assert done.returncode == 2
    assert "shelters[0].beds" in done.stderr and "shelters[0].serves" in done.stderr
    good = Path(__file__).resolve().parents[2] / "deploy" / "demo-directory.json"
    loaded = _korpu("seed", str(good), data_dir=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "5 shelters" in loaded.stdout
    # For a script: how many each directory loaded, under the file's own keys.
    again = _korpu("seed", str(good), "--json", data_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    directory, [(top, loaded_counts)] = (
        json.loads(good.read_text()),
        json.loads(again.stdout).items(),
    )
    assert top == "loaded" and set(directory) <= set(loaded_counts)
    assert loaded_counts == {key: len(directory.get(key, [])) for key in loaded_counts}
    refused = _korpu("seed", str(bad), "--json", data_dir=tmp_path)
    assert (refused.returncode, refused.stdout) == (2, "") and "beds" in refused.stderr


def test_every_command_but_demo_and_serve_takes_json() -> None:
    from korpu import cli

    def leaves(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, Any]]:
        choices = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not choices:
            yield path, parser
        for action in choices:
            for name, child in action.choices.items():
                yield from leaves(child, f"{path} {name}".strip())

    commands = dict(leaves(cli._parser(), ""))
    assert {"status", "dlq replay", "dlq discard", "org keys revoke", "seed"} <= set(commands)
    without = {
        path for path, parser in commands.items() if "--json" not in parser._option_string_actions
    }
    assert without == {"demo", "serve"}
