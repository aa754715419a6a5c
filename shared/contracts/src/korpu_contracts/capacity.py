"""What a provider's capacity route answers (`GET /v1/capacity`): counts by region, never who.

Written by every provider (korpu_provider.capacity), read by the operators' console
(korpu.capacity). Readers are tolerant: a field added later is ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RegionCapacity(BaseModel):
    """One region's places at one provider, in the provider's unit.

    `capacity`: the places its entries have in all; `taken`: those in use; `free`: those
    it could give now; `waiting`: the people on its waitlist who asked for this region.
    `free` is what the provider would give, never negative: `taken` may exceed
    `capacity` when a capacity was cut below what is in use, and an entry serving
    several regions counts in each, so regions are not added up across.
    """

    model_config = ConfigDict(frozen=True)

    region: str  # an ISO 3166-2 code (korpu_contracts.regions)
    capacity: int = Field(ge=0)
    taken: int = Field(ge=0)
    free: int = Field(ge=0)
    waiting: int = Field(ge=0)


class Capacity(BaseModel):
    """A provider's capacity by region; `unit` says what one place is (docs/capacity.md)."""

    model_config = ConfigDict(frozen=True)

    service: str
    unit: str
    regions: list[RegionCapacity]
