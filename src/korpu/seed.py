"""`korpu seed FILE.json`: load the provider directory into each provider's own database."""

from __future__ import annotations

import decimal
import json
from pathlib import Path
from typing import Any

from korpu import catalog


class SeedError(ValueError):
    pass


def read(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        # A number with a fraction is read as a Decimal, exact: a fund's "budget": 250.10
        # stays 250.10, never the binary fraction nearest it.
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=decimal.Decimal)
    except (OSError, json.JSONDecodeError) as error:
        raise SeedError(f"{path}: {error}") from error
    if not isinstance(document, dict):
        raise SeedError(f"{path}: expected a JSON object with {', '.join(catalog.DIRECTORY_KEYS)}")
    unknown = set(document) - set(catalog.DIRECTORY_KEYS)
    if unknown:
        raise SeedError(
            f"{path}: unknown keys {sorted(unknown)}; known: {', '.join(catalog.DIRECTORY_KEYS)}"
        )
    for key, entries in document.items():
        if not isinstance(entries, list):
            raise SeedError(f"{path}: {key} must be a list")
    return document


def load(document: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Each provider validates and upserts its own entries; returns how many each loaded."""
    counts = {}
    for key, service in catalog.DIRECTORY_KEYS.items():
        entries = document.get(key, [])
        module = catalog.bootstrap(service)
        try:
            counts[key] = module.seed(catalog.settings(service), entries)
        except ValueError as error:
            raise SeedError(f"{key}: {error}") from error
    return counts
