"""The only place that builds the shelter service's concrete parts."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from korpu_runtime import http
from korpu_runtime.database import Database
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from shelter.adapters import tables
from shelter.entrypoints import consumers
from shelter.entrypoints import http as shelter_http
from shelter.service_layer import directory

# For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this provider's
# organizations, keys and audit trail, in its own database (`METADATA`).
KEYRING = tables.access.keyring
TRAIL = tables.access.trail
METADATA = tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHELTER_", extra="ignore")

    service: str = "shelter"
    http_port: int = 8081


def build_service(settings: Settings | None = None) -> Service:
    return Service(settings or Settings(), tables.metadata, consumers.SUBSCRIPTIONS)


def build_app(settings: Settings | None = None) -> FastAPI:
    service = build_service(settings)
    return http.build_app(
        service,
        [shelter_http.router(service, tables.access)],
        title="Körpü shelter service",
        keyring=KEYRING,
    )


def seed(settings: Settings, entries: list[dict[str, Any]]) -> int:
    """Load the directory's shelters in one transaction; returns how many entries were loaded.

    Raises `directory.InvalidDirectory` naming every bad field, having written nothing.
    Beds it adds go to people waiting; their answers wait in the outbox for the
    service's relay (this process sends nothing itself).
    """
    loaded = Database.once(
        settings.database_url,
        tables.metadata,
        lambda conn: directory.load_directory(conn, entries),
    )
    return loaded.added + loaded.updated
