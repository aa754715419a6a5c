"""The only place that builds the legal aid service's concrete parts (on korpu_provider)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from korpu_provider.bootstrap import Entrypoints
from korpu_runtime.settings import ServiceSettings
from legal_aid.adapters import tables
from legal_aid.provider import LegalAid

# For the CLI (`korpu org ... --provider`, `korpu audit --provider`): this provider's
# organizations, keys and audit trail, in its own database (`METADATA`).
KEYRING, TRAIL, METADATA = tables.access.keyring, tables.access.trail, tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEGAL_AID_", extra="ignore")

    service: str = "legal_aid"
    http_port: int = 8083


SERVICE = Entrypoints(LegalAid(), Settings, "Körpü legal aid service")
build_service, build_app, seed = SERVICE.build_service, SERVICE.build_app, SERVICE.seed
SUBSCRIPTIONS = SERVICE.subscriptions
