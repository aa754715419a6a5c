"""One validated settings object per service, read from the environment in bootstrap."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsRefused(RuntimeError):
    """A setting a service refuses to start with (a missing or placeholder secret).

    Its message names the setting and what to do, never the value.
    """


def unique_consumer_name(service: str) -> str:
    """Unique per process, so two replicas never share a pending-entries list."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class ServiceSettings(BaseSettings):
    """Settings common to every service. Subclasses set `env_prefix` and `service`.

    `REDIS_URL`, `KORPU_DATA_DIR`, `KORPU_KEYS_DIR` and `KORPU_ENV` are shared by all services;
    everything else is read with the service's prefix (`SHELTER_DATABASE_URL`).
    """

    model_config = SettingsConfigDict(extra="ignore", validate_default=True, populate_by_name=True)

    service: str
    env: Literal["demo", "development", "production"] = Field(
        default="demo", validation_alias=AliasChoices("KORPU_ENV")
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", validation_alias=AliasChoices("REDIS_URL")
    )
    data_dir: Path = Field(default=Path(".korpu"), validation_alias=AliasChoices("KORPU_DATA_DIR"))
    # Secrets (signing keys, the demo's data keys): apart from the data so a backup of
    # one is not a backup of the other. Defaults to `<data_dir>/keys`.
    keys_dir: Path = Field(default=Path(), validation_alias=AliasChoices("KORPU_KEYS_DIR"))
    # The bearer token Prometheus scrapes /metrics with (`korpu_runtime.scrape`), one line
    # in a file only its owner reads. Defaults to `<keys_dir>/metrics-scrape-token`.
    metrics_token_file: Path = Field(
        default=Path(), validation_alias=AliasChoices("KORPU_METRICS_TOKEN_FILE")
    )
    database_url: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    consumer_name: str = ""
    # Bounded reads: FastStream reads without limit when unset (docs/faststream-on-redis.md).
    max_records: int = Field(default=100, ge=1, le=1000)
    # The relay runs on every commit that wrote events; the poll is the safety net
    # for rows left by a crash or written by another process (CLI, replicas).
    relay_poll_seconds: float = Field(default=1.0, gt=0)
    log_level: str = "INFO"
    # Redelivery (korpu_runtime.redelivery.Policy): when a pending entry is free to
    # take, how often it is tried, and the longest wait between tries.
    claim_idle_ms: int = Field(default=5_000, ge=50)
    max_deliveries: int = Field(default=5, ge=1)
    backoff_cap_ms: int = Field(default=60_000, ge=50)
    # How long a relay's claim on outbox rows keeps other replicas off them; a
    # relay that died holding a claim delays those rows by this much.
    relay_claim_seconds: float = Field(default=10.0, gt=0)
    # How often stopped readers and vanished consumer groups are looked for.
    heal_interval_seconds: float = Field(default=1.0, gt=0)
    # Retention (korpu_runtime.retention): how often streams are trimmed, how long
    # a stream read by no consumer group keeps entries, and how long published
    # outbox rows stay for `korpu recover`.
    trim_interval_seconds: float = Field(default=10.0, gt=0)
    stream_retention_hours: float = Field(default=24.0 * 7, gt=0)
    outbox_retention_hours: float = Field(default=24.0 * 7, gt=0)
    # SQLite zeroes deleted rows on disk: set by a service that erases persons.
    sqlite_secure_delete: bool = False
    # The HTTP edge (docs/problems.md). The rate limit (korpu_runtime.ratelimit): requests
    # a minute per API key, or per client address for requests without one, and how many
    # may come at once; per process, so each replica lets as many through. How many
    # buckets a process keeps at most (the least recently used go first).
    rate_limit_per_minute: int = Field(default=300, ge=1)
    rate_limit_burst: int = Field(default=100, ge=1)
    rate_limit_buckets: int = Field(default=100_000, ge=100)
    # How long a client may take to send a request's line and headers, then its body;
    # how large the line and headers may be; how long an idle connection is kept.
    http_head_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    http_max_head_bytes: int = Field(default=8 * 1024, ge=1024)
    http_keep_alive_seconds: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _derive_defaults(self) -> ServiceSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / (self.service + '.db')}"
        if self.keys_dir == Path():
            self.keys_dir = self.data_dir / "keys"
        if self.metrics_token_file == Path():
            self.metrics_token_file = self.keys_dir / "metrics-scrape-token"
        if not self.consumer_name:
            self.consumer_name = unique_consumer_name(self.service)
        return self
