"""A task request built again from the stored case, for a task asked for after submission."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from korpu_contracts import referral
from korpu_contracts.vocabulary import FOLLOWS_HOUSING, Service, TaskStatus
from referral.domain import model


def task_request(
    row: sa.Row[Any],
    person: dict[str, Any],
    task_id: str,
    service: Service,
    child: bool,
    today: dt.date,
    region: str | None = None,
) -> referral.TaskRequested:
    """As at submission (coordinator._task_request): coarse attributes, age as of today.

    `region` is where the help is needed when not the referral's own
    (`model.region_for`: where the person is housed).
    """
    circumstances = person["circumstances"]
    return referral.TaskRequested(
        task_id=task_id,
        referral_id=row.id,
        service=service,
        region=region or row.region,
        is_child=child,
        sex=row.sex,
        age_years=model.age_in_years(person["date_of_birth"], person["age_estimate"], today),
        languages=list(person["languages"]),
        accompanying_children=circumstances["accompanying_children"],
        pregnant=circumstances["pregnant"],
        disability=circumstances["disability"],
        safety_risk=circumstances["safety_risk"],
    )


def held_for_housing(
    row: sa.Row[Any], person: dict[str, Any], tasks: dict[str, model.Task], today: dt.date
) -> list[referral.TaskRequested]:
    """The requests held back until the shelter answered, for where the person now is.

    Called once the housing task has left `requested` (answered, or cancelled for
    want of consent): every following task still `requested` was never sent.
    """
    return [
        task_request(
            row,
            person,
            task_id,
            task.service,
            bool(row.is_child),
            today,
            region=model.region_for(task.service, tasks.values(), row.region),
        )
        for task_id, task in tasks.items()
        if task.service in FOLLOWS_HOUSING and task.status is TaskStatus.REQUESTED
    ]
