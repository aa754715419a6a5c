"""The history of each task's answers and the index of what changed since (issue 13).

Revision 0003_tasks, after 0001: the case workers' actions (arrived, not arrived,
declined, transferred) and `GET /v1/tasks` (korpu_provider.revisions.add_task_history).
Tasks answered before keep no history: their view lists the answers from now on.
"""

from __future__ import annotations

from korpu_provider.revisions import add_task_history

revision = "0003_tasks"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_task_history()


def downgrade() -> None:
    raise NotImplementedError("revisions only go forward: restore the backup taken before")
