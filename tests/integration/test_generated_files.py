"""`korpu generate`: the committed files made from the list of services are current, and a
stale one is named and rewritten."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from korpu import generate, openapi, redis_acl


def test_every_generated_file_is_current() -> None:
    assert generate.write_or_check(check=True) == 0, "regenerate with `korpu generate`"


@pytest.fixture
def copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The generated files copied to tmp_path, and `korpu generate` pointed at the copies."""
    root = tmp_path / "repo"
    for module, name, path in (
        (generate, "COMPOSE_FILE", generate.COMPOSE_FILE),
        (generate, "POSTGRES_INIT", generate.POSTGRES_INIT),
        (generate, "ASYNCAPI_FILE", generate.ASYNCAPI_FILE),
        (generate, "SCHEMAS_DIR", generate.SCHEMAS_DIR),
        (redis_acl, "COMPOSE_FILE", redis_acl.COMPOSE_FILE),
        (openapi, "FOLDER", openapi.FOLDER),
    ):
        copy = root / path.relative_to(generate.REPOSITORY)
        copy.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, copy)
        else:
            shutil.copyfile(path, copy)
        monkeypatch.setattr(module, name, copy)
    monkeypatch.setattr(generate, "REPOSITORY", root)
    return root


def test_a_stale_file_is_named_and_generating_brings_it_back(
    copies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = copies / "docker-compose.yml"
    original = compose.read_text(encoding="utf-8")
    # A provider's block dropped by hand, and a database forgotten.
    start = original.index("  legal_aid:\n")
    end = original.index("\n\n", start) + 2
    compose.write_text(original[:start] + original[end:], encoding="utf-8")
    init = copies / "deploy" / "postgres-init.sql"
    init.write_text(init.read_text().replace("CREATE DATABASE legal_aid;\n", ""))

    assert generate.write_or_check(check=True) == 1
    out = capsys.readouterr().out
    assert "stale: docker-compose.yml (run `korpu generate`)" in out
    assert "stale: deploy/postgres-init.sql" in out
    assert "asyncapi" not in out  # what is current is not named

    assert generate.write_or_check(check=False) == 0
    assert compose.read_text(encoding="utf-8") == original
    assert "CREATE DATABASE legal_aid;" in init.read_text()
    assert generate.write_or_check(check=True) == 0


def test_a_compose_file_without_its_markers_is_refused(
    copies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    compose = copies / "docker-compose.yml"
    compose.write_text(compose.read_text().replace(generate.END, ""), encoding="utf-8")
    assert generate.write_or_check(check=False) == 2
    assert "lacks the marker lines" in capsys.readouterr().err
    assert generate.END not in compose.read_text()  # left as it was
