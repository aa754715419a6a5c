"""Material assistance values: funds and what they hold, an allowance request, and who is served."""

from __future__ import annotations

from dataclasses import dataclass

from material_assistance.domain.money import Amount

# Reason codes as plain strings: the domain knows no contract; the service layer maps them.
OUT_OF_SERVICE_AREA = "out_of_service_area"


@dataclass(frozen=True)
class Fund:
    """A fund paying a one-off allowance (CoE art. 12(1)(a)) to people in its region.

    Money in minor units of `currency`. `budget` is the fund's total; `committed` is
    what its allowances hold, paid or about to be. A budget cut below `committed`
    leaves nothing to give, never a debt.
    """

    id: str
    name: str
    region: str
    currency: str
    budget: int
    committed: int
    amount_per_person: int

    @property
    def remaining(self) -> int:
        return max(0, self.budget - self.committed)

    @property
    def allowances_left(self) -> int:
        # A zero allowance pays no one (the seed file refuses one; this keeps it safe).
        return self.remaining // self.amount_per_person if self.amount_per_person > 0 else 0

    @property
    def allowances(self) -> int:
        """How many allowances of today's amount the whole budget pays."""
        return self.budget // self.amount_per_person if self.amount_per_person > 0 else 0

    @property
    def allowances_taken(self) -> int:
        """What is committed, in allowances of today's amount, a part counted as one.

        An allowance committed at an older amount is money held all the same; counted
        in today's allowances, so that the three counts share one unit. Rejected:
        counting the tasks holding money, which the fund alone does not know.
        """
        if self.amount_per_person <= 0:
            return 0
        return -(-self.committed // self.amount_per_person)

    @property
    def has_room(self) -> bool:
        return self.allowances_left > 0

    @property
    def allowance(self) -> Amount:
        return self.money(self.amount_per_person)

    def money(self, minor: int) -> Amount:
        return Amount(minor, self.currency)


@dataclass(frozen=True)
class AllowanceRequest:
    """What the service knows of a person: coarse, never identifying.

    `queued_seq` grows with arrival time; lower waited longer. `held` is what the task
    holds once given, whatever the fund's allowance became since; None before.
    """

    task_id: str
    region: str
    is_child: bool
    queued_seq: int
    held: Amount | None = None


def serves(fund: Fund, request: AllowanceRequest) -> bool:
    """Whether the fund pays people where this person is, money left or not.

    An allowance is paid where the referral asks: unlike a bed, a fund elsewhere is no
    second choice, since each region's fund is its own budget line.
    """
    return fund.region == request.region
