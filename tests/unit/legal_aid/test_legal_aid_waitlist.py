"""Who waits for a lawyer in what order, and whose case a lawyer with room takes next."""

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from legal_aid.domain import model, waitlist


def lawyer(*, caseload: int = 2, cap: int = 3, languages: set[str] | None = None) -> model.Lawyer:
    return model.Lawyer(
        id="l-1",
        name="Aliyev",
        regions=frozenset({"baku"}),
        languages=frozenset(languages or {"az"}),
        max_caseload=cap,
        caseload=caseload,
    )


def person(
    seq: int, *, child: bool = False, region: str = "baku", languages: set[str] | None = None
) -> model.CaseRequest:
    return model.CaseRequest(
        task_id=f"t-{seq}",
        region=region,
        languages=frozenset(languages or {"az"}),
        is_child=child,
        queued_seq=seq,
    )


def test_a_lawyer_with_room_takes_the_waiting_child_before_a_longer_waiting_adult() -> None:
    adult, child = person(1), person(9, child=True)

    assert waitlist.next_for_lawyer(lawyer(), [adult, child]) == model.NextCase(child, False)


def test_among_adults_the_longest_waiting_comes_next() -> None:
    waiting = [person(7), person(3), person(5)]

    assert waitlist.next_for_lawyer(lawyer(), waiting) == model.NextCase(person(3), False)


def test_a_lawyer_takes_only_cases_from_the_regions_they_serve() -> None:
    elsewhere, here = person(1, region="ganja"), person(2)

    assert waitlist.next_for_lawyer(lawyer(), [elsewhere, here]) == model.NextCase(here, False)
    assert waitlist.next_for_lawyer(lawyer(), [elsewhere]) is None


def test_the_next_case_says_when_an_interpreter_is_needed() -> None:
    speaks_vietnamese = person(1, languages={"vi"})

    next_case = waitlist.next_for_lawyer(lawyer(), [speaks_vietnamese])

    assert next_case == model.NextCase(speaks_vietnamese, interpreter_needed=True)


def test_a_shared_language_does_not_jump_the_queue() -> None:
    first, speaker = person(1, languages={"vi"}), person(2, languages={"az"})

    assert waitlist.next_for_lawyer(lawyer(), [speaker, first]) == model.NextCase(first, True)


def test_a_lawyer_at_the_cap_takes_no_case() -> None:
    assert waitlist.next_for_lawyer(lawyer(caseload=3, cap=3), [person(1)]) is None


def test_a_child_arriving_last_is_first_on_the_waitlist_among_children() -> None:
    waiting = [person(1), person(2), person(3, child=True)]

    assert waitlist.waitlist_position(person(4, child=True), waiting) == 2


def test_only_people_waiting_in_the_same_region_count_for_the_position() -> None:
    waiting = [person(1, region="ganja"), person(2), person(3, region="ganja")]

    assert waitlist.waitlist_position(person(4), waiting) == 2


def test_a_person_already_on_the_waitlist_is_not_counted_twice() -> None:
    waiting = [person(1), person(2), person(3)]

    assert waitlist.waitlist_position(person(2), waiting) == 2


def test_the_waitlist_serves_children_first_then_the_longest_waiting() -> None:
    adult_1, adult_2, child_9, child_5 = (
        person(1),
        person(2),
        person(9, child=True),
        person(5, child=True),
    )

    assert waitlist.ordered([adult_2, child_9, adult_1, child_5]) == [
        child_5,
        child_9,
        adult_1,
        adult_2,
    ]


def test_people_who_arrived_together_are_ordered_by_task_id() -> None:
    a, b = person(4), dataclasses.replace(person(4), task_id="t-3")

    assert waitlist.ordered([a, b]) == [b, a]


def test_a_lawyer_one_case_below_the_cap_takes_the_next_case() -> None:
    assert waitlist.next_for_lawyer(lawyer(caseload=2, cap=3), [person(1)]) == model.NextCase(
        person(1), False
    )


def test_a_lawyer_whose_cap_was_cut_below_the_caseload_takes_no_case() -> None:
    assert waitlist.next_for_lawyer(lawyer(caseload=4, cap=2), [person(1)]) is None


def test_a_lawyer_of_two_regions_takes_the_first_in_line_of_either() -> None:
    both = dataclasses.replace(lawyer(), regions=frozenset({"baku", "ganja"}))
    ganja, baku = person(1, region="ganja"), person(2)

    assert waitlist.next_for_lawyer(both, [baku, ganja]) == model.NextCase(ganja, False)


waiting_people = st.lists(
    st.builds(
        lambda seq, child, region: person(seq, child=child, region=region),
        st.integers(min_value=1, max_value=30),
        st.booleans(),
        st.sampled_from(["baku", "ganja"]),
    ),
    max_size=8,
    unique_by=lambda r: r.task_id,
)


@given(
    waiting=waiting_people,
    caseload=st.integers(min_value=0, max_value=4),
    cap=st.integers(min_value=0, max_value=3),
)
def test_a_lawyer_with_room_takes_the_first_in_line_of_their_region(
    waiting: list[model.CaseRequest], caseload: int, cap: int
) -> None:
    baku_lawyer = lawyer(caseload=caseload, cap=cap)
    local = [r for r in waiting if r.region == "baku"]

    next_case = waitlist.next_for_lawyer(baku_lawyer, waiting)

    if caseload >= cap or not local:
        assert next_case is None
        return
    assert next_case is not None and next_case.request.region == "baku"
    for other in local:
        chosen = next_case.request
        assert (not chosen.is_child, chosen.queued_seq) <= (not other.is_child, other.queued_seq)


@given(waiting=waiting_people)
def test_people_waiting_in_one_region_are_numbered_1_to_n_children_first(
    waiting: list[model.CaseRequest],
) -> None:
    for region in ["baku", "ganja"]:
        here = [r for r in waiting if r.region == region]

        in_line = sorted(here, key=lambda r: (not r.is_child, r.queued_seq, r.task_id))
        positions = [waitlist.waitlist_position(r, waiting) for r in in_line]

        assert positions == list(range(1, len(here) + 1))
