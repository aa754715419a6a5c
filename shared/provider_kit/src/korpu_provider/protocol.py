"""The `Provider` protocol: what a provider's domain and directory give the kit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

import pydantic
from sqlalchemy.engine import Connection

from korpu_contracts import referral
from korpu_contracts.vocabulary import Service
from korpu_provider.answers import Detail
from korpu_provider.capacity import FreePlaces
from korpu_provider.decisions import Decision, Give, Refuse, Wait
from korpu_provider.schema import Schema
from korpu_provider.tasks import Row, Tasks
from korpu_provider.waitlist import Waiting

# The kit's decisions, for a provider's domain to return (`decisions`).
__all__ = ["Decision", "Entry", "Give", "Provider", "Refuse", "Wait"]


class Entry(Protocol):
    """A directory entry (facility, program, lawyer): an id the tasks hold, a name, room or not."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def has_room(self) -> bool:
        """Whether it can take one more person now (a free bed, seat, or case)."""


R = TypeVar("R", bound=Waiting)
D = TypeVar("D", bound=Entry)
E = TypeVar("E", bound=pydantic.BaseModel)


class Provider(Protocol[R, D, E]):
    """One provider's domain, seen by the kit.

    Everything else (tasks, answers, waitlist, handlers, routes, bootstrap) is the
    kit's. The methods with a connection run inside the caller's transaction.
    """

    # Its line in the list of services: its streams, consumer group and seed file key
    # (`service.seed_key`) are derived from it (`korpu_contracts.streams.requests`, ...).
    service: Service
    schema: Schema
    tasks: Tasks
    # The seed entries' validator, built once; the case workers' route of the
    # directory (`/v1/facilities`).
    entries: pydantic.TypeAdapter[list[E]]
    directory_route: str
    # Whether a completed task gives its place back: a bed, a seat or a caseload is
    # free for the next person once the help ends; an examination held or an
    # allowance paid is spent.
    completion_frees: bool
    # Whether room can come with time alone, with no event (a clinic's next day): the
    # line is then filled before each new request is decided (`Handlers.request`).
    room_comes_with_time: bool
    # What one place is, as `GET /v1/capacity` names it: "beds", "seats", "cases",
    # "appointments" (open days ahead), "allowances" (the budget's, at today's amount).
    place_unit: str

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        """The task columns written from a request (its region among them)."""

    def request_of(self, task: Row) -> R:
        """The domain's request for a stored task."""

    def directory(self, conn: Connection, *, lock: bool) -> Mapping[str, D]:
        """Every entry by id. With `lock`, locked until commit, in id order.

        Every handler locks first, so deciding, waitlisting and promoting see one
        state on every replica, and always in one order, so two never deadlock.
        """

    def decide(self, request: R, directory: Iterable[D]) -> Decision:
        """The domain's decision for a new request."""

    def serves(self, entry: D, request: R) -> bool:
        """Whether the entry may take the person at all, room or not.

        The kit's waitlist asks it for positions and for who gets a freed place.
        """

    def take(self, conn: Connection, entry: D, request: R) -> Detail:
        """Count one more place used; returns what else the task keeps and the answer says."""

    def free_places(self, entry: D) -> FreePlaces:
        """The entry's room now, for /metrics and `GET /v1/capacity`: the regions it serves,
        how many more people it could take, and its places in all and in use
        (`korpu_provider.capacity`)."""

    def release(self, conn: Connection, task: Row) -> None:
        """Count the place `task` held (its entry: the `Tasks.holds` column) as free again."""

    def given(self, entry: D, request: R) -> Detail:
        """What an answer says was given (`{"facility", "region"}`), never another person.

        `request` is the person's, for what depends on it (`out_of_region`).
        """

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        """What a case worker's view of one task adds to the kit's fields."""

    def upsert(self, conn: Connection, entry: E) -> bool:
        """Add the entry, or update the one with its name; True when added."""

    def directory_view(self, conn: Connection) -> list[dict[str, Any]]:
        """The case workers' view of the directory with its use."""
