"""Reading and writing referrals, tasks and history with SQLAlchemy Core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts import intake
from korpu_contracts.vocabulary import (
    FINAL_TASK_STATUSES,
    Consent,
    Purpose,
    Reason,
    ReferralStatus,
    Service,
    TaskStatus,
)
from referral.adapters import recognition, sealed_persons, sealing, tables
from referral.domain import consent as consent_rules
from referral.domain import model
from referral.domain import recognition as recognition_rules

# The history status of a consent change (`record_consent`).
CONSENT_CHANGED = "consent_changed"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _refresh_closed(referral_id: Any) -> sa.Update:
    referrals, tasks = tables.referrals, tables.tasks
    open_task = sa.exists().where(
        tasks.c.referral_id == referrals.c.id,
        tasks.c.status.not_in([str(status) for status in FINAL_TASK_STATUSES]),
    )
    closed_at = sa.case(
        (open_task, sa.null()),
        else_=sa.func.coalesce(referrals.c.closed_at, sa.bindparam("at", type_=sa.DateTime(True))),
    )
    return referrals.update().where(referrals.c.id == referral_id).values(closed_at=closed_at)


# Built once: every provider answer runs these, and building a statement (and its
# cache key) costs about as much as running it. Rejected: building them per call,
# which took a tenth of the referral service's time in `benchmarks/run`.
_SAVE_TASK = (
    tables.tasks.update()
    .where(tables.tasks.c.id == sa.bindparam("task_id"))
    .values(
        status=sa.bindparam("status"),
        reason=sa.bindparam("reason"),
        detail=sa.bindparam("detail", type_=sa.JSON),
        revision=sa.bindparam("revision"),
        updated_at=sa.bindparam("at", type_=sa.DateTime(True)),
    )
)
_REFRESH_CLOSED = _refresh_closed(sa.bindparam("referral_id"))
_TASKS = (
    sa.select(tables.tasks)
    .where(tables.tasks.c.referral_id == sa.bindparam("referral_id"))
    .order_by(tables.tasks.c.position)
)
_REFERRAL_OF_TASK = (
    sa.select(tables.referrals)
    .join(tables.tasks, tables.tasks.c.referral_id == tables.referrals.c.id)
    .where(tables.tasks.c.id == sa.bindparam("task_id"))
    .with_for_update(of=tables.referrals)
)
_SET_STATUS = (
    tables.referrals.update()
    .where(tables.referrals.c.id == sa.bindparam("referral_id"))
    .values(status=sa.bindparam("status"), updated_at=sa.bindparam("at", type_=sa.DateTime(True)))
)
_REFRESH_CLOSED_OF_TASK = _refresh_closed(
    sa.select(tables.tasks.c.referral_id)
    .where(tables.tasks.c.id == sa.bindparam("task_id"))
    .scalar_subquery()
)


class ReferralRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        referral_id: str,
        organization_id: str,
        request: intake.ReferralRequest,
        child: bool,
        status: ReferralStatus,
    ) -> None:
        at = now()
        self.conn.execute(
            tables.referrals.insert(),
            dict(
                id=referral_id,
                organization_id=organization_id,
                agency_reference=request.agency_reference,
                status=status,
                region=request.region,
                is_child=child,
                sex=request.person.sex,
                needs=[str(need) for need in request.needs],
                created_at=at,
                updated_at=at,
                safety_risk=str(request.circumstances.safety_risk),
                recovery_ends_on=recognition_rules.recovery_ends_on(
                    at.date(), recognition.period_days(self.conn)
                ),
            ),
        )
        # Sealed field by field with the service's keys (adapters/sealed_persons.py).
        keyring = sealing.of(self.conn)
        self.conn.execute(
            tables.persons.insert(), sealed_persons.seal(keyring, referral_id, request)
        )
        self.set_consents(referral_id, request.consent, new=True)

    def person(self, referral_id: str) -> dict[str, Any] | None:
        """The person as stored for a referral, None when there is none (or it was erased).

        The one way to read personal data back: callers never select `persons`.
        Every field comes back in clear; a value that does not open (altered, moved
        from another row, or under a key no longer configured) raises
        `sealing.CannotOpen`, naming the row and column, never the value.
        """
        row = self.conn.execute(
            sa.select(tables.persons).where(tables.persons.c.referral_id == referral_id)
        ).first()
        if row is None:
            return None
        return sealed_persons.open_row(sealing.of(self.conn), dict(row._mapping))

    def consents(self, referral_id: str) -> dict[Purpose, Consent]:
        rows = self.conn.execute(
            sa.select(tables.consents).where(tables.consents.c.referral_id == referral_id)
        )
        return {Purpose(row.purpose): Consent(row.consent) for row in rows}

    def set_consents(
        self, referral_id: str, consents: Mapping[Purpose, Consent], *, new: bool = False
    ) -> None:
        """Insert or replace the consent given for each purpose (`new`: none is stored yet)."""
        if not consents:
            return
        table = tables.consents
        if not new:
            self.conn.execute(
                table.delete().where(
                    table.c.referral_id == referral_id, table.c.purpose.in_(list(consents))
                )
            )
        at = now()
        self.conn.execute(
            table.insert(),
            [
                {"referral_id": referral_id, "purpose": purpose, "consent": consent,
                 "changed_at": at}
                for purpose, consent in consents.items()
            ],
        )  # fmt: skip

    def raise_flag(
        self, referral_id: str, kind: str, related_referral_id: str | None = None
    ) -> bool:
        """Raise a flag once; False when it is already raised and not resolved."""
        table = tables.flags
        existing = self.conn.execute(
            sa.select(table).where(table.c.referral_id == referral_id, table.c.kind == kind)
        ).first()
        if existing is not None and existing.resolved_at is None:
            return False
        if existing is not None:
            self.conn.execute(table.delete().where(table.c.id == existing.id))
        self.conn.execute(
            table.insert().values(
                referral_id=referral_id,
                kind=kind,
                related_referral_id=related_referral_id,
                raised_at=now(),
            )
        )
        return True

    def resolve_flag(self, referral_id: str, kind: str) -> None:
        table = tables.flags
        self.conn.execute(
            table.update()
            .where(
                table.c.referral_id == referral_id,
                table.c.kind == kind,
                table.c.resolved_at.is_(None),
            )
            .values(resolved_at=now())
        )

    def flags(self, referral_id: str) -> list[sa.Row[Any]]:
        """Every flag of the referral, open and resolved, oldest first."""
        return list(
            self.conn.execute(
                sa.select(tables.flags)
                .where(tables.flags.c.referral_id == referral_id)
                .order_by(tables.flags.c.id)
            )
        )

    def get(
        self, referral_id: str, organization_id: str | None = None, *, lock: bool = False
    ) -> sa.Row[Any] | None:
        """`lock`: hold the referral's row until commit, for a change that reads its tasks."""
        query = sa.select(tables.referrals).where(tables.referrals.c.id == referral_id)
        if organization_id is not None:
            query = query.where(tables.referrals.c.organization_id == organization_id)
        if lock:
            query = query.with_for_update()
        return self.conn.execute(query).first()

    def set_status(self, referral_id: str, status: ReferralStatus) -> None:
        self.conn.execute(_SET_STATUS, {"referral_id": referral_id, "status": status, "at": now()})

    def add_tasks(self, referral_id: str, tasks: dict[str, model.Task]) -> None:
        at = now()
        rows = [
            {
                "id": task_id,
                "referral_id": referral_id,
                "service": task.service,
                "position": position,
                "status": task.status,
                "reason": task.reason,
                "detail": task.detail,
                "revision": task.revision,
                "updated_at": at,
            }
            for position, (task_id, task) in enumerate(tasks.items())
        ]
        if rows:  # none for a duplicate referral; an empty executemany inserts an empty row
            self.conn.execute(tables.tasks.insert(), rows)
        self.refresh_closed(referral_id)

    def save_task(self, task_id: str, task: model.Task) -> None:
        at = now()
        self.conn.execute(
            _SAVE_TASK,
            {
                "task_id": task_id,
                "status": task.status,
                "reason": task.reason,
                "detail": task.detail,
                "revision": task.revision,
                "at": at,
            },
        )
        self.conn.execute(_REFRESH_CLOSED_OF_TASK, {"task_id": task_id, "at": at})

    def refresh_closed(self, referral_id: str) -> None:
        """Set `closed_at` when every task is final, clear it when one is open again.

        Called by every write of a task (`add_tasks`, `save_task`), so no change of
        a case can forget it, whoever makes the change. One statement that reads
        the tasks as stored: the time a case closed is kept when it is refreshed
        again, and a task requested again (a consent given anew) reopens the case
        and stops its retention clock. Rejected: deriving it when reading (the
        retention sweep would scan every task), and setting it in each coordinator
        path (the next path added would forget it).
        """
        self.conn.execute(_REFRESH_CLOSED, {"referral_id": referral_id, "at": now()})

    def tasks(self, referral_id: str) -> dict[str, model.Task]:
        """The referral's tasks by task id, in the order the needs were listed."""
        rows = self.conn.execute(_TASKS, {"referral_id": referral_id})
        return {row.id: _task(row) for row in rows}

    def referral_of_task(self, task_id: str) -> sa.Row[Any] | None:
        """The referral a task belongs to, its row locked until commit.

        Every change to a referral's tasks goes through its row: two answers about
        two tasks of one referral, handled at once on PostgreSQL, would otherwise
        each read the other's task unchanged and both leave the referral
        `coordinating` with all its tasks answered (write skew). SQLite has one
        writer at a time and ignores the lock.
        """
        return self.conn.execute(_REFERRAL_OF_TASK, {"task_id": task_id}).first()

    def record(
        self,
        referral_id: str,
        status: str,
        service: Service | None = None,
        reason: Reason | None = None,
    ) -> None:
        self.record_all(referral_id, [(status, service, reason)])

    def record_all(
        self, referral_id: str, entries: Sequence[tuple[str, Service | None, str | None]]
    ) -> None:
        """Steps of the case; a reason is a task's (`Reason`) or the referral's own."""
        at = now()
        rows = [
            {"referral_id": referral_id, "at": at, "service": service, "status": status,
             "reason": reason}
            for status, service, reason in entries
        ]  # fmt: skip
        self.conn.execute(tables.history.insert(), rows)

    def record_consent(self, referral_id: str, purpose: Purpose, consent: Consent) -> None:
        """A consent change as a step of the case; `service` is set when the purpose is one."""
        service = consent_rules.service_of(purpose)
        self.conn.execute(
            tables.history.insert(),
            dict(
                referral_id=referral_id,
                at=now(),
                service=service,
                status=CONSENT_CHANGED,
                purpose=purpose,
                consent=consent,
            ),
        )

    def history(self, referral_id: str) -> list[sa.Row[Any]]:
        return list(
            self.conn.execute(
                sa.select(tables.history)
                .where(tables.history.c.referral_id == referral_id)
                .order_by(tables.history.c.id)
            )
        )

    def idempotent(self, organization_id: str, key: str) -> sa.Row[Any] | None:
        keys = tables.idempotency_keys
        return self.conn.execute(
            sa.select(keys).where(keys.c.organization_id == organization_id, keys.c.key == key)
        ).first()

    def remember(self, organization_id: str, key: str, body_hash: str, referral_id: str) -> None:
        self.conn.execute(
            tables.idempotency_keys.insert(),
            dict(
                organization_id=organization_id,
                key=key,
                body_hash=body_hash,
                referral_id=referral_id,
                created_at=now(),
            ),
        )


def _task(row: sa.Row[Any]) -> model.Task:
    return model.Task(
        service=Service(row.service),
        status=TaskStatus(row.status),
        reason=Reason(row.reason) if row.reason else None,
        detail=dict(row.detail or {}),
        revision=row.revision,
    )
