"""A PostgreSQL cluster of the test's own, which it may stop for a while and start again."""

from __future__ import annotations

from korpu import catalog
from support import postgres_cluster, postgres_server


class PausableCluster(postgres_cluster.ThrowawayCluster):
    """A throwaway cluster on a port of its own (never the machine's 5432), with an outage.

    `halt` shuts the server down as an operator or a crash of the host would,
    and `resume` starts it again on the same port and data directory.
    """

    def halt(self) -> None:
        assert self.root is not None, "the cluster is not started"
        # Fast: every client connection is cut at once, as a failing server would do.
        self._run([self._tool("pg_ctl"), "-D", str(self.root / "data"), "stop", "-m", "fast"])

    def resume(self) -> None:
        assert self.root is not None, "the cluster is not started"
        self._start_server(self.root)

    def service_databases(self, hint: str) -> dict[str, str]:
        """One fresh database per service, by service name; dropped with the cluster."""
        factory = postgres_server.DatabaseFactory(self.admin_url)
        return {name: factory(f"{hint}_{name}") for name in catalog.SERVICES}


def plan() -> PausableCluster | None:
    """A cluster ready to start, or None when this machine has no PostgreSQL binaries."""
    found = postgres_cluster.plan()
    return None if found is None else PausableCluster(found.bin_dir, found.owner)
