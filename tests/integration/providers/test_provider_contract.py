"""Every provider keeps the same contract with the referral service (korpu_provider).

One suite, run against each provider: what a request, the waitlist, a promotion, a
cancellation that overtakes its request, duplicate and shuffled deliveries and two
replicas must do, whatever is being given (a bed, a seat, a lawyer).
"""

from __future__ import annotations

import pytest
from providers_harness import PROVIDERS, Running, shuffled, started

from korpu_contracts import regions
from korpu_contracts.vocabulary import Sex
from korpu_provider.directory import InvalidDirectory
from korpu_provider.handlers import NotAccepted, UnknownTask
from support.metrics import metric


async def test_a_request_with_room_is_accepted_and_says_what_was_given(provider: Running) -> None:
    await provider.seed(places=1)
    request = await provider.send(provider.requested("a"))

    ((envelope, answer),) = await provider.settled()

    assert (answer.task_id, answer.status, answer.revision) == ("a", "accepted", 1)
    assert "Baku" in answer.detail.values()
    # Filed under the person's own case, caused by the request it answers.
    assert (envelope.subject, envelope.correlationid) == (request.subject, request.correlationid)
    assert envelope.causationid == request.id


async def test_people_beyond_the_room_wait_in_arrival_order(provider: Running) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in ("a", "b", "c")))

    latest = await provider.latest()

    assert [(latest[t].status, latest[t].detail.get("waitlist_position")) for t in "abc"] == [
        ("accepted", None),
        ("on-hold", 1),
        ("on-hold", 2),
    ]
    assert {latest[t].reason for t in "bc"} == {"no_capacity"}


async def test_a_cancellation_gives_the_place_to_the_first_waiting_and_moves_the_line_up(
    provider: Running,
) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in ("a", "b", "c")))
    await provider.latest()

    cancel = await provider.send(provider.cancelled("a"))
    answers = await provider.settled()
    latest = await provider.latest()

    assert [latest[t].status for t in "abc"] == ["cancelled", "accepted", "on-hold"]
    assert latest["c"].detail == {"waitlist_position": 1}
    # The causation rule (docs/provider-kit.md): the promotion names the cancellation as
    # its cause, filed under the promoted person's own case; the moved position names none.
    promoted = next(e for e, u in answers if u.task_id == "b" and u.status == "accepted")
    assert (promoted.subject, promoted.correlationid) == ("referral-b", "referral-b")
    assert promoted.causationid == cancel.id
    moved = next(e for e, u in answers if u.task_id == "c" and u.revision == 2)
    assert moved.causationid is None


async def test_a_person_who_leaves_the_waitlist_moves_those_behind_up(provider: Running) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in ("a", "b", "c")))
    await provider.latest()

    await provider.send(provider.cancelled("b"))
    latest = await provider.latest()

    assert [latest[t].status for t in "abc"] == ["accepted", "cancelled", "on-hold"]
    assert latest["c"].detail == {"waitlist_position": 1}


async def test_only_an_accepted_task_completes_and_its_place_goes_on_when_completion_frees_it(
    provider: Running,
) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in ("a", "b")))
    await provider.latest()

    with pytest.raises(NotAccepted):
        await provider.complete("b")
    with pytest.raises(UnknownTask):
        await provider.complete("never-requested")
    await provider.complete("a")
    latest = await provider.latest()

    assert (latest["a"].status, latest["a"].detail["outcome"]) == ("completed", "goal_achieved")
    # A bed, a seat or a caseload is free again once the help ends; an examination
    # held is spent (`Provider.completion_frees`).
    frees = provider.bootstrap.SERVICE.provider.completion_frees
    assert (latest["b"].status, latest["b"].detail.get("waitlist_position")) == (
        ("accepted", None) if frees else ("on-hold", 1)
    )


async def test_a_cancellation_before_its_request_ends_it_cancelled_and_takes_no_place(
    provider: Running,
) -> None:
    await provider.seed(places=1)
    await provider.send(provider.cancelled("a"), provider.requested("a"), provider.requested("b"))

    latest = await provider.latest()

    assert (latest["a"].status, latest["a"].reason) == ("cancelled", "withdrawn")
    assert latest["b"].status == "accepted"


async def test_a_request_in_words_added_later_is_decided_as_one_that_does_not_say_them(
    provider: Running,
) -> None:
    # A referral service upgraded after this provider sends a sex and a safety risk
    # its vocabulary lacks: read as `unknown` (`korpu_contracts.tolerant`), never
    # retried nor dead-lettered.
    await provider.seed(places=2)
    await provider.send_written(provider.requested("a"), sex="intersex", safety_risk="critical")
    await provider.send(provider.requested("b").model_copy(update={"sex": Sex.UNKNOWN}))

    latest = await provider.latest()

    assert (latest["a"].status, latest["a"].reason) == (latest["b"].status, latest["b"].reason)
    assert await provider.dead_letters() == 0


async def test_a_cancellation_for_a_reason_added_later_cancels_and_is_told_as_other(
    provider: Running,
) -> None:
    await provider.seed(places=1)
    await provider.send(provider.requested("a"))
    await provider.send_written(provider.cancelled("a"), reason="relocated")

    latest = await provider.latest()

    assert (latest["a"].status, latest["a"].reason) == ("cancelled", "other")
    assert await provider.dead_letters() == 0


async def test_a_request_delivered_twice_or_sent_twice_is_decided_once(provider: Running) -> None:
    await provider.seed(places=2)
    once = await provider.send(provider.requested("a"))

    await provider.send_again([once])  # the very entry again
    await provider.send(provider.requested("a"))  # the same task in a new event
    answers = await provider.settled()

    assert [(u.task_id, u.status) for _, u in answers] == [("a", "accepted")]
    await provider.send(provider.requested("b"))
    assert (await provider.latest())["b"].status == "accepted"  # one place was left


async def test_loading_the_directory_twice_changes_nothing_and_added_room_goes_to_those_waiting(
    provider: Running,
) -> None:
    await provider.seed(places=1)
    await provider.send(*(provider.requested(t) for t in ("a", "b", "c")))
    await provider.latest()

    await provider.seed(places=1)
    assert len(await provider.directory()) == 1
    await provider.seed(places=2)
    latest = await provider.latest()

    assert [latest[t].status for t in "abc"] == ["accepted", "accepted", "on-hold"]
    assert latest["c"].detail == {"waitlist_position": 1}
    assert len(await provider.directory()) == 1


async def test_a_bad_directory_is_refused_whole_naming_each_bad_field(provider: Running) -> None:
    kit = provider.bootstrap.SERVICE
    good, misspelt = provider.entry("Good", 1), {**provider.entry("Bad", 1), "colour": "red"}

    with pytest.raises(InvalidDirectory) as refused:
        await provider.service.db.run(lambda conn: kit.load(conn, [good, misspelt]))
    with pytest.raises(InvalidDirectory, match="'Good' appears twice"):
        await provider.service.db.run(lambda conn: kit.load(conn, [good, good]))

    named = [error.split(":")[0] for error in refused.value.errors]
    assert named == [f"{kit.provider.service.seed_key}[1].colour"]
    assert await provider.directory() == []


@pytest.mark.parametrize("seed", range(3))
async def test_duplicate_and_shuffled_deliveries_end_as_one_ordered_delivery_would(
    provider: Running, seed: int
) -> None:
    await provider.seed(places=1)
    events = [provider.requested(t) for t in ("a", "b", "c")] * 2 + [provider.cancelled("a")]

    await provider.send(*shuffled(events, seed))
    latest = await provider.latest()

    # Whoever came first, the cancelled one holds nothing and exactly one place is taken.
    assert latest["a"].status == "cancelled"
    assert sorted(latest[t].status for t in "bc") == ["accepted", "on-hold"]
    waiting = next(latest[t] for t in "bc" if latest[t].status == "on-hold")
    assert waiting.detail == {"waitlist_position": 1}
    # Never two places for b and c, never one given twice.
    answers = await provider.settled()
    assert len([u for _, u in answers if u.status == "accepted" and u.task_id != "a"]) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(PROVIDERS))
async def test_two_replicas_racing_for_the_last_places_never_give_more_than_there_are(
    name: str, redis_db: str, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: replicas on one file cannot race")
    # One entry per read, so that both replicas take a share of the burst.
    first = await started(name, redis_db, database_url, "replica-1", max_records=1)
    second = await started(name, redis_db, database_url, "replica-2", max_records=1)
    try:
        await first.seed(places=3)
        await first.send_at_once([first.requested(f"t{n}") for n in range(20)])
        latest = await first.latest()
    finally:
        await first.service.stop()
        await second.service.stop()

    assert len(latest) == 20
    assert [u.status for u in latest.values()].count("accepted") == 3
    positions = sorted(
        int(u.detail["waitlist_position"] or 0) for u in latest.values() if u.status == "on-hold"
    )
    assert positions == list(range(1, 18))


async def test_its_metrics_show_free_places_and_the_people_waiting_by_region_and_no_one(
    provider: Running,
) -> None:
    baku = regions.code_of("Baku")
    await provider.seed(places=2)
    await provider.send(provider.requested("task-1f7a"))
    await provider.settled()
    text = (await provider.service.read_metrics()).decode()
    assert metric(text, "korpu_provider_free_places", region=baku) == 1
    assert metric(text, "korpu_provider_waiting", region=baku) is None

    await provider.send(*(provider.requested(t) for t in ("task-2c9e", "task-3b4d", "task-4e0f")))
    await provider.settled()
    text = (await provider.service.read_metrics()).decode()
    assert metric(text, "korpu_provider_free_places", region=baku) == 0
    assert metric(text, "korpu_provider_waiting", region=baku) == 2
    # Counts only: no task, referral or directory entry is named.
    for named in ("task-", "referral-", "Baku"):
        assert named not in text
