"""The referral service's tables. `persons` holds the only personal data in Körpü."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_contracts import intake
from korpu_runtime import api_keys as runtime_keys
from korpu_runtime import audit, migrations
from korpu_runtime import tables as runtime_tables

metadata = sa.MetaData()
# Made and changed only by the revisions in migrations/ (docs/migrations.md): a table
# or column added here needs a revision, or the schema test fails.
migrations.attach(metadata, Path(__file__).parent / "migrations")
outbox, inbox = runtime_tables.add_runtime_tables(metadata)

# Agencies and their API keys (korpu_runtime.api_keys, the one design every service uses).
keys = runtime_keys.add_tables(metadata)
organizations, api_keys = keys.organizations, keys.keys

# An agency's bus keys: the public half of the Ed25519 key it signs its intake
# entries with (adapters/bus_keys.py). The private half is shown once and never kept.
bus_keys = sa.Table(
    "organization_bus_keys",
    metadata,
    sa.Column("key_id", sa.String(40), primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organizations.id"), nullable=False, index=True),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organizations.id"), nullable=False, index=True),
    sa.Column("agency_reference", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("region", sa.String(60), nullable=False),
    sa.Column("is_child", sa.Boolean, nullable=False),
    # Coarse, like region and is_child: it travels in every task request already,
    # and statistics count by it after the person's row is erased.
    sa.Column("sex", sa.String(10), nullable=False),
    # The needs as submitted: a referral linked as a duplicate has no task, and
    # is coordinated from these if the agency says it is someone else.
    sa.Column("needs", sa.JSON, nullable=False, default=list),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # When every task became final (a withdrawal makes them all final); null while
    # one is open. The retention period runs from here (service_layer/erasure.py).
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True, index=True),
    # When the person's data was erased; the case itself stays, without them.
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    # Coarse, like sex: it travels in every task request already, and the national
    # coordinator's queue looks for people at high risk waiting for a bed without
    # opening anyone's sealed circumstances. Null for a case received before 0003.
    sa.Column("safety_risk", sa.String(10), nullable=True),
    # As the competent authority decided, recorded by the national coordinator
    # (`vocabulary.Identification`); `potential` until then.
    sa.Column("identification", sa.String(20), nullable=False, server_default="potential"),
    sa.Column("identification_decided_on", sa.Date, nullable=True),
    # The last day of the recovery and reflection period: set when the case is
    # received, moved by each extension (`recovery_extensions`). Null only before 0003
    # filled it in.
    sa.Column("recovery_ends_on", sa.Date, nullable=True),
)

# Personal data, one row per referral; nothing here ever goes into an event or a log.
# Each text column holds a value sealed field by field (adapters/sealing.py); only
# the ReferralRepository seals and opens them. `match_key` is the blind index of
# name and birth date that finds a duplicate referral (domain/matching.py): in
# this row, so erasing the person erases it too.
persons = sa.Table(
    "persons",
    metadata,
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("given_name", sa.Text, nullable=False),
    sa.Column("family_name", sa.Text, nullable=False),
    sa.Column("date_of_birth", sa.Text, nullable=True),
    sa.Column("age_estimate", sa.Text, nullable=True),
    sa.Column("possibly_minor", sa.Boolean, nullable=False),
    sa.Column("sex", sa.String(10), nullable=False),
    sa.Column("languages", sa.Text, nullable=False),
    sa.Column("nationality", sa.Text, nullable=True),
    sa.Column("contact_phone", sa.Text, nullable=True),
    sa.Column("circumstances", sa.Text, nullable=False),
    sa.Column("notes", sa.Text, nullable=True),
    sa.Column("match_key", sa.String(64), nullable=True, index=True),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("service", sa.String(20), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(30), nullable=True),
    sa.Column("detail", sa.JSON, nullable=False),
    # The provider's newest answer applied (`TaskUpdated.revision`): an older one
    # delivered late is ignored (`model.Task.apply`).
    sa.Column("revision", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("referral_id", "service"),
)

history = sa.Table(
    "history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("service", sa.String(20), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(30), nullable=True),
    # A consent change (status `consent_changed`): for which purpose, and what was given.
    sa.Column("purpose", sa.String(20), nullable=True),
    sa.Column("consent", sa.String(30), nullable=True),
)

# A task cancelled when consent was withdrawn, then replaced by a new one for the
# same service when consent was given again (service_layer/consent.py). Its id
# stays known, so a provider's late answer about it is recognised and ignored.
replaced_tasks = sa.Table(
    "replaced_tasks",
    metadata,
    sa.Column("task_id", sa.String(36), primary_key=True),
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("service", sa.String(20), nullable=False),
    sa.Column("replaced_by", sa.String(36), nullable=False),
    sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
)

# Consent as last given, per purpose (each service, and `reporting` for statistics).
# Every change is also a step in `history`.
consents = sa.Table(
    "consents",
    metadata,
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("purpose", sa.String(20), primary_key=True),
    sa.Column("consent", sa.String(30), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# What a case worker must look at: a possible duplicate (`related_referral_id` is
# the open case it matches), a child who turned 18 and must consent again.
flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("related_referral_id", sa.String(36), nullable=True),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("referral_id", "kind"),
)

# A referral waiting in review (status `in_review`) for an operator: today, a
# person matched to an open case of another organization (`related_referral_id`).
# Never shown to an agency: the referral view and status events read only the
# status, and an agency learns nothing of another organization's case.
reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("related_referral_id", sa.String(36), nullable=True),
    # How much beside name and birth date agrees (adapters/duplicates.py, `Match`).
    sa.Column("strength", sa.String(10), nullable=False),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolution", sa.String(30), nullable=True),
)

# Which version of the name folding (domain/matching.py) every stored `match_key`
# was computed with: one row per version whose re-index finished.
match_index_versions = sa.Table(
    "match_index_versions",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reindexed", sa.Integer, nullable=False),
)

# Each extension of a case's recovery and reflection period: how long, and why, as a
# code (`service_layer/recognition.py`, REASONS), never free text: a note would be
# personal data outside the sealed `persons` row.
recovery_extensions = sa.Table(
    "recovery_extensions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), nullable=False, index=True),
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(40), nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("extended_at", sa.DateTime(timezone=True), nullable=False),
)

# Items of the coordinator's Action needed queue already escalated (an event and a
# count), so that each is escalated once: `item` is the item's own key (kind,
# service, when it began), so an item that ends and begins again is a new one.
escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), primary_key=True),
    sa.Column("item", sa.String(120), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("organization_id", sa.ForeignKey("organizations.id"), primary_key=True),
    sa.Column("key", sa.String(intake.IDEMPOTENCY_KEY_MAX), primary_key=True),
    sa.Column("body_hash", sa.String(64), nullable=False),
    sa.Column("referral_id", sa.ForeignKey("referrals.id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

# Intake entries that could not become referrals: kept, never dropped. The raw
# entry may hold personal data, so it lives here, sealed, and leaves the stream.
intake_rejections = sa.Table(
    "intake_rejections",
    metadata,
    sa.Column("entry_id", sa.String(40), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=True),
    sa.Column("idempotency_key", sa.String(intake.IDEMPOTENCY_KEY_MAX), nullable=True),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("raw_entry", sa.Text, nullable=False),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

# An agency's webhook endpoints (adapters/webhooks.py). The secret is sealed with the
# data keys like a person's fields: a copy of the database cannot sign a delivery.
# After a rotation the previous secret still signs until `previous_until`.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("organization_id", sa.ForeignKey("organizations.id"), nullable=False, index=True),
    sa.Column("url", sa.String(2048), nullable=False),
    # Event types delivered; an empty list delivers every type.
    sa.Column("events", sa.JSON, nullable=False),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("previous_secret", sa.Text, nullable=True),
    sa.Column("previous_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Set when the receiver answered 410: nothing more is sent until a redelivery.
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
)

# The webhook outbox: one row per event and endpoint, written in the transaction
# that writes the event (service_layer/announcements.py), sent by the sender
# (entrypoints/webhook_sender.py). `body` is what is sent, thin: no personal data.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "endpoint_id",
        sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    # `webhook-id`: the event's id, the same on every attempt and redelivery.
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(80), nullable=False),
    sa.Column("referral_id", sa.String(36), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    # pending, delivered, failed (schedule used up), gone (the receiver answered 410).
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True, index=True),
    # A sender's claim, as the outbox relay's: another replica skips the row until then.
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
)

# Every attempt of every delivery: the delivery log an agency and the operator read.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id",
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    # The receiver's status code; null when it never answered (then `error` says why).
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(40), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

# Every read and change of personal data (adapters/audit.py): append-only.
audit_log = audit.add_table(metadata, subject="referral_id")
