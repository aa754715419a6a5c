"""Assigning a lawyer, with an interpreter when needed, or waitlisting, or out of area."""

import dataclasses

from hypothesis import event, given
from hypothesis import strategies as st

from legal_aid.domain import assignment, model


def lawyer(
    name: str,
    *,
    caseload: int = 0,
    cap: int = 10,
    languages: set[str] | None = None,
    regions: set[str] | None = None,
) -> model.Lawyer:
    return model.Lawyer(
        id=f"l-{name}",
        name=name,
        regions=frozenset(regions or {"baku"}),
        languages=frozenset({"az"} if languages is None else languages),
        max_caseload=cap,
        caseload=caseload,
    )


def person(
    seq: int = 1, *, languages: set[str] | None = None, region: str = "baku", child: bool = False
) -> model.CaseRequest:
    return model.CaseRequest(
        task_id=f"t-{seq}",
        region=region,
        languages=frozenset({"az"} if languages is None else languages),
        is_child=child,
        queued_seq=seq,
    )


def test_no_lawyer_in_the_region_is_out_of_service_area() -> None:
    in_ganja = lawyer("Aliyev", regions={"ganja"})

    decision = assignment.decide(person(region="baku"), [in_ganja], [])

    assert decision == model.Rejected(reason="out_of_service_area")


def test_a_lawyer_who_serves_several_regions_takes_a_case_in_any_of_them() -> None:
    both = lawyer("Aliyev", regions={"baku", "ganja"})

    decision = assignment.decide(person(region="ganja"), [both], [])

    assert decision == model.Assigned(lawyer_id=both.id, interpreter_needed=False)


def test_a_lawyer_sharing_a_language_is_preferred_over_a_less_loaded_one() -> None:
    speaks_russian = lawyer("Busy", caseload=8, languages={"ru"})
    idle = lawyer("Idle", caseload=0, languages={"az"})

    decision = assignment.decide(person(languages={"ru"}), [idle, speaks_russian], [])

    assert decision == model.Assigned(lawyer_id=speaks_russian.id, interpreter_needed=False)


def test_among_lawyers_sharing_a_language_the_fewest_open_cases_wins() -> None:
    three, two = lawyer("Three", caseload=3), lawyer("Two", caseload=2, cap=3)

    assert assignment.decide(person(), [three, two], []) == model.Assigned(two.id, False)


def test_at_equal_caseload_the_lower_share_of_the_cap_then_the_name_wins() -> None:
    part_time = lawyer("Able", caseload=2, cap=4)
    full_time = lawyer("Baker", caseload=2, cap=10)
    twin = lawyer("Abbot", caseload=2, cap=10)

    decision = assignment.decide(person(), [part_time, full_time, twin], [])

    assert decision == model.Assigned(lawyer_id=twin.id, interpreter_needed=False)


def test_no_common_language_assigned_with_an_interpreter() -> None:
    busy = lawyer("Busy", caseload=5, languages={"az"})
    idle = lawyer("Idle", caseload=1, languages={"ru"})

    decision = assignment.decide(person(languages={"vi"}), [busy, idle], [])

    assert decision == model.Assigned(lawyer_id=idle.id, interpreter_needed=True)


def test_a_person_with_no_recorded_language_is_assigned_with_an_interpreter() -> None:
    only = lawyer("Only")

    decision = assignment.decide(person(languages=set()), [only], [])

    assert decision == model.Assigned(lawyer_id=only.id, interpreter_needed=True)


def test_a_speaker_at_the_cap_leaves_the_case_to_another_with_an_interpreter() -> None:
    speaker_full = lawyer("Speaker", caseload=4, cap=4, languages={"ru"})
    other = lawyer("Other", languages={"az"})

    decision = assignment.decide(person(languages={"ru"}), [speaker_full, other], [])

    assert decision == model.Assigned(lawyer_id=other.id, interpreter_needed=True)


def test_everyone_at_the_cap_waitlisted() -> None:
    full = [lawyer("A", caseload=3, cap=3), lawyer("B", caseload=5, cap=5)]
    waiting = [person(1), person(2)]

    decision = assignment.decide(person(3), full, waiting)

    assert decision == model.Waitlisted(position=3, reason="no_capacity")


def test_a_free_lawyer_elsewhere_does_not_take_a_case_from_a_full_region() -> None:
    here_full = lawyer("Here", caseload=1, cap=1)
    elsewhere = lawyer("Elsewhere", regions={"ganja"})

    decision = assignment.decide(person(), [here_full, elsewhere], [])

    assert decision == model.Waitlisted(position=1)


def test_a_lawyer_with_a_zero_cap_takes_no_case() -> None:
    on_leave = lawyer("On leave", cap=0)

    assert assignment.decide(person(), [on_leave], []) == model.Waitlisted(position=1)


def test_four_cases_for_a_cap_of_two_two_assigned_two_waitlisted_in_order() -> None:
    only = lawyer("Only", cap=2)
    waiting: list[model.CaseRequest] = []
    decisions: list[model.Decision] = []

    for seq in range(1, 5):
        request = person(seq)
        decision = assignment.decide(request, [only], waiting)
        decisions.append(decision)
        if isinstance(decision, model.Assigned):
            only = dataclasses.replace(only, caseload=only.caseload + 1)
        else:
            waiting.append(request)

    assert decisions == [
        model.Assigned(only.id, False),
        model.Assigned(only.id, False),
        model.Waitlisted(position=1),
        model.Waitlisted(position=2),
    ]


def test_a_lawyer_one_case_below_the_cap_takes_the_case_at_the_cap_does_not() -> None:
    one_left = lawyer("One left", caseload=2, cap=3)
    at_cap = dataclasses.replace(one_left, caseload=3)

    assert assignment.decide(person(), [one_left], []) == model.Assigned(one_left.id, False)
    assert assignment.decide(person(), [at_cap], []) == model.Waitlisted(position=1)


def test_a_lawyer_whose_cap_was_cut_below_the_caseload_takes_no_case() -> None:
    cut = lawyer("Cut", caseload=4, cap=2)

    assert not cut.has_room
    assert assignment.decide(person(), [cut], []) == model.Waitlisted(position=1)


def test_one_shared_language_among_several_is_enough_to_need_no_interpreter() -> None:
    trilingual = lawyer("Quliyev", languages={"az", "ru", "en"})

    decision = assignment.decide(person(languages={"en", "vi"}), [trilingual], [])

    assert decision == model.Assigned(lawyer_id=trilingual.id, interpreter_needed=False)


def test_at_equal_caseload_and_share_of_the_cap_the_name_then_the_id_decides() -> None:
    first = lawyer("Aliyev")
    second = dataclasses.replace(lawyer("Aliyev"), id="l-0")

    assert assignment.decide(person(), [first, second], []) == model.Assigned("l-0", False)


REGIONS = ["baku", "ganja", "shaki"]
LANGUAGES = ["az", "ru", "en"]

lawyers_strategy = st.lists(
    st.builds(
        lambda regions, languages, cap, caseload: (regions, languages, cap, caseload),
        st.sets(st.sampled_from(REGIONS), min_size=1, max_size=2),
        st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2),
        st.integers(min_value=0, max_value=3),
        st.integers(min_value=0, max_value=4),
    ),
    min_size=1,
    max_size=4,
).map(
    lambda specs: [
        lawyer(f"L{i}", regions=r, languages=lang, cap=cap, caseload=load)
        for i, (r, lang, cap, load) in enumerate(specs)
    ]
)

people = st.builds(
    lambda region, languages, child: person(region=region, languages=languages, child=child),
    st.sampled_from(REGIONS),
    st.sets(st.sampled_from([*LANGUAGES, "vi"]), max_size=2),
    st.booleans(),
)


@given(request=people, lawyers=lawyers_strategy)
def test_a_case_goes_to_a_lawyer_of_the_region_with_room_or_waits_only_when_all_are_at_the_cap(
    request: model.CaseRequest, lawyers: list[model.Lawyer]
) -> None:
    local = [lw for lw in lawyers if request.region in lw.regions]
    with_room = [lw for lw in local if lw.caseload < lw.max_caseload]

    decision = assignment.decide(request, lawyers, [])

    event(type(decision).__name__)
    if with_room:
        assert isinstance(decision, model.Assigned)
        chosen = next(lw for lw in lawyers if lw.id == decision.lawyer_id)
        assert chosen in with_room
        assert decision.interpreter_needed == (not chosen.languages & request.languages)
    elif local:
        assert isinstance(decision, model.Waitlisted)
    else:
        assert decision == model.Rejected(reason="out_of_service_area")


@given(request=people, lawyers=lawyers_strategy)
def test_an_interpreter_is_sent_only_when_no_lawyer_with_room_shares_a_language(
    request: model.CaseRequest, lawyers: list[model.Lawyer]
) -> None:
    decision = assignment.decide(request, lawyers, [])

    if isinstance(decision, model.Assigned):
        chosen = next(lw for lw in lawyers if lw.id == decision.lawyer_id)
        same_group = [
            lw
            for lw in lawyers
            if request.region in lw.regions
            and lw.has_room
            and bool(lw.languages & request.languages) == (not decision.interpreter_needed)
        ]
        if decision.interpreter_needed:
            event("interpreter")
            assert not any(
                lw.languages & request.languages
                for lw in lawyers
                if request.region in lw.regions and lw.has_room
            )
        # Within the chosen group, nobody has fewer open cases.
        assert all(chosen.caseload <= lw.caseload for lw in same_group)


@given(
    request=people,
    others=lawyers_strategy,
    languages=st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2),
)
def test_a_case_is_assigned_whenever_a_lawyer_of_the_region_has_room(
    request: model.CaseRequest, others: list[model.Lawyer], languages: set[str]
) -> None:
    free = lawyer("Free", regions={request.region, "shaki"}, languages=languages, cap=2, caseload=1)

    decision = assignment.decide(request, [*others, free], [])

    assert isinstance(decision, model.Assigned)
