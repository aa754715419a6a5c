"""Booking a first examination: the earliest free day, the person's region first, a cap a day."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from korpu_provider import waitlist
from korpu_provider.categories import Category
from korpu_provider.decisions import Give, Refuse, Wait
from medical.domain import booking, model

TODAY = dt.date(2027, 3, 1)
TOMORROW = dt.date(2027, 3, 2)
EVERYONE = {Category.WOMEN, Category.MEN, Category.GIRLS, Category.BOYS}


def day(n: int) -> dt.date:
    """The n-th open day: 1 is tomorrow."""
    return TODAY + dt.timedelta(days=n)


def clinic(
    name: str,
    *,
    serves: set[Category] | None = None,
    per_day: int = 2,
    booked: dict[dt.date, int] | None = None,
    region: str = "AZ-BA",
    booking_days: int = 28,
) -> model.Clinic:
    return model.Clinic(
        id=f"c-{name}",
        name=name,
        region=region,
        serves=frozenset(EVERYONE if serves is None else serves),
        appointments_per_day=per_day,
        days=model.open_days(TODAY, booking_days),
        booked=booked or {},
    )


def person(
    seq: int = 1, *, sex: str = "female", child: bool = False, region: str = "AZ-BA"
) -> model.ExaminationRequest:
    return model.ExaminationRequest(
        task_id=f"t-{seq}", region=region, is_child=child, sex=sex, queued_seq=seq
    )


def test_the_open_days_start_tomorrow_and_last_the_booking_horizon() -> None:
    days = model.open_days(TODAY, 28)

    assert (days[0], days[-1], len(days)) == (TOMORROW, dt.date(2027, 3, 29), 28)


def test_the_first_examination_is_on_the_earliest_day_with_a_free_appointment() -> None:
    only = clinic("Only", per_day=2, booked={day(1): 2, day(2): 2, day(3): 1})

    assert booking.decide(person(), [only]) == Give(only.id)
    assert only.free_day == day(3)


def test_a_day_booked_up_to_the_cap_is_never_booked_again() -> None:
    cut = clinic("Cut", per_day=1, booked={day(1): 3, day(2): 1}, booking_days=3)

    # Its cap was lowered below what was booked: full, not a negative number free.
    assert (cut.free_day, cut.free) == (day(3), 1)


def test_the_earliest_day_decides_among_the_clinics_of_the_region() -> None:
    later = clinic("Able", booked={day(1): 2})
    sooner = clinic("Baker", booked={day(1): 1})

    assert booking.decide(person(), [later, sooner]) == Give(sooner.id)


def test_on_the_same_day_the_name_then_the_id_decide() -> None:
    baker, able = clinic("Baker"), clinic("Able")

    assert booking.decide(person(), [baker, able]) == Give(able.id)


def test_a_clinic_in_the_persons_region_comes_first_even_when_one_elsewhere_is_sooner() -> None:
    here_later = clinic("Baku", per_day=1, booked={day(n): 1 for n in range(1, 10)})
    ganja_tomorrow = clinic("Ganja", region="AZ-GA")

    assert booking.decide(person(), [ganja_tomorrow, here_later]) == Give(here_later.id)
    assert here_later.free_day == day(10)


def test_a_person_whose_region_is_booked_up_is_seen_elsewhere_rather_than_wait() -> None:
    here_full = clinic("Baku", per_day=1, booking_days=2, booked={day(1): 1, day(2): 1})
    ganja = clinic("Ganja", region="AZ-GA")

    assert booking.decide(person(), [here_full, ganja]) == Give(ganja.id)


def test_a_person_with_no_clinic_serving_them_anywhere_is_not_eligible() -> None:
    womens = clinic("Women's consultation", serves={Category.WOMEN, Category.GIRLS})

    assert booking.decide(person(sex="male"), [womens]) == Refuse("not_eligible")
    assert booking.decide(person(), []) == Refuse("not_eligible")


def test_a_girl_is_seen_only_where_girls_are_served() -> None:
    adults = clinic("Adults", serves={Category.WOMEN, Category.MEN})
    womens_and_girls = clinic("Women and girls", serves={Category.WOMEN, Category.GIRLS})

    assert booking.decide(person(child=True), [adults]) == Refuse("not_eligible")
    assert booking.decide(person(child=True), [adults, womens_and_girls]) == Give(
        womens_and_girls.id
    )


def test_a_person_of_other_or_unknown_sex_is_seen_where_women_or_men_are() -> None:
    mens = clinic("Men", serves={Category.MEN})

    assert booking.decide(person(sex="unknown"), [mens]) == Give(mens.id)
    assert booking.decide(person(sex="other"), [mens]) == Give(mens.id)


def test_every_open_day_booked_at_every_clinic_serving_the_person_waits() -> None:
    full = clinic("Full", per_day=1, booking_days=2, booked={day(1): 1, day(2): 1})
    closed = clinic("Closed", per_day=0)
    mens = clinic("Men only", serves={Category.MEN})

    assert booking.decide(person(), [full, closed, mens]) == Wait()
    assert not full.has_room


def test_a_day_freed_after_the_horizon_filled_goes_to_the_first_waiting_it_serves() -> None:
    # The day comes back by a cancellation (the provider's `release`); the kit gives it on.
    freed = clinic("Freed", serves={Category.WOMEN}, per_day=1, booking_days=1)
    waiting = [person(1, sex="male"), person(2), person(3)]

    chosen = waitlist.next_for(freed, waiting, model.serves)

    assert chosen == person(2)


@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.dictionaries(st.integers(1, 5), st.integers(0, 4))),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_a_booking_is_always_on_a_day_with_room_and_the_earliest_in_the_region_first(
    shapes: list[tuple[int, dict[int, int]]], elsewhere_first: bool
) -> None:
    clinics = [
        clinic(
            f"c{i}",
            per_day=per_day,
            booking_days=5,
            booked={day(n): count for n, count in booked.items()},
            region="AZ-GA" if (i == 0) == elsewhere_first else "AZ-BA",
        )
        for i, (per_day, booked) in enumerate(shapes)
    ]

    decision = booking.decide(person(), clinics)

    with_room = [c for c in clinics if c.has_room]
    if not with_room:
        assert decision == Wait()
        return
    assert isinstance(decision, Give)
    chosen = next(c for c in clinics if c.id == decision.entry_id)
    assert chosen.free_day is not None
    assert chosen.booked.get(chosen.free_day, 0) < chosen.appointments_per_day
    here = [c for c in with_room if c.region == "AZ-BA"]
    candidates = here or with_room
    assert chosen.free_day == min(c.free_day for c in candidates if c.free_day is not None)
