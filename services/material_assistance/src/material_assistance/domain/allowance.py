"""Decide an allowance request: pay from a fund, waitlist or refuse, against the funds as now."""

from __future__ import annotations

from collections.abc import Iterable

from korpu_provider.decisions import Decision, Refuse, give_or_wait
from material_assistance.domain import model


def decide(request: model.AllowanceRequest, funds: Iterable[model.Fund]) -> Decision:
    """Pay from a fund of the person's region that can pay one more allowance.

    No fund in the region: out of service area. Funds there, none with enough left:
    on hold (no capacity), paid in the kit's order when a budget is raised or a
    cancelled allowance comes back.
    """
    local = [fund for fund in funds if model.serves(fund, request)]
    if not local:
        return Refuse(model.OUT_OF_SERVICE_AREA)
    return give_or_wait(local, _preference)


def _preference(fund: model.Fund) -> tuple[int, str, str]:
    # The fund with the most allowances left, so a region's funds run out together
    # and none is left idle; name then id only to make the choice reproducible.
    # Rejected: the most money left, which would compare manats with dollars when
    # a region's funds are in two currencies.
    return (-fund.allowances_left, fund.name, fund.id)
