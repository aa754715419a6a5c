"""Case workers' organizations, API keys, key limits and audit trail (issue 10).

Revision 0002, after 0001: the same steps in every provider that existed before it.
"""

from korpu_provider.revisions import append_only as downgrade
from korpu_runtime.schema_steps import add_case_workers_access as upgrade

revision = "0002"
down_revision = "0001"
__all__ = ["downgrade", "upgrade"]
