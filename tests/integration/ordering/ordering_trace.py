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
    _handled: set[tuple[str, str]] = field(default_factory=set)
    _requested: set[tuple[str, str]] = field(default_factory=set)
    _newest_update: dict[str, int] = field(default_factory=dict)

    def failed(self) -> None:
        self.stats.failures += 1

    def done(self, service: str, subscription: str, envelope: Envelope, published: int) -> None:
        """An entry handled without error; `published` is its event's place in publication order."""
        if (subscription, envelope.id) in self._handled:
            self.stats.duplicates_dropped += 1
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
