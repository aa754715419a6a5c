"""Giving a counsellor: in the region, a common language first, the least loaded; children
only with counsellors for children; the waitlist when all are at their cap."""

from hypothesis import event, given
from hypothesis import strategies as st

from korpu_provider import waitlist
from korpu_provider.caseworkers import needs_interpreter
from korpu_provider.decisions import Give, Refuse, Wait
from psychological.domain import assignment, model
from psychological.provider import Psychological

BAKU, GANJA = "AZ-BA", "AZ-GA"


def counsellor(
    name: str,
    *,
    load: int = 0,
    cap: int = 10,
    speaks: tuple[str, ...] = ("az",),
    works_in: tuple[str, ...] = (BAKU,),
    children: bool = False,
) -> model.Counsellor:
    return model.Counsellor(
        f"c-{name}", name, frozenset(works_in), frozenset(speaks), cap, load, children
    )


def adult(seq: int = 1, *, speaks: tuple[str, ...] = ("az",), at: str = BAKU) -> model.CaseRequest:
    return model.CaseRequest(f"t-{seq}", at, frozenset(speaks), False, seq)


def child(seq: int = 1, *, speaks: tuple[str, ...] = ("az",), at: str = BAKU) -> model.CaseRequest:
    return model.CaseRequest(f"t-{seq}", at, frozenset(speaks), True, seq)


def test_nobody_counselling_in_the_region_is_out_of_service_area_for_adults_and_children() -> None:
    in_ganja = counsellor("Kərimova", works_in=(GANJA,), children=True)

    assert assignment.decide(adult(at=BAKU), [in_ganja]) == Refuse("out_of_service_area")
    assert assignment.decide(child(at=BAKU), [in_ganja]) == Refuse("out_of_service_area")


def test_of_the_region_the_least_loaded_counsellor_sharing_a_language_is_given() -> None:
    busy = counsellor("Busy", load=4)
    idle = counsellor("Idle", load=1)
    idler_elsewhere = counsellor("Elsewhere", works_in=(GANJA,))

    assert assignment.decide(adult(), [busy, idle, idler_elsewhere]) == Give(idle.id)


def test_a_common_language_comes_before_a_lighter_caseload() -> None:
    russian = counsellor("Petrova", load=7, speaks=("ru",))
    idle = counsellor("Idle")

    assert assignment.decide(adult(speaks=("ru",)), [idle, russian]) == Give(russian.id)


def test_no_common_language_gives_the_least_loaded_with_an_interpreter() -> None:
    busy, idle = counsellor("Busy", load=3), counsellor("Idle", load=1, speaks=("en",))
    vietnamese = adult(speaks=("vi",))

    assert assignment.decide(vietnamese, [busy, idle]) == Give(idle.id)
    assert needs_interpreter(idle, vietnamese)
    assert not needs_interpreter(busy, adult())


def test_a_child_is_given_only_a_counsellor_for_children_even_a_busier_one() -> None:
    for_adults = counsellor("Məmmədli")
    for_children = counsellor("Abbasova", load=9, speaks=("ru",), children=True)

    decision = assignment.decide(child(), [for_adults, for_children])

    assert decision == Give(for_children.id)


def test_a_child_where_no_counsellor_is_for_children_is_not_eligible_whatever_elsewhere_has() -> (
    None
):
    here = counsellor("Məmmədli")
    for_children_in_ganja = counsellor("Kərimova", works_in=(GANJA,), children=True)

    assert assignment.decide(child(), [here]) == Refuse("not_eligible")
    assert assignment.decide(child(), [here, for_children_in_ganja]) == Refuse("not_eligible")


def test_an_adult_may_be_given_a_counsellor_for_children() -> None:
    for_children = counsellor("Abbasova", children=True)

    assert assignment.decide(adult(), [for_children]) == Give(for_children.id)


def test_a_child_waits_while_the_counsellors_for_children_are_full_though_others_are_free() -> None:
    full = counsellor("Abbasova", load=2, cap=2, children=True)
    free_for_adults = counsellor("Məmmədli")

    assert assignment.decide(child(), [full, free_for_adults]) == Wait()


def test_everyone_of_the_region_at_the_cap_is_the_waitlist_one_below_takes_the_case() -> None:
    at_cap = [counsellor("A", load=3, cap=3), counsellor("B", load=5, cap=4)]
    one_left = counsellor("C", load=2, cap=3)
    free_elsewhere = counsellor("D", works_in=(GANJA,))

    assert assignment.decide(adult(), [*at_cap, free_elsewhere]) == Wait()
    assert assignment.decide(adult(), [*at_cap, one_left]) == Give(one_left.id)


def test_a_freed_counsellor_for_adults_passes_over_the_waiting_child() -> None:
    freed = counsellor("Məmmədli", load=0, cap=1)
    girl, woman = child(1), adult(2)

    assert waitlist.next_for(freed, [girl, woman], model.serves) == woman
    assert waitlist.next_for(freed, [girl], model.serves) is None


def test_a_counsellor_is_for_adults_only_unless_the_seed_file_says_children() -> None:
    entry = {"name": "Məmmədli", "regions": ["Baku"], "languages": ["az"], "max_caseload": 4}
    (unsaid,) = Psychological.entries.validate_python([entry])
    (said,) = Psychological.entries.validate_python([{**entry, "children": True}])

    assert (unsaid.children, said.children) == (False, True)


REGIONS = [BAKU, GANJA]
LANGUAGES = ["az", "ru", "en"]


@st.composite
def one_counsellor(draw: st.DrawFn, number: int) -> model.Counsellor:
    return counsellor(
        f"C{number}",
        works_in=tuple(draw(st.sets(st.sampled_from(REGIONS), min_size=1))),
        speaks=tuple(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1, max_size=2))),
        cap=draw(st.integers(0, 3)),
        load=draw(st.integers(0, 4)),
        children=draw(st.booleans()),
    )


@st.composite
def directories(draw: st.DrawFn) -> list[model.Counsellor]:
    return [draw(one_counsellor(number)) for number in range(draw(st.integers(0, 5)))]


@st.composite
def people(draw: st.DrawFn) -> model.CaseRequest:
    speaks = draw(st.sets(st.sampled_from([*LANGUAGES, "vi"]), max_size=2))
    return model.CaseRequest("t-1", draw(st.sampled_from(REGIONS)), speaks, draw(st.booleans()), 1)


@given(person=people(), counsellors=directories())
def test_every_decision_follows_the_rules(
    person: model.CaseRequest, counsellors: list[model.Counsellor]
) -> None:
    local = [c for c in counsellors if person.region in c.regions]
    allowed = [c for c in local if c.children or not person.is_child]
    free = [c for c in allowed if c.has_room]

    decision = assignment.decide(person, counsellors)

    event(type(decision).__name__)
    if not local:
        assert decision == Refuse("out_of_service_area")
    elif not allowed:
        assert decision == Refuse("not_eligible")
    elif not free:
        assert decision == Wait()
    else:
        assert isinstance(decision, Give)
        chosen = next(c for c in free if c.id == decision.entry_id)
        # An interpreter only when nobody free may take the person in their language;
        # among those who share the chosen one's footing, nobody has fewer cases.
        peers = [
            c for c in free if needs_interpreter(c, person) == needs_interpreter(chosen, person)
        ]
        assert needs_interpreter(chosen, person) == all(needs_interpreter(c, person) for c in free)
        assert chosen.caseload == min(c.caseload for c in peers)
