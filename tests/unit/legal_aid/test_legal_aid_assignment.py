"""Assigning a lawyer, with an interpreter when needed, or waitlisting, or out of area."""

import dataclasses

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
