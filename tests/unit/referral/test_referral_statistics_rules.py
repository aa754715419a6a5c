"""The statistics' rules: whole quarters, and which cells are hidden so none gives another away."""

from __future__ import annotations

import datetime as dt

from referral.service_layer import statistics
from referral.service_layer.statistics import Cell, Quarter


def _group(*counts: int) -> dict[Cell, int]:
    regions = ["Baku", "Ganja", "Lankaran", "Quba", "Sheki"]
    return {Cell("shelter", regions[i], "female", "adult"): n for i, n in enumerate(counts)}


def _hidden(*counts: int, total_shown: bool = True) -> list[int]:
    group = _group(*counts)
    return sorted(group[cell] for cell in statistics.cells_to_hide(group, total_shown))


def test_quarters_are_whole_and_follow_one_another_across_years() -> None:
    covered = statistics.quarters(dt.date(2025, 11, 30), dt.date(2026, 2, 1))
    assert [q.label for q in covered] == ["2025-Q4", "2026-Q1"]
    assert (covered[0].first_day, covered[1].last_day) == (
        dt.date(2025, 10, 1),
        dt.date(2026, 3, 31),
    )
    assert Quarter.of(dt.date(2026, 6, 30)).last_day == dt.date(2026, 6, 30)


def test_nothing_is_hidden_when_every_group_is_large_enough() -> None:
    assert _hidden(6, 5, 12) == []


def test_a_lone_small_cell_is_hidden_with_the_smallest_other() -> None:
    # Shown, 9 + 6 and a total of 18 would tell the 3.
    assert _hidden(9, 3, 6) == [3, 6]


def test_hidden_cells_whose_sum_only_one_split_can_make_take_one_more() -> None:
    # 1 and 5 hidden: a sum of 6 can only be 1 + 5 (a protecting cell is 5 or more).
    assert _hidden(1, 5, 7, 9) == [1, 5, 7]
    # Two small cells summing to 2 can only be 1 and 1.
    assert _hidden(1, 1, 8) == [1, 1, 8]
    # 2 and 3: a sum of 5 is 1 + 4, 2 + 3, 3 + 2 or 4 + 1.
    assert _hidden(2, 3, 8) == [2, 3]


def test_with_the_total_hidden_every_cell_is_hidden() -> None:
    assert _hidden(2, 1, total_shown=False) == [1, 2]
