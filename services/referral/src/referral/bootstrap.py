"""The only place that builds the referral service's concrete parts."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from korpu_runtime import http
from korpu_runtime.database import Database
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from referral.adapters import organizations, tables
from referral.entrypoints import consumers
from referral.entrypoints import http as referral_http


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    service: str = "referral"
    http_port: int = 8080


def build_service(settings: Settings | None = None) -> Service:
    return Service(settings or Settings(), tables.metadata, consumers.SUBSCRIPTIONS)


def build_app(settings: Settings | None = None) -> FastAPI:
    service = build_service(settings)
    app = http.build_app(service, [], title="Körpü referral service")
    referral_http.install(app)
    return app


def create_organization(settings: Settings, name: str) -> tuple[str, str]:
    """For `korpu org create`: the organization id and its API key, shown once."""
    return Database.once(
        settings.database_url, tables.metadata, lambda conn: organizations.create(conn, name)
    )
