"""Enrolling a person in a program, waitlisting them, or saying no program admits them."""

import dataclasses

from hypothesis import event, given
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


REGIONS = ["baku", "ganja", "shaki"]
LANGUAGES = ["az", "ru", "en"]

# Programs as a directory may hold them: taught in some languages or in any
# (empty), open to all ages or from 16 or 18, with small or cut capacity.
programs_strategy = st.lists(
    st.builds(
        lambda seats, enrolled, min_age, languages, region: (
            seats,
            enrolled,
            min_age,
            languages,
            region,
        ),
        st.integers(min_value=0, max_value=3),
        st.integers(min_value=0, max_value=4),
        st.sampled_from([0, 16, 18]),
        st.sets(st.sampled_from(LANGUAGES), max_size=2),
        st.sampled_from(REGIONS),
    ),
    min_size=1,
    max_size=4,
).map(
    lambda specs: [
        program(f"P{i}", seats=s, enrolled=e, min_age=m, languages=set(lang), region=r)
        for i, (s, e, m, lang, r) in enumerate(specs)
    ]
)

people = st.builds(
    lambda age, child, languages, region: person(
        age=age, child=child, languages=languages, region=region
    ),
    st.one_of(st.none(), st.integers(min_value=12, max_value=30)),
    st.booleans(),
    st.sets(st.sampled_from([*LANGUAGES, "vi"]), max_size=2),
    st.sampled_from(REGIONS),
)


def _enrolled_in(decision: model.Decision, programs: list[model.Program]) -> model.Program:
    assert isinstance(decision, model.Enrolled)
    return next(p for p in programs if p.id == decision.program_id)


@given(age=st.integers(min_value=0, max_value=30), min_age=st.integers(min_value=0, max_value=30))
def test_no_one_is_enrolled_below_the_minimum_age(age: int, min_age: int) -> None:
    decision = enrolment.decide(person(age=age), [program(min_age=min_age)], [])

    assert isinstance(decision, model.Enrolled) == (age >= min_age)


@given(request=people, programs=programs_strategy)
def test_a_person_is_enrolled_only_where_old_enough_with_a_shared_language_and_a_free_seat(
    request: model.SeatRequest, programs: list[model.Program]
) -> None:
    decision = enrolment.decide(request, programs, [])

    event(type(decision).__name__)
    if isinstance(decision, model.Enrolled):
        chosen = _enrolled_in(decision, programs)
        age = request.age_years
        if age is None and not request.is_child:
            age = model.ADULT_AGE  # an adult of no known age is at least 18
        if chosen.min_age > 0:
            assert age is not None and age >= chosen.min_age
            assert not (request.is_child and chosen.min_age >= model.ADULT_AGE)
        assert not chosen.languages or chosen.languages & request.languages
        assert chosen.enrolled < chosen.seats
        assert decision.in_requested_region == (chosen.region == request.region)


@given(request=people, programs=programs_strategy)
def test_nobody_waits_or_is_turned_away_while_a_program_that_admits_them_has_a_free_seat(
    request: model.SeatRequest, programs: list[model.Program]
) -> None:
    admitting = [p for p in programs if model.admits(p, request)]
    free = [p for p in admitting if p.free_seats > 0]

    decision = enrolment.decide(request, programs, [])

    if free:
        assert isinstance(decision, model.Enrolled)
        in_region = [p for p in free if p.region == request.region]
        assert decision.in_requested_region == bool(in_region)
    elif admitting:
        assert isinstance(decision, model.Waitlisted)
    else:
        assert decision == model.Rejected(reason="not_eligible")


@given(
    age=st.integers(min_value=16, max_value=30),
    languages=st.sets(st.sampled_from(LANGUAGES), min_size=1),
    others=programs_strategy,
)
def test_an_adult_is_enrolled_whenever_a_program_open_to_them_has_a_free_seat(
    age: int, languages: set[str], others: list[model.Program]
) -> None:
    adult = person(age=age, languages=languages)
    open_to_them = program("Open", seats=2, enrolled=1, min_age=16, languages=languages)

    decision = enrolment.decide(adult, [*others, open_to_them], [])

    assert model.admits(_enrolled_in(decision, [*others, open_to_them]), adult)


def test_a_person_exactly_the_minimum_age_is_enrolled_one_year_younger_is_not() -> None:
    from_16 = program(min_age=16)

    assert enrolment.decide(person(age=16), [from_16], []) == model.Enrolled(from_16.id, True)
    assert enrolment.decide(person(age=15), [from_16], []) == model.Rejected("not_eligible")


def test_a_child_of_17_is_enrolled_where_the_minimum_age_is_17_but_not_18() -> None:
    from_17, from_18 = program("From 17", min_age=17), program("From 18", min_age=18)
    child = person(age=17, child=True)

    assert enrolment.decide(child, [from_17], []) == model.Enrolled(from_17.id, True)
    assert enrolment.decide(child, [from_18], []) == model.Rejected("not_eligible")


def test_an_adult_of_exactly_18_is_enrolled_in_an_adults_only_program() -> None:
    adults_only = program(min_age=18)

    assert enrolment.decide(person(age=18), [adults_only], []) == model.Enrolled(
        adults_only.id, True
    )


def test_a_program_whose_last_seat_is_taken_waitlists_the_next_person() -> None:
    one_left = program(seats=3, enrolled=2)
    full = program(seats=3, enrolled=3)

    assert enrolment.decide(person(), [one_left], []) == model.Enrolled(one_left.id, True)
    assert enrolment.decide(person(), [full], []) == model.Waitlisted(position=1)


def test_a_program_cut_below_its_enrolment_has_no_free_seat() -> None:
    cut = program(seats=1, enrolled=3)

    assert cut.free_seats == 0
    assert enrolment.decide(person(), [cut], []) == model.Waitlisted(position=1)


def test_a_free_seat_taught_in_another_language_leaves_the_person_waiting() -> None:
    in_russian = program("Russian", languages={"ru"})
    in_azerbaijani_full = program("Azerbaijani", seats=1, enrolled=1, languages={"az"})

    decision = enrolment.decide(person(languages={"az"}), [in_russian, in_azerbaijani_full], [])

    assert decision == model.Waitlisted(position=1)


def test_a_child_of_unknown_age_is_enrolled_only_where_there_is_no_minimum_age() -> None:
    from_16 = program("Cooking", min_age=16)
    open_to_all = program("Literacy", min_age=0)
    child = person(age=None, child=True)

    assert enrolment.decide(child, [from_16], []) == model.Rejected("not_eligible")
    assert enrolment.decide(child, [from_16, open_to_all], []) == model.Enrolled(
        open_to_all.id, True
    )


def test_an_adult_of_unknown_age_is_taken_as_18_so_a_program_from_21_refuses() -> None:
    # No age, and the agency said there is no reason to think the person a child.
    adult = person(age=None, child=False)

    assert enrolment.decide(adult, [program("Cooking", min_age=18)], []) == model.Enrolled(
        "p-Cooking", True
    )
    assert enrolment.decide(adult, [program("Driving", min_age=21)], []) == model.Rejected(
        "not_eligible"
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
