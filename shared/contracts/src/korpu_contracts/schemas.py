"""JSON Schema of every event type and version: the whole envelope with that payload as `data`.

`python -m korpu_contracts.schemas [--check] [DIR]` writes them (default:
`shared/contracts/schemas/` of this checkout); `--check` only compares and exits 1
naming every stale file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import create_model

from korpu_contracts import registry, streams
from korpu_contracts.envelope import Envelope, Payload

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# A URN, not a URL: nothing is served at it, and a made-up domain would suggest otherwise.
ID_PREFIX = "urn:korpu:event:"

_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


def file_name(event_type: str, version: int) -> str:
    return f"{event_type}/v{version}.json"


def schema_id(event_type: str, version: int) -> str:
    return f"{ID_PREFIX}{event_type}:v{version}"


def envelope_model(payload: type[Payload]) -> type[Envelope]:
    """The envelope with `data` typed as this payload: what one stream entry of it holds."""
    suffix = f"V{payload.VERSION}"
    name = payload.__name__ if payload.__name__.endswith(suffix) else payload.__name__ + suffix
    return create_model(
        f"{name}Event",
        __base__=Envelope,
        __doc__=describe(payload),
        data=(payload, ...),
    )


def describe(payload: type[Payload]) -> str:
    text = (
        f"One `{payload.TYPE}` event, data version {payload.VERSION}: the JSON document in "
        f"the `{streams.ENTRY_FIELD}` field of a stream entry. Publishers send exactly these "
        "fields; readers ignore fields they do not know, so an added optional field keeps "
        "the version. The values listed for a field are those known at this version: more "
        "may be added without a new version, and a reader takes one it does not know as "
        "Körpü's own do (a reason as `other`, a sex or safety risk as `unknown`, an entry of "
        "`services`, `consent` or `flags` left out, a status kept but never acted on)."
    )
    if payload.CARRIES_PERSONAL_DATA:
        text += (
            " It carries personal data: only the referral service reads it, and deletes the "
            "stream entry once the referral is stored."
        )
    return text


def pin(schema: dict[str, Any], payload: type[Payload]) -> dict[str, Any]:
    """Fix `type` and `dataschemaversion` to this payload's, and title the schema after them."""
    properties = schema["properties"]
    properties["type"] = {"const": payload.TYPE, "title": "Type", "type": "string"}
    properties["dataschemaversion"] = {
        "const": payload.VERSION,
        "title": "Dataschemaversion",
        "type": "integer",
    }
    schema["title"] = f"{payload.TYPE} v{payload.VERSION}"
    return schema


def schema_of(payload: type[Payload]) -> dict[str, Any]:
    schema = pin(envelope_model(payload).model_json_schema(), payload)
    return {"$schema": DIALECT, "$id": schema_id(payload.TYPE, payload.VERSION), **schema}


def generate() -> dict[str, dict[str, Any]]:
    """Relative file name (`<type>/v<version>.json`) -> schema, for every entry of MODELS."""
    return {
        file_name(event_type, version): schema_of(model)
        for (event_type, version), model in sorted(registry.MODELS.items())
    }


def render(document: dict[str, Any]) -> str:
    """Deterministic text, so a regenerated file differs only when the contract did."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def stale(directory: Path) -> list[str]:
    """Files under `directory` that differ from what the code generates, missing, or extra."""
    expected = {name: render(schema) for name, schema in generate().items()}
    present = {path.relative_to(directory).as_posix() for path in directory.rglob("*.json")}
    differing = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(differing + [name for name in present if name not in expected])


def write(directory: Path) -> list[str]:
    """Bring `directory` up to date; the relative names written or removed."""
    changed = stale(directory)
    expected = generate()
    for name in changed:
        path = directory / name
        if name in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(expected[name]), encoding="utf-8")
        else:
            # Every version stays in MODELS, so a file the code no longer makes is a leftover.
            path.unlink()
    return changed


def default_dir() -> Path | None:
    """`shared/contracts/schemas/` when running from a checkout; None when installed."""
    if (_PACKAGE_ROOT / "pyproject.toml").is_file():
        return _PACKAGE_ROOT / "schemas"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m korpu_contracts.schemas", description="Write the event JSON Schemas."
    )
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    parser.add_argument("directory", nargs="?", type=Path, help="default: shared/contracts/schemas")
    args = parser.parse_args(argv)
    directory: Path | None = args.directory or default_dir()
    if directory is None:
        parser.error("not running from a Körpü checkout: name the directory")
    if args.check:
        names = stale(directory)
        for name in names:
            print(f"stale: {directory / name}", file=sys.stderr)
        if names:
            print("regenerate with: python -m korpu_contracts.schemas", file=sys.stderr)
        return 1 if names else 0
    directory.mkdir(parents=True, exist_ok=True)
    for name in write(directory):
        print(f"wrote {directory / name}" if (directory / name).exists() else f"removed {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
