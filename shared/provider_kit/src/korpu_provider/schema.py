"""The tables every provider database holds besides its directory and tasks."""

from __future__ import annotations

import sqlalchemy as sa

from korpu_runtime import provider_access
from korpu_runtime import tables as runtime_tables


class Schema:
    """A provider's metadata with the runtime's outbox and inbox and its case workers' access.

    The case workers' organizations, their API keys and the audit trail of what
    they read and did (korpu_runtime.provider_access) live in the provider's own
    database, beside its tasks.
    """

    def __init__(self) -> None:
        self.metadata = sa.MetaData()
        self.outbox, self.inbox = runtime_tables.add_runtime_tables(self.metadata)
        self.access = provider_access.add_tables(self.metadata)
