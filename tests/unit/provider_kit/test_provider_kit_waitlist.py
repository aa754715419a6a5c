"""The kit's waitlist: one order, one rule for positions, one rule for a freed place.

Every provider waits in this order; the providers' own tests say only whom
their entries serve (`Provider.serves`). Here the entries are plain: a place
serves the kinds of people it lists.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from korpu_provider import waitlist
from korpu_provider.decisions import Give, Wait, give_or_wait


@dataclass(frozen=True)
class Person:
    task_id: str
    is_child: bool
    queued_seq: int
    kind: str = "woman"


@dataclass(frozen=True)
class Place:
    id: str
    kinds: frozenset[str]
    free: int = 1

    @property
    def has_room(self) -> bool:
        return self.free > 0


def person(seq: int, kind: str = "woman", *, child: bool = False) -> Person:
    return Person(task_id=f"t-{seq}", is_child=child, queued_seq=seq, kind=kind)


def place(*kinds: str, free: int = 1) -> Place:
    return Place(id="-".join(kinds), kinds=frozenset(kinds), free=free)


def serves(entry: Place, request: Person) -> bool:
    return request.kind in entry.kinds


def position(request: Person, waiting: list[Person], directory: list[Place]) -> int:
    (found,) = waitlist.positions([request], waiting, directory, serves)
    return found


# The order ------------------------------------------------------------------------------


def test_children_come_first_then_the_longest_waiting() -> None:
    woman_1, woman_2 = person(1), person(2)
    girl_9, boy_5 = person(9, "girl", child=True), person(5, "boy", child=True)

    assert waitlist.ordered([woman_1, woman_2, girl_9, boy_5]) == [boy_5, girl_9, woman_1, woman_2]


def test_people_who_arrived_together_are_ordered_by_task_id_so_the_order_never_flips() -> None:
    a, b = person(4), dataclasses.replace(person(4), task_id="t-3")

    assert waitlist.ordered([a, b]) == [b, a]
    assert waitlist.ordered([b, a]) == [b, a]


# Who gets a freed place -----------------------------------------------------------------


def test_a_freed_place_goes_to_a_waiting_child_before_a_longer_waiting_adult() -> None:
    adult, child = person(1), person(9, "girl", child=True)

    assert waitlist.next_for(place("woman", "girl"), [adult, child], serves) == child


def test_among_adults_a_freed_place_goes_to_the_longest_waiting() -> None:
    waiting = [person(7), person(3), person(5)]

    assert waitlist.next_for(place("woman"), waiting, serves) == person(3)


def test_a_freed_place_passes_over_people_its_entry_does_not_serve() -> None:
    man, girl, woman = person(1, "man"), person(2, "girl", child=True), person(3)

    assert waitlist.next_for(place("woman"), [man, girl, woman], serves) == woman
    assert waitlist.next_for(place("woman"), [man, girl], serves) is None


def test_nobody_gets_a_place_from_an_entry_without_room() -> None:
    assert waitlist.next_for(place("woman", free=0), [person(1)], serves) is None


waiting_people = st.lists(
    st.builds(
        person,
        seq=st.integers(min_value=1, max_value=30),
        kind=st.sampled_from(["woman", "man", "girl", "boy"]),
        child=st.booleans(),
    ),
    max_size=8,
    unique_by=lambda p: p.task_id,
)


@given(
    waiting=waiting_people,
    kinds=st.sets(st.sampled_from(["woman", "man", "girl", "boy"]), min_size=1),
    free=st.integers(min_value=0, max_value=2),
)
def test_a_freed_place_goes_to_the_first_in_line_it_serves(
    waiting: list[Person], kinds: set[str], free: int
) -> None:
    entry = place(*sorted(kinds), free=free)
    served = [p for p in waiting if serves(entry, p)]

    chosen = waitlist.next_for(entry, waiting, serves)

    if free == 0 or not served:
        assert chosen is None
        return
    assert chosen is not None and serves(entry, chosen)
    for other in served:
        # No child passed over for an adult, nobody for someone who came later.
        assert (not chosen.is_child, chosen.queued_seq, chosen.task_id) <= (
            not other.is_child,
            other.queued_seq,
            other.task_id,
        )


# Positions across shared capacity -------------------------------------------------------


def test_two_people_waiting_for_the_same_places_are_1_and_2_never_both_1() -> None:
    childrens = place("girl", "boy")
    girl, boy = person(1, "girl", child=True), person(2, "boy", child=True)

    assert position(girl, [girl, boy], [childrens]) == 1
    assert position(boy, [girl, boy], [childrens]) == 2


def test_people_who_share_no_entry_are_each_first_in_their_own_line() -> None:
    directory = [place("woman"), place("man")]
    woman, man = person(1), person(2, "man")

    assert position(woman, [woman, man], directory) == 1
    assert position(man, [woman, man], directory) == 1


def test_a_child_arriving_last_goes_ahead_of_the_adults_it_competes_with() -> None:
    mixed = [place("woman", "girl")]
    waiting = [person(1), person(2), person(3, "girl", child=True)]

    assert position(person(4, "girl", child=True), waiting, mixed) == 2
    assert position(person(5), waiting, mixed) == 4


def test_competition_runs_through_any_entry_serving_both() -> None:
    # One entry serves women and men: a man waits behind a woman there, though
    # the men's entry alone would put him first.
    directory = [place("woman", "man"), place("man")]
    woman, man = person(1), person(2, "man")

    assert position(man, [woman, man], directory) == 2


def test_a_person_already_waiting_is_not_counted_twice() -> None:
    waiting = [person(1), person(2), person(3)]

    assert position(person(2), waiting, [place("woman")]) == 2


@given(waiting=waiting_people)
def test_people_waiting_for_one_entry_are_numbered_1_to_n_in_the_order(
    waiting: list[Person],
) -> None:
    for kind in ["woman", "man", "girl", "boy"]:
        here = [p for p in waiting if p.kind == kind]
        in_line = waitlist.ordered(here)

        places = waitlist.positions(in_line, waiting, [place(kind)], serves)

        assert places == list(range(1, len(here) + 1))


# A decision among the eligible entries --------------------------------------------------


def test_the_preferred_entry_with_room_is_given_and_none_with_room_is_a_wait() -> None:
    small, large, full = place("a", free=1), place("b", free=3), place("c", free=0)

    most_room = give_or_wait([small, large, full], lambda entry: -entry.free)

    assert most_room == Give(large.id)
    assert give_or_wait([small, full], lambda entry: -entry.free) == Give(small.id)
    assert give_or_wait([full], lambda entry: -entry.free) == Wait()
