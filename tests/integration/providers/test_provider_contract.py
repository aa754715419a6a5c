"""Every provider keeps the same contract with the referral service (korpu_provider).

One suite, run against each provider: what a request, the waitlist, a promotion, a
cancellation that overtakes its request, duplicate and shuffled deliveries and two
replicas must do, whatever is being given (a bed, a seat, a lawyer).
"""

from __future__ import annotations

import pytest
from providers_harness import PROVIDERS, Running, shuffled, started


async def test_a_request_with_room_is_accepted_and_says_what_was_given(provider: Running) -> None:
    await provider.seed(places=1)
    await provider.send(provider.requested("a"))

    (answer,) = (await provider.latest()).values()

    assert (answer.task_id, answer.status, answer.revision) == ("a", "accepted", 1)
    assert "Baku" in answer.detail.values()


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


async def test_a_cancellation_before_its_request_ends_it_cancelled_and_takes_no_place(
    provider: Running,
) -> None:
    await provider.seed(places=1)
    await provider.send(provider.cancelled("a"), provider.requested("a"), provider.requested("b"))

    latest = await provider.latest()

    assert (latest["a"].status, latest["a"].reason) == ("cancelled", "withdrawn")
    assert latest["b"].status == "accepted"


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
