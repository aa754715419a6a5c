"""Every page of the console, in the order of its menu."""

from __future__ import annotations

from fastapi import APIRouter

from korpu.console import deadletters, overview, recovery, tracing


def routers() -> list[APIRouter]:
    return [overview.router(), deadletters.router(), tracing.router(), recovery.router()]
