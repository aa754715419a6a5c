"""The console's own tables: accounts, sessions, and the audit trail of every sign-in and action.

Nothing here is about a trafficked person: names of operators, hashes and times.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_runtime import audit, migrations

METADATA = sa.MetaData()
VERSIONS = Path(__file__).parent / "migrations"
migrations.attach(METADATA, VERSIONS)

NAME_LENGTH = 64

users = sa.Table(
    "console_users",
    METADATA,
    sa.Column("name", sa.String(NAME_LENGTH), primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    # argon2id, in its own encoding (parameters and salt included).
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    # Wrong passwords in a row, and until when the account is locked after too many.
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    # The language the person picked for the console (korpu.console.i18n); None: not yet.
    sa.Column("language", sa.String(5), nullable=True),
    # A case worker's or coordinator's tie (korpu.console.delegation): the service and
    # organization the person acts for, and their own key there, sealed.
    sa.Column("service", sa.String(40), nullable=True),
    sa.Column("organization_id", sa.String(36), nullable=True),
    sa.Column("entries", sa.JSON, nullable=True),
    sa.Column("key_id", sa.String(36), nullable=True),
    sa.Column("sealed_key", sa.LargeBinary, nullable=True),
)

sessions = sa.Table(
    "console_sessions",
    METADATA,
    # SHA-256 of the cookie's token: a copy of the database signs nobody in.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_name",
        sa.String(NAME_LENGTH),
        sa.ForeignKey("console_users.name"),
        nullable=False,
        index=True,
    ),
    # Sent back with every form: a page of another site cannot know it (CSRF).
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
)

# Every sign-in (and each refused one), sign-out and action: who, what, on what.
TRAIL = audit.Trail(audit.add_table(METADATA, "target", subject_length=200), "target")
