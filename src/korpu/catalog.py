"""The services Körpü runs, and how to reach each one's bootstrap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from korpu_contracts import vocabulary
from korpu_runtime import api_keys, audit
from korpu_runtime.consumer import Subscription
from korpu_runtime.settings import ServiceSettings

T = TypeVar("T")

# Every provider, from the one list of services (docs/adding-a-provider.md): its package
# `services/<name>/src/<name>`, whose `bootstrap` is built by the provider kit.
PROVIDERS: tuple[str, ...] = tuple(str(service) for service in vocabulary.Service)
REFERRAL = "referral"
# Start order: providers first, so the referral service's first requests find readers.
SERVICES: tuple[str, ...] = (*PROVIDERS, REFERRAL)
# The operators' web console (korpu.console): a process `korpu up` starts after the
# services, with its own database, but no service: it reads no stream and has no outbox.
CONSOLE = "console"
PROCESSES: tuple[str, ...] = (*SERVICES, CONSOLE)
# Which key of a seed file each provider loads.
DIRECTORY_KEYS: dict[str, str] = {service.seed_key: str(service) for service in vocabulary.Service}


def bootstrap(service: str) -> ModuleType:
    """The module that builds a process: its `Settings`, `METADATA` and `build_app`."""
    if service == CONSOLE:
        return importlib.import_module("korpu.console.bootstrap")
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(PROCESSES)}")
    return importlib.import_module(f"{service}.bootstrap")


def settings(service: str, **overrides: Any) -> ServiceSettings:
    """The service's settings from the environment, as its own process would read them."""
    result: ServiceSettings = bootstrap(service).Settings(**overrides)
    return result


def _consumers(service: str) -> ModuleType:
    """The module listing the streams a service reads: a provider's bootstrap (built by
    korpu_provider), the referral service's `entrypoints.consumers`."""
    module = bootstrap(service)  # refuses an unknown name
    if hasattr(module, "SUBSCRIPTIONS"):
        return module
    return importlib.import_module(f"{service}.entrypoints.consumers")


def subscriptions(service: str) -> Sequence[Subscription]:
    """The streams the service reads, each in its consumer group."""
    found: Sequence[Subscription] = _consumers(service).SUBSCRIPTIONS
    return found


def templates(service: str) -> Sequence[Subscription]:
    """The streams the service reads one per organization, under their templates
    (`streams.PER_ORGANIZATION`): read once the organization is known."""
    found: Sequence[Subscription] = getattr(_consumers(service), "TEMPLATES", ())
    return found


def keyring(service: str) -> api_keys.Keyring:
    """The service's organizations and API keys (agencies at the referral service, case
    workers at a provider), in its own database."""
    found: api_keys.Keyring = bootstrap(service).KEYRING
    return found


def trail(service: str) -> audit.Trail:
    """The service's audit trail, in its own database."""
    found: audit.Trail = bootstrap(service).TRAIL
    return found


def once(service: str, work: Callable[[Connection], T]) -> T:
    """`work` in one transaction on the service's database, its schema created if new."""
    from korpu_runtime.database import Database

    url = settings(service).database_url
    return Database.once(url, bootstrap(service).METADATA, work)
