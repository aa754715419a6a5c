"""Enrolling a person in a program, waitlisting them, or saying no program admits them."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from employment.domain import enrolment, model


def program(
    name: str = "Tailoring",
    *,
    seats: int = 10,
    enrolled: int = 0,
    min_age: int = 0,
    languages: set[str] | None = None,
    region: str = "baku",
) -> model.Program:
    return model.Program(
        id=f"p-{name}",
        name=name,
        region=region,
        seats=seats,
        enrolled=enrolled,
        languages=frozenset(languages or set()),
        min_age=min_age,
    )


def person(
    seq: int = 1,
    *,
    age: int | None = 25,
    child: bool = False,
    languages: set[str] | None = None,
    region: str = "baku",
) -> model.SeatRequest:
    return model.SeatRequest(
        task_id=f"t-{seq}",
        region=region,
        age_years=age,
        is_child=child,
        languages=frozenset({"az"} if languages is None else languages),
        queued_seq=seq,
    )


def test_a_person_under_a_programs_minimum_age_is_never_enrolled() -> None:
    adults_only = program(min_age=18)

    decision = enrolment.decide(person(age=16, child=True), [adults_only], [])

    assert decision == model.Rejected(reason="not_eligible")


@given(age=st.integers(min_value=0, max_value=30), min_age=st.integers(min_value=0, max_value=30))
def test_no_one_is_enrolled_below_the_minimum_age(age: int, min_age: int) -> None:
    decision = enrolment.decide(person(age=age), [program(min_age=min_age)], [])

    assert isinstance(decision, model.Enrolled) == (age >= min_age)


def test_a_person_of_unknown_age_is_enrolled_only_where_there_is_no_minimum_age() -> None:
    from_16 = program("Cooking", min_age=16)
    open_to_all = program("Literacy", min_age=0)

    assert enrolment.decide(person(age=None), [from_16], []) == model.Rejected("not_eligible")
    assert enrolment.decide(person(age=None), [from_16, open_to_all], []) == model.Enrolled(
        open_to_all.id, True
    )


def test_a_person_presumed_a_child_is_not_enrolled_in_an_adults_only_program() -> None:
    adults_only = program(min_age=18)

    decision = enrolment.decide(person(age=19, child=True), [adults_only], [])

    assert decision == model.Rejected(reason="not_eligible")


def test_no_common_language_with_the_program_is_not_eligible() -> None:
    in_russian = program(languages={"ru"})

    decision = enrolment.decide(person(languages={"en"}), [in_russian], [])

    assert decision == model.Rejected(reason="not_eligible")


def test_a_program_without_a_language_set_accepts_everyone() -> None:
    any_language = program()

    decision = enrolment.decide(person(languages=set()), [any_language], [])

    assert decision == model.Enrolled(program_id=any_language.id, in_requested_region=True)


def test_one_shared_language_is_enough() -> None:
    bilingual = program(languages={"az", "ru"})

    decision = enrolment.decide(person(languages={"ru", "uk"}), [bilingual], [])

    assert decision == model.Enrolled(program_id=bilingual.id, in_requested_region=True)


def test_the_requested_region_comes_first_even_with_fewer_free_seats() -> None:
    near = program("Near", seats=1, region="ganja")
    far = program("Far", seats=40)

    decision = enrolment.decide(person(region="ganja"), [far, near], [])

    assert decision == model.Enrolled(program_id=near.id, in_requested_region=True)


def test_enrolled_in_another_region_when_the_requested_one_is_full() -> None:
    near_full = program("Near", seats=1, enrolled=1, region="ganja")
    far = program("Far")

    decision = enrolment.decide(person(region="ganja"), [near_full, far], [])

    assert decision == model.Enrolled(program_id=far.id, in_requested_region=False)


def test_among_equals_the_most_free_seats_then_the_name_decides() -> None:
    small = program("Alpha", seats=3)
    large_b = program("Bravo", seats=8)
    large_a = program("Able", seats=8)

    decision = enrolment.decide(person(), [small, large_b, large_a], [])

    assert decision == model.Enrolled(program_id=large_a.id, in_requested_region=True)


def test_eligible_but_every_program_full_is_waitlisted() -> None:
    full = program(seats=2, enrolled=2)
    waiting = [person(1), person(2)]

    decision = enrolment.decide(person(3), [full], waiting)

    assert decision == model.Waitlisted(position=3, reason="no_capacity")


def test_five_people_for_two_seats_two_enrolled_three_waitlisted_in_order() -> None:
    course = program(seats=2)
    waiting: list[model.SeatRequest] = []
    decisions: list[model.Decision] = []

    for seq in range(1, 6):
        request = person(seq)
        decision = enrolment.decide(request, [course], waiting)
        decisions.append(decision)
        if isinstance(decision, model.Enrolled):
            course = dataclasses.replace(course, enrolled=course.enrolled + 1)
        else:
            waiting.append(request)

    assert decisions[:2] == [model.Enrolled(course.id, True)] * 2
    assert decisions[2:] == [model.Waitlisted(position=p) for p in range(1, 4)]
