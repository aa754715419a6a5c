"""`GET /v1/statistics`: people assisted per quarter, for keys holding `statistics:read`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from korpu_contracts.vocabulary import Identification
from korpu_runtime.http import Problem
from referral.adapters import audit
from referral.entrypoints import http as referral_http
from referral.service_layer import statistics

# One long (tidy) table per quarter: a row per combination that had anyone, so an
# analyst pivots it as they like. Rejected: nested objects per dimension, which
# each reader must flatten again.


class Cell(BaseModel):
    """People of one quarter assisted by `service`, from `region`, of `sex` and `age_group`."""

    service: str
    region: str
    sex: str
    age_group: Literal["child", "adult"]
    people: int | None = Field(description="null when suppressed")
    suppressed: bool = Field(description="true: 1 to 4 people, or hidden to protect such a cell")


class IdentificationCount(BaseModel):
    """People of one quarter assisted, by identification as recorded by the coordinator."""

    status: Identification
    people: int | None = Field(description="null when suppressed")
    suppressed: bool


class QuarterFigures(BaseModel):
    quarter: str = Field(examples=["2026-Q1"])
    first_day: dt.date
    last_day: dt.date
    people_assisted: int | None = Field(
        description="people assisted by any service; null when suppressed (1 to 4)"
    )
    suppressed: bool
    cells: list[Cell] = Field(description="combinations with nobody are left out: they are 0")
    identification: list[IdentificationCount] = Field(
        default_factory=list,
        description="identified and potential victims apart (and those not identified); "
        "every status present, 0 included",
    )


class Statistics(BaseModel):
    first_day: dt.date = Field(description="first day of the first whole quarter counted")
    last_day: dt.date = Field(description="last day of the last whole quarter counted")
    threshold: int = Field(description="counts below it (but above 0) are never shown")
    counted: str
    quarters: list[QuarterFigures]


COUNTED = (
    "Cases received in the quarter (UTC) that consented to reporting (a child: consent "
    "not required) and that at least one service accepted. A person counts once per "
    "quarter, and under each service that accepted them; and once under their "
    "identification as recorded now (potential, identified, not identified)."
)


api = APIRouter(prefix="/v1", tags=["statistics"])
CANNOT_READ_STATISTICS = (403, "An API key without the scope `statistics:read`")
STATISTICS_READ = "statistics_read"  # the audit action
PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
INVALID_PERIOD = (422, "`from` or `to` missing or not a date, `from` after `to`, or too long")


@api.get(
    "/statistics",
    responses={
        status: {"description": text, "content": PROBLEM}
        for status, text in (referral_http.UNAUTHORIZED, CANNOT_READ_STATISTICS, INVALID_PERIOD)
    },
)
async def read_statistics(
    service: referral_http.ServiceDep,
    caller: referral_http.Administrator,
    first: Annotated[dt.date, Query(alias="from", description="YYYY-MM-DD")],
    last: Annotated[dt.date, Query(alias="to", description="YYYY-MM-DD")],
) -> Statistics:
    """People assisted per quarter by service, region, sex and child or adult.

    Every quarter that `from` to `to` touches is counted whole. Counts of 1 to 4
    are suppressed, and so are the cells that would give them away.
    """
    _check(first, last)
    actor = audit.of(caller)

    def read(conn: Connection) -> list[statistics.QuarterFigures]:
        # Not personal data; still, who asked for which figures is worth keeping.
        period = {"from": first.isoformat(), "to": last.isoformat()}
        audit.record(conn, actor, STATISTICS_READ, detail=period)
        return statistics.figures(conn, first, last)

    return _answer(await service.db.run(read))


def _check(first: dt.date, last: dt.date) -> None:
    if first > last:
        raise Problem(
            422,
            "Invalid request",
            "`from` is after `to`.",
            errors=[{"field": "from", "message": "must not be after `to`"}],
        )
    if len(statistics.quarters(first, last)) > statistics.MAX_QUARTERS:
        raise Problem(
            422,
            "Invalid request",
            f"Ask for at most {statistics.MAX_QUARTERS} quarters at once.",
            errors=[{"field": "to", "message": f"at most {statistics.MAX_QUARTERS} quarters"}],
        )


def _answer(found: list[statistics.QuarterFigures]) -> Statistics:
    return Statistics(
        first_day=found[0].quarter.first_day,
        last_day=found[-1].quarter.last_day,
        threshold=statistics.THRESHOLD,
        counted=COUNTED,
        quarters=[
            QuarterFigures(
                quarter=figures.quarter.label,
                first_day=figures.quarter.first_day,
                last_day=figures.quarter.last_day,
                people_assisted=figures.people_assisted.people,
                suppressed=figures.people_assisted.suppressed,
                cells=[
                    Cell(
                        service=cell.service,
                        region=cell.region,
                        sex=cell.sex,
                        age_group="child" if cell.age_group == "child" else "adult",
                        people=count.people,
                        suppressed=count.suppressed,
                    )
                    for cell, count in figures.cells
                ],
                identification=[
                    IdentificationCount(
                        status=status, people=count.people, suppressed=count.suppressed
                    )
                    for status, count in figures.identification
                ],
            )
            for figures in found
        ],
    )
