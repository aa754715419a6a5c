"""The committed JSON Schemas and AsyncAPI document are what the contracts generate today."""

from __future__ import annotations

import json
from pathlib import Path

import goldens
import pytest

from korpu_contracts import asyncapi, schemas

SCHEMAS_COMMAND = ".venv/bin/python -m korpu_contracts.schemas"
ASYNCAPI_COMMAND = ".venv/bin/python -m korpu_contracts.asyncapi"


def test_the_committed_schemas_are_up_to_date() -> None:
    stale = schemas.stale(goldens.SCHEMA_DIR)
    assert not stale, (
        f"committed JSON Schemas differ from the contracts: {', '.join(stale)}. "
        f"Regenerate with `{SCHEMAS_COMMAND}` and commit the result."
    )


def test_the_committed_asyncapi_document_is_up_to_date() -> None:
    expected = schemas.render(asyncapi.build())
    current = goldens.ASYNCAPI_PATH.read_text(encoding="utf-8")
    assert current == expected, (
        f"{goldens.ASYNCAPI_PATH.relative_to(goldens.REPO_ROOT)} differs from the contracts. "
        f"Regenerate with `{ASYNCAPI_COMMAND}` and commit the result."
    )


def test_generation_is_deterministic() -> None:
    assert schemas.render(asyncapi.build()) == schemas.render(asyncapi.build())
    assert {name: schemas.render(s) for name, s in schemas.generate().items()} == {
        name: schemas.render(s) for name, s in schemas.generate().items()
    }


def test_each_schema_pins_its_type_and_version() -> None:
    for name, schema in schemas.generate().items():
        event_type, version = name.removesuffix(".json").split("/v")
        assert schema["$id"] == schemas.schema_id(event_type, int(version))
        assert schema["properties"]["type"]["const"] == event_type
        assert schema["properties"]["dataschemaversion"]["const"] == int(version)
        assert {"type", "dataschemaversion", "data"} <= set(schema["required"])


def test_the_schema_check_names_stale_files_and_writing_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schemas.main([str(tmp_path)]) == 0
    assert schemas.main(["--check", str(tmp_path)]) == 0

    edited = tmp_path / "korpu.task.requested" / "v1.json"
    edited.write_text(edited.read_text(encoding="utf-8").replace("is_child", "child"))
    (tmp_path / "korpu.task.requested" / "v0.json").write_text("{}\n")
    capsys.readouterr()
    assert schemas.main(["--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "korpu.task.requested/v1.json" in err
    assert "korpu.task.requested/v0.json" in err
    assert "python -m korpu_contracts.schemas" in err

    assert schemas.main([str(tmp_path)]) == 0
    assert schemas.main(["--check", str(tmp_path)]) == 0
    assert not (tmp_path / "korpu.task.requested" / "v0.json").exists()


def test_schema_files_are_sorted_indented_and_end_with_a_newline(tmp_path: Path) -> None:
    schemas.main([str(tmp_path)])
    text = (tmp_path / "korpu.task.updated" / "v1.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_the_asyncapi_check_fails_when_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "docs" / "asyncapi.json"
    assert asyncapi.main(["--check", str(path)]) == 1
    assert asyncapi.main([str(path)]) == 0
    assert asyncapi.main(["--check", str(path)]) == 0
    path.write_text(path.read_text(encoding="utf-8").replace("korpu.shelter.updates", "x"))
    capsys.readouterr()
    assert asyncapi.main(["--check", str(path)]) == 1
    assert "python -m korpu_contracts.asyncapi" in capsys.readouterr().err
