"""Who waits for a shelter bed in what order, and who gets a bed that frees up."""

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


def test_a_freed_bed_goes_to_the_waiting_child_before_a_longer_waiting_adult() -> None:
    mixed = facility({Category.WOMEN, Category.GIRLS})
    woman, girl = person(1), person(9, child=True)

    assert waitlist.next_for_bed(mixed, [woman, girl]) == girl


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
    full = facility({Category.WOMEN, Category.GIRLS}, beds=1, occupied=1)
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
