"""The checks of a settled run: nothing lost, nothing done twice, no place given twice."""

from __future__ import annotations

from typing import Any

from korpu import catalog
from korpu_contracts import streams
from support.chaos import ledger, workload
from support.chaos.report import Report

# A referral is settled once every task has an answer: accepted, on-hold or rejected.
SETTLED = "coordinated"
# Every consumer group of the topology, each once: after a wipe too, as the services
# provision them again.
# One consumer group per stream each service reads (the referral coordinator reads
# every provider's answers stream), as the services declare them.
GROUPS = tuple(
    subscription.group for name in catalog.SERVICES for subscription in catalog.subscriptions(name)
)
# And one per organization's stream read as it appears (an organization's intake).
TEMPLATE_GROUPS = {
    subscription.stream: subscription.group
    for name in catalog.SERVICES
    for subscription in catalog.templates(name)
}

Views = dict[str, dict[str, Any]]


def referrals(
    report: Report, submitted: int, referral_ids: list[str], views: Views, stored: int
) -> None:
    """Every referral handed over once, stored once, and coordinated."""
    distinct = len(set(referral_ids))
    report.check(
        len(referral_ids) == submitted and distinct == submitted,
        f"referrals submitted {submitted}, accepted with 202 {len(referral_ids)}, "
        f"distinct ids {distinct}",
    )
    report.check(
        stored == submitted,
        f"referrals stored {stored} (a retried POST must not create another)",
    )
    stuck = [
        f"{view['id']} {view['status']}: "
        + ", ".join(f"{name} {answer['status']}" for name, answer in view["services"].items())
        for view in views.values()
        if view["status"] != SETTLED
    ]
    report.check(
        not stuck,
        f"referrals coordinated {distinct - len(stuck)}; lost {len(stuck)}"
        + (f", e.g. {stuck[:3]}" if stuck else ""),
    )


def tasks(
    report: Report,
    referral_ids: list[str],
    views: Views,
    registry: ledger.ReferralLedger,
    providers: list[ledger.ProviderLedger],
) -> None:
    """One task per referral and need, everywhere, and the agency told what the provider did."""
    expected = {(i, need) for i in referral_ids for need in workload.NEEDS}
    missing = len(expected - set(registry.tasks))
    doubled = sum(count - 1 for count in registry.tasks.values() if count > 1)
    report.check(
        missing == 0 and doubled == 0,
        f"referral service tasks {sum(registry.tasks.values())} for {len(expected)} needs: "
        f"missing {missing}, duplicates found {doubled}",
    )
    for provider in providers:
        found = provider.tasks
        lost = [i for i in referral_ids if i not in found]
        duplicates = sum(len(statuses) - 1 for statuses in found.values())
        strangers = len(set(found) - set(referral_ids))
        told = [i for i in referral_ids if i in found]
        disagree = [
            i for i in told if found[i][-1] != views[i]["services"][provider.service]["status"]
        ]
        report.check(
            not lost and duplicates == 0 and strangers == 0 and not disagree,
            f"{provider.service}: tasks {sum(map(len, found.values()))}, lost {len(lost)}, "
            f"duplicates found {duplicates}, unknown referrals {strangers}, "
            f"agency told otherwise {len(disagree)}",
        )


def places(report: Report, provider: ledger.ProviderLedger, referrals: int) -> None:
    """No place given twice, no counter astray, and no place left empty while people wait."""
    capacity = sum(place.capacity for place in provider.places)
    over = [p.name for p in provider.places if max(p.used, p.holders) > p.capacity]
    astray = [p.name for p in provider.places if p.used != p.holders]
    statuses = provider.statuses()
    accepted, waiting = statuses["accepted"], statuses["on-hold"]
    expected = workload.expected_accepted(referrals)[provider.service]
    report.check(
        not over and not astray and accepted == expected and waiting == referrals - expected,
        f"{provider.service}: {capacity} places, {accepted} allocated (expected {expected}), "
        f"{waiting} waiting, over capacity {len(over)}, counters off {len(astray)}"
        + (f" {over or astray}" if over or astray else ""),
    )


def bus(report: Report, found: dict[str, Any], dead_letters: int, unsent: int) -> None:
    """Every group caught up, nothing pending or unsent, only the expected dead letters."""
    groups = [(stream["name"], group) for stream in found["streams"] for group in stream["groups"]]
    busy = [
        f"{name}/{group['name']}: pending {group['pending']}, lag {group['lag']}"
        for name, group in groups
        if group["pending"] or group["lag"]
    ]
    names = sorted(group["name"] for _, group in groups)
    per_organization = [streams.template_of(stream["name"]) for stream in found["streams"]]
    expected = [*GROUPS, *(TEMPLATE_GROUPS[t] for t in per_organization if t in TEMPLATE_GROUPS)]
    report.check(
        not busy and names == sorted(expected),
        f"korpu status: groups {names}, every pending 0 and lag 0"
        + (f"; NOT: {busy}" if busy else ""),
    )
    report.check(
        found["dead_letters"] == dead_letters,
        f"dead letters {found['dead_letters']} (expected {dead_letters})",
    )
    report.check(unsent == 0, f"outbox rows not yet sent {unsent}")


def quiet(found: dict[str, Any]) -> bool:
    groups = [group for stream in found["streams"] for group in stream["groups"]]
    return all(group["pending"] == 0 and group["lag"] == 0 for group in groups)


def provider_ledgers() -> list[ledger.ProviderLedger]:
    return [ledger.read_provider(service) for service in workload.NEEDS]
