"""Entry signatures: who signed, over what, and keys rotated and retired while running."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from korpu_contracts import streams
from korpu_runtime import signing

STREAM = streams.SHELTER_REQUESTS
BODY = '{"type": "korpu.task.requested"}'


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def _signed(keys: Path, service: str = "referral", stream: str = STREAM) -> dict[str, str]:
    signer = signing.Signer(keys, service, create=True)
    return {k: str(v) for k, v in signer.signed(stream, {streams.ENTRY_FIELD: BODY}).items()}


def _as_bytes(fields: dict[str, str]) -> dict[bytes, bytes]:
    return {name.encode(): value.encode() for name, value in fields.items()}


def test_a_signed_entry_names_its_signer(keys: Path) -> None:
    fields = _signed(keys)
    verifier = signing.Verifier(keys)
    assert verifier.signer(STREAM, _as_bytes(fields), ("referral",)) == "referral"
    # A replay mark added by an operator does not break the signature.
    marked = {**fields, streams.REPLAY_FIELD: "1-0"}
    assert verifier.check(STREAM, marked) == "referral"


@pytest.mark.parametrize(
    "change",
    ["altered body", "added field", "another stream", "no signature", "another signer named"],
)
def test_an_entry_changed_after_signing_is_refused(keys: Path, change: str) -> None:
    fields = _signed(keys)
    signing.Signer(keys, "shelter", create=True)  # shelter has a key too
    stream = STREAM
    if change == "altered body":
        fields[streams.ENTRY_FIELD] = BODY.replace("requested", "cancelled")
    elif change == "added field":
        fields["note"] = "x"
    elif change == "another stream":
        stream = streams.EMPLOYMENT_REQUESTS
    elif change == "no signature":
        del fields[streams.SIGNATURE_FIELD]
    else:
        fields[streams.SIGNATURE_FIELD] = fields[streams.SIGNATURE_FIELD].replace(
            ":referral:", ":shelter:"
        )
    with pytest.raises(signing.Refused):
        signing.Verifier(keys).check(stream, fields)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "v1",
        "v1:referral",
        "v2:referral:20261207T000000000000Z-abcdef:AAAA",
        "v1:referral:../../../etc/passwd:AAAA",
        "v1:Referral Service:20261207T000000000000Z-abcdef:AAAA",
        "v1:referral:20261207T000000000000Z-abcdef:!!!not base64",
        "v1:referral:20261207T000000000000Z-abcdef:" + "A" * 500,
        "\x1b[2J:\x00:\xff",
    ],
)
def test_a_malformed_signature_is_refused_without_touching_the_keys(keys: Path, value: str) -> None:
    _signed(keys)
    fields = {streams.ENTRY_FIELD: BODY, streams.SIGNATURE_FIELD: value}
    with pytest.raises(signing.Refused) as refused:
        signing.Verifier(keys).check(STREAM, fields)
    assert "\x1b" not in str(refused.value) and "passwd" not in str(refused.value)


def test_a_signer_not_writing_the_stream_is_refused(keys: Path) -> None:
    fields = _as_bytes(_signed(keys, "shelter"))
    with pytest.raises(signing.Refused, match="does not write this stream"):
        signing.Verifier(keys).signer(STREAM, fields, streams.PRODUCERS[STREAM])
    with pytest.raises(signing.Refused, match="nobody"):
        signing.Verifier(keys).signer("korpu.unknown", fields, None)
    # A stream no service writes (the intake) takes entries unsigned.
    assert signing.Verifier(keys).signer(streams.INTAKE, {}, ()) == ""


def test_a_key_made_while_running_is_used_and_verified_without_a_restart(
    keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = signing.Signer(keys, "referral", create=True)
    verifier = signing.Verifier(keys)
    first = signer.key_id
    newer = signing.generate(keys, "referral")
    monkeypatch.setattr(signing, "RESCAN_SECONDS", 0.0)
    fields = signer.signed(STREAM, {streams.ENTRY_FIELD: BODY})
    assert signer.key_id == newer != first
    assert verifier.check(STREAM, fields) == "referral"  # learnt the new key on meeting it


def test_forged_key_ids_do_not_make_the_reader_read_every_key_again(
    keys: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    genuine = _signed(keys)
    monkeypatch.setattr(signing, "UNSETTLED_NS", 0)  # the folder's last change is settled
    verifier = signing.Verifier(keys)
    reads = []
    monkeypatch.setattr(verifier, "_reload", lambda: reads.append(1))
    for number in range(50):
        forged = {**genuine}
        kind, signer, _, signature = genuine[streams.SIGNATURE_FIELD].split(":")
        made_up = f"20260101T000000{number:06d}Z-abcdef"
        forged[streams.SIGNATURE_FIELD] = ":".join([kind, signer, made_up, signature])
        with pytest.raises(signing.Refused, match="no key"):
            verifier.check(STREAM, forged)
    assert reads == []
    assert verifier.check(STREAM, genuine) == "referral"


def test_a_retired_key_verifies_nothing_and_the_newest_cannot_be_retired(keys: Path) -> None:
    old = _signed(keys)
    old_id = old[streams.SIGNATURE_FIELD].split(":")[2]
    newest = signing.generate(keys, "referral")
    with pytest.raises(ValueError, match="newest"):
        signing.retire(keys, "referral", newest)
    signing.retire(keys, "referral", old_id)
    with pytest.raises(signing.Refused, match="no key"):
        signing.Verifier(keys).check(STREAM, old)
    assert [key.key_id for key in signing.list_keys(keys)] == [newest]


def test_private_keys_are_readable_by_their_owner_only(keys: Path) -> None:
    signing.generate(keys, "referral")
    for path in (keys / "signing").rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), path


def test_in_production_a_service_without_a_key_refuses_to_start(keys: Path) -> None:
    with pytest.raises(signing.NoSigningKey, match="korpu keys signing generate referral"):
        signing.Signer(keys, "referral", create=False)


def test_a_dead_letter_counts_only_when_written_by_the_reader_of_its_origin(keys: Path) -> None:
    letter = {"origin_stream": STREAM, "origin_id": "1-0", "error": "x"}
    verifier = signing.Verifier(keys)
    shelters, legal_aids = streams.dead_letters("shelter"), streams.dead_letters("legal_aid")
    by_reader = signing.Signer(keys, "shelter", create=True).signed(shelters, letter)
    assert verifier.dead_letter_writer(shelters, by_reader) == "shelter"
    legal_aid = signing.Signer(keys, "legal_aid", create=True)
    with pytest.raises(signing.Refused, match="does not read"):
        verifier.dead_letter_writer(legal_aids, legal_aid.signed(legal_aids, letter))
    with pytest.raises(signing.Refused, match="another service's"):
        verifier.dead_letter_writer(shelters, legal_aid.signed(shelters, letter))
