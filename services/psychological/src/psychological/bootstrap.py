"""The psychological service, built by the provider kit from its `Provider` (korpu_provider)."""

from __future__ import annotations

from korpu_provider.bootstrap import Entrypoints
from psychological.provider import Psychological

SERVICE = Entrypoints(Psychological())
Settings, SUBSCRIPTIONS = SERVICE.settings, SERVICE.subscriptions
build_service, build_app, seed = SERVICE.build_service, SERVICE.build_app, SERVICE.seed
KEYRING, TRAIL, METADATA = SERVICE.keyring, SERVICE.trail, SERVICE.metadata  # for the CLI
