"""Whom a freed shelter bed may go to: the shelter's `serves`, in the kit's order.

The order itself (children first, then the longest waiting) and the positions
are the kit's, tested once in tests/unit/provider_kit.
"""

from korpu_provider import waitlist
from shelter.domain import model

Category = model.Category


def facility(
    serves: set[Category], beds: int = 2, occupied: int = 1, **features: bool
) -> model.Facility:
    return model.Facility(
        id="f-1",
        name="Shelter",
        region="AZ-BA",
        serves=frozenset(serves),
        beds=beds,
        occupied=occupied,
        **features,
    )


def person(seq: int, *, child: bool = False, sex: str = "female") -> model.BedRequest:
    return model.BedRequest(
        task_id=f"t-{seq}",
        region="AZ-BA",
        is_child=child,
        sex=sex,
        accompanying_children=0,
        queued_seq=seq,
    )


def next_for_bed(shelter: model.Facility, waiting: list[model.BedRequest]) -> object:
    return waitlist.next_for(shelter, waiting, model.serves)


def test_a_freed_childrens_bed_goes_to_the_longest_waiting_child_it_serves() -> None:
    childrens = facility({Category.GIRLS, Category.BOYS})
    boy, girl, woman = person(6, child=True, sex="male"), person(4, child=True), person(1)

    assert next_for_bed(childrens, [woman, boy, girl]) == girl


def test_a_freed_bed_where_women_and_girls_are_served_goes_to_a_woman_never_a_girl() -> None:
    women_and_girls = facility({Category.WOMEN, Category.GIRLS})
    girl, woman = person(1, child=True), person(9)

    assert next_for_bed(women_and_girls, [girl, woman]) == woman
    assert next_for_bed(women_and_girls, [girl]) is None


def test_a_freed_bed_in_a_childrens_unit_goes_to_the_waiting_girl_first() -> None:
    with_unit = facility({Category.WOMEN, Category.GIRLS}, child_unit=True)
    girl, woman = person(9, child=True), person(1)

    assert next_for_bed(with_unit, [woman, girl]) == girl


def test_a_freed_bed_in_a_womens_shelter_never_goes_to_a_waiting_girl_or_a_man() -> None:
    womens = facility({Category.WOMEN})

    assert next_for_bed(womens, [person(1, child=True), person(2, sex="male")]) is None


def test_a_person_of_unknown_sex_may_take_a_womens_or_a_mens_bed() -> None:
    unknown = person(1, sex="unknown")

    assert model.serves(facility({Category.WOMEN}), unknown)
    assert model.serves(facility({Category.MEN}), unknown)


def test_a_shelter_cut_below_its_occupancy_has_no_bed_to_give() -> None:
    cut = facility({Category.WOMEN}, beds=1, occupied=2)

    assert not cut.has_room
    assert next_for_bed(cut, [person(1)]) is None
