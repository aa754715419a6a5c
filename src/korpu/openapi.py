"""`korpu openapi [--check]`: each service's OpenAPI document, committed under docs/openapi/."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from korpu import catalog, output

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "openapi"


def documents() -> dict[str, str]:
    """File name -> the document as its app serves it at /openapi.json."""
    found = {}
    # Building the app connects to nothing until it starts, but makes the keys it reads
    # (signing, scraping): in a folder thrown away after, never the operator's.
    with tempfile.TemporaryDirectory() as keys_dir:
        for name in catalog.SERVICES:
            module = catalog.bootstrap(name)
            settings = module.Settings(
                database_url="sqlite://", redis_url="redis://x", keys_dir=keys_dir
            )
            app = module.build_app(settings)
            found[f"{name}.json"] = json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"
    return found


def write_or_check(check: bool, as_json: bool = False) -> int:
    written, stale = [], []
    for file_name, text in documents().items():
        path = FOLDER / file_name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(str(path))
    output.files("korpu openapi", written, stale, as_json)
    return 1 if stale else 0
