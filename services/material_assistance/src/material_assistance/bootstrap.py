"""The material assistance service, built by the kit from its `Provider` (korpu_provider)."""

from __future__ import annotations

from korpu_provider.bootstrap import Entrypoints
from material_assistance.provider import MaterialAssistance

SERVICE = Entrypoints(MaterialAssistance())
Settings, SUBSCRIPTIONS = SERVICE.settings, SERVICE.subscriptions
build_service, build_app, seed = SERVICE.build_service, SERVICE.build_app, SERVICE.seed
KEYRING, TRAIL, METADATA = SERVICE.keyring, SERVICE.trail, SERVICE.metadata  # for the CLI
