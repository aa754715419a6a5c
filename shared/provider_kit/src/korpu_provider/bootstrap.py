"""Building a provider service from its `Provider`: consumers, HTTP app, seeding."""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import Connection

from korpu_contracts import referral, streams, vocabulary
from korpu_provider import capacity, directory, views
from korpu_provider import http as provider_http
from korpu_provider.handlers import AnyProvider, Handlers
from korpu_runtime import http
from korpu_runtime.consumer import Subscription, by_type
from korpu_runtime.database import Database
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings

# The referral service listens on 8080; each provider on the next ports, in the order of
# the list of services (`korpu_contracts.vocabulary.Service`). `<NAME>_HTTP_PORT` overrides.
FIRST_PROVIDER_PORT = 8081


def default_port(service: vocabulary.Service) -> int:
    """The provider's HTTP port unless configured: 8081 + its place in the list of services."""
    return FIRST_PROVIDER_PORT + list(vocabulary.Service).index(service)


def settings_class(service: str, http_port: int) -> type[ServiceSettings]:
    """A provider's settings, read with its prefix (`SHELTER_DATABASE_URL`)."""
    namespace = {
        "__annotations__": {"service": str, "http_port": int},
        "model_config": SettingsConfigDict(env_prefix=f"{service.upper()}_", extra="ignore"),
        "service": service,
        "http_port": Field(default=http_port, ge=0, le=65535),
    }
    name = service.title().replace("_", "") + "Settings"
    return types.new_class(name, (ServiceSettings,), {}, lambda body: body.update(namespace))


class Entrypoints:
    """What a provider's `bootstrap` module offers the CLI, built from its `Provider`.

    Settings are built when called, never at import, so a test can build two apps
    side by side.
    """

    def __init__(self, provider: AnyProvider, title: str | None = None) -> None:
        self.provider = provider
        self.settings = settings_class(str(provider.service), default_port(provider.service))
        self.title = title or f"Körpü {provider.service.replace('_', ' ')} service"
        self.handlers = Handlers(provider)
        # For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this
        # provider's organizations, keys and audit trail, in its own database.
        self.keyring = provider.schema.access.keyring
        self.trail = provider.schema.access.trail
        self.metadata = provider.schema.metadata
        # Every stream a provider reads, in one place: its requests and their cancellations.
        self.subscriptions = (
            Subscription(
                name=f"{provider.service}.requests",
                stream=streams.requests(provider.service),
                group=streams.group(provider.service),
                handler=by_type(
                    {
                        referral.TaskRequested.TYPE: self.handlers.request,
                        referral.TaskCancelled.TYPE: self.handlers.cancel,
                    }
                ),
            ),
        )

    def build_service(self, settings: ServiceSettings | None = None) -> Service:
        metadata = self.provider.schema.metadata
        service = Service(settings or self.settings(), metadata, self.subscriptions)
        service.metrics.readings.append(capacity.reading(self.provider))
        return service

    def build_app(self, settings: ServiceSettings | None = None) -> FastAPI:
        service = self.build_service(settings)
        routes = provider_http.router(self.provider, self.handlers, service)
        keyring = self.provider.schema.access.keyring
        return http.build_app(service, [routes], title=self.title, keyring=keyring)

    def load(self, conn: Connection, entries: Sequence[Any]) -> directory.Loaded:
        """Load seed entries in the caller's transaction (`directory.load`)."""
        return directory.load(self.provider, conn, entries)

    def task_view(self, conn: Connection, task_id: str) -> dict[str, Any] | None:
        """What a case worker reads of one task; None when the provider holds none."""
        return views.task(self.provider, conn, task_id)

    def seed(self, settings: ServiceSettings, entries: Sequence[Any]) -> int:
        """Load the provider's seed entries in one transaction; returns how many were loaded.

        Raises `directory.InvalidDirectory` naming every bad field, having written
        nothing. Needs no Redis: answers to people given added room wait in the
        outbox for the running service's relay.
        """
        loaded = Database.once(
            settings.database_url,
            self.provider.schema.metadata,
            lambda conn: self.load(conn, entries),
        )
        return loaded.added + loaded.updated
