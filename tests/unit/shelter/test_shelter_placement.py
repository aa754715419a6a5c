"""Placing a person in a shelter bed, waitlisting them, or saying no shelter serves them."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from shelter.domain import model, placement

Category = model.Category
ADULT_CATEGORIES = frozenset({Category.WOMEN, Category.MEN, Category.FAMILIES})


def facility(
    name: str, serves: set[Category], beds: int = 10, occupied: int = 0, region: str = "baku"
) -> model.Facility:
    return model.Facility(
        id=f"f-{name}",
        name=name,
        region=region,
        serves=frozenset(serves),
        beds=beds,
        occupied=occupied,
    )


def person(
    seq: int = 1,
    *,
    child: bool = False,
    sex: str = "female",
    children: int = 0,
    region: str = "baku",
) -> model.BedRequest:
    return model.BedRequest(
        task_id=f"t-{seq}",
        region=region,
        is_child=child,
        sex=sex,
        accompanying_children=children,
        queued_seq=seq,
    )


def test_a_girl_of_15_is_never_placed_in_a_womens_shelter() -> None:
    womens = facility("Women's house", {Category.WOMEN})

    assert placement.decide(person(child=True), [womens], []) == model.Rejected("not_eligible")


def test_a_girl_waits_for_a_girls_bed_rather_than_take_a_free_womens_bed() -> None:
    womens = facility("Women's house", {Category.WOMEN})
    girls_full = facility("Girls' house", {Category.GIRLS}, beds=2, occupied=2)

    decision = placement.decide(person(child=True), [womens, girls_full], [])

    assert decision == model.Waitlisted(position=1, reason="no_capacity")


@given(
    sex=st.sampled_from(["female", "male", "other", "unknown"]),
    children=st.integers(min_value=0, max_value=3),
    serves=st.lists(st.sets(st.sampled_from(list(Category)), min_size=1), min_size=1, max_size=4),
)
def test_a_child_is_never_placed_where_only_adults_are_served(
    sex: str, children: int, serves: list[set[Category]]
) -> None:
    facilities = [facility(f"f{i}", s) for i, s in enumerate(serves)]
    by_id = {f.id: f for f in facilities}

    decision = placement.decide(person(child=True, sex=sex, children=children), facilities, [])

    if isinstance(decision, model.Placed):
        assert not by_id[decision.facility_id].serves <= ADULT_CATEGORIES


def test_the_police_shelter_takes_women_girls_men_and_boys() -> None:
    police = facility(
        "Police shelter", {Category.WOMEN, Category.GIRLS, Category.MEN, Category.BOYS}
    )

    for request in [person(1), person(2, sex="male"), person(3, child=True, sex="male")]:
        assert placement.decide(request, [police], []) == model.Placed(police.id, True)


def test_a_man_is_not_eligible_where_only_women_are_served() -> None:
    womens = facility("Women's house", {Category.WOMEN})

    assert placement.decide(person(sex="male"), [womens], []) == model.Rejected("not_eligible")


def test_a_mother_with_children_is_not_eligible_where_no_family_shelter_exists() -> None:
    womens = facility("Women's house", {Category.WOMEN})

    decision = placement.decide(person(children=2), [womens], [])

    assert decision == model.Rejected("not_eligible")


def test_a_person_of_unknown_sex_is_placed_in_a_mens_shelter_when_that_has_the_bed() -> None:
    womens_full = facility("Women's house", {Category.WOMEN}, beds=1, occupied=1)
    mens = facility("Men's house", {Category.MEN})

    decision = placement.decide(person(sex="unknown"), [womens_full, mens], [])

    assert decision == model.Placed(facility_id=mens.id, in_requested_region=True)


def test_the_requested_region_comes_first_even_with_fewer_free_beds() -> None:
    near = facility("Near", {Category.WOMEN}, beds=2, occupied=1, region="ganja")
    far = facility("Far", {Category.WOMEN}, beds=50)

    decision = placement.decide(person(region="ganja"), [far, near], [])

    assert decision == model.Placed(facility_id=near.id, in_requested_region=True)


def test_placed_in_another_region_when_the_requested_one_is_full() -> None:
    near_full = facility("Near", {Category.WOMEN}, beds=2, occupied=2, region="ganja")
    far = facility("Far", {Category.WOMEN})

    decision = placement.decide(person(region="ganja"), [near_full, far], [])

    assert decision == model.Placed(facility_id=far.id, in_requested_region=False)


def test_among_equals_the_most_free_beds_then_the_name_decides() -> None:
    small = facility("Alpha", {Category.WOMEN}, beds=3)
    large_b = facility("Bravo", {Category.WOMEN}, beds=8)
    large_a = facility("Able", {Category.WOMEN}, beds=8)

    decision = placement.decide(person(), [small, large_b, large_a], [])

    assert decision == model.Placed(facility_id=large_a.id, in_requested_region=True)


def test_a_shelter_over_its_capacity_has_no_free_bed() -> None:
    cut = facility("Cut", {Category.WOMEN}, beds=2, occupied=3)

    assert cut.free_beds == 0
    assert placement.decide(person(), [cut], []) == model.Waitlisted(position=1)


def test_ten_people_for_three_beds_three_placed_seven_waitlisted_in_order() -> None:
    shelter = facility("Only", {Category.WOMEN}, beds=3)
    waiting: list[model.BedRequest] = []
    decisions: list[model.Decision] = []

    for seq in range(1, 11):
        request = person(seq)
        decision = placement.decide(request, [shelter], waiting)
        decisions.append(decision)
        if isinstance(decision, model.Placed):
            shelter = dataclasses.replace(shelter, occupied=shelter.occupied + 1)
        else:
            waiting.append(request)

    assert decisions[:3] == [model.Placed(shelter.id, True)] * 3
    assert decisions[3:] == [model.Waitlisted(position=p) for p in range(1, 8)]
