"""Golden envelopes: one per event type and version, frozen once written.

Each must validate against its committed JSON Schema and still read through
today's reader of its type (upcast when older), so a change that would break a
reader of an earlier version fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import goldens
import pytest
from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]

from korpu_contracts import registry, schemas
from korpu_contracts.envelope import Envelope

GOLDEN_FILES = goldens.files()
ids = [goldens.name(path) for path in GOLDEN_FILES]


def _older(path: Path) -> bool:
    event_type, version = goldens.key(path)
    return version < registry.latest_version(event_type)


def test_every_event_version_has_a_golden_file_and_a_committed_schema() -> None:
    for event_type, version in registry.MODELS:
        name = schemas.file_name(event_type, version)
        assert (goldens.GOLDEN_DIR / name).is_file(), f"no golden file tests/contract/golden/{name}"
        assert (goldens.SCHEMA_DIR / name).is_file(), f"no committed schema for {name}"


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=ids)
def test_a_golden_file_is_a_known_event_version_named_after_itself(path: Path) -> None:
    document = goldens.load(path)
    assert goldens.key(path) in registry.MODELS
    assert (document["type"], document["dataschemaversion"]) == goldens.key(path)


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=ids)
def test_a_golden_file_validates_against_its_committed_schema(path: Path) -> None:
    schema = goldens.committed_schema(*goldens.key(path))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    problems = [
        f"{'.'.join(map(str, error.absolute_path)) or '<envelope>'}: {error.message}"
        for error in validator.iter_errors(goldens.load(path))
    ]
    assert not problems, f"{goldens.name(path)} no longer fits its schema: {problems}"


def _retired(path: Path) -> bool:
    return goldens.key(path) in registry.RETIRED


@pytest.mark.parametrize(
    "path", [path for path in GOLDEN_FILES if not _retired(path)], ids=goldens.name
)
def test_a_golden_file_reads_with_todays_reader_of_its_type(path: Path) -> None:
    event_type, _ = goldens.key(path)
    reader = goldens.latest_model(event_type)
    envelope = Envelope.from_json(path.read_bytes())

    payload = registry.read(envelope, reader)

    assert isinstance(payload, reader)
    assert envelope.id == goldens.load(path)["id"]


def test_every_older_version_has_an_upcaster_to_the_next_or_is_retired() -> None:
    for event_type, version in registry.MODELS:
        if version < registry.latest_version(event_type):
            known = (event_type, version) in registry.UPCASTERS
            assert known != ((event_type, version) in registry.RETIRED), f"{event_type} v{version}"


@pytest.mark.parametrize(
    "path", [path for path in GOLDEN_FILES if _retired(path)], ids=goldens.name
)
def test_a_golden_file_of_a_retired_version_is_refused_naming_why(path: Path) -> None:
    envelope = Envelope.from_json(path.read_bytes())
    reason = registry.RETIRED[goldens.key(path)]
    with pytest.raises(registry.RetiredVersion, match=f"^{re.escape(reason)}$"):
        registry.read(envelope, goldens.latest_model(envelope.type))


def test_golden_files_of_older_versions_still_read_through_upcasters() -> None:
    for path in [path for path in GOLDEN_FILES if _older(path) and not _retired(path)]:
        event_type, version = goldens.key(path)
        envelope = Envelope.from_json(path.read_bytes())
        assert registry.read(envelope, registry.MODELS[(event_type, version)])
        latest = registry.read(envelope, goldens.latest_model(event_type))
        assert registry.latest_version(event_type) == latest.VERSION


@pytest.mark.parametrize(
    "path", [path for path in GOLDEN_FILES if not _older(path)], ids=goldens.name
)
def test_a_current_golden_file_is_exactly_what_todays_publisher_emits(path: Path) -> None:
    document = goldens.load(path)
    model = registry.MODELS[goldens.key(path)]
    assert model.model_validate(document["data"]).model_dump(mode="json") == document["data"]


def test_a_golden_file_carrying_a_person_carries_an_obviously_fictional_one() -> None:
    for path in GOLDEN_FILES:
        if registry.MODELS[goldens.key(path)].CARRIES_PERSONAL_DATA:
            data = goldens.load(path)["data"]
            if "sealed_referral" in data:  # sealed: the person cannot even be read here
                assert "Fictional" not in path.read_text(encoding="utf-8")
                continue
            person = data["referral"]["person"]
            assert (person["given_name"], person["family_name"]) == ("Fictional", "Testperson")
