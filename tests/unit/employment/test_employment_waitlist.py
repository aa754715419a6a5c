"""Who waits for a program seat in what order, and who gets a seat that frees up."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from employment.domain import model, waitlist


def program(
    name: str = "Tailoring", *, seats: int = 2, enrolled: int = 1, min_age: int = 0
) -> model.Program:
    return model.Program(
        id=f"p-{name}",
        name=name,
        region="baku",
        seats=seats,
        enrolled=enrolled,
        languages=frozenset({"az"}),
        min_age=min_age,
    )


def person(seq: int, *, age: int | None = 25, child: bool = False) -> model.SeatRequest:
    return model.SeatRequest(
        task_id=f"t-{seq}",
        region="baku",
        age_years=age,
        is_child=child,
        languages=frozenset({"az"}),
        queued_seq=seq,
    )


def test_a_freed_seat_goes_to_the_waiting_child_before_a_longer_waiting_adult() -> None:
    adult, child = person(1), person(9, age=16, child=True)

    assert waitlist.next_for_seat(program(), [adult, child]) == child


def test_among_adults_a_freed_seat_goes_to_the_longest_waiting() -> None:
    assert waitlist.next_for_seat(program(), [person(7), person(3), person(5)]) == person(3)


def test_a_freed_seat_passes_over_a_waiting_child_under_the_minimum_age() -> None:
    adults_only = program(min_age=18)
    child, adult = person(1, age=15, child=True), person(2)

    assert waitlist.next_for_seat(adults_only, [child, adult]) == adult


def test_a_freed_seat_with_no_eligible_person_waiting_stays_free() -> None:
    adults_only = program(min_age=18)

    assert waitlist.next_for_seat(adults_only, [person(1, age=None, child=True)]) is None


def test_no_one_gets_a_seat_that_is_not_free() -> None:
    full = program(seats=2, enrolled=2)

    assert waitlist.next_for_seat(full, [person(1)]) is None


def test_a_child_arriving_last_is_first_on_the_waitlist_among_children() -> None:
    waiting = [person(1), person(2), person(3, age=15, child=True)]

    position = waitlist.waitlist_position(person(4, age=16, child=True), waiting, [program()])

    assert position == 2


def test_only_people_competing_for_the_same_programs_count_for_the_position() -> None:
    adults_only, open_to_all = program("Driving", min_age=18), program("Literacy")
    under_age = person(1, age=15, child=True)
    waiting = [under_age, person(2)]

    assert waitlist.waitlist_position(person(3), waiting, [adults_only]) == 2
    assert waitlist.waitlist_position(person(3), waiting, [adults_only, open_to_all]) == 3


def test_the_waitlist_serves_children_first_then_the_longest_waiting() -> None:
    adult_1, adult_2, child_9, child_5 = (
        person(1),
        person(2),
        person(9, age=16, child=True),
        person(5, age=17, child=True),
    )

    assert waitlist.ordered([adult_1, adult_2, child_9, child_5]) == [
        child_5,
        child_9,
        adult_1,
        adult_2,
    ]


def test_people_who_arrived_together_are_ordered_by_task_id() -> None:
    a, b = person(4), dataclasses.replace(person(4), task_id="t-3")

    assert waitlist.ordered([a, b]) == [b, a]


def test_a_freed_seat_goes_to_a_child_exactly_the_minimum_age() -> None:
    from_16 = program(min_age=16)
    adult, child = person(1), person(2, age=16, child=True)

    assert waitlist.next_for_seat(from_16, [adult, child]) == child


def test_a_freed_seat_passes_over_a_person_sharing_no_language_with_the_program() -> None:
    in_azerbaijani = program()
    speaks_russian = dataclasses.replace(person(1), languages=frozenset({"ru"}))

    assert waitlist.next_for_seat(in_azerbaijani, [speaks_russian, person(2)]) == person(2)
    assert waitlist.next_for_seat(in_azerbaijani, [speaks_russian]) is None


def test_a_seat_freed_in_a_program_cut_below_its_enrolment_goes_to_nobody() -> None:
    assert waitlist.next_for_seat(program(seats=1, enrolled=2), [person(1)]) is None


waiting_people = st.lists(
    st.builds(
        lambda seq, age, child: person(seq, age=age, child=child),
        st.integers(min_value=1, max_value=30),
        st.one_of(st.none(), st.integers(min_value=12, max_value=30)),
        st.booleans(),
    ),
    max_size=8,
    unique_by=lambda r: r.task_id,
)


@given(
    waiting=waiting_people,
    min_age=st.sampled_from([0, 16, 18]),
    seats=st.integers(min_value=0, max_value=3),
    enrolled=st.integers(min_value=0, max_value=4),
)
def test_a_free_seat_goes_to_the_first_in_line_it_admits_children_first_then_longest_waiting(
    waiting: list[model.SeatRequest], min_age: int, seats: int, enrolled: int
) -> None:
    course = program(seats=seats, enrolled=enrolled, min_age=min_age)
    admitted = [r for r in waiting if model.admits(course, r)]

    chosen = waitlist.next_for_seat(course, waiting)

    if course.free_seats == 0 or not admitted:
        assert chosen is None
        return
    assert chosen is not None and model.admits(course, chosen)
    for other in admitted:
        assert (not chosen.is_child, chosen.queued_seq) <= (not other.is_child, other.queued_seq)


@given(waiting=waiting_people)
def test_people_waiting_for_the_one_program_are_numbered_1_to_n_children_first(
    waiting: list[model.SeatRequest],
) -> None:
    only = [program(min_age=0)]

    positions = {r.task_id: waitlist.waitlist_position(r, waiting, only) for r in waiting}

    in_line = sorted(waiting, key=lambda r: (not r.is_child, r.queued_seq, r.task_id))
    assert [positions[r.task_id] for r in in_line] == list(range(1, len(waiting) + 1))
