"""A Redis server of the test's own, which it may stop, restart with its data, or wipe."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType

from korpu.embedded_redis import EmbeddedRedis, free_port


class PrivateRedis:
    """The machine's redis-server on a port of its own, append-only data under `root`.

    Never the developer's Redis on 6379: a chaos test stops and wipes this one.
    The port stays the same across restarts, so the services reconnect by themselves.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self._server = EmbeddedRedis(root, port=self.port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file before it exits."""
        self._server.stop()

    def wipe(self) -> None:
        """Delete the data of a stopped server, as a lost disk or a FLUSHALL would."""
        for stored in self._server.directory.iterdir():
            if stored != self._server.log_path:
                if stored.is_dir():
                    shutil.rmtree(stored)
                else:
                    stored.unlink()

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
