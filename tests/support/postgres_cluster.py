"""A throwaway PostgreSQL cluster in a temporary directory, for machines running no server."""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from korpu import embedded_redis

PACKAGED_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# initdb refuses to run as root, so as root the cluster belongs to one of these instead.
UNPRIVILEGED_USERS = ("postgres", "nobody")
START_TIMEOUT_SECONDS = 30


class ClusterError(RuntimeError):
    """initdb or pg_ctl failed."""


def plan() -> ThrowawayCluster | None:
    """A cluster ready to start, or None when this machine cannot run one."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return None
    if os.geteuid() != 0:
        return ThrowawayCluster(bin_dir, owner=None)
    owner = _unprivileged_user()
    return None if owner is None else ThrowawayCluster(bin_dir, owner=owner)


def find_bin_dir() -> Path | None:
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    packaged = sorted(glob.glob(PACKAGED_BIN_GLOB), key=_major_version, reverse=True)
    candidates += [Path(found) for found in packaged]
    return next((d for d in candidates if _has_server_tools(d)), None)


def _major_version(bin_dir: str) -> int:
    version = Path(bin_dir).parent.name
    return int(version) if version.isdigit() else 0


def _has_server_tools(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres"))


def _unprivileged_user() -> pwd.struct_passwd | None:
    for name in UNPRIVILEGED_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


class ThrowawayCluster:
    """initdb + pg_ctl start in a fresh temporary directory; stop() deletes everything."""

    def __init__(self, bin_dir: Path, owner: pwd.struct_passwd | None) -> None:
        self.bin_dir = bin_dir
        self.owner = owner
        self.port = 0
        self.root: Path | None = None

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="korpu-test-pg-"))
        if self.owner is not None:
            os.chown(self.root, self.owner.pw_uid, self.owner.pw_gid)
        self.port = embedded_redis.free_port()
        try:
            self._initdb(self.root / "data")
            self._start_server(self.root)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        root, self.root = self.root, None
        if root is None:
            return
        if (root / "data" / "postmaster.pid").exists():
            # Immediate: the data is deleted next, so a clean shutdown checkpoint is wasted time.
            self._run([self._tool("pg_ctl"), "-D", str(root / "data"), "stop", "-m", "immediate"])
        shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> ThrowawayCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _initdb(self, data: Path) -> None:
        self._run(
            [
                self._tool("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )

    def _start_server(self, root: Path) -> None:
        # The socket goes in our own directory: /var/run/postgresql may not exist or be ours.
        options = [
            "-p",
            str(self.port),
            "-k",
            str(root),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ]
        self._run(
            [
                self._tool("pg_ctl"),
                "-D",
                str(root / "data"),
                "-l",
                str(root / "postgres.log"),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-o",
                shlex.join(options),
                "start",
            ]
        )

    def _tool(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _run(self, command: list[str]) -> None:
        owner = self.owner
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            # A directory the owner may enter: the caller's working directory may be private.
            cwd=tempfile.gettempdir(),
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            extra_groups=[] if owner else None,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterError(f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}")
