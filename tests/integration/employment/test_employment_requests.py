"""Task requests and cancellations on the bus: who is enrolled, who waits, who is refused."""

from __future__ import annotations

from employment_harness import Employment, program, referral_of

from support import infra


async def test_a_person_under_every_programs_minimum_age_is_rejected_and_never_enrolled(
    employment: Employment,
) -> None:
    await employment.seed([program("Tailoring", min_age=16), program("Welding", min_age=18)])

    await employment.ask("girl-15", age=15, child=True)

    answer = (await employment.answers("girl-15"))["girl-15"]
    assert (answer.status, answer.reason) == ("rejected", "not_eligible")
    assert [p["enrolled"] for p in (await employment.programs()).values()] == [0, 0]


async def test_a_person_presumed_a_child_is_kept_out_of_an_adults_only_program(
    employment: Employment,
) -> None:
    await employment.seed([program("Welding", min_age=18)])

    await employment.ask("said-19", age=19, child=True)

    answer = (await employment.answers("said-19"))["said-19"]
    assert (answer.status, answer.reason) == ("rejected", "not_eligible")


async def test_no_language_in_common_is_not_eligible_but_a_program_open_to_any_language_is(
    employment: Employment,
) -> None:
    await employment.seed([program("Tailoring", languages=["az", "ru"], seats=5)])
    await employment.ask("speaks-english", languages=["en"])
    await employment.ask("speaks-russian", languages=["ru", "uk"])
    answers = await employment.answers("speaks-english", "speaks-russian")
    assert (answers["speaks-english"].status, answers["speaks-english"].reason) == (
        "rejected",
        "not_eligible",
    )
    assert answers["speaks-russian"].status == "accepted"

    await employment.seed([program("Cooking", languages=[])])
    await employment.ask("speaks-english-again", languages=["en"])

    answer = (await employment.answers("speaks-english-again"))["speaks-english-again"]
    assert answer.detail == {"program": "Cooking", "region": "AZ-BA"}


async def test_a_seat_freed_by_a_cancellation_goes_to_the_waiting_child_before_the_adult(
    employment: Employment,
) -> None:
    await employment.seed([program("Tailoring", seats=1)])
    await employment.ask("enrolled")
    await employment.ask("adult-waiting-longer")
    await employment.ask("child-waiting", age=16, child=True)
    await employment.answers("enrolled", "adult-waiting-longer", "child-waiting")

    cancel = await employment.cancel("enrolled")

    cancelled = await employment.becomes("enrolled", "cancelled")
    assert cancelled.reason == "withdrawn"
    await employment.becomes("child-waiting", "accepted")
    await employment.settled()
    assert (await employment.answers("adult-waiting-longer"))["adult-waiting-longer"].status == (
        "on-hold"
    )
    envelope, _ = (await employment.updates("child-waiting"))[-1]
    # News about the child's own case, not filed under the withdrawn one.
    assert envelope.subject == referral_of("child-waiting")
    assert envelope.causationid == cancel.id
    assert (await employment.programs())["Tailoring"]["enrolled"] == 1


async def test_a_child_put_on_hold_ahead_of_an_adult_tells_the_adult_their_new_place(
    employment: Employment,
) -> None:
    await employment.seed([program("Tailoring", seats=1)])
    for task_id in ("enrolled", "adult"):
        await employment.ask(task_id)
    await employment.answers("enrolled", "adult")

    await employment.ask("child", age=16, child=True)

    await employment.answers("child")
    await employment.settled()
    assert [u.detail for _, u in await employment.updates("adult")] == [
        {"waitlist_position": 1},
        {"waitlist_position": 2},
    ]
    assert [u.detail for _, u in await employment.updates("child")] == [{"waitlist_position": 1}]


async def test_an_event_type_this_build_does_not_know_is_set_aside_and_blocks_nothing(
    employment: Employment,
) -> None:
    # No retry makes this build read it: dead-lettered at once, for a replay once a
    # build that knows the type runs (`korpu dlq replay`).
    await employment.seed([program("Tailoring", seats=1)])
    unknown = (await employment.ask("x")).model_copy(
        update={"id": "future-event", "type": "korpu.task.rescheduled"}
    )
    await employment.deliver(unknown)
    await employment.ask("after-it")

    answers = await employment.answers("x", "after-it")

    assert answers["after-it"].status == "on-hold"
    [letter] = await infra.wait_for(employment.dead_letters, message="not set aside")
    assert letter[b"deliveries"] == b"1" and b"UnknownEventType" in letter[b"error"]
    assert await employment.pending() == 0
