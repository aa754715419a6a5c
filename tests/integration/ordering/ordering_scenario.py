"""The scenario: four services on fresh databases, seven referrals, two withdrawals, a discharge.

The directory is small on purpose, so that places run out and waitlists form:
2 beds for women in Baku and 1 for girls in Ganja, 2 seats in a Baku program
taught in Azerbaijani, 1 Baku lawyer with a cap of 2. Five women (W1-W5) ask
for all three services in Baku; W3 refuses legal aid. A man speaking only
English (M1) and a girl of 15 in Ganja (G1) are refused some services for who
or where they are. W1 and W4 withdraw; a case worker then discharges one woman
from the Baku shelter.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from ordering_bus import Bus, Node

from employment import bootstrap as employment_bootstrap
from employment.adapters import tables as employment_tables
from korpu_contracts import intake, streams
from korpu_contracts.envelope import Envelope
from korpu_contracts.vocabulary import Consent, Outcome, Service, TaskStatus
from korpu_runtime.database import Database
from legal_aid import bootstrap as legal_aid_bootstrap
from legal_aid.adapters import tables as legal_aid_tables
from referral import bootstrap
from referral.adapters import bus_keys, intake_keys, organizations, sealing
from referral.adapters import tables as referral_tables
from referral.entrypoints import consumers as referral_consumers
from referral.service_layer import coordinator
from shelter import bootstrap as shelter_bootstrap
from shelter.adapters import tables as shelter_tables
from support import bus as support_bus

BAKU_WOMEN = "Baku Women's Shelter"
SHELTERS = [
    {"name": BAKU_WOMEN, "region": "Baku", "serves": ["women"], "beds": 2},
    {"name": "Ganja Girls' Home", "region": "Ganja", "serves": ["girls"], "beds": 1},
]
PROGRAMS = [{"name": "Tailoring", "region": "Baku", "seats": 2, "languages": ["az"], "min_age": 16}]
LAWYERS = [
    {"name": "R. Quliyev", "regions": ["Baku"], "languages": ["az", "ru"], "max_caseload": 2}
]

# `make_url(name)` -> the URL of a new, empty database.
MakeUrl = Callable[[str], str]

ALL_NEEDS = (Service.SHELTER, Service.EMPLOYMENT, Service.LEGAL_AID)


@dataclass(frozen=True)
class Person:
    label: str
    sex: str
    age: int
    region: str
    languages: tuple[str, ...]
    needs: tuple[Service, ...] = ALL_NEEDS
    refuses: tuple[Service, ...] = ()
    withdraws: bool = False

    def request(self) -> intake.ReferralRequest:
        child = self.age < 18
        given = Consent.NOT_REQUIRED_CHILD if child else Consent.GRANTED
        return intake.ReferralRequest.model_validate(
            {
                "agency_reference": self.label,
                "person": {
                    "given_name": "Fictional",
                    "family_name": f"Person {self.label}",
                    "age_estimate": self.age,
                    "possibly_minor": child,
                    "sex": self.sex,
                    "languages": list(self.languages),
                },
                "region": self.region,
                "needs": list(self.needs),
                "consent": {
                    service: Consent.REFUSED if service in self.refuses else given
                    for service in self.needs
                },
            }
        )


PEOPLE = (
    Person("W1", "female", 30, "Baku", ("az",), withdraws=True),
    Person("W2", "female", 25, "Baku", ("az", "ru")),
    Person("W3", "female", 41, "Baku", ("az",), refuses=(Service.LEGAL_AID,)),
    Person("W4", "female", 19, "Baku", ("az",), withdraws=True),
    Person("W5", "female", 33, "Baku", ("az",)),
    Person("M1", "male", 28, "Baku", ("en",)),
    Person("G1", "female", 15, "Ganja", ("az",), needs=(Service.SHELTER, Service.LEGAL_AID)),
)
STAYING = frozenset(person.label for person in PEOPLE if not person.withdraws)

SERVICES: dict[str, tuple[sa.MetaData, tuple[Any, ...]]] = {
    "referral": (referral_tables.metadata, referral_consumers.SUBSCRIPTIONS),
    Service.SHELTER: (shelter_tables.metadata, shelter_bootstrap.SUBSCRIPTIONS),
    Service.EMPLOYMENT: (employment_tables.metadata, employment_bootstrap.SUBSCRIPTIONS),
    Service.LEGAL_AID: (legal_aid_tables.metadata, legal_aid_bootstrap.SUBSCRIPTIONS),
}


@dataclass
class World:
    """One run: the four services, the bus between them, and the agency's organization."""

    nodes: dict[str, Node]
    bus: Bus
    organization_id: str

    def referral_id(self, label: str) -> str | None:
        """The referral an agency reference became, once the intake entry was handled."""
        referrals = referral_tables.referrals
        query = sa.select(referrals.c.id).where(referrals.c.agency_reference == label)
        found: str | None = self.nodes["referral"].database.transaction(
            lambda conn: conn.execute(query).scalar_one_or_none()
        )
        return found

    def labels(self) -> dict[str, str]:
        """Referral id -> agency reference, for every referral stored so far."""
        referrals = referral_tables.referrals
        query = sa.select(referrals.c.id, referrals.c.agency_reference)
        rows = self.nodes["referral"].database.transaction(lambda conn: list(conn.execute(query)))
        return {row.id: row.agency_reference for row in rows}

    def close(self) -> None:
        for node in self.nodes.values():
            node.database.close()


def build_world(
    make_url: MakeUrl,
    rng: random.Random | None,
    failure_rate: float = 0.0,
    second_copy_is_new: bool = False,
) -> World:
    nodes: dict[str, Node] = {}
    for name, (metadata, subscriptions) in SERVICES.items():
        database = Database(make_url(str(name)))
        if name == "referral":  # it seals the person with its keys (demo default)
            sealing.attach(database.engine, bootstrap.keyring(bootstrap.Settings()))
            # and opens what agencies sealed to its intake key
            intake_keys.attach(database.engine, intake_keys.Opener(support_bus.keys_dir()))
        database.create_schema(metadata)
        nodes[str(name)] = Node(str(name), database, metadata, subscriptions)
    nodes[Service.SHELTER].database.transaction(
        lambda conn: shelter_bootstrap.SERVICE.load(conn, SHELTERS)
    )
    nodes[Service.EMPLOYMENT].database.transaction(
        lambda conn: employment_bootstrap.SERVICE.load(conn, PROGRAMS)
    )
    nodes[Service.LEGAL_AID].database.transaction(
        lambda conn: legal_aid_bootstrap.SERVICE.load(conn, LAWYERS)
    )
    organization_id, _ = nodes["referral"].database.transaction(
        lambda conn: organizations.create(conn, "Police anti-trafficking unit")
    )
    bus = Bus(list(nodes.values()), rng, failure_rate, second_copy_is_new)
    # The agency signs its intake entries with its organization's bus key.
    bus.agency_key = nodes["referral"].database.transaction(
        lambda conn: bus_keys.create(conn, organization_id)
    )
    bus.add_reader("referral", referral_consumers.intake_of(organization_id))
    return World(nodes, bus, organization_id)


@dataclass(frozen=True)
class Command:
    """Something done from outside the bus: an agency's submission or withdrawal, a discharge."""

    name: str
    ready: Callable[[World], bool]
    run: Callable[[World], None]


def submit(person: Person) -> Command:
    def run(world: World) -> None:
        command = support_bus.submission(
            world.organization_id,
            f"key-{person.label}",
            person.request(),
        )
        envelope = Envelope.wrap(command, source="agency/police", subject=person.label)
        world.bus.put("agency", streams.intake(world.organization_id), envelope)

    return Command(f"submit {person.label}", lambda world: True, run)


def withdraw(label: str) -> Command:
    def run(world: World) -> None:
        referral_id = world.referral_id(label)
        assert referral_id is not None
        found = world.nodes["referral"].transaction(
            lambda uow: coordinator.withdraw(uow, world.organization_id, referral_id)
        )
        assert found

    return Command(f"withdraw {label}", lambda world: world.referral_id(label) is not None, run)


def _placed_in_baku(world: World) -> str | None:
    """The first woman still in the Baku shelter, of those who never withdraw."""
    tasks, facilities = shelter_tables.tasks, shelter_tables.facilities
    staying = [rid for rid, label in world.labels().items() if label in STAYING]
    query = (
        sa.select(tasks.c.task_id)
        .join(facilities, facilities.c.id == tasks.c.facility_id)
        .where(
            facilities.c.name == BAKU_WOMEN,
            tasks.c.status == TaskStatus.ACCEPTED,
            tasks.c.referral_id.in_(staying),
        )
        .order_by(tasks.c.queued_seq)
        .limit(1)
    )
    found: str | None = world.nodes[Service.SHELTER].database.transaction(
        lambda conn: conn.execute(query).scalar_one_or_none()
    )
    return found


def discharge_from_baku() -> Command:
    """A case worker ends a stay (`POST /v1/tasks/{id}/complete`): the bed goes to the next."""

    def run(world: World) -> None:
        task_id = _placed_in_baku(world)
        assert task_id is not None
        world.nodes[Service.SHELTER].transaction(
            lambda uow: shelter_bootstrap.SERVICE.handlers.complete(
                uow, task_id, str(Outcome.GOAL_ACHIEVED)
            )
        )

    return Command("discharge from Baku", lambda world: _placed_in_baku(world) is not None, run)


def commands() -> list[Command]:
    """In the order an agency and a case worker act; each waits until it can be done."""
    return [
        *(submit(person) for person in PEOPLE),
        *(withdraw(person.label) for person in PEOPLE if person.withdraws),
        discharge_from_baku(),
    ]


def run_in_order(world: World) -> None:
    """The clean run: each command, then every event it causes, in publication order, once."""
    for command in commands():
        assert command.ready(world), command.name
        command.run(world)
        world.bus.collect()
        world.bus.settle()


# How likely the next step is the next command rather than a delivery, when both can be.
COMMAND_CHANCE = 0.3


def run_shuffled(world: World, rng: random.Random) -> None:
    """Commands at random moments among deliveries drawn at random; then until settled."""
    bus, queue = world.bus, commands()
    while queue:
        command = queue[0]
        if (not bus.pending or rng.random() < COMMAND_CHANCE) and command.ready(world):
            queue.pop(0)
            command.run(world)
            bus.collect()
        elif not bus.step():
            raise AssertionError(f"stuck: nothing pending, and {command.name} cannot be done")
    bus.settle()
