"""Long work tells how it goes on stderr, so that stdout stays the result: one JSON document
with --json, which a script reads while the operator watches the progress."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from korpu import catalog, output
from support import cli
from support.infra import wait_until

pytestmark = pytest.mark.slow


def _korpu(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    databases = [f"{service.upper()}_DATABASE_URL" for service in catalog.SERVICES]
    return cli.korpu(*args, data_dir=data_dir, unset=["REFERRAL_DATA_KEYS", *databases])


def test_recover_tells_each_service_on_stderr_and_prints_json_alone(tmp_path: Path) -> None:
    # The agencies' database made (an organization), the providers' not yet.
    assert _korpu("org", "create", "Hotline 152", data_dir=tmp_path).returncode == 0
    done = _korpu("recover", "--since", "1h", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"since", "dry_run", "services"}
    assert result["dry_run"] is False
    assert list(result["services"]) == list(catalog.SERVICES)
    assert result["services"]["referral"] == {"events": 0, "database_found": True}
    assert result["services"]["shelter"] == {"events": 0, "database_found": False}
    total = len(catalog.SERVICES)
    assert done.stderr.splitlines() == [
        f"korpu recover: {service}: 0 events to send again"
        + ("" if service == "referral" else " (no database yet)")
        + f" ({number} of {total})"
        for number, service in enumerate(catalog.SERVICES, 1)
    ]


def test_keys_rotate_tells_its_progress_on_stderr_and_prints_json_alone(tmp_path: Path) -> None:
    # The demo's keys and the referral database, made by the first command that needs them.
    assert _korpu("org", "create", "Hotline 152", data_dir=tmp_path).returncode == 0
    done = _korpu("keys", "rotate", "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"key_id", "re_encrypted", "remaining"}
    assert result["remaining"] == 0 and set(result["re_encrypted"].values()) == {0}
    lines = done.stderr.splitlines()
    assert lines[0].startswith("korpu keys rotate: sealing every row under the newest key")
    assert lines[1:] == [
        f"korpu keys rotate: {table}: 0 re-encrypted under {result['key_id']}"
        for table in result["re_encrypted"]
    ]
    # Without --json, the report on stdout and the same progress on stderr.
    text = _korpu("keys", "rotate", data_dir=tmp_path)
    assert text.returncode == 0 and text.stdout.startswith("Re-encrypted under key ")
    assert text.stderr.startswith("korpu keys rotate: ")


def test_work_that_tells_nothing_until_done_says_every_few_seconds_that_it_still_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    told = []

    def two_lines() -> bool:
        told.extend(capsys.readouterr().err.splitlines())
        return len(told) >= 2

    with output.still_working("keys rotate", "re-encrypting", every=0.05):
        wait_until(two_lines, timeout=10, message="no progress line")
    after = capsys.readouterr()
    assert after.out == ""
    assert all(line.startswith("korpu keys rotate: still re-encrypting (") for line in told)
    # Done: nothing left to say anything after the work ended.
    assert "progress" not in {thread.name for thread in threading.enumerate()}
