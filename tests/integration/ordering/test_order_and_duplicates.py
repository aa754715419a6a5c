"""Order and duplicates: every event twice, in shuffled order, ends as the clean run did.

No handler may rely on order across streams (README, Delivery). The scenario
(`ordering_scenario`) runs through the real handlers of all four services, each
on its own fresh database, SQLite and PostgreSQL alike; an in-test bus
(`ordering_bus`) moves outbox rows to the subscriptions that read them through
`korpu_runtime.consumer.process_batch`, as a running service does, and records
every event each service published and handled.

Every event is delivered twice, as at-least-once delivery may. The clean run
acts, then delivers everything that causes, first published first, each copy
right behind the first, before the next action. A shuffled run (several seeds)
lets the second copy come at any time (in half the runs it is a new event with
the same content, which the inbox cannot recognise), draws each batch at random
from all that is pending on every stream, fails one handler call in five and
puts its entry back to be retried a few batches later, and takes the agency's
and case worker's actions at random moments in between (each only once it can
be done: a withdrawal once the referral exists, a discharge once someone is in
a bed). So task updates overtake one another (an old `on-hold` after `accepted`), and
cancellations overtake their requests.

Who gets the last bed, seat or lawyer is first come, first served, and arrival
order is exactly what a shuffle changes: W2, W3, W5 and M1 compete for places
that are fewer than they are. So the comparison with the clean run is of what
must not depend on order: every referral's status; every task that ended
cancelled (withdrawn) or rejected (for who or where the person is), task by
task; and for the competing tasks, how many ended with each status, reason and
waitlist position, per service, and how many places are in use. Within every run,
each task must read the same at the referral service and at its provider, no
place may be used by more or fewer tasks than it counts, none over capacity,
none with room while someone it would take waits, and no cancellation may have
left a tombstone whose request never arrived. And every copy of an event
already handled must have been dropped by the inbox, as the runtime reports it,
with no handler run for it again: the handlers' own checks would hide a
missing inbox from everything else here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ordering_bus import Bus
from ordering_checks import differences, inconsistencies
from ordering_scenario import PEOPLE, MakeUrl, build_world, run_in_order, run_shuffled
from ordering_state import Answer, Snapshot, snapshot
from ordering_trace import Stats

from korpu_contracts import providers, referral, registry
from korpu_contracts.vocabulary import ReferralStatus, TaskStatus

# (seed, whether the second copy of each event is a new event with the same content)
SHUFFLES = ((11, False), (23, True), (37, False), (41, True), (59, False), (61, True))
FAILURE_RATE = 0.2

CANCELLED = Answer("cancelled", "withdrawn", None)
ACCEPTED = Answer("accepted", None, None)
# The clean run, as the scenario was designed (see `ordering_scenario`).
CLEAN_REFERRALS = {
    "W1": "withdrawn", "W2": "coordinated", "W3": "coordinated", "W4": "withdrawn",
    "W5": "coordinated", "M1": "coordinated", "G1": "coordinated",
}  # fmt: skip
CLEAN_TASKS = {
    ("W1", "shelter"): CANCELLED,
    ("W1", "employment"): CANCELLED,
    ("W1", "legal_aid"): CANCELLED,
    ("W2", "shelter"): Answer("completed", None, None),
    ("W2", "employment"): ACCEPTED,
    ("W2", "legal_aid"): ACCEPTED,
    # Given W1's bed and seat when W1 withdrew.
    ("W3", "shelter"): ACCEPTED,
    ("W3", "employment"): ACCEPTED,
    ("W3", "legal_aid"): Answer("rejected", "consent_missing", None),
    ("W4", "shelter"): CANCELLED,
    ("W4", "employment"): CANCELLED,
    ("W4", "legal_aid"): CANCELLED,
    # Given W2's bed when W2 was discharged, and W4's lawyer when W4 withdrew.
    ("W5", "shelter"): ACCEPTED,
    ("W5", "employment"): Answer("on-hold", "no_capacity", 1),
    ("W5", "legal_aid"): ACCEPTED,
    ("M1", "shelter"): Answer("rejected", "not_eligible", None),
    ("M1", "employment"): Answer("rejected", "not_eligible", None),
    ("M1", "legal_aid"): Answer("on-hold", "no_capacity", 1),
    ("G1", "shelter"): ACCEPTED,
    ("G1", "legal_aid"): Answer("rejected", "out_of_service_area", None),
}


@dataclass
class Run:
    state: Snapshot
    bus: Bus
    labels: dict[str, str]

    def replies_to_intake(self) -> int:
        """How many times an agency on the bus was told that its entry became a referral."""
        return sum(
            envelope.type == referral.ReferralAccepted.TYPE for _, _, envelope in self.bus.published
        )

    def answers(self, label: str, service: str) -> list[str]:
        """Every status the provider sent about this person's task, in publication order."""
        return [
            envelope.data["status"]
            for _, _, envelope in self.bus.published
            if envelope.type == providers.TaskUpdated.TYPE
            and self.labels.get(envelope.data["referral_id"]) == label
            and envelope.data["service"] == service
        ]


def _run(make_url: MakeUrl, seed: int | None, second_copy_is_new: bool = False) -> Run:
    rng = None if seed is None else random.Random(seed)
    world = build_world(make_url, rng, FAILURE_RATE if rng else 0.0, second_copy_is_new)
    try:
        if rng is None:
            run_in_order(world)
        else:
            run_shuffled(world, rng)
        return Run(snapshot(world), world.bus, world.labels())
    finally:
        world.close()


def test_the_clean_run_forms_waitlists_and_promotes_as_designed(
    make_database_url: MakeUrl,
) -> None:
    run = _run(make_database_url, None)

    assert inconsistencies(run.state) == []
    assert run.state.referrals == CLEAN_REFERRALS
    assert run.state.coordinator == CLEAN_TASKS
    # The places freed went to people waiting: by a withdrawal, a discharge.
    assert run.answers("W3", "shelter") == ["on-hold", "accepted"]
    assert run.answers("W5", "shelter") == ["on-hold", "on-hold", "on-hold", "accepted"]
    assert run.answers("W5", "legal_aid") == ["on-hold", "on-hold", "accepted"]
    # W4 left the waitlist for a bed: those behind moved up and nobody else moved.
    assert run.answers("W4", "shelter") == ["on-hold", "on-hold", "cancelled"]
    # Every event came twice, the copy right behind it: the inbox dropped each copy,
    # so each agency was told once (the intake handler alone would answer a copy again).
    problems = run.bus.trace.inbox_problems(copies_share_the_id=True)
    assert not problems, "\n".join(problems)
    assert run.replies_to_intake() == len(PEOPLE)


def test_every_provider_numbers_its_answers_about_a_task_1_2_3_in_order(
    make_database_url: MakeUrl,
) -> None:
    run = _run(make_database_url, None)
    revisions: dict[str, list[int]] = {}
    for _, _, envelope in run.bus.published:
        if envelope.type == providers.TaskUpdated.TYPE:
            update = registry.read(envelope, providers.TaskUpdated)
            revisions.setdefault(update.task_id, []).append(update.revision)

    assert len(revisions) == len(CLEAN_TASKS) - 1  # W3 refused legal aid: never requested
    for numbers in revisions.values():
        assert numbers == list(range(1, len(numbers) + 1))


def test_every_event_twice_in_shuffled_order_ends_as_the_clean_run(
    make_database_url: MakeUrl,
) -> None:
    clean = _run(make_database_url, None).state
    total = Stats()
    problems: list[str] = []
    for seed, second_copy_is_new in SHUFFLES:
        run = _run(make_database_url, seed, second_copy_is_new)
        total.add(run.bus.trace.stats)
        found = inconsistencies(run.state) + differences(clean, run.state)
        found += run.bus.trace.inbox_problems(copies_share_the_id=not second_copy_is_new)
        if not second_copy_is_new and run.replies_to_intake() != len(PEOPLE):
            found.append(f"{run.replies_to_intake()} replies to {len(PEOPLE)} submissions")
        problems += [f"seed {seed}: {problem}" for problem in found]

    assert not problems, "\n".join(problems)
    # The shuffles did what they are for; else this test would prove nothing.
    assert total.cancellations_before_request > 0, total
    assert total.updates_after_newer > 0, total
    assert total.failures > 0, total
    assert set(clean.referrals.values()) == {ReferralStatus.WITHDRAWN, ReferralStatus.COORDINATED}
    assert any(a.status == TaskStatus.ON_HOLD for a in clean.coordinator.values())
