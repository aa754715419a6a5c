"""Material assistance as a provider of the kit (korpu_provider): one-off allowances from funds."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)
from sqlalchemy.engine import Connection

from korpu_contracts import intake, referral
from korpu_contracts.vocabulary import Service
from korpu_provider.answers import Detail
from korpu_provider.capacity import FreePlaces
from korpu_provider.tasks import Row, Tasks
from material_assistance.adapters import funds, tables
from material_assistance.domain import allowance, model, money

FundName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _written_exactly(value: object) -> object:
    # A decimal string ("250.00"), a whole number, or a Decimal (`korpu seed` reads JSON
    # numbers as Decimal). Anything else, a binary fraction above all, may already
    # have lost a cent: refused rather than rounded.
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('write the amount as a decimal string, e.g. "250.00"')
    if isinstance(value, str) and len(value) > 32:
        raise ValueError("at most 32 characters")
    return value


# At most a trillion: bounded like every input, and far above any fund's budget.
DecimalAmount = Annotated[
    Decimal, BeforeValidator(_written_exactly), Field(ge=0, le=Decimal(10) ** 12)
]


def _accepted(currency: str) -> str:
    money.digits(currency)  # an unknown currency's minor unit is not guessed
    return currency


# An ISO 4217 code of `money.MINOR_DIGITS`.
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_accepted)]


class FundEntry(BaseModel):
    """One fund of the seed file's `funds` list; amounts in the fund's currency.

    `budget` is the fund's total, never a top-up: loading it again higher releases the
    difference to the people waiting, lower pays nobody more.
    """

    # An unknown key is refused, so a misspelt one ("amount_per_persons") is never dropped.
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Declared first, so that the amounts below are checked against its minor unit.
    currency: Currency
    name: FundName
    region: intake.Region
    budget: DecimalAmount
    amount_per_person: Annotated[DecimalAmount, Field(gt=0)]

    @field_validator("budget", "amount_per_person")
    @classmethod
    def _whole_minor_units(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        currency = info.data.get("currency")
        if currency is not None:  # else its own error is reported
            money.to_minor(value, currency)
        return value

    def stored(self) -> dict[str, Any]:
        """The fund's columns: its amounts in minor units."""
        return {
            "name": self.name,
            "region": self.region,
            "currency": self.currency,
            "budget": money.to_minor(self.budget, self.currency),
            "amount_per_person": money.to_minor(self.amount_per_person, self.currency),
        }


class MaterialAssistance:
    """One-off allowances (CoE art. 12(1)(a)) from funds of the person's region."""

    service = Service.MATERIAL_ASSISTANCE
    schema = tables.schema
    tasks = Tasks(tables.tasks, holds="fund_id", tombstone={"is_child": False})
    directory_route = "funds"
    # An allowance paid is spent: its completion gives nothing back. A cancellation
    # before it is paid does (`release`).
    completion_frees = False
    room_comes_with_time = False
    # Allowances at the fund's amount per person today: what its budget pays in all,
    # what its commitments come to, what is left to pay.
    place_unit = "allowances"
    entries = TypeAdapter(list[FundEntry])
    directory = staticmethod(funds.directory)
    decide = staticmethod(allowance.decide)
    serves = staticmethod(model.serves)

    def attributes(self, requested: referral.TaskRequested) -> dict[str, Any]:
        return {"region": requested.region, "is_child": requested.is_child}

    def request_of(self, task: Row) -> model.AllowanceRequest:
        held = None if task.amount is None else money.Amount(task.amount, task.currency)
        return model.AllowanceRequest(
            task_id=task.task_id,
            region=task.region,
            is_child=task.is_child,
            queued_seq=task.queued_seq,
            held=held,
        )

    def take(self, conn: Connection, entry: model.Fund, request: model.AllowanceRequest) -> Detail:
        # Held by the task in minor units (`funds.take`); the answer says it in `given`.
        funds.take(conn, entry, request)
        return {}

    def given(self, entry: model.Fund, request: model.AllowanceRequest) -> Detail:
        # The amount as an exact decimal string ("700.00"), never a JSON number, which
        # most readers (JavaScript, Python's json) turn into a binary fraction.
        paid = request.held or entry.allowance
        return {"fund": entry.name, "amount": str(paid), "currency": paid.currency}

    def shown(self, conn: Connection, task: Row) -> dict[str, Any]:
        fund = funds.directory(conn, lock=False).get(task.fund_id or "")
        held = self.request_of(task).held
        return {
            "fund": None if fund is None else fund.name,
            "amount": None if held is None else str(held),
            "currency": task.currency,
            "outcome": task.outcome,
        }

    def free_places(self, entry: model.Fund) -> FreePlaces:
        return FreePlaces(
            frozenset({entry.region}),
            entry.allowances_left,
            entry.allowances,
            entry.allowances_taken,
        )

    def release(self, conn: Connection, task: Row) -> None:
        # Exactly what the task holds, whatever the fund's allowance became since.
        funds.release(conn, task.fund_id, task.amount)

    def upsert(self, conn: Connection, entry: FundEntry) -> bool:
        return funds.upsert(conn, entry.stored())

    def directory_view(self, conn: Connection) -> list[dict[str, Any]]:
        waiting = [self.request_of(task) for task in self.tasks.waiting(conn)]
        return funds.view(conn, waiting)
