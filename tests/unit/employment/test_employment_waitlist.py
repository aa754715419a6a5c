"""Who waits for a program seat in what order, and who gets a seat that frees up."""

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

    assert waitlist.next_for_seat(adults_only, [person(1, age=None)]) is None


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
