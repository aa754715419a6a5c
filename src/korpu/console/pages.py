"""Every page of the console, in the order of its menu."""

from __future__ import annotations

from fastapi import APIRouter

from korpu.console import (
    capacities,
    casework,
    coordination,
    deadletters,
    overview,
    recovery,
    tracing,
)


def routers() -> list[APIRouter]:
    pages = (overview, deadletters, tracing, capacities, recovery, coordination, casework)
    return [page.router() for page in pages]
