"""The console's settings: the shared ones (`CONSOLE_` prefix) and its sign-in's limits."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from korpu_runtime.settings import ServiceSettings

SERVICE = "console"


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONSOLE_", extra="ignore", validate_default=True, populate_by_name=True
    )

    service: str = SERVICE
    http_port: int = Field(default=8090, ge=0, le=65535)
    # A session ends this long after sign-in, or after this long without a request,
    # whichever comes first: a console left open on a shared desk signs itself out.
    session_hours: float = Field(default=8.0, gt=0, le=24 * 7)
    session_idle_minutes: float = Field(default=30.0, gt=0)
    # After this many wrong passwords in a row an account is locked for a while; the
    # lock, not a delay per attempt, is what stops guessing from many addresses at once.
    lockout_failures: int = Field(default=5, ge=1)
    lockout_minutes: float = Field(default=15.0, gt=0)
    # Where each service instance answers (`{"shelter": "http://127.0.0.1:8081", ...}`,
    # JSON in CONSOLE_SERVICE_URLS): `korpu up` sets it; empty means each service's own
    # default port on this machine.
    service_urls: dict[str, str] = Field(default_factory=dict)
    # Cookies are `Secure` (sent over HTTPS only) unless the console is served on this
    # machine over plain HTTP (the demo): a browser treats 127.0.0.1 as secure enough.
    # Rejected: a setting to turn Secure off, which would be left off in production.
