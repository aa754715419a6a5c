"""The medical service's tables: its clinics, their bookings by day, and the tasks it was asked for.

No personal data: a task row holds the coarse attributes the booking rules need
(region, is_child, sex), never who the person is.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from korpu_provider.schema import Schema

# Made and changed only by the revisions in migrations/ (docs/migrations.md).
schema = Schema(Path(__file__).parent / "migrations")
metadata = schema.metadata

# The directory, loaded by `korpu seed` and upserted by name.
clinics = schema.directory(
    "clinics",
    # An ISO 3166-2 code (korpu_contracts.regions), as the seed file's name resolves.
    sa.Column("region", sa.String(60), nullable=False),
    # Category values (women, men, girls, boys), sorted.
    sa.Column("serves", sa.JSON, nullable=False),
    sa.Column("appointments_per_day", sa.Integer, nullable=False),
    # How many days ahead, from tomorrow, it books (domain/model.py open_days).
    sa.Column("booking_days", sa.Integer, nullable=False),
)

# How many appointments of a clinic's day are booked; no row is none. Kept in step with
# the accepted tasks under the directory lock, and never past the clinic's cap
# (adapters/clinics.py). Rejected: counting the tasks holding each day, which needs a
# lock on the tasks too before an UPDATE can guard the cap.
bookings = sa.Table(
    "bookings",
    metadata,
    sa.Column("clinic_id", sa.ForeignKey("clinics.id"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("booked", sa.Integer, sa.CheckConstraint("booked >= 0"), nullable=False),
)

tasks = schema.tasks(
    # The clinic while booked; kept afterwards to say where the person was seen.
    sa.Column("clinic_id", sa.ForeignKey("clinics.id"), nullable=True),
    sa.Column("is_child", sa.Boolean, nullable=True),
    sa.Column("sex", sa.String(10), nullable=True),
    # The booked day as the answer told it (YYYY-MM-DD), so a cancellation frees that day.
    sa.Column("appointment", sa.String(10), nullable=True),
)
