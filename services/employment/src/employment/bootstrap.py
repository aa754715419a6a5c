"""The only place that builds the employment service's concrete parts (on korpu_provider)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from employment.adapters import tables
from employment.provider import Employment
from korpu_provider.bootstrap import Entrypoints
from korpu_runtime.settings import ServiceSettings

# For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this provider's
# organizations, keys and audit trail, in its own database (`METADATA`).
KEYRING, TRAIL, METADATA = tables.access.keyring, tables.access.trail, tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="EMPLOYMENT_", extra="ignore")

    service: str = "employment"
    http_port: int = 8082


SERVICE = Entrypoints(Employment(), Settings, "Körpü employment service")
build_service, build_app, seed = SERVICE.build_service, SERVICE.build_app, SERVICE.seed
SUBSCRIPTIONS = SERVICE.subscriptions
