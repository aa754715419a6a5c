"""Sealing personal data: what opens where, what is refused, and the keys a service starts with."""

from __future__ import annotations

import base64
import datetime as dt
import stat
from pathlib import Path

import pytest

from korpu_runtime import signing
from referral import bootstrap
from referral.adapters import intake_keys, key_store, sealing
from referral.domain import matching

PLACE = "persons/6b1c/given_name"


def _keyring(*keys: sealing.DataKey) -> sealing.Keyring:
    return sealing.Keyring(keys or (sealing.DataKey.generate(),), b"i" * 16 + b"ndex-key-bytes!!")


def test_a_sealed_name_opens_only_in_its_own_row_and_column() -> None:
    keyring = _keyring()
    sealed = keyring.seal("Aysel", PLACE)
    assert "Aysel" not in sealed and sealed.startswith(keyring.current_id + ":")
    assert keyring.open(sealed, PLACE) == "Aysel"
    for elsewhere in ("persons/other-referral/given_name", "persons/6b1c/family_name"):
        with pytest.raises(sealing.CannotOpen, match="moved from another place") as refused:
            keyring.open(sealed, elsewhere)
        assert "Aysel" not in str(refused.value)


def test_an_altered_value_is_refused_and_the_error_never_shows_it() -> None:
    keyring = _keyring()
    key_id, _, body = keyring.seal("Aysel", PLACE).partition(":")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(sealing.CannotOpen, match="altered") as refused:
        keyring.open(f"{key_id}:{base64.b64encode(bytes(raw)).decode()}", PLACE)
    assert "Aysel" not in str(refused.value)


def test_a_value_under_an_older_key_still_opens_and_new_ones_use_the_first_key() -> None:
    old, new = sealing.DataKey.generate(), sealing.DataKey.generate()
    sealed_before = _keyring(old).seal("Aysel", PLACE)
    keyring = _keyring(new, old)
    assert keyring.open(sealed_before, PLACE) == "Aysel"
    assert not keyring.is_current(sealed_before)
    assert keyring.is_current(keyring.seal("Aysel", PLACE))


def test_a_value_under_a_key_no_longer_configured_names_the_key_id() -> None:
    gone = sealing.DataKey("k-retired", sealing.DataKey.generate().key)
    sealed = _keyring(gone).seal("Aysel", PLACE)
    with pytest.raises(sealing.CannotOpen, match=r"k-retired.*not configured"):
        _keyring().open(sealed, PLACE)


def test_the_blind_index_depends_on_its_key_and_shows_nothing_of_the_name() -> None:
    text = matching.identity("Aysel", "Məmmədova", dt.date(2001, 4, 12))
    assert text is not None
    one = sealing.Keyring([sealing.DataKey.generate()], b"a" * 16 + b"b" * 16)
    other = sealing.Keyring([sealing.DataKey.generate()], b"c" * 16 + b"d" * 16)
    assert one.blind_index(text) == one.blind_index(text) != other.blind_index(text)
    assert "aysel" not in one.blind_index(text)


def _settings(tmp_path: Path, env: str, **keys: str) -> bootstrap.Settings:
    return bootstrap.Settings(env=env, data_dir=tmp_path, database_url="sqlite://", **keys)


@pytest.mark.parametrize("env", ["production", "development"])
def test_outside_demo_mode_the_service_refuses_to_start_without_keys(
    tmp_path: Path, env: str
) -> None:
    with pytest.raises(sealing.KeyConfigError, match="REFERRAL_DATA_KEYS is not set"):
        bootstrap.build_service(_settings(tmp_path, env))
    assert not list(tmp_path.iterdir())  # and generates none of its own


@pytest.mark.parametrize(
    "value", ["change-me", "k1:changethis", "k1:your-key-here", "k1:PLACEHOLDER"]
)
def test_a_placeholder_key_is_refused_and_never_quoted(tmp_path: Path, value: str) -> None:
    index = key_store.generate_index_key()
    settings = _settings(tmp_path, "production", data_keys=value, blind_index_key=index)
    with pytest.raises(sealing.KeyConfigError, match="placeholder") as refused:
        bootstrap.build_service(settings)
    secret = value.partition(":")[2] or value
    assert secret not in str(refused.value)


def test_a_short_or_missing_blind_index_key_is_refused_outside_demo(tmp_path: Path) -> None:
    data_keys = sealing.DataKey.generate().line()
    with pytest.raises(sealing.KeyConfigError, match="REFERRAL_BLIND_INDEX_KEY is not set"):
        bootstrap.keyring(_settings(tmp_path, "production", data_keys=data_keys))
    short = base64.b64encode(b"0123456789").decode()
    with pytest.raises(sealing.KeyConfigError, match="32 bytes") as refused:
        bootstrap.keyring(
            _settings(tmp_path, "production", data_keys=data_keys, blind_index_key=short)
        )
    assert short not in str(refused.value)


def test_keys_from_settings_start_the_service_and_stay_out_of_its_repr(tmp_path: Path) -> None:
    key = sealing.DataKey.generate()
    index = key_store.generate_index_key()
    settings = _settings(
        tmp_path, "production", data_keys=f"{key.line()},{sealing.DataKey.generate().line()}",
        blind_index_key=index,
    )  # fmt: skip
    assert key.line().partition(":")[2] not in repr(settings) and index not in repr(settings)
    signing.generate(settings.keys_dir, "referral")  # in production, made by the operator
    intake_keys.generate(settings.keys_dir)  # so is the key agencies seal to
    service = bootstrap.build_service(settings)
    try:
        assert sealing.of_engine(service.db.engine).current_id == key.id
    finally:
        service.db.close()


def test_demo_mode_generates_its_keys_once_into_a_private_file(tmp_path: Path) -> None:
    first = bootstrap.keyring(_settings(tmp_path, "demo"))
    path = tmp_path / "keys" / key_store.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = bootstrap.keyring(_settings(tmp_path, "demo"))
    assert again.current_id == first.current_id
    assert again.open(first.seal("Aysel", PLACE), PLACE) == "Aysel"


def test_a_key_added_to_the_demo_file_is_picked_up_by_a_running_keyring(tmp_path: Path) -> None:
    running = bootstrap.keyring(_settings(tmp_path, "demo"))
    before = running.seal("Aysel", PLACE)
    added = key_store.add_data_key(tmp_path / "keys" / key_store.KEY_FILE)
    assert running.current_id == added.id
    assert running.open(before, PLACE) == "Aysel"
    assert stat.S_IMODE((tmp_path / "keys" / key_store.KEY_FILE).stat().st_mode) == 0o600


def test_a_demo_key_file_left_in_the_data_folder_moves_to_the_keys_folder_and_still_opens(
    tmp_path: Path,
) -> None:
    data_dir, keys_dir = tmp_path / "data", tmp_path / "keys"
    old = key_store.ensure_key_file(data_dir / key_store.KEY_FILE)  # where older builds kept it
    sealed = sealing.Keyring(old.data_keys, old.index_key).seal("Aysel", PLACE)
    settings = bootstrap.Settings(
        env="demo", data_dir=data_dir, keys_dir=keys_dir, database_url="sqlite://"
    )
    moved = bootstrap.keyring(settings)
    assert moved.open(sealed, PLACE) == "Aysel"
    assert moved.key_file == keys_dir / key_store.KEY_FILE
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys_dir / key_store.KEY_FILE).stat().st_mode) == 0o600
    assert not list(data_dir.iterdir())
    assert bootstrap.keyring(settings).open(sealed, PLACE) == "Aysel"  # and at the next start


@pytest.mark.parametrize("clear", ["Aysel", "Aysel:Məmmədova", "Aysel:QWxpYmF5"])
def test_text_stored_in_clear_is_refused_without_being_quoted(clear: str) -> None:
    with pytest.raises(sealing.CannotOpen, match="does not hold a sealed value") as refused:
        _keyring().open(clear, PLACE)
    assert "Aysel" not in str(refused.value)
