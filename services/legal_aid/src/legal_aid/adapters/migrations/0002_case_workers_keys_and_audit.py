"""Case workers' organizations, API keys, key limits and audit trail (issue 10).

Revision 0002, after 0001: `schema_steps.add_case_workers_access`, the same in
every provider.
"""

from __future__ import annotations

from korpu_runtime import schema_steps

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema_steps.add_case_workers_access()


def downgrade() -> None:
    raise NotImplementedError("not undone: the audit trail is append-only; restore a backup")
