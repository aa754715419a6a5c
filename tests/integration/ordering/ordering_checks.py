"""What must hold at the end of any run, and what must end as in the clean run."""

from __future__ import annotations

from collections import Counter

from ordering_state import Answer, Snapshot

from korpu_contracts.vocabulary import FOLLOWS_HOUSING, Reason, TaskStatus

NEVER_REQUESTED = Answer(TaskStatus.REJECTED, Reason.CONSENT_MISSING, None)
# A course or a lawyer waits for the shelter's answer (docs/domain.md, Where help is
# given): withdrawn before it, the task was never sent, and no provider hears of it.
WITHDRAWN = Answer(TaskStatus.CANCELLED, Reason.WITHDRAWN, None)


def _never_sent(key: tuple[str, str], held: Answer) -> bool:
    return held == NEVER_REQUESTED or (key[1] in FOLLOWS_HOUSING and held == WITHDRAWN)


def inconsistencies(state: Snapshot) -> list[str]:
    """What must hold at the end of any run, whatever the order of delivery."""
    found = [f"{key}: a tombstone whose request never came" for key in state.tombstones]
    for key, held in sorted(state.coordinator.items()):
        provider = state.providers.get(key)
        if provider is None and not _never_sent(key, held):
            found.append(f"{key}: the provider never heard of it")
        elif provider is not None and provider != held:
            found.append(f"{key}: the referral service holds {held}, the provider {provider}")
    found += [
        f"{key}: unknown to the referral service"
        for key in state.providers.keys() - state.coordinator.keys()
    ]
    for name, place in sorted(state.places.items()):
        if place.used != place.holders:
            found.append(f"{name}: {place.used} in use but {place.holders} tasks hold it")
        if place.used > place.capacity:
            found.append(f"{name}: {place.used} in use of {place.capacity}")
        if place.idle_while_waiting:
            found.append(f"{name}: has room while someone it would take is waiting")
    return found


# Set by the person and by withdrawals alone, never by who arrived first.
ORDER_FREE = frozenset({TaskStatus.CANCELLED, TaskStatus.REJECTED})


def differences(clean: Snapshot, shuffled: Snapshot) -> list[str]:
    """Where a shuffled run ended otherwise than the clean run, in what must not depend on order."""
    found = [
        f"referral {label}: {status} in the clean run, {shuffled.referrals.get(label)} shuffled"
        for label, status in sorted(clean.referrals.items())
        if shuffled.referrals.get(label) != status
    ]
    for key, held in sorted(clean.coordinator.items()):
        if held.status in ORDER_FREE and shuffled.coordinator.get(key) != held:
            found.append(
                f"{key}: {held} in the clean run, {shuffled.coordinator.get(key)} shuffled"
            )
    clean_counts, shuffled_counts = _counts(clean), _counts(shuffled)
    if clean_counts != shuffled_counts:
        only_clean = sorted((clean_counts - shuffled_counts).items(), key=str)
        only_shuffled = sorted((shuffled_counts - clean_counts).items(), key=str)
        found.append(f"answers only in the clean run: {only_clean}, only shuffled: {only_shuffled}")
    used = {name: place.used for name, place in clean.places.items()}
    shuffled_used = {name: place.used for name, place in shuffled.places.items()}
    if used != shuffled_used:
        found.append(f"places in use: {used} clean, {shuffled_used} shuffled")
    return found


def _counts(state: Snapshot) -> Counter[tuple[str, Answer]]:
    return Counter((service, held) for (_, service), held in state.coordinator.items())
