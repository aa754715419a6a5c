"""The only place that builds the employment service's concrete parts."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from employment.adapters import tables
from employment.entrypoints import consumers
from employment.entrypoints import http as employment_http
from employment.service_layer import directory
from korpu_runtime import http
from korpu_runtime.database import Database
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings

# For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this provider's
# organizations, keys and audit trail, in its own database (`METADATA`).
KEYRING = tables.access.keyring
TRAIL = tables.access.trail
METADATA = tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EMPLOYMENT_", extra="ignore")

    service: str = "employment"
    http_port: int = 8082


def build_service(settings: Settings | None = None) -> Service:
    return Service(settings or Settings(), tables.metadata, consumers.SUBSCRIPTIONS)


def build_app(settings: Settings | None = None) -> FastAPI:
    service = build_service(settings)
    return http.build_app(
        service,
        [employment_http.router(service, tables.access)],
        title="Körpü employment service",
        keyring=KEYRING,
    )


def seed(settings: Settings, entries: list[dict[str, Any]]) -> int:
    """Load the `programs` of a seed file in one transaction; returns how many were loaded.

    Raises `directory.InvalidDirectory` naming every bad entry; then nothing is written.
    Runs beside a live service too: seats it frees reach the waiting people
    through the outbox, which the service's relay polls.
    """
    loaded = Database.once(
        settings.database_url,
        tables.metadata,
        lambda conn: directory.load_directory(conn, entries),
    )
    return loaded.added + loaded.updated
