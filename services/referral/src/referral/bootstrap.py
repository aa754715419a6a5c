"""The only place that builds the referral service's concrete parts."""

from __future__ import annotations

import datetime as dt

import pydantic
from fastapi import FastAPI
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from korpu_contracts import vocabulary
from korpu_runtime import http
from korpu_runtime.database import Database
from korpu_runtime.service import Service
from korpu_runtime.settings import ServiceSettings
from referral.adapters import (
    audit,
    intake_keys,
    key_store,
    open_cap,
    organizations,
    recognition,
    sealing,
    tables,
    unanswered,
)
from referral.domain import action_needed, webhooks
from referral.domain import recognition as recognition_rules
from referral.entrypoints import (
    coming_of_age,
    consumers,
    escalation,
    intake_streams,
    match_reindex,
    retention,
    webhook_sender,
)
from referral.entrypoints import http as referral_http
from referral.service_layer import rekeying

# For the CLI (`korpu org`, `korpu audit`): the agencies' keys and the audit trail,
# in this service's database (`METADATA`).
KEYRING = organizations.KEYRING
TRAIL = audit.TRAIL
METADATA = tables.metadata


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    service: str = "referral"
    http_port: int = 8080
    # Persons are erased here: on SQLite their deleted rows are zeroed on disk.
    sqlite_secure_delete: bool = True
    # How long a closed case keeps its person's data before the sweep erases it
    # (entrypoints/retention.py). No rule fits every country: five years covers
    # criminal proceedings and compensation claims that usually follow a case;
    # set it to what your legal basis says. And how often the sweep looks.
    personal_data_retention_days: float = Field(default=5 * 365, gt=0)
    erasure_interval_seconds: float = Field(default=3600.0, gt=0)
    # How often to look for children who turned 18 while their case is open
    # (entrypoints/coming_of_age.py). Hourly, not daily: a loop waits one interval
    # before its first round, so a daily one restarted each day would never look.
    consent_review_interval_seconds: float = Field(default=3600.0, gt=0)
    # Keys sealing personal data at rest (adapters/sealing.py): `id:base64,id2:base64`,
    # the first seals, all open; and the blind index key for duplicates. Secret:
    # never shown in a repr or a log. Required outside demo mode; in demo mode,
    # generated into the keys folder (KORPU_KEYS_DIR) on first start when unset.
    data_keys: SecretStr = SecretStr("")
    blind_index_key: SecretStr = SecretStr("")
    # How many referrals one organization may have open (not yet closed) at once;
    # past it a submission is refused, over HTTP and on the bus (adapters/open_cap.py).
    max_open_referrals: int = Field(default=open_cap.DEFAULT, ge=1)
    # The national coordinator's Action needed queue (domain/action_needed.py). Hours a
    # provider has to answer a task, per service, as JSON (`{"shelter": 24, "legal_aid":
    # 48}`), over the defaults (shelter 24); a service not named has the default hours.
    response_deadline_hours: dict[str, float] = Field(default_factory=dict)
    default_response_deadline_hours: float = Field(
        default=action_needed.DEFAULT_RESPONSE_HOURS, gt=0
    )
    # Days on a waitlist after which a case is shown again (`[30, 90]`).
    waitlist_bands_days: list[int] = Field(
        default_factory=lambda: list(action_needed.WAITLIST_BANDS_DAYS)
    )
    # The recovery and reflection period of a new case, in days: at least the
    # Convention's 30 (art. 13); and how many days before its end it is shown.
    recovery_period_days: int = Field(default=recognition_rules.RECOVERY_DAYS, ge=30)
    recovery_warning_days: int = Field(default=action_needed.RECOVERY_WARNING_DAYS, ge=0)
    # How often new items of the queue are looked for and escalated (an event each).
    escalation_interval_seconds: float = Field(default=60.0, gt=0)

    @pydantic.field_validator("response_deadline_hours")
    @classmethod
    def _known_services(cls, hours: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(hours) - {str(service) for service in vocabulary.Service})
        if unknown:
            raise ValueError(f"not a service: {', '.join(unknown)}")
        if any(value <= 0 for value in hours.values()):
            raise ValueError("hours are more than 0")
        return hours

    def action_rules(self) -> action_needed.Rules:
        return action_needed.Rules(
            response_hours={**action_needed.RESPONSE_HOURS, **self.response_deadline_hours},
            default_response_hours=self.default_response_deadline_hours,
            waitlist_bands_days=tuple(sorted(self.waitlist_bands_days)),
            recovery_warning_days=self.recovery_warning_days,
        )

    # Webhooks to agencies (docs/webhooks.md). Private, loopback and link-local targets
    # are refused (server-side request forgery) unless allowed: for tests and demos
    # whose receiver runs on the same machine; plain http is then allowed too.
    webhooks_allow_private: bool = False
    # Seconds to wait before each attempt, comma separated; the standard's by default.
    # Tests shorten it (`0,0.2,0.5`).
    webhook_schedule_seconds: str = ",".join(f"{s:g}" for s in webhooks.SCHEDULE_SECONDS)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_claim_seconds: float = Field(default=60.0, gt=0)
    webhook_max_endpoints: int = Field(default=10, ge=1, le=100)
    # How long each endpoint's delivery log keeps a finished delivery (pending ones stay).
    webhook_log_retention_days: float = Field(default=30.0, gt=0)

    @field_validator("webhook_schedule_seconds")
    @classmethod
    def _a_schedule(cls, value: str) -> str:
        webhooks.parse_schedule(value)
        return value

    def webhook_config(self) -> webhook_sender.Config:
        return webhook_sender.Config(
            allow_private=self.webhooks_allow_private,
            schedule=webhooks.parse_schedule(self.webhook_schedule_seconds),
            # A claim outlives the slowest attempt, so no replica sends a row twice at once.
            timeout_seconds=self.webhook_timeout_seconds,
            claim_seconds=max(self.webhook_claim_seconds, 3 * self.webhook_timeout_seconds),
            max_endpoints=self.webhook_max_endpoints,
            log_retention=dt.timedelta(days=self.webhook_log_retention_days),
        )


def keyring(settings: Settings) -> sealing.Keyring:
    """The keys from settings; raises `sealing.KeyConfigError` when missing or a placeholder."""
    return key_store.keyring_from(
        settings.env,
        settings.data_keys.get_secret_value(),
        settings.blind_index_key.get_secret_value(),
        settings.keys_dir,
        settings.data_dir,
    )


def database(settings: Settings) -> Database:
    """The referral database with its keyring, for the CLI and tests reading persons."""
    db = Database(settings.database_url, secure_delete=settings.sqlite_secure_delete)
    sealing.attach(db.engine, keyring(settings))
    return db


def rotate_keys(settings: Settings, actor: audit.Actor) -> rekeying.Rotated:
    """For `korpu keys rotate`. With the demo key file, a fresh key goes first in it;
    with REFERRAL_DATA_KEYS, the operator has put the new key first already."""
    keys = keyring(settings)
    if keys.key_file is not None:
        key_store.add_data_key(keys.key_file)
    db = Database(settings.database_url, secure_delete=settings.sqlite_secure_delete)
    sealing.attach(db.engine, keys)
    try:
        db.create_schema(tables.metadata)
        return rekeying.rotate(db, actor)
    finally:
        db.close()


def build_service(settings: Settings | None = None) -> Service:
    settings = settings or Settings()
    keys = keyring(settings)  # first: a service without its keys must not start at all
    service = Service(settings, tables.metadata, consumers.SUBSCRIPTIONS)
    sealing.attach(service.db.engine, keys)
    open_cap.attach(service.db.engine, settings.max_open_referrals)
    recognition.attach(service.db.engine, settings.recovery_period_days)
    # The key agencies seal referrals to: made at the first start outside production,
    # as the signing keys are; in production made by the operator beforehand.
    intake_keys.current(settings.keys_dir, create=settings.env != "production")
    intake_keys.attach(service.db.engine, intake_keys.Opener(settings.keys_dir))
    service.sealer = keys
    service.metrics.readings.append(unanswered.read)
    rules = settings.action_rules()
    service.metrics.readings.append(escalation.reading(rules))
    service.parts.append(
        retention.PersonalDataRetention(
            service.db,
            retention=dt.timedelta(days=settings.personal_data_retention_days),
            interval_seconds=settings.erasure_interval_seconds,
        )
    )
    service.parts.append(
        coming_of_age.ConsentReview(
            service.transaction, interval_seconds=settings.consent_review_interval_seconds
        )
    )
    service.parts.append(
        escalation.Escalation(
            service.transaction,
            service.metrics,
            rules,
            interval_seconds=settings.escalation_interval_seconds,
        )
    )
    service.parts.append(match_reindex.MatchReindex(service.db))
    service.parts.append(intake_streams.IntakeStreams(service))
    service.parts.append(
        webhook_sender.WebhookSender(
            service.db, settings.webhook_config(), interval_seconds=settings.webhook_poll_seconds
        )
    )
    return service


def build_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    service = build_service(settings)
    app = http.build_app(
        service,
        [],
        title="Körpü referral service",
        max_body_bytes=referral_http.MAX_BODY_BYTES,
        keyring=KEYRING,
    )
    referral_http.install(app)
    app.state.action_rules = settings.action_rules()  # the coordinator's queue (coordinator_http)
    app.state.webhooks = settings.webhook_config()
    return app


def create_organization(settings: Settings, name: str) -> tuple[str, str]:
    """For `korpu org create`: the organization id and its API key, shown once."""
    return Database.once(
        settings.database_url, tables.metadata, lambda conn: organizations.create(conn, name)
    )
