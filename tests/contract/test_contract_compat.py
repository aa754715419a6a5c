"""Within one VERSION a contract only gains optional fields; anything else needs a new version."""

from __future__ import annotations

import copy
import json
import subprocess
import warnings
from typing import Any

import compat
import goldens
import pytest

from korpu_contracts import providers, referral, registry, schemas

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
    _judge(name, _baselines(name))


def _judge(name: str, baselines: dict[str, dict[str, Any]]) -> None:
    """Fail on a breaking change; warn of each value an enum gained."""
    added: dict[str, list[str]] = {}
    for where, committed in baselines.items():
        found = compat.differences(committed, GENERATED[name])
        assert not found.breaking, (
            f"{name} changed incompatibly against the schema in the {where}: {found.breaking}. "
            "Keep this version as it is; add a new model with VERSION + 1, an upcaster in "
            "registry.UPCASTERS and a golden file instead."
        )
        for value in found.added:
            added.setdefault(value, []).append(where)
    for value, wheres in added.items():
        # A warning, not a failure: an added value keeps the version, since readers
        # take one added after they were built (`korpu_contracts.tolerant`). But a
        # reader built before reads it as its field says (a reason as `other`, a
        # status left unapplied), which whoever adds it must have meant. pytest's
        # warnings summary shows it on every run, CI's included, until the schema
        # is committed. Rejected: failing (the rule allows the change); printing
        # (pytest captures it, so nobody sees it); a list of values acknowledged in
        # a file (one more thing to edit, for a notice).
        warnings.warn(
            compat.AddedValue(f"{name}: {value} (against the {' and the '.join(wheres)})"),
            stacklevel=2,
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


def test_a_value_added_to_a_real_payload_is_flagged_with_its_path_and_breaks_nothing() -> None:
    new = _task_requested()
    new["$defs"]["SafetyRisk"]["enum"].append("critical")
    assert compat.breaking_changes(_task_requested(), new) == []
    assert compat.added_values(_task_requested(), new) == [
        "data.safety_risk: value(s) ['critical'] added"
    ]


def test_a_service_added_is_flagged_wherever_the_status_names_services() -> None:
    model = referral.ReferralStatusChanged
    old = copy.deepcopy(GENERATED[schemas.file_name(model.TYPE, model.VERSION)])
    new = copy.deepcopy(old)
    for name in ("Service", "Purpose"):
        new["$defs"][name]["enum"].append("tutoring")
    assert compat.breaking_changes(old, new) == []
    assert sorted(compat.added_values(old, new)) == [
        "data.consent.<key>: value(s) ['tutoring'] added",
        "data.services.<key>: value(s) ['tutoring'] added",
    ]


def test_a_value_renamed_is_breaking_for_the_old_name_and_flagged_for_the_new() -> None:
    new = _task_requested()
    values = new["$defs"]["SafetyRisk"]["enum"]
    values[values.index("unknown")] = "not_said"
    found = compat.differences(_task_requested(), new)
    assert found.breaking == ["data.safety_risk: value(s) ['unknown'] no longer allowed"]
    assert found.added == ["data.safety_risk: value(s) ['not_said'] added"]


def test_a_value_added_since_the_committed_schema_is_told_as_a_warning_not_a_failure() -> None:
    name = schemas.file_name(providers.TaskUpdated.TYPE, providers.TaskUpdated.VERSION)
    committed = copy.deepcopy(GENERATED[name])  # as it was before `failed` existed
    committed["$defs"]["TaskStatus"]["enum"].remove("failed")

    with pytest.warns(compat.AddedValue) as told:
        _judge(name, {"git HEAD": committed, "work tree": committed})

    assert [str(warning.message) for warning in told] == [
        f"{name}: data.status: value(s) ['failed'] added (against the git HEAD and the work tree)"
    ]


def test_a_value_removed_since_the_committed_schema_still_fails() -> None:
    name = schemas.file_name(providers.TaskUpdated.TYPE, providers.TaskUpdated.VERSION)
    committed = copy.deepcopy(GENERATED[name])  # as if `paused` had been taken out since
    committed["$defs"]["TaskStatus"]["enum"].append("paused")

    with pytest.raises(AssertionError, match=r"data.status: value\(s\) \['paused'\] no longer"):
        _judge(name, {"git HEAD": committed})
