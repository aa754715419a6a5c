"""What the bus delivered: each event a service handled, and the reorderings it caused."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from korpu_contracts import providers, referral
from korpu_contracts.envelope import Envelope


@dataclass
class Stats:
    """What a shuffle actually did, so a test can tell it exercised something."""

    failures: int = 0
    # Entries the runtime reported its inbox dropped: already handled, handler not run.
    duplicates_dropped: int = 0
    # A cancellation handled before its task's request.
    cancellations_before_request: int = 0
    # A task update handled after a later update about the same task.
    updates_after_newer: int = 0

    def add(self, other: Stats) -> None:
        for item in dataclasses.fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


@dataclass
class Trace:
    # Service -> every event it handled, in the order it did (duplicates left out).
    consumed: dict[str, list[Envelope]] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)
    # A handler run, and committed, for an event its subscription had already handled:
    # the inbox let a duplicate through. Each says which.
    handled_again: list[str] = field(default_factory=list)
    # An entry acknowledged with neither a handler run nor the inbox's drop, or
    # dropped as a duplicate of an event never handled (an inbox dropping too much).
    unaccounted: list[str] = field(default_factory=list)
    _handled: set[tuple[str, str]] = field(default_factory=set)
    _requested: set[tuple[str, str]] = field(default_factory=set)
    _newest_update: dict[str, int] = field(default_factory=dict)

    def failed(self) -> None:
        self.stats.failures += 1

    def dropped(self, service: str, subscription: str, envelope: Envelope) -> None:
        """The inbox dropped an entry as already handled."""
        self.stats.duplicates_dropped += 1
        if (subscription, envelope.id) not in self._handled:
            where = f"{service} ({subscription})"
            self.unaccounted.append(f"{where}: {_named(envelope)} dropped unhandled")

    def done(
        self, service: str, subscription: str, envelope: Envelope, published: int, ran: bool
    ) -> None:
        """An entry handled without error; `published` is its event's place in publication order."""
        if not ran:
            self.unaccounted.append(f"{service} ({subscription}): {_named(envelope)} never handled")
            return
        if (subscription, envelope.id) in self._handled:
            self.handled_again.append(f"{service} ({subscription}): {_named(envelope)} again")
            return
        self._handled.add((subscription, envelope.id))
        self.consumed.setdefault(service, []).append(envelope)
        task = (service, str(envelope.data.get("task_id")))
        if envelope.type == referral.TaskRequested.TYPE:
            self._requested.add(task)
        elif envelope.type == referral.TaskCancelled.TYPE and task not in self._requested:
            self.stats.cancellations_before_request += 1
        elif envelope.type == providers.TaskUpdated.TYPE:
            # Publication order, not the revision: this also measures code without revisions.
            newest = self._newest_update.get(task[1], -1)
            if published < newest:
                self.stats.updates_after_newer += 1
            self._newest_update[task[1]] = max(newest, published)

    def inbox_problems(self, copies_share_the_id: bool) -> list[str]:
        """Where the inbox failed: a copy handled again, or one dropped that it should not be.

        `copies_share_the_id`: every event went twice with its own id, so the inbox must
        drop exactly one copy of each event handled; else the second copy is a new event,
        which the inbox cannot recognise and must not drop.
        """
        handled = sum(len(events) for events in self.consumed.values())
        expected = handled if copies_share_the_id else 0
        found = _summary("handled twice", self.handled_again)
        found += _summary("unaccounted for", self.unaccounted)
        if self.stats.duplicates_dropped != expected:
            found.append(
                f"the inbox dropped {self.stats.duplicates_dropped} entries as already handled,"
                f" not {expected} ({handled} events handled)"
            )
        return found


def _summary(what: str, items: list[str]) -> list[str]:
    """One line for many: a run that goes wrong goes wrong for dozens of entries alike."""
    return [f"{len(items)} entries {what}, such as {items[0]}"] if items else []


def _named(envelope: Envelope) -> str:
    return f"{envelope.type} {envelope.id}"
