"""The operators' console's own key at each provider (korpu.console_keys): one key that
reads the directory and the counts, never a task, kept private and made again when lost."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from korpu import catalog, cli, console_keys
from korpu_runtime import api_keys


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every provider's database in a folder of this test's own."""
    monkeypatch.setenv("KORPU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KORPU_KEYS_DIR", raising=False)
    return tmp_path / "data"


def _console_keys(service: str) -> list[api_keys.Key]:
    keyring = catalog.keyring(service)

    def found(conn: Connection) -> list[api_keys.Key]:
        (console,) = [o for o in keyring.organizations(conn) if o.name == console_keys.ORGANIZATION]
        return keyring.keys(conn, console.id)

    return catalog.once(service, found)


def _principal(service: str, api_key: str) -> api_keys.Principal | None:
    keyring = catalog.keyring(service)
    return catalog.once(service, lambda conn: keyring.authenticate(conn, api_key))


def test_every_provider_gets_one_key_reading_its_directory_only_kept_for_the_owner_alone(
    data_dir: Path,
) -> None:
    keys_dir = data_dir / "keys"

    made = console_keys.ensure(keys_dir)
    again = console_keys.reconcile(keys_dir)

    assert set(made) == set(catalog.PROVIDERS)
    assert {name: held.api_key for name, held in again.items()} == made
    assert {held.state for held in again.values()} == {console_keys.KEPT}
    assert console_keys.load(keys_dir) == made
    for service in catalog.PROVIDERS:
        (key,) = _console_keys(service)
        assert (key.scopes, key.revoked_at) == (("directory:read",), None)
        principal = _principal(service, made[service])
        assert principal is not None and principal.scopes == {"directory:read"}
    # Owner-only: a key that reads every provider's counts is no one else's to read.
    assert stat.S_IMODE((keys_dir / console_keys.FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700


def test_a_revoked_key_and_one_lost_from_the_file_are_replaced_and_the_rest_kept(
    data_dir: Path,
) -> None:
    keys_dir = data_dir / "keys"
    first = console_keys.ensure(keys_dir)
    keyring = catalog.keyring("shelter")
    (shelter_key,) = _console_keys("shelter")
    catalog.once("shelter", lambda conn: keyring.revoke(conn, shelter_key.id, "laptop stolen"))
    stored = json.loads((keys_dir / console_keys.FILE).read_text())
    del stored["medical"]
    (keys_dir / console_keys.FILE).write_text(json.dumps(stored))

    held = console_keys.reconcile(keys_dir)

    replaced = {name for name, h in held.items() if h.state == console_keys.REPLACED}
    assert replaced == {"shelter", "medical"}
    assert {name: h.api_key for name, h in held.items() if name not in replaced} == {
        name: key for name, key in first.items() if name not in replaced
    }
    for service in replaced:
        assert _principal(service, first[service]) is None  # the old key works no more
        assert _principal(service, held[service].api_key) is not None
        live = [key for key in _console_keys(service) if key.revoked_at is None]
        assert [key.id for key in live] == [held[service].key_id]
    assert console_keys.load(keys_dir) == {name: h.api_key for name, h in held.items()}


def test_a_damaged_keys_file_is_refused_without_showing_what_it_holds(data_dir: Path) -> None:
    keys_dir = data_dir / "keys"
    keys_dir.mkdir(parents=True)
    (keys_dir / console_keys.FILE).write_text('{"shelter": "korpu_half-a-secret"}')

    with pytest.raises(console_keys.BrokenFile) as refused:
        console_keys.load(keys_dir)

    assert "korpu_half-a-secret" not in str(refused.value)


def test_korpu_console_keys_says_which_providers_have_a_key_never_the_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["console", "keys", "--json"])
    shown = capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["console", "keys"])
    table = capsys.readouterr().out

    assert exited.value.code == 0
    document = json.loads(shown)
    assert {name: p["state"] for name, p in document["providers"].items()} == {
        name: console_keys.MADE for name in catalog.PROVIDERS
    }
    for key in console_keys.load(data_dir / "keys").values():
        assert key not in shown and key not in table
    assert all(f"{name} " in table for name in catalog.PROVIDERS)
    assert "kept" in table
