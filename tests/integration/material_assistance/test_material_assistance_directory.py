"""Loading the funds: exact amounts from a seed file, and a currency kept while it holds money."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from material_assistance_harness import Assistance, fund

from korpu import seed
from material_assistance import bootstrap


async def test_a_fund_holding_allowances_keeps_its_currency_and_the_whole_load_is_refused(
    assistance: Assistance,
) -> None:
    await assistance.seed(fund("Baku fund"), fund("Ganja fund", region="Ganja"))
    await assistance.ask("paid")
    await assistance.told("paid", "accepted")

    with pytest.raises(ValueError, match=r"'Baku fund'.currency: .* holds 700.00 AZN") as refused:
        await assistance.seed(
            fund("Ganja fund", region="Ganja", budget="9999.00"), fund("Baku fund", currency="USD")
        )

    assert "USD refused" in str(refused.value)
    funds = await assistance.funds()
    # Nothing of the load was written, not even the good entry before the bad one.
    assert (funds["Baku fund"]["currency"], funds["Ganja fund"]["budget"]) == ("AZN", "1400.00")


async def test_a_fund_holding_nothing_may_change_its_currency(assistance: Assistance) -> None:
    await assistance.seed(fund("Baku fund"))

    await assistance.seed(fund("Baku fund", currency="EUR", budget="1000.00", amount="250.00"))

    baku = (await assistance.funds())["Baku fund"]
    assert (baku["currency"], baku["budget"], baku["allowances_left"]) == ("EUR", "1000.00", 4)


def test_korpu_seed_reads_a_json_number_exactly_and_loads_twice_without_duplicates(
    tmp_path: Path, database_url: str
) -> None:
    # 0.10 and 250.10 as JSON numbers: a binary fraction would be 250.099999...
    path = tmp_path / "directory.json"
    path.write_text(
        '{"funds": [{"name": "Baku fund", "region": "Baku", "budget": 250.10,'
        ' "amount_per_person": 0.10, "currency": "AZN"}]}',
        encoding="utf-8",
    )
    settings = bootstrap.Settings(database_url=database_url, data_dir=tmp_path)
    entries = seed.read(path)["funds"]

    assert bootstrap.seed(settings, entries) == 1
    assert bootstrap.seed(settings, entries) == 1

    stored = bootstrap.SERVICE.provider.schema.metadata.tables["funds"]
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(stored.c.budget, stored.c.amount_per_person)).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(25_010, 10)]


async def test_a_case_worker_sees_what_a_task_holds_and_what_each_fund_has_left(
    assistance: Assistance,
) -> None:
    await assistance.seed(fund("Baku fund", budget="1000.00", amount="700.00"))
    await assistance.ask("paid", "waiting")
    await assistance.told("waiting", "on-hold")

    paid = (await assistance.client.get("/v1/tasks/paid")).json()
    waiting = (await assistance.client.get("/v1/tasks/waiting")).json()
    baku = (await assistance.funds())["Baku fund"]

    assert (paid["status"], paid["fund"], paid["amount"], paid["currency"]) == (
        "accepted",
        "Baku fund",
        "700.00",
        "AZN",
    )
    assert (waiting["status"], waiting["waitlist_position"], waiting["amount"]) == (
        "on-hold",
        1,
        None,
    )
    assert baku == {
        "id": baku["id"],
        "name": "Baku fund",
        "region": "AZ-BA",
        "currency": "AZN",
        "budget": "1000.00",
        "committed": "700.00",
        "remaining": "300.00",
        "amount_per_person": "700.00",
        "allowances_left": 0,
        "waiting": 1,
    }
