"""The console's reading of every provider's capacity (korpu.capacity), against provider
processes as `korpu serve` runs them: one down, one without a key, one whose key was
revoked, and the others still read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Connection

from korpu import capacity, catalog, console_keys
from korpu.embedded_redis import free_ports
from korpu_contracts import regions
from support import infra

RUNNING = ("shelter", "legal_aid")
DIRECTORIES = {
    "shelter": [{"name": "Baku women's house", "region": "Baku", "serves": ["women"], "beds": 3}],
    # One lawyer in two regions counts in each.
    "legal_aid": [
        {"name": "R. Aliyev", "regions": ["Baku", "Ganja"], "languages": ["az"], "max_caseload": 2}
    ],
}


@pytest.fixture
def providers(
    tmp_path: Path, redis_db: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Shelter and legal aid served by `korpu serve`, seeded; medical's port has no one."""
    monkeypatch.setenv("KORPU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KORPU_KEYS_DIR", raising=False)
    monkeypatch.setenv("REDIS_URL", redis_db)
    ports = free_ports([*RUNNING, "medical"])
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    started: list[subprocess.Popen[bytes]] = []
    try:
        for name in RUNNING:
            env = {**os.environ, f"{name.upper()}_HTTP_PORT": str(ports[name])}
            with (tmp_path / f"{name}.log").open("wb") as log:
                started.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "korpu", "serve", name],
                        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    )
                )  # fmt: skip
        for name in RUNNING:
            infra.wait_until(
                lambda n=name: _ready(urls[n]), timeout=60, message=f"{name} did not start"
            )
            catalog.bootstrap(name).seed(catalog.settings(name), DIRECTORIES[name])
        yield urls
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_console_reads_every_provider_it_can_and_says_why_not_the_others(
    providers: dict[str, str], tmp_path: Path
) -> None:
    keys = console_keys.reconcile(tmp_path / "keys", RUNNING)
    urls = {**providers, "employment": providers["medical"]}
    held = {name: h.api_key for name, h in keys.items()}
    baku, ganja = regions.code_of("Baku"), regions.code_of("Ganja")

    read = capacity.read(urls, {**held, "medical": "korpu_the-console-key-of-medical"})

    assert read.rows == (
        capacity.Row("legal_aid", baku, "cases", 2, 0, 2, 0),
        capacity.Row("legal_aid", ganja, "cases", 2, 0, 2, 0),
        capacity.Row("shelter", baku, "beds", 3, 0, 3, 0),
    )
    assert read.failures == {"medical": "unreachable", "employment": "no console key"}
    document = read.to_dict()
    assert document["failures"] == {"employment": "no console key", "medical": "unreachable"}
    assert document["rows"][2] == {
        "provider": "shelter", "region": baku, "unit": "beds",
        "capacity": 3, "taken": 0, "free": 3, "waiting": 0,
    }  # fmt: skip


def test_a_revoked_console_key_is_told_as_refused_until_the_next_ensure_replaces_it(
    providers: dict[str, str], tmp_path: Path
) -> None:
    keys_dir = tmp_path / "keys"
    console_keys.reconcile(keys_dir, RUNNING)
    keyring = catalog.keyring("shelter")

    def revoke_the_consoles(conn: Connection) -> None:
        for organization in keyring.organizations(conn):
            if organization.name == console_keys.ORGANIZATION:
                for key in keyring.keys(conn, organization.id):
                    keyring.revoke(conn, key.id, "the console's host was rebuilt")

    catalog.once("shelter", revoke_the_consoles)
    urls = {name: providers[name] for name in RUNNING}

    refused = capacity.read(urls, console_keys.load(keys_dir))
    console_keys.reconcile(keys_dir, RUNNING)
    read_again = capacity.read(urls, console_keys.load(keys_dir))

    assert refused.failures == {"shelter": "key refused (401)"}
    assert {row.provider for row in refused.rows} == {"legal_aid"}
    assert read_again.failures == {}
    assert {row.provider for row in read_again.rows} == {"legal_aid", "shelter"}
