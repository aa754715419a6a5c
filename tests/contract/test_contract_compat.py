"""Within one VERSION a contract only gains optional fields; anything else needs a new version."""

from __future__ import annotations

import copy
import json
import subprocess
from typing import Any

import compat
import goldens
import pytest

from korpu_contracts import referral, registry, schemas

GENERATED = schemas.generate()
NAMES = [schemas.file_name(event_type, version) for event_type, version in sorted(registry.MODELS)]


def _baselines(name: str) -> dict[str, dict[str, Any]]:
    """The committed schema in the work tree and, when git knows it, at HEAD.

    HEAD matters because regenerating the work-tree file (as the up-to-date test
    asks) would otherwise erase the very baseline a breaking change is judged by.
    """
    found: dict[str, dict[str, Any]] = {}
    path = goldens.SCHEMA_DIR / name
    if path.is_file():
        found["work tree"] = json.loads(path.read_text(encoding="utf-8"))
    relative = path.relative_to(goldens.REPO_ROOT).as_posix()
    try:
        shown = subprocess.run(
            ["git", "show", f"HEAD:{relative}"],
            cwd=goldens.REPO_ROOT,
            capture_output=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return found
    if shown.returncode == 0:
        found["git HEAD"] = json.loads(shown.stdout)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_no_committed_event_version_changed_incompatibly(name: str) -> None:
    for where, committed in _baselines(name).items():
        problems = compat.breaking_changes(committed, GENERATED[name])
        assert not problems, (
            f"{name} changed incompatibly against the schema in the {where}: {problems}. "
            "Keep this version as it is; add a new model with VERSION + 1, an upcaster in "
            "registry.UPCASTERS and a golden file instead."
        )


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


OLD = _object({"task_id": {"type": "string"}, "age": {"type": "integer"}}, ["task_id"])


def test_an_added_required_field_is_breaking() -> None:
    new = _object({**OLD["properties"], "region": {"type": "string"}}, ["task_id", "region"])
    assert compat.breaking_changes(OLD, new) == ["region: added as a required field"]


def test_an_added_optional_field_is_not_breaking() -> None:
    new = _object({**OLD["properties"], "region": {"type": "string"}}, ["task_id"])
    assert compat.breaking_changes(OLD, new) == []


def test_a_removed_field_is_breaking() -> None:
    new = _object({"task_id": {"type": "string"}}, ["task_id"])
    assert compat.breaking_changes(OLD, new) == ["age: removed"]


def test_a_changed_type_is_breaking_even_when_it_only_widens() -> None:
    new = _object(
        {"task_id": {"type": "string"}, "age": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        ["task_id"],
    )
    assert compat.breaking_changes(OLD, new) == [
        "age: type changed from ['integer'] to ['integer', 'null']"
    ]


def test_an_optional_field_turned_required_is_breaking() -> None:
    new = _object(OLD["properties"], ["task_id", "age"])
    assert compat.breaking_changes(OLD, new) == ["age: became required"]


def test_identical_schemas_have_no_breaking_change() -> None:
    for schema in GENERATED.values():
        assert compat.breaking_changes(schema, copy.deepcopy(schema)) == []


def _task_requested() -> dict[str, Any]:
    model = referral.TaskRequested
    return copy.deepcopy(GENERATED[schemas.file_name(model.TYPE, model.VERSION)])


def test_a_required_field_added_to_a_real_payload_is_reported_with_its_path() -> None:
    new = _task_requested()
    new["$defs"]["TaskRequested"]["properties"]["facility_kind"] = {"type": "string"}
    new["$defs"]["TaskRequested"]["required"].append("facility_kind")
    assert compat.breaking_changes(_task_requested(), new) == [
        "data.facility_kind: added as a required field"
    ]


def test_an_optional_field_added_to_a_real_payload_is_not_reported() -> None:
    new = _task_requested()
    new["$defs"]["TaskRequested"]["properties"]["interpreter"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }
    assert compat.breaking_changes(_task_requested(), new) == []


def test_a_removed_enum_value_and_a_changed_format_are_reported() -> None:
    new = _task_requested()
    new["$defs"]["SafetyRisk"]["enum"].remove("unknown")
    new["properties"]["time"]["format"] = "date"
    assert sorted(compat.breaking_changes(_task_requested(), new)) == [
        "data.safety_risk: value(s) ['unknown'] no longer allowed",
        "time: type changed from ['string:date-time'] to ['string:date']",
    ]


def test_a_nested_field_removed_behind_a_reference_is_reported() -> None:
    old = copy.deepcopy(GENERATED["korpu.referral.submit/v1.json"])
    new = copy.deepcopy(old)
    del new["$defs"]["Person"]["properties"]["contact_phone"]
    assert compat.breaking_changes(old, new) == ["data.referral.person.contact_phone: removed"]
