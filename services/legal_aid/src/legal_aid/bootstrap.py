"""The only place that builds the legal aid service's concrete parts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from korpu_runtime import http
from korpu_runtime.database import Database
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from legal_aid.adapters import tables
from legal_aid.entrypoints import consumers
from legal_aid.entrypoints import http as legal_aid_http
from legal_aid.service_layer import directory

# For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this provider's
# organizations, keys and audit trail, in its own database (`METADATA`).
KEYRING = tables.access.keyring
TRAIL = tables.access.trail
METADATA = tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEGAL_AID_", extra="ignore")

    service: str = "legal_aid"
    http_port: int = 8083


def build_service(settings: Settings | None = None) -> Service:
    return Service(settings or Settings(), tables.metadata, consumers.SUBSCRIPTIONS)


def build_app(settings: Settings | None = None) -> FastAPI:
    service = build_service(settings)
    app = http.build_app(
        service,
        [legal_aid_http.router(service, tables.access)],
        title="Körpü legal aid service",
        keyring=KEYRING,
    )
    return app


def seed(settings: Settings, entries: Sequence[dict[str, Any]]) -> int:
    """Load the seed file's `lawyers` list in one transaction; how many lawyers it holds.

    Needs no Redis: answers to people placed thanks to added room go to the
    outbox, for the running service's relay to send.
    """
    loaded = Database.once(
        settings.database_url,
        tables.metadata,
        lambda conn: directory.load_directory(conn, entries),
    )
    return loaded.lawyers
