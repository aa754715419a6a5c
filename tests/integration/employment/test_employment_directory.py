"""Loading the program directory: by name, again and again, and never half of a bad file."""

from __future__ import annotations

from pathlib import Path

import pytest
from employment_harness import Employment, program

from employment import bootstrap
from employment.adapters import programs as program_table
from korpu_provider import directory
from korpu_runtime.database import Database


async def test_seeding_other_seats_changes_capacity_and_keeps_who_is_enrolled(
    employment: Employment,
) -> None:
    await employment.seed([program("Tailoring", seats=3)])
    await employment.ask("enrolled")
    await employment.answers("enrolled")

    await employment.seed([program("Tailoring", seats=8)])

    tailoring = (await employment.programs())["Tailoring"]
    assert (tailoring["seats"], tailoring["enrolled"], tailoring["free_seats"]) == (8, 1, 7)


async def test_a_bad_entry_is_refused_naming_every_bad_field_and_nothing_is_loaded(
    employment: Employment,
) -> None:
    good = program("Tailoring")
    bad = {**program("Welding", seats=-1, languages=["Azerbaijani"]), "colour": "red"}
    forgot_min_age = {k: v for k, v in program("Cooking").items() if k != "min_age"}

    with pytest.raises(directory.InvalidDirectory) as refused:
        await employment.seed([good, bad, forgot_min_age])

    fields = {error.split(":")[0] for error in refused.value.errors}
    assert fields == {
        "programs[1].seats",
        "programs[1].languages[0]",
        "programs[1].colour",
        "programs[2].min_age",
    }
    assert await employment.programs() == {}


def test_korpu_seed_creates_the_schema_and_loads_twice_without_duplicates(
    tmp_path: Path, database_url: str
) -> None:
    settings = bootstrap.Settings(database_url=database_url, data_dir=tmp_path)
    programs = [program("Tailoring"), program("Cooking")]

    assert bootstrap.seed(settings, programs) == 2
    assert bootstrap.seed(settings, programs) == 2

    database = Database(database_url)
    try:
        names = database.transaction(
            lambda conn: sorted(p.name for p in program_table.directory(conn, lock=False).values())
        )
    finally:
        database.close()
    assert names == ["Cooking", "Tailoring"]
