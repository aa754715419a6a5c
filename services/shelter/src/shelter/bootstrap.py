"""The only place that builds the shelter service's concrete parts (on korpu_provider)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from korpu_provider.bootstrap import Entrypoints
from korpu_runtime.settings import ServiceSettings
from shelter.adapters import tables
from shelter.provider import Shelter

# For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this provider's
# organizations, keys and audit trail, in its own database (`METADATA`).
KEYRING, TRAIL, METADATA = tables.access.keyring, tables.access.trail, tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHELTER_", extra="ignore")

    service: str = "shelter"
    http_port: int = 8081


SERVICE = Entrypoints(Shelter(), Settings, "Körpü shelter service")
build_service, build_app, seed = SERVICE.build_service, SERVICE.build_app, SERVICE.seed
SUBSCRIPTIONS = SERVICE.subscriptions
