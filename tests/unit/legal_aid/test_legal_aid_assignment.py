"""Assigning a lawyer, with an interpreter when needed, or waitlisting, or out of area."""

import dataclasses

from hypothesis import event, given
from hypothesis import strategies as st

from korpu_provider.decisions import Decision, Give, Refuse, Wait
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

    decision = assignment.decide(person(region="baku"), [in_ganja])

    assert decision == Refuse("out_of_service_area")


def test_a_lawyer_who_serves_several_regions_takes_a_case_in_any_of_them() -> None:
    both = lawyer("Aliyev", regions={"baku", "ganja"})

    decision = assignment.decide(person(region="ganja"), [both])

    assert decision == Give(both.id)


def test_a_lawyer_sharing_a_language_is_preferred_over_a_less_loaded_one() -> None:
    speaks_russian = lawyer("Busy", caseload=8, languages={"ru"})
    idle = lawyer("Idle", caseload=0, languages={"az"})

    decision = assignment.decide(person(languages={"ru"}), [idle, speaks_russian])

    assert decision == Give(speaks_russian.id)


def test_among_lawyers_sharing_a_language_the_fewest_open_cases_wins() -> None:
    three, two = lawyer("Three", caseload=3), lawyer("Two", caseload=2, cap=3)

    assert assignment.decide(person(), [three, two]) == Give(two.id)


def test_at_equal_caseload_the_lower_share_of_the_cap_then_the_name_wins() -> None:
    part_time = lawyer("Able", caseload=2, cap=4)
    full_time = lawyer("Baker", caseload=2, cap=10)
    twin = lawyer("Abbot", caseload=2, cap=10)

    decision = assignment.decide(person(), [part_time, full_time, twin])

    assert decision == Give(twin.id)


def test_no_common_language_assigned_with_an_interpreter() -> None:
    busy = lawyer("Busy", caseload=5, languages={"az"})
    idle = lawyer("Idle", caseload=1, languages={"ru"})

    request = person(languages={"vi"})

    assert assignment.decide(request, [busy, idle]) == Give(idle.id)
    assert model.needs_interpreter(idle, request)


def test_a_person_with_no_recorded_language_is_assigned_with_an_interpreter() -> None:
    only = lawyer("Only")

    request = person(languages=set())

    assert assignment.decide(request, [only]) == Give(only.id)
    assert model.needs_interpreter(only, request)


def test_a_speaker_at_the_cap_leaves_the_case_to_another_with_an_interpreter() -> None:
    speaker_full = lawyer("Speaker", caseload=4, cap=4, languages={"ru"})
    other = lawyer("Other", languages={"az"})

    request = person(languages={"ru"})

    assert assignment.decide(request, [speaker_full, other]) == Give(other.id)
    assert model.needs_interpreter(other, request)


def test_everyone_at_the_cap_waitlisted() -> None:
    full = [lawyer("A", caseload=3, cap=3), lawyer("B", caseload=5, cap=5)]
    decision = assignment.decide(person(3), full)

    assert decision == Wait()


def test_a_free_lawyer_elsewhere_does_not_take_a_case_from_a_full_region() -> None:
    here_full = lawyer("Here", caseload=1, cap=1)
    elsewhere = lawyer("Elsewhere", regions={"ganja"})

    decision = assignment.decide(person(), [here_full, elsewhere])

    assert decision == Wait()


def test_a_lawyer_with_a_zero_cap_takes_no_case() -> None:
    on_leave = lawyer("On leave", cap=0)

    assert assignment.decide(person(), [on_leave]) == Wait()


def test_four_cases_for_a_cap_of_two_two_assigned_two_waitlisted() -> None:
    only = lawyer("Only", cap=2)
    decisions: list[Decision] = []

    for seq in range(1, 5):
        request = person(seq)
        decision = assignment.decide(request, [only])
        decisions.append(decision)
        if isinstance(decision, Give):
            only = dataclasses.replace(only, caseload=only.caseload + 1)

    assert decisions == [
        Give(only.id),
        Give(only.id),
        Wait(),
        Wait(),
    ]


def test_a_lawyer_one_case_below_the_cap_takes_the_case_at_the_cap_does_not() -> None:
    one_left = lawyer("One left", caseload=2, cap=3)
    at_cap = dataclasses.replace(one_left, caseload=3)

    assert assignment.decide(person(), [one_left]) == Give(one_left.id)
    assert assignment.decide(person(), [at_cap]) == Wait()


def test_a_lawyer_whose_cap_was_cut_below_the_caseload_takes_no_case() -> None:
    cut = lawyer("Cut", caseload=4, cap=2)

    assert not cut.has_room
    assert assignment.decide(person(), [cut]) == Wait()


def test_one_shared_language_among_several_is_enough_to_need_no_interpreter() -> None:
    trilingual = lawyer("Quliyev", languages={"az", "ru", "en"})

    decision = assignment.decide(person(languages={"en", "vi"}), [trilingual])

    assert decision == Give(trilingual.id)


def test_at_equal_caseload_and_share_of_the_cap_the_name_then_the_id_decides() -> None:
    first = lawyer("Aliyev")
    second = dataclasses.replace(lawyer("Aliyev"), id="l-0")

    assert assignment.decide(person(), [first, second]) == Give("l-0")


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

    decision = assignment.decide(request, lawyers)

    event(type(decision).__name__)
    if with_room:
        assert isinstance(decision, Give)
        chosen = next(lw for lw in lawyers if lw.id == decision.entry_id)
        assert chosen in with_room
    elif local:
        assert isinstance(decision, Wait)
    else:
        assert decision == Refuse("out_of_service_area")


@given(request=people, lawyers=lawyers_strategy)
def test_an_interpreter_is_sent_only_when_no_lawyer_with_room_shares_a_language(
    request: model.CaseRequest, lawyers: list[model.Lawyer]
) -> None:
    decision = assignment.decide(request, lawyers)

    if isinstance(decision, Give):
        chosen = next(lw for lw in lawyers if lw.id == decision.entry_id)
        interpreter_needed = model.needs_interpreter(chosen, request)
        same_group = [
            lw
            for lw in lawyers
            if request.region in lw.regions
            and lw.has_room
            and bool(lw.languages & request.languages) == (not interpreter_needed)
        ]
        if interpreter_needed:
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

    decision = assignment.decide(request, [*others, free])

    assert isinstance(decision, Give)
