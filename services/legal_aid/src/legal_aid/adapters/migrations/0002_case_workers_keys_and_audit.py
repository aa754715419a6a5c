"""Case workers' organizations, API keys, key limits and audit trail (issue 10).

Revision 0002, after 0001. Each table is made only where it is missing: a
database made by a build between 23a1693 and migrations has some already.
"""

from __future__ import annotations

from korpu_runtime import schema_steps

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if schema_steps.missing("organizations"):
        schema_steps.create_organizations()
    if schema_steps.missing("organization_key_limits"):
        schema_steps.create_key_limits()
    if schema_steps.missing("audit_log"):
        schema_steps.create_audit_log("task_id", 64)


def downgrade() -> None:
    raise NotImplementedError("not undone: the audit trail is append-only; restore a backup")
