"""Loading the shelter directory: by name, twice without duplicates, refusing bad entries."""

from __future__ import annotations

from typing import Any

import pytest

from korpu_provider import directory
from korpu_runtime.database import Database
from shelter import bootstrap


def womens_house(beds: int) -> dict[str, Any]:
    return {"name": "Baku women's house", "region": "Baku", "serves": ["women"], "beds": beds}


GANJA = {
    "name": "Ganja Regional Rehabilitation-Reintegration Center",
    "region": "Ganja",
    "serves": ["women", "girls"],
    "beds": 12,
}


def facilities(database_url: str) -> list[dict[str, Any]]:
    database = Database(database_url)
    try:
        return database.transaction(bootstrap.SERVICE.provider.directory_view)
    finally:
        database.close()


def test_seeding_twice_does_not_duplicate_and_a_changed_capacity_is_updated(
    database_url: str,
) -> None:
    settings = bootstrap.Settings(database_url=database_url)

    assert bootstrap.seed(settings, [womens_house(3), GANJA]) == 2
    assert bootstrap.seed(settings, [womens_house(3), GANJA]) == 2
    assert bootstrap.seed(settings, [womens_house(5)]) == 1

    found = {f["name"]: (f["region"], f["serves"], f["beds"]) for f in facilities(database_url)}
    assert found == {
        # Stored as the region's code, whichever name the seed file gave.
        "Baku women's house": ("AZ-BA", ["women"], 5),
        GANJA["name"]: ("AZ-GA", ["girls", "women"], 12),
    }


def test_a_bad_entry_is_refused_naming_each_bad_field_and_nothing_is_written(
    database_url: str,
) -> None:
    settings = bootstrap.Settings(database_url=database_url)
    misspelt = {"name": "X", "region": "Baku", "serves": ["woman"], "beds": -1, "bedz": 3}

    with pytest.raises(directory.InvalidDirectory) as refused:
        bootstrap.seed(settings, [womens_house(3), misspelt])

    fields = [problem.split(":")[0] for problem in refused.value.errors]
    assert fields == ["shelters[1].serves[0]", "shelters[1].beds", "shelters[1].bedz"]
    assert facilities(database_url) == []
