"""Placing a person in a shelter bed, waitlisting them, or saying no shelter serves them."""

import dataclasses

from hypothesis import event, given
from hypothesis import strategies as st

from shelter.domain import model, placement

Category = model.Category
REGIONS = ["baku", "ganja", "shaki"]
SEXES = ["female", "male", "other", "unknown"]


def facility(
    name: str,
    serves: set[Category],
    beds: int = 10,
    occupied: int = 0,
    region: str = "baku",
    **features: bool,
) -> model.Facility:
    return model.Facility(
        id=f"f-{name}",
        name=name,
        region=region,
        serves=frozenset(serves),
        beds=beds,
        occupied=occupied,
        **features,
    )


def person(
    seq: int = 1,
    *,
    child: bool = False,
    sex: str = "female",
    children: int = 0,
    region: str = "baku",
    pregnant: bool = False,
    disability: bool = False,
) -> model.BedRequest:
    return model.BedRequest(
        task_id=f"t-{seq}",
        region=region,
        is_child=child,
        sex=sex,
        accompanying_children=children,
        queued_seq=seq,
        pregnant=pregnant,
        disability=disability,
    )


# Children's shelters drawn on purpose as often as any mix: among random mixes
# one serving no adult is rare, and a child would almost never be placed.
serves_strategy = st.one_of(
    st.sets(st.sampled_from(sorted(model.CHILD_CATEGORIES)), min_size=1),
    st.sets(st.sampled_from(list(Category)), min_size=1),
)
# A directory as it may stand on any day: any mix of categories, small or cut
# capacity (occupied above beds after a cut), several regions.
facilities_strategy = st.lists(
    st.builds(
        lambda serves, beds, occupied, region, features: (serves, beds, occupied, region, features),
        serves_strategy,
        st.integers(min_value=0, max_value=3),
        st.integers(min_value=0, max_value=4),
        st.sampled_from(REGIONS),
        st.fixed_dictionaries(
            {
                "child_unit": st.booleans(),
                "accepts_pregnant": st.booleans(),
                "accessible": st.booleans(),
            }
        ),
    ),
    min_size=1,
    max_size=5,
).map(lambda specs: [facility(f"f{i}", *spec[:4], **spec[4]) for i, spec in enumerate(specs)])

people = st.builds(
    person,
    seq=st.integers(min_value=1, max_value=50),
    child=st.booleans(),
    sex=st.sampled_from(SEXES),
    children=st.integers(min_value=0, max_value=2),
    region=st.sampled_from(REGIONS),
    pregnant=st.booleans(),
    disability=st.booleans(),
)


def _placed_in(decision: model.Decision, facilities: list[model.Facility]) -> model.Facility:
    assert isinstance(decision, model.Placed)
    return next(f for f in facilities if f.id == decision.facility_id)


@given(request=people, facilities=facilities_strategy)
def test_a_child_is_only_ever_placed_where_their_own_category_is_served_and_no_adults_are(
    request: model.BedRequest, facilities: list[model.Facility]
) -> None:
    decision = placement.decide(request, facilities, [])

    event(f"child={request.is_child} {type(decision).__name__}")
    if request.is_child and isinstance(decision, model.Placed):
        chosen = _placed_in(decision, facilities)
        # No adult served, or a separate children's unit.
        assert chosen.child_unit or not chosen.serves & model.ADULT_CATEGORIES
        assert chosen.serves & request.categories & model.CHILD_CATEGORIES


@given(request=people, facilities=facilities_strategy)
def test_a_pregnant_woman_or_a_person_with_a_disability_is_placed_only_where_that_is_met(
    request: model.BedRequest, facilities: list[model.Facility]
) -> None:
    decision = placement.decide(request, facilities, [])

    event(f"pregnant={request.pregnant} disability={request.disability} {type(decision).__name__}")
    if isinstance(decision, model.Placed):
        chosen = _placed_in(decision, facilities)
        assert chosen.accepts_pregnant or not request.pregnant
        assert chosen.accessible or not request.disability


@given(request=people, facilities=facilities_strategy)
def test_a_placement_outside_the_region_asked_for_says_so_in_its_detail(
    request: model.BedRequest, facilities: list[model.Facility]
) -> None:
    decision = placement.decide(request, facilities, [])

    if isinstance(decision, model.Placed):
        chosen = _placed_in(decision, facilities)
        detail = model.placement_detail(chosen, request.region)
        assert detail.get("out_of_region", False) is (chosen.region != request.region)
        assert decision.in_requested_region is (chosen.region == request.region)


@given(request=people, facilities=facilities_strategy)
def test_a_person_is_placed_only_where_their_category_is_served_and_a_bed_is_free(
    request: model.BedRequest, facilities: list[model.Facility]
) -> None:
    decision = placement.decide(request, facilities, [])

    if isinstance(decision, model.Placed):
        chosen = _placed_in(decision, facilities)
        assert chosen.serves & request.categories
        assert chosen.occupied < chosen.beds
        assert decision.in_requested_region == (chosen.region == request.region)


@given(request=people, facilities=facilities_strategy)
def test_nobody_waits_or_is_turned_away_while_a_bed_that_serves_them_is_free(
    request: model.BedRequest, facilities: list[model.Facility]
) -> None:
    serving = [f for f in facilities if model.serves(f, request)]
    free = [f for f in serving if f.free_beds > 0]

    decision = placement.decide(request, facilities, [])

    event(type(decision).__name__)
    if free:
        assert isinstance(decision, model.Placed)
    elif serving:
        assert isinstance(decision, model.Waitlisted)
    else:
        assert isinstance(decision, model.Rejected) and decision.reason == "not_eligible"


@given(request=people, facilities=facilities_strategy)
def test_a_person_is_placed_out_of_region_only_when_their_own_region_has_no_bed_for_them(
    request: model.BedRequest, facilities: list[model.Facility]
) -> None:
    decision = placement.decide(request, facilities, [])

    if isinstance(decision, model.Placed) and not decision.in_requested_region:
        event("placed in another region")
        assert not any(
            f.region == request.region and f.free_beds > 0 and model.serves(f, request)
            for f in facilities
        )


@given(
    sex=st.sampled_from(SEXES),
    children=st.integers(min_value=0, max_value=2),
    region=st.sampled_from(REGIONS),
    others=facilities_strategy,
    free=st.integers(min_value=1, max_value=3),
)
def test_a_child_is_placed_whenever_a_childrens_shelter_for_them_has_a_free_bed(
    sex: str, children: int, region: str, others: list[model.Facility], free: int
) -> None:
    child = person(child=True, sex=sex, children=children, region=region)
    childrens = facility(
        "Children's house", set(child.categories), beds=free + 1, occupied=1, region="shaki"
    )

    decision = placement.decide(child, [*others, childrens], [])

    chosen = _placed_in(decision, [*others, childrens])
    assert chosen.child_unit or not chosen.serves & model.ADULT_CATEGORIES


def test_a_girl_of_15_is_never_placed_in_a_womens_shelter() -> None:
    womens = facility("Women's house", {Category.WOMEN})

    assert placement.decide(person(child=True), [womens], []) == model.Rejected(
        "not_eligible", model.UNMET_CATEGORY
    )


def test_a_girl_of_15_is_never_placed_where_women_are_served_even_if_girls_are_too() -> None:
    women_and_girls = facility("Assistance Center", {Category.WOMEN, Category.GIRLS})

    decision = placement.decide(person(child=True), [women_and_girls], [])

    assert decision == model.Rejected("not_eligible", model.UNMET_CATEGORY)


def test_a_girl_of_15_is_never_placed_where_women_girls_and_boys_are_served() -> None:
    mixed = facility("Mixed", {Category.WOMEN, Category.GIRLS, Category.BOYS})

    decision = placement.decide(person(child=True), [mixed], [])

    assert decision == model.Rejected("not_eligible", model.UNMET_CATEGORY)


def test_a_boy_of_15_is_never_placed_with_adult_men() -> None:
    police = facility("Police shelter", {Category.MEN, Category.BOYS})

    decision = placement.decide(person(child=True, sex="male"), [police], [])

    assert decision == model.Rejected("not_eligible", model.UNMET_CATEGORY)


def test_a_mother_of_16_and_her_baby_are_never_placed_in_a_family_shelter() -> None:
    families = facility("Family unit", {Category.FAMILIES})

    decision = placement.decide(person(child=True, children=1), [families], [])

    assert decision == model.Rejected("not_eligible", model.UNMET_CATEGORY)


def test_a_child_is_never_placed_where_families_and_children_are_served() -> None:
    families_and_girls = facility("Family unit", {Category.FAMILIES, Category.GIRLS})

    decision = placement.decide(person(child=True), [families_and_girls], [])

    assert decision == model.Rejected("not_eligible", model.UNMET_CATEGORY)


def test_a_girl_of_15_is_placed_in_a_childrens_shelter_serving_girls_and_boys() -> None:
    childrens = facility("Children's house", {Category.GIRLS, Category.BOYS})

    assert placement.decide(person(child=True), [childrens], []) == model.Placed(childrens.id, True)


def test_a_girl_is_never_placed_where_only_boys_are_served() -> None:
    boys = facility("Boys' house", {Category.BOYS})

    assert placement.decide(person(child=True), [boys], []) == model.Rejected(
        "not_eligible", model.UNMET_CATEGORY
    )


def test_a_girl_waits_for_a_girls_bed_rather_than_take_a_free_bed_among_women() -> None:
    women_and_girls = facility("Assistance Center", {Category.WOMEN, Category.GIRLS})
    girls_full = facility("Girls' house", {Category.GIRLS}, beds=2, occupied=2)

    decision = placement.decide(person(child=True), [women_and_girls, girls_full], [])

    assert decision == model.Waitlisted(position=1, reason="no_capacity")


def test_a_child_goes_to_a_childrens_shelter_in_another_region_rather_than_among_adults() -> None:
    here_mixed = facility("Ganja centre", {Category.WOMEN, Category.GIRLS}, region="ganja")
    far_childrens = facility("Baku children's house", {Category.GIRLS, Category.BOYS})

    decision = placement.decide(person(child=True, region="ganja"), [here_mixed, far_childrens], [])

    assert decision == model.Placed(far_childrens.id, in_requested_region=False)


def test_the_police_shelter_takes_women_and_men_but_no_child() -> None:
    police = facility(
        "Police shelter", {Category.WOMEN, Category.GIRLS, Category.MEN, Category.BOYS}
    )

    for adult in [person(1), person(2, sex="male"), person(3, sex="unknown")]:
        assert placement.decide(adult, [police], []) == model.Placed(police.id, True)
    for child in [person(4, child=True), person(5, child=True, sex="male")]:
        assert placement.decide(child, [police], []) == model.Rejected(
            "not_eligible", model.UNMET_CATEGORY
        )


def test_a_man_is_not_eligible_where_only_women_are_served() -> None:
    womens = facility("Women's house", {Category.WOMEN})

    assert placement.decide(person(sex="male"), [womens], []) == model.Rejected(
        "not_eligible", model.UNMET_CATEGORY
    )


def test_an_adult_is_never_placed_in_a_childrens_shelter() -> None:
    childrens = facility("Children's house", {Category.GIRLS, Category.BOYS})

    for adult in [person(1), person(2, sex="male"), person(3, sex="unknown")]:
        assert placement.decide(adult, [childrens], []) == model.Rejected(
            "not_eligible", model.UNMET_CATEGORY
        )


def test_a_mother_with_children_is_not_eligible_where_no_family_shelter_exists() -> None:
    womens = facility("Women's house", {Category.WOMEN})

    decision = placement.decide(person(children=2), [womens], [])

    assert decision == model.Rejected("not_eligible", model.UNMET_CATEGORY)


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


def test_the_last_free_bed_is_given_and_then_none() -> None:
    one_left = facility("Last", {Category.WOMEN}, beds=3, occupied=2)
    full = dataclasses.replace(one_left, occupied=3)

    assert placement.decide(person(), [one_left], []) == model.Placed(one_left.id, True)
    assert placement.decide(person(), [full], []) == model.Waitlisted(position=1)


def test_a_shelter_with_no_beds_at_all_still_serves_its_category_on_the_waitlist() -> None:
    closed = facility("Closed", {Category.WOMEN}, beds=0)

    assert placement.decide(person(), [closed], []) == model.Waitlisted(position=1)


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


# A children's unit, pregnancy, accessibility, and what a refusal says ----------------------


def test_a_boy_of_15_is_placed_in_a_mens_shelter_only_in_its_childrens_unit() -> None:
    mens = facility("Police shelter", {Category.MEN, Category.BOYS})
    with_unit = facility("Men's and boys' centre", {Category.MEN, Category.BOYS}, child_unit=True)
    boy = person(child=True, sex="male")

    assert placement.decide(boy, [mens], []) == model.Rejected("not_eligible", model.UNMET_CATEGORY)
    assert placement.decide(boy, [mens, with_unit], []) == model.Placed(with_unit.id, True)


def test_a_childrens_unit_takes_only_the_categories_the_facility_serves() -> None:
    womens = facility("Women's centre", {Category.WOMEN}, child_unit=True)

    assert placement.decide(person(child=True), [womens], []) == model.Rejected(
        "not_eligible", model.UNMET_CATEGORY
    )


def test_a_pregnant_woman_is_never_placed_where_pregnancy_is_not_accepted() -> None:
    no_pregnancy = facility("Women's house", {Category.WOMEN}, accepts_pregnant=False, beds=5)
    accepting = facility("Women's centre", {Category.WOMEN}, beds=1)
    pregnant = person(pregnant=True)

    assert placement.decide(pregnant, [no_pregnancy, accepting], []) == model.Placed(
        accepting.id, True
    )
    assert placement.decide(pregnant, [no_pregnancy], []) == model.Rejected(
        "not_eligible", model.UNMET_PREGNANCY
    )
    # A woman who is not pregnant takes the bed there as before.
    assert placement.decide(person(), [no_pregnancy], []) == model.Placed(no_pregnancy.id, True)


def test_a_pregnant_woman_waits_for_a_bed_where_pregnancy_is_accepted() -> None:
    full = facility("Women's centre", {Category.WOMEN}, beds=1, occupied=1)
    no_pregnancy = facility("Women's house", {Category.WOMEN}, accepts_pregnant=False)

    decision = placement.decide(person(pregnant=True), [full, no_pregnancy], [])

    assert decision == model.Waitlisted(position=1)


def test_a_person_with_a_disability_is_placed_only_where_accessible() -> None:
    stairs = facility("Old building", {Category.MEN}, beds=5)
    step_free = facility("New building", {Category.MEN}, accessible=True, beds=1)
    man = person(sex="male", disability=True)

    assert placement.decide(man, [stairs, step_free], []) == model.Placed(step_free.id, True)
    assert placement.decide(man, [stairs], []) == model.Rejected(
        "not_eligible", model.UNMET_ACCESSIBILITY
    )
    assert placement.decide(person(sex="male"), [stairs], []) == model.Placed(stairs.id, True)


def test_a_refusal_says_both_needs_when_no_facility_meets_them_together() -> None:
    accessible = facility("A", {Category.WOMEN}, accessible=True, accepts_pregnant=False)
    accepting = facility("B", {Category.WOMEN})
    both = person(pregnant=True, disability=True)

    decision = placement.decide(both, [accessible, accepting], [])

    assert decision == model.Rejected("not_eligible", "pregnancy_and_accessibility")
    assert model.unmet(both, [accepting]) == "accessibility"
    assert model.unmet(both, []) == model.UNMET_CATEGORY


def test_a_bed_in_another_region_says_out_of_region_and_one_in_the_region_does_not() -> None:
    ganja = facility("Ganja centre", {Category.MEN}, region="AZ-GA")

    assert model.placement_detail(ganja, "AZ-BA") == {
        "facility": "Ganja centre",
        "region": "AZ-GA",
        "out_of_region": True,
    }
    assert model.placement_detail(ganja, "AZ-GA") == {"facility": "Ganja centre", "region": "AZ-GA"}
