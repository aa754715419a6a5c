"""At rest and in the logs: what another local user, a forger on the bus or a data field can
reach or do once Körpü has written its files, its logs and its operator's screen.

Each test runs real processes (`korpu up`, `korpu serve`, the `korpu` command) as an
operator would, under the common umask 022, so nothing here relies on the test
run's own settings.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from ruamel.yaml import YAML

from korpu import catalog
from korpu.embedded_redis import free_port, free_ports
from korpu_contracts import streams
from korpu_runtime.database import Database
from referral.adapters import tables as referral_tables
from referral.bootstrap import KEYRING
from support import bus, cli
from support.referrals import referral_body

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0
# An ordinary login's umask: what `korpu` is started with unless it sets its own.
OPERATOR_UMASK = 0o022
# Every control a terminal acts on: C0 but the newline, DEL, C1, and the bidi controls.
TERMINAL_CONTROL = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# Clears the screen, sets the window title, and writes right to left: three ways to
# make an operator read something else than what is there.
ATTACK = "\x1b[2J\x1b]0;korpu: all clear\x07\u202eTAKEOVER\x9b31m"


def _korpu(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "korpu", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=cli.environment(**env),
        stdin=subprocess.DEVNULL,
        umask=OPERATOR_UMASK,
        check=False,
    )


def _open_to_others(root: Path) -> list[str]:
    """Every file or folder under `root` (itself included) that a group or other user may use."""
    found = []
    for path in [root, *root.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            continue
        wanted = 0o700 if stat.S_ISDIR(mode) else 0o600
        if stat.S_IMODE(mode) & ~wanted:
            found.append(f"{path.relative_to(root)} {stat.S_IMODE(mode):o}")
    return found


def _wait_until(check: Any, what: str, seconds: float = START_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"not in {seconds:g}s: {what}")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextlib.contextmanager
def _serving(service: str, data_dir: Path, redis_url: str, log: Path) -> Iterator[str]:
    """`korpu serve SERVICE` on its own, as a container runs it; its output in `log`."""
    port = free_port()
    env = cli.environment(
        KORPU_DATA_DIR=str(data_dir),
        REDIS_URL=redis_url,
        **{f"{service.upper()}_HTTP_PORT": str(port)},
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "korpu", "serve", service],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            umask=OPERATOR_UMASK,
        )
    url = f"http://127.0.0.1:{port}"
    with cli.stopped_at_the_end(process, signal.SIGTERM):
        _wait_until(lambda: process.poll() is not None or _ready(url), f"{service} ready")
        assert process.poll() is None, log.read_text()
        yield url


# --- files at rest ------------------------------------------------------------------


@pytest.mark.slow
def test_after_korpu_up_no_other_local_user_can_read_a_file_of_it_and_the_keys_live_apart(
    tmp_path: Path,
) -> None:
    """Databases with their WAL, logs, Redis's files, the demo keys: owner-only, the
    keys in KORPU_KEYS_DIR and not in the data folder an operator copies for a backup."""
    data_dir, keys_dir = tmp_path / "data", tmp_path / "keys"
    chosen = free_ports(catalog.PROCESSES)
    ports = {f"{name.upper()}_HTTP_PORT": str(port) for name, port in chosen.items()}
    # From the environment, as a service manager sets it; the supervisor passes it on.
    env = {"KORPU_KEYS_DIR": str(keys_dir), **ports}
    with cli.korpu_up(data_dir, env, umask=OPERATOR_UMASK) as up:
        created = _korpu(data_dir, "org", "create", "Hotline 152", "--json")
        assert created.returncode == 0, created.stderr
        api_key = json.loads(created.stdout)["api_key"]
        referral = f"http://127.0.0.1:{ports['REFERRAL_HTTP_PORT']}"
        answer = httpx.post(
            f"{referral}/v1/referrals",
            json=referral_body(),
            headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": "at-rest-1"},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        # Running: the WAL and shared-memory files are there too.
        assert list(data_dir.glob("referral.db-wal")) and list(data_dir.glob("referral.db-shm"))
        assert _open_to_others(data_dir) == []
        assert (data_dir / "logs" / "referral.log").stat().st_size > 0
    assert up.returncode == 0
    assert _open_to_others(data_dir) == []
    assert _open_to_others(keys_dir) == []
    assert (keys_dir / "referral-keys.json").is_file()
    assert not list(data_dir.rglob("referral-keys*"))


def test_korpu_keys_dir_keeps_the_demo_keys_out_of_the_data_folder(tmp_path: Path) -> None:
    data_dir, keys_dir = tmp_path / "data", tmp_path / "elsewhere" / "keys"
    rotated = _korpu(data_dir, "--keys-dir", str(keys_dir), "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert (keys_dir / "referral-keys.json").is_file()
    assert _open_to_others(keys_dir) == [] and _open_to_others(data_dir) == []
    assert not list(data_dir.rglob("referral-keys*"))


def test_a_service_started_on_its_own_tightens_a_folder_an_older_build_left_open(
    tmp_path: Path, redis_db: str
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "logs").mkdir(parents=True)
    for folder in (data_dir, data_dir / "logs"):
        folder.chmod(0o755)
    old_log = data_dir / "logs" / "shelter.log"
    old_log.write_text("an older build's log\n")
    old_log.chmod(0o644)
    log = tmp_path / "shelter.out"

    with _serving("shelter", data_dir, redis_db, log):
        assert (data_dir / "shelter.db").exists()
        assert _open_to_others(data_dir) == []
    with _serving("shelter", data_dir, redis_db, log):
        assert _open_to_others(data_dir) == []
    # Said once, by the start that found it open; not at every start after.
    assert log.read_text().count('"data_dir_tightened"') == 1


# --- logs ---------------------------------------------------------------------------


def test_a_forged_correlation_id_never_reaches_a_log_line(tmp_path: Path, redis_db: str) -> None:
    """A bus entry's ids and type are whatever its sender wrote: a name, another case's
    correlation, a terminal escape. The service's log keeps none of them."""
    log = tmp_path / "shelter.out"
    forged = {
        "id": "AYSEL-event",
        "type": "korpu.AYSEL.forged",
        "dataschemaversion": 1,
        "source": "referral",
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "subject": str(uuid.uuid4()),
        "correlationid": "AYSEL MEMMEDOVA 2001-04-12 \x1b[2J",
        "causationid": "AYSEL-cause",
        "data": {},
    }
    with (
        _serving("shelter", tmp_path / "data", redis_db, log),
        redis.Redis.from_url(redis_db) as bus,
    ):
        entry_id = bus.xadd(streams.SHELTER_REQUESTS, {streams.ENTRY_FIELD: json.dumps(forged)})
        entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        # The entry was read and handled (refused): its lines are written.
        _wait_until(lambda: entry in log.read_text(), "a line about the forged entry")
    written = log.read_text()
    assert "AYSEL" not in written and "MEMMEDOVA" not in written
    assert "\\u001b" not in written and "\x1b" not in written


# --- the operator's terminal ---------------------------------------------------------


def test_an_organization_named_with_escape_sequences_is_printed_without_them(
    tmp_path: Path,
) -> None:
    refused = _korpu(tmp_path, "org", "create", f"Hotline {ATTACK}")
    assert refused.returncode == 2, "a name of control characters is no name to create"
    assert not TERMINAL_CONTROL.search(refused.stdout + refused.stderr)
    # One an older build stored, before names were checked: still printed safe.
    database = Database(f"sqlite:///{tmp_path / 'referral.db'}")
    try:
        database.create_schema(referral_tables.metadata)
        database.transaction(lambda conn: KEYRING.create_organization(conn, f"Hotline {ATTACK}"))
    finally:
        database.close()
    listed = _korpu(tmp_path, "org", "list")
    assert listed.returncode == 0, listed.stderr
    assert not TERMINAL_CONTROL.search(listed.stdout), repr(listed.stdout)
    assert "Hotline" in listed.stdout and "TAKEOVER" in listed.stdout  # the rest stays readable


def test_dead_letters_and_consumer_names_reach_the_terminal_without_escape_sequences(
    tmp_path: Path, redis_db: str
) -> None:
    with redis.Redis.from_url(redis_db, decode_responses=True) as client:
        letter = client.xadd(
            streams.dead_letters("shelter"),
            # Written by the shelter service itself: what an entry carried, not a forgery.
            bus.signer("shelter").signed(
                streams.dead_letters("shelter"),
                {
                    "origin_stream": streams.SHELTER_REQUESTS,
                    "origin_id": "1767225600000-0",
                    "group": streams.GROUP_SHELTER,
                    "handler": f"shelter {ATTACK}",
                    "error": f"ValueError: {ATTACK}\nsecond line",
                    "deliveries": "5",
                    "dead_at": dt.datetime.now(dt.UTC).isoformat(),
                    streams.ENTRY_FIELD: json.dumps({"note": ATTACK}, ensure_ascii=False),
                },
            ),  # type: ignore[arg-type]
        )
        client.xgroup_create(streams.SHELTER_REQUESTS, f"group {ATTACK}", id="0", mkstream=True)
    for args in (("dlq", "list"), ("dlq", "show", str(letter)), ("status",)):
        done = _korpu(tmp_path, *args, REDIS_URL=redis_db)
        assert done.returncode == 0, done.stderr
        assert not TERMINAL_CONTROL.search(done.stdout), (args, done.stdout)
        assert "TAKEOVER" in done.stdout, args


def test_safe_keeps_every_letter_and_line_and_drops_only_controls() -> None:
    from korpu import output

    assert output.safe("Aysel Məmmədova\nЕлена Иванова") == "Aysel Məmmədova\nЕлена Иванова"
    assert output.safe(f"a{ATTACK}b") == "aTAKEOVERb"
    assert output.safe("one\ntwo\tthree", lines=False) == "one two three"
    assert output.safe("\x1bP1$r q\x1b\\x\x9d8;;http://evil\x9cy\x1bcz") == "xyz"


# --- the host's network ----------------------------------------------------------------


def test_compose_publishes_no_port_on_every_interface_by_default() -> None:
    services = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())["services"]
    published = [
        (name, port) for name, service in services.items() for port in service.get("ports", [])
    ]
    assert published
    for name, port in published:
        host = _host_of(port)
        assert host in ("127.0.0.1", "::1", "localhost"), (name, port)


def _host_of(port: Any) -> str:
    """The interface a compose port is published on, its variables at their defaults."""
    if isinstance(port, dict):
        return str(_defaults(str(port.get("host_ip", ""))))
    text = _defaults(str(port))
    if text.startswith("["):  # [::1]:8080:8080
        return text[1 : text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else ""  # "8080:8080" or "8080": every interface


def _defaults(text: str) -> str:
    unset = {key: value for key, value in os.environ.items() if key != "KORPU_BIND"}
    return re.sub(
        r"\$\{(\w+)(?::?-([^}]*))?\}", lambda m: unset.get(m.group(1), m.group(2) or ""), text
    )
