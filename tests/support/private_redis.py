"""A Redis server of the test's own, which it may stop, restart with its data, or wipe."""

from __future__ import annotations

import shutil
from pathlib import Path

from korpu.embedded_redis import EmbeddedRedis, free_port


class PrivateRedis(EmbeddedRedis):
    """The machine's redis-server on a port of its own, append-only data under `root`.

    Never the developer's Redis on 6379: a chaos test stops and wipes this one.
    The port is chosen once and kept across restarts, so the services reconnect by
    themselves. `stop()` is a SIGTERM: Redis writes its append-only file first.
    """

    def __init__(self, root: Path) -> None:
        self._fixed_port = free_port()
        super().__init__(root, port=self._fixed_port)

    @property
    def port(self) -> int:
        return self._fixed_port

    def wipe(self) -> None:
        """Delete the data of a stopped server, as a lost disk or a FLUSHALL would."""
        for stored in self.directory.iterdir():
            if stored != self.log_path:
                if stored.is_dir():
                    shutil.rmtree(stored)
                else:
                    stored.unlink()
