"""`korpu org keys` as an operator runs it: rotate a key, revoke the old one, see both."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from support import cli

pytestmark = pytest.mark.slow


def _korpu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return cli.korpu(*args, data_dir=data_dir, unset=["REFERRAL_DATABASE_URL"])


def test_an_operator_rotates_a_key_and_revokes_the_old_one(tmp_path: Path) -> None:
    created = _korpu("org", "create", "Hotline 152", "--json", data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    org = json.loads(created.stdout)
    assert set(org) == {"org_id", "api_key"}

    read_only = ("--scope", "referrals:read", "--json")
    reader = _korpu("org", "keys", "create", org["org_id"], *read_only, data_dir=tmp_path)
    assert reader.returncode == 0, reader.stderr
    new = json.loads(reader.stdout)
    assert new["scopes"] == ["referrals:read"] and new["api_key"].startswith("korpu_")

    listed = _korpu("org", "keys", "list", org["org_id"], "--json", data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    keys = json.loads(listed.stdout)
    assert [key["scopes"] for key in keys] == [
        ["referrals:submit", "referrals:read", "persons:read"],
        ["referrals:read"],
    ]
    assert [key["prefix"] for key in keys] == [org["api_key"][:14], new["api_key"][:14]]
    assert all(key["last_used_at"] is None and key["revoked_at"] is None for key in keys)
    # Never the key nor its hash, in the listing or in the database files.
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("referral.db*"))
    for api_key in (org["api_key"], new["api_key"]):
        assert api_key not in listed.stdout and api_key.encode() not in stored

    first_id = keys[0]["id"]
    revoked = _korpu("org", "keys", "revoke", first_id, "--reason", "rotated", data_dir=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in revoked.stdout and org["api_key"] not in revoked.stdout
    # --json: the key as `keys list --json` shows it, revoked; never the key itself.
    again = _korpu("org", "keys", "revoke", new["key_id"], "--reason", "left", "--json",
                   data_dir=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    shown = json.loads(again.stdout)
    assert set(shown) == set(keys[1])
    assert (shown["id"], shown["revoked_reason"]) == (new["key_id"], "left")
    assert shown["revoked_at"] is not None and new["api_key"] not in again.stdout
    text = _korpu("org", "keys", "list", org["org_id"], data_dir=tmp_path)
    assert text.returncode == 0, text.stderr
    rows = {line.split()[0]: line for line in text.stdout.splitlines()[1:]}
    assert "rotated" in rows[first_id] and "rotated" not in rows[new["key_id"]]
    assert org["api_key"][:14] + "…" in rows[first_id]


def test_bad_input_exits_2_and_unknown_ids_exit_1_with_one_line(tmp_path: Path) -> None:
    org = json.loads(_korpu("org", "create", "NGO", "--json", data_dir=tmp_path).stdout)
    unknown = str(uuid.uuid4())
    cases = [
        (("org", "keys", "create", org["org_id"], "--scope", "referrals:delete"), 2),
        (("org", "keys", "list", "not-an-id"), 2),
        (("org", "keys", "revoke", unknown), 2),  # no --reason
        (("org", "keys", "revoke", unknown, "--reason", " "), 2),
        (("org", "keys", "list", unknown), 1),
        (("org", "keys", "create", unknown), 1),
        (("org", "keys", "revoke", unknown, "--reason", "lost"), 1),
        (("org", "keys", "revoke", unknown, "--reason", "lost", "--json"), 1),
        (("org", "keys", "limit", unknown, "--default", "--json"), 1),
    ]
    for args, code in cases:
        done = _korpu(*args, data_dir=tmp_path)
        assert done.returncode == code, (args, done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        assert done.stdout == ""


def test_an_operator_gives_a_shelter_its_case_workers_keys_in_the_shelters_own_database(
    tmp_path: Path,
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli.korpu(
            *args, data_dir=tmp_path, unset=["REFERRAL_DATABASE_URL", "SHELTER_DATABASE_URL"]
        )

    created = run("org", "create", "Ganja center case workers", "--provider", "shelter", "--json")
    assert created.returncode == 0, created.stderr
    org = json.loads(created.stdout)
    assert org["provider"] == "shelter" and org["api_key"].startswith("korpu_")

    reader = run(
        "org", "keys", "create", org["org_id"], "--provider", "shelter",
        "--scope", "tasks:read", "--json",
    )  # fmt: skip
    assert reader.returncode == 0, reader.stderr
    assert json.loads(reader.stdout)["scopes"] == ["tasks:read"]
    listed = run("org", "keys", "list", org["org_id"], "--provider", "shelter", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [key["scopes"] for key in json.loads(listed.stdout)] == [
        ["directory:read", "tasks:read", "tasks:act"],
        ["tasks:read"],
    ]
    organizations = json.loads(run("org", "list", "--provider", "shelter", "--json").stdout)
    assert [o["name"] for o in organizations] == ["Ganja center case workers"]

    # The shelter's own database holds it, hashed; the agencies' knows nothing of it.
    shelter_files = b"".join(path.read_bytes() for path in tmp_path.glob("shelter.db*"))
    assert org["org_id"].encode() in shelter_files
    assert org["api_key"].encode() not in shelter_files
    assert json.loads(run("org", "list", "--json").stdout) == []
    elsewhere = run("org", "keys", "list", org["org_id"])
    assert elsewhere.returncode == 1 and "--provider" in elsewhere.stderr
    agency_scope = run(
        "org", "keys", "create", org["org_id"], "--provider", "shelter",
        "--scope", "referrals:submit",
    )  # fmt: skip
    assert agency_scope.returncode == 2 and "tasks:act" in agency_scope.stderr

    first_id = json.loads(listed.stdout)[0]["id"]
    revoked = run("org", "keys", "revoke", first_id, "--provider", "shelter", "--reason", "left")
    assert revoked.returncode == 0, revoked.stderr
    after = json.loads(
        run("org", "keys", "list", org["org_id"], "--provider", "shelter", "--json").stdout
    )
    assert [key["revoked_reason"] for key in after] == ["left", None]
    # A busy desk's key gets its own rate limit, raised later, then the default again.
    busy = run(
        "org", "keys", "create", org["org_id"], "--provider", "shelter",
        "--rate-per-minute", "600", "--json",
    )  # fmt: skip
    assert busy.returncode == 0 and json.loads(busy.stdout)["rate_per_minute"] == 600, busy.stderr
    busy_id = json.loads(busy.stdout)["key_id"]
    raised = run(
        "org", "keys", "limit", busy_id, "--provider", "shelter", "--rate-per-minute", "1200"
    )
    assert raised.returncode == 0 and "1200 a minute" in raised.stdout, raised.stderr
    raised_json = run(
        "org", "keys", "limit", busy_id, "--provider", "shelter", "--rate-per-minute", "1200",
        "--json",
    )  # fmt: skip
    assert raised_json.returncode == 0, raised_json.stderr
    assert json.loads(raised_json.stdout)["rate_per_minute"] == 1200
    rates = json.loads(
        run("org", "keys", "list", org["org_id"], "--provider", "shelter", "--json").stdout
    )
    assert [key["rate_per_minute"] for key in rates] == [None, None, 1200]
    assert (
        run("org", "keys", "limit", busy_id, "--provider", "shelter", "--default").returncode == 0
    )
    for bad in ("0", "-5", "lots"):
        refused = run(
            "org", "keys", "limit", busy_id, "--provider", "shelter", "--rate-per-minute", bad
        )
        assert refused.returncode == 2 and refused.stdout == "", (bad, refused.stderr)
    # The shelter's trail is its own, read with --provider; nothing was read or done yet.
    trail = run("audit", "--provider", "shelter", "--json")
    assert trail.returncode == 0 and json.loads(trail.stdout) == [], trail.stderr


def test_an_operator_makes_the_national_coordinator_whose_key_refers_no_one(
    tmp_path: Path,
) -> None:
    created = _korpu(
        "org", "create", "National coordinator", "--coordinator", "--json", data_dir=tmp_path
    )
    assert created.returncode == 0, created.stderr
    org = json.loads(created.stdout)
    assert org["scopes"] == ["statistics:read", "cases:coordinate"]
    listed = _korpu("org", "keys", "list", org["org_id"], "--json", data_dir=tmp_path)
    (key,) = json.loads(listed.stdout)
    assert key["scopes"] == ["statistics:read", "cases:coordinate"]
    refused = _korpu(
        "org", "create", "Shelter desk", "--coordinator", "--provider", "shelter",
        data_dir=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 2
