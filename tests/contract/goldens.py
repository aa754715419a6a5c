"""Where the contract tests find golden envelopes and committed schemas, and how they read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from korpu_contracts import asyncapi, registry, schemas
from korpu_contracts.envelope import Payload

GOLDEN_DIR = Path(__file__).parent / "golden"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "shared" / "contracts" / "schemas"
ASYNCAPI_PATH = REPO_ROOT / "docs" / "asyncapi.json"

assert schemas.default_dir() == SCHEMA_DIR, "the generator writes somewhere the tests do not read"
assert asyncapi.default_path() == ASYNCAPI_PATH, "the generator writes elsewhere than the tests"


def files() -> list[Path]:
    return sorted(GOLDEN_DIR.rglob("*.json"))


def key(path: Path) -> tuple[str, int]:
    """`golden/<type>/v<version>.json` -> (type, version)."""
    return path.parent.name, int(path.stem.removeprefix("v"))


def name(path: Path) -> str:
    return path.relative_to(GOLDEN_DIR).as_posix()


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def committed_schema(event_type: str, version: int) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (SCHEMA_DIR / schemas.file_name(event_type, version)).read_text(encoding="utf-8")
    )
    return document


def latest_model(event_type: str) -> type[Payload]:
    return registry.MODELS[(event_type, registry.latest_version(event_type))]
