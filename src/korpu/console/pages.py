"""Every page of the console, in the order of its menu."""

from __future__ import annotations

from fastapi import APIRouter

from korpu.console import capacities, coordination, deadletters, overview, recovery, tracing


def routers() -> list[APIRouter]:
    pages = (overview, deadletters, tracing, capacities, recovery, coordination)
    return [page.router() for page in pages]
