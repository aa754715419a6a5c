"""Whom a freed seat may go to: the programs' `admits`, in the kit's order.

The order itself (children first, then the longest waiting) and the positions
are the kit's, tested once in tests/unit/provider_kit.
"""

import dataclasses

from employment.domain import model
from korpu_provider import waitlist


def program(*, seats: int = 2, enrolled: int = 1, min_age: int = 0) -> model.Program:
    return model.Program(
        id="p-1",
        name="Tailoring",
        region="AZ-BA",
        seats=seats,
        enrolled=enrolled,
        languages=frozenset({"az"}),
        min_age=min_age,
    )


def person(seq: int, *, age: int | None = 25, child: bool = False) -> model.SeatRequest:
    return model.SeatRequest(
        task_id=f"t-{seq}",
        region="AZ-BA",
        age_years=age,
        is_child=child,
        languages=frozenset({"az"}),
        queued_seq=seq,
    )


def next_for_seat(course: model.Program, waiting: list[model.SeatRequest]) -> object:
    return waitlist.next_for(course, waiting, model.admits)


def test_a_freed_seat_passes_over_a_waiting_child_under_the_minimum_age() -> None:
    child, adult = person(1, age=15, child=True), person(2)

    assert next_for_seat(program(min_age=18), [child, adult]) == adult


def test_a_freed_seat_goes_to_a_child_exactly_the_minimum_age_before_an_adult() -> None:
    adult, child = person(1), person(2, age=16, child=True)

    assert next_for_seat(program(min_age=16), [adult, child]) == child


def test_a_child_of_unknown_age_is_admitted_only_where_there_is_no_minimum() -> None:
    child = person(1, age=None, child=True)

    assert next_for_seat(program(min_age=16), [child]) is None
    assert next_for_seat(program(min_age=0), [child]) == child


def test_a_freed_seat_passes_over_a_person_sharing_no_language_with_the_program() -> None:
    speaks_russian = dataclasses.replace(person(1), languages=frozenset({"ru"}))

    assert next_for_seat(program(), [speaks_russian, person(2)]) == person(2)
    assert next_for_seat(program(), [speaks_russian]) is None


def test_a_program_cut_below_its_enrolment_has_no_seat_to_give() -> None:
    cut = program(seats=1, enrolled=2)

    assert not cut.has_room
    assert next_for_seat(cut, [person(1)]) is None
