"""Tasks no provider has answered yet, counted for /metrics: how many and the oldest's age.

Counts by provider only, never which task or referral. A task waiting for the
housing answer before it is sent (`model.waits_for_housing`) counts too: for the
person, it is as unanswered.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import TaskStatus
from korpu_runtime import metrics as runtime_metrics
from referral.adapters import tables

_c = tables.tasks.c
# `updated_at` of a task still `requested` is when it was requested: nothing changed since.
_BY_PROVIDER = (
    sa.select(_c.service, sa.func.count(), sa.func.min(_c.updated_at))
    .where(_c.status == TaskStatus.REQUESTED.value)
    .group_by(_c.service)
)


def read(conn: Connection, metrics: runtime_metrics.Metrics) -> None:
    now = dt.datetime.now(dt.UTC)
    for provider, count, oldest in conn.execute(_BY_PROVIDER):
        if oldest.tzinfo is None:  # SQLite gives it back naive; it was stored as UTC
            oldest = oldest.replace(tzinfo=dt.UTC)
        metrics.unanswered.labels(provider).set(count)
        metrics.unanswered_oldest.labels(provider).set(max(0.0, (now - oldest).total_seconds()))
