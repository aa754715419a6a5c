"""Whose case a lawyer with room takes next: the lawyers' `covers`, in the kit's order.

The order itself (children first, then the longest waiting) and the positions
are the kit's, tested once in tests/unit/provider_kit.
"""

import dataclasses

from korpu_provider import waitlist
from legal_aid.domain import model


def lawyer(*, caseload: int = 2, cap: int = 3) -> model.Lawyer:
    return model.Lawyer(
        id="l-1",
        name="Aliyev",
        regions=frozenset({"AZ-BA"}),
        languages=frozenset({"az"}),
        max_caseload=cap,
        caseload=caseload,
    )


def person(
    seq: int, *, region: str = "AZ-BA", languages: set[str] | None = None
) -> model.CaseRequest:
    return model.CaseRequest(
        task_id=f"t-{seq}",
        region=region,
        languages=frozenset(languages or {"az"}),
        is_child=False,
        queued_seq=seq,
    )


def next_case(of: model.Lawyer, waiting: list[model.CaseRequest]) -> object:
    return waitlist.next_for(of, waiting, model.covers)


def test_a_lawyer_takes_only_cases_from_the_regions_they_serve() -> None:
    elsewhere, here = person(1, region="AZ-GA"), person(2)

    assert next_case(lawyer(), [elsewhere, here]) == here
    assert next_case(lawyer(), [elsewhere]) is None


def test_a_lawyer_of_two_regions_takes_the_first_in_line_of_either() -> None:
    both = dataclasses.replace(lawyer(), regions=frozenset({"AZ-BA", "AZ-GA"}))
    ganja, baku = person(1, region="AZ-GA"), person(2)

    assert next_case(both, [baku, ganja]) == ganja


def test_a_shared_language_does_not_jump_the_queue_an_interpreter_is_sent() -> None:
    first, speaker = person(1, languages={"vi"}), person(2)

    assert next_case(lawyer(), [speaker, first]) == first
    assert model.needs_interpreter(lawyer(), first)
    assert not model.needs_interpreter(lawyer(), speaker)


def test_a_lawyer_at_or_cut_below_the_cap_takes_no_case_one_below_takes_one() -> None:
    assert next_case(lawyer(caseload=3, cap=3), [person(1)]) is None
    assert next_case(lawyer(caseload=4, cap=2), [person(1)]) is None
    assert next_case(lawyer(caseload=2, cap=3), [person(1)]) == person(1)
