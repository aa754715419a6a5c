"""The gazetteer: a country's regions as data, and the one rule turning a name into its code.

Regions are administrative divisions with an ISO 3166-2 code (AZ-BA). Agencies
write them in Azerbaijani, English or Russian (Bakı, Baku, Баку), and a
directory is typed by hand: every place that takes a region (intake, provider
directories, statistics) stores the code, found here, so "Bakı" and "Baku" are
one region and an unknown name is refused rather than kept as a region of its own.

The list is data, not code: `deploy/regions/az.json`, or the file named by
`KORPU_REGIONS` (another country's, in the same shape). A name is matched by
its spelling key (`names.spelling`: case, accents, the passport's and Russian
spellings folded away), so the file lists only the spellings that differ by
more. Stdlib only, like the rest of this package: agencies validate with it.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from korpu_contracts import names

ENV = "KORPU_REGIONS"
# The repository's deploy/regions/az.json, shipped with this package (a link in the source tree).
DEFAULT = Path(__file__).resolve().parent / "gazetteer" / "az.json"
MAX_LENGTH = 60


class InvalidGazetteer(ValueError):
    """The file cannot serve: unreadable, misshapen, or one spelling naming two regions."""


class UnknownRegion(ValueError):
    """A name that is no region of the gazetteer. Says nothing of the value."""

    def __init__(self) -> None:
        super().__init__("not a region of the gazetteer: an ISO 3166-2 code or one of its names")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    # Every spelling the file lists for it, by language: {"az": [...], "en": [...], "ru": [...]}.
    names: Mapping[str, tuple[str, ...]]


class Gazetteer:
    def __init__(self, country: str, regions: list[Region]) -> None:
        self.country = country
        self.regions = {region.code: region for region in regions}
        self._codes: dict[str, str] = {}
        for region in regions:
            for spelling in (region.code, region.name, *_all_names(region)):
                self._add(_key(spelling), region.code, spelling)

    def _add(self, key: str, code: str, spelling: str) -> None:
        known = self._codes.setdefault(key, code)
        if known != code:
            raise InvalidGazetteer(f"{spelling!r} names both {known} and {code}")

    def code(self, name: str) -> str | None:
        """The region's code, from its code or any of its names; None when unknown."""
        return self._codes.get(_key(name))

    def spellings(self) -> list[str]:
        """Codes, then every name the file lists, each once: what the OpenAPI document shows."""
        listed = [*self.regions]
        for region in self.regions.values():
            listed.extend([region.name, *_all_names(region)])
        return list(dict.fromkeys(listed))


def _all_names(region: Region) -> list[str]:
    return [name for spellings in region.names.values() for name in spellings]


def _key(name: str) -> str:
    # Hyphens and spaces are one: "Ali-Bayramli" and "Ali Bayramli".
    return names.spelling(" ".join(name.replace("-", " ").split()))


def parse(document: Any) -> Gazetteer:
    """A gazetteer from the JSON document's value; `InvalidGazetteer` naming what is wrong."""
    try:
        country = str(document["country"])
        regions = [
            Region(
                code=str(entry["code"]),
                name=str(entry["name"]),
                names={
                    str(language): tuple(str(n) for n in spellings)
                    for language, spellings in entry.get("names", {}).items()
                },
            )
            for entry in document["regions"]
        ]
    except (KeyError, TypeError, AttributeError) as missing:
        raise InvalidGazetteer(f"not a gazetteer: {missing!r} missing or misshapen") from None
    if not regions:
        raise InvalidGazetteer("a gazetteer with no region")
    too_long = [r.code for r in regions if max(len(r.code), len(r.name)) > MAX_LENGTH]
    if too_long:
        raise InvalidGazetteer(f"over {MAX_LENGTH} characters: {', '.join(too_long)}")
    return Gazetteer(country, regions)


def load(path: Path) -> Gazetteer:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as unreadable:
        raise InvalidGazetteer(f"{path}: {unreadable}") from None
    return parse(document)


def path() -> Path:
    return Path(os.environ.get(ENV) or DEFAULT)


def current() -> Gazetteer:
    """The gazetteer this process uses: `KORPU_REGIONS`, else the shipped az.json."""
    return _loaded(path())


@functools.lru_cache(maxsize=4)
def _loaded(where: Path) -> Gazetteer:
    # Read once per file: every referral and every directory entry asks.
    return load(where)


def code_of(name: str) -> str:
    """The code of a region named any way the gazetteer knows; `UnknownRegion` otherwise."""
    code = current().code(name)
    if code is None:
        raise UnknownRegion
    return code


def code_or_as_sent(name: str) -> str:
    """A tolerant reader's region: the code when known, else the text unchanged.

    For events written before regions were codes ("Baku" in a task request
    sent by an older referral service): read as the code they mean.
    """
    return current().code(name) or name
