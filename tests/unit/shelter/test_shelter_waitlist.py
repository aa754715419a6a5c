"""Who waits for a shelter bed in what order, and who gets a bed that frees up."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from shelter.domain import model, placement, waitlist

Category = model.Category


def facility(serves: set[Category], beds: int = 2, occupied: int = 1) -> model.Facility:
    return model.Facility(
        id="f-1",
        name="Shelter",
        region="baku",
        serves=frozenset(serves),
        beds=beds,
        occupied=occupied,
    )


def person(seq: int, *, child: bool = False, sex: str = "female") -> model.BedRequest:
    return model.BedRequest(
        task_id=f"t-{seq}",
        region="baku",
        is_child=child,
        sex=sex,
        accompanying_children=0,
        queued_seq=seq,
    )


def test_the_waitlist_serves_children_first_then_the_longest_waiting() -> None:
    woman_1, man_2, girl_9, boy_5 = (
        person(1),
        person(2, sex="male"),
        person(9, child=True),
        person(5, child=True, sex="male"),
    )

    assert waitlist.ordered([woman_1, man_2, girl_9, boy_5]) == [boy_5, girl_9, woman_1, man_2]


def test_people_who_arrived_together_are_ordered_by_task_id_so_the_order_never_flips() -> None:
    a, b = person(4), dataclasses.replace(person(4), task_id="t-3")

    assert waitlist.ordered([a, b]) == [b, a]
    assert waitlist.ordered([b, a]) == [b, a]


def test_a_freed_childrens_bed_goes_to_the_longest_waiting_child_it_serves() -> None:
    childrens = facility({Category.GIRLS, Category.BOYS})
    boy, girl, woman = person(6, child=True, sex="male"), person(4, child=True), person(1)

    assert waitlist.next_for_bed(childrens, [woman, boy, girl]) == girl


def test_a_freed_bed_where_women_and_girls_are_served_goes_to_a_woman_never_a_girl() -> None:
    women_and_girls = facility({Category.WOMEN, Category.GIRLS})
    girl, woman = person(1, child=True), person(9)

    assert waitlist.next_for_bed(women_and_girls, [girl, woman]) == woman
    assert waitlist.next_for_bed(women_and_girls, [girl]) is None


def test_among_adults_a_freed_bed_goes_to_the_longest_waiting() -> None:
    womens = facility({Category.WOMEN})

    assert waitlist.next_for_bed(womens, [person(7), person(3), person(5)]) == person(3)


def test_a_freed_bed_passes_over_people_the_shelter_does_not_serve() -> None:
    womens = facility({Category.WOMEN})
    man, woman = person(1, sex="male"), person(2)

    assert waitlist.next_for_bed(womens, [man, woman]) == woman


def test_a_freed_bed_in_a_womens_shelter_never_goes_to_a_waiting_girl() -> None:
    womens = facility({Category.WOMEN})

    assert waitlist.next_for_bed(womens, [person(1, child=True)]) is None


def test_no_one_gets_a_bed_that_is_not_free() -> None:
    full = facility({Category.WOMEN}, beds=2, occupied=2)

    assert waitlist.next_for_bed(full, [person(1)]) is None


def test_a_child_arriving_last_at_a_full_shelter_is_first_on_the_waitlist() -> None:
    full = facility({Category.GIRLS, Category.BOYS}, beds=1, occupied=1)
    waiting = [person(1), person(2), person(3, child=True)]

    decision = placement.decide(person(4, child=True), [full], waiting)

    assert decision == model.Waitlisted(position=2)
    assert waitlist.waitlist_position(person(5), waiting) == 3


def test_only_people_competing_for_the_same_beds_count_for_the_position() -> None:
    waiting = [person(1, sex="male"), person(2, child=True), person(3), person(4)]

    assert waitlist.waitlist_position(person(5), waiting) == 3


def test_a_person_of_unknown_sex_competes_for_both_womens_and_mens_beds() -> None:
    waiting = [person(1, sex="male"), person(2)]

    assert waitlist.waitlist_position(person(3, sex="unknown"), waiting) == 3
    assert (
        waitlist.waitlist_position(person(4, sex="male"), [*waiting, person(3, sex="unknown")]) == 3
    )


def test_a_person_already_on_the_waitlist_is_not_counted_twice() -> None:
    waiting = [person(1), person(2), person(3)]

    assert waitlist.waitlist_position(person(2), waiting) == 2


def test_a_bed_freed_in_a_shelter_cut_below_its_occupancy_goes_to_nobody() -> None:
    cut = facility({Category.WOMEN}, beds=1, occupied=2)

    assert waitlist.next_for_bed(cut, [person(1)]) is None


def test_a_girl_and_a_woman_never_compete_for_a_place_in_line() -> None:
    waiting = [person(1), person(2)]

    assert waitlist.waitlist_position(person(3, child=True), waiting) == 1


waiting_people = st.lists(
    st.builds(
        person,
        seq=st.integers(min_value=1, max_value=30),
        child=st.booleans(),
        sex=st.sampled_from(["female", "male", "unknown"]),
    ),
    max_size=8,
    unique_by=lambda r: r.task_id,
)


@given(
    waiting=waiting_people,
    serves=st.sets(st.sampled_from(list(Category)), min_size=1),
    beds=st.integers(min_value=0, max_value=3),
    occupied=st.integers(min_value=0, max_value=4),
)
def test_a_free_bed_goes_to_the_first_in_line_it_serves_children_first_then_longest_waiting(
    waiting: list[model.BedRequest], serves: set[Category], beds: int, occupied: int
) -> None:
    shelter = facility(serves, beds=beds, occupied=occupied)
    served = [r for r in waiting if model.serves(shelter, r)]

    chosen = waitlist.next_for_bed(shelter, waiting)

    if shelter.free_beds == 0 or not served:
        assert chosen is None
        return
    assert chosen is not None and model.serves(shelter, chosen)
    for other in served:
        # Nobody the bed could go to is ahead: no child passed over for an adult,
        # nobody passed over for someone who came later.
        assert (not chosen.is_child, chosen.queued_seq) <= (not other.is_child, other.queued_seq)
    if chosen.is_child:
        assert not shelter.serves & model.ADULT_CATEGORIES


@given(waiting=waiting_people)
def test_people_competing_for_the_same_beds_are_numbered_1_to_n_in_line(
    waiting: list[model.BedRequest],
) -> None:
    for group in [{Category.WOMEN}, {Category.MEN}, {Category.GIRLS}, {Category.BOYS}]:
        competing = [r for r in waiting if r.categories == group]
        by_position = sorted(competing, key=lambda r: waitlist.waitlist_position(r, competing))

        assert [waitlist.waitlist_position(r, competing) for r in by_position] == list(
            range(1, len(competing) + 1)
        )
        assert by_position == sorted(competing, key=lambda r: (r.queued_seq, r.task_id))
