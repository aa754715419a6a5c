"""`korpu up`: every service as its own process, restarted when it dies, stopped gracefully."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

import httpx

from korpu import agency_users, catalog, console_keys, redis_acl
from korpu.embedded_redis import EmbeddedRedis, free_ports, without_password
from korpu_runtime import private
from korpu_runtime.settings import ServiceSettings

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 20.0
RESTART_BACKOFF_SECONDS = 1.0


class StartError(RuntimeError):
    pass


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port whose last connections wait out TIME_WAIT (a stop
        # with clients connected) is free; one somebody listens on is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def instance_name(service: str, replica: int) -> str:
    """`shelter` for the first replica, `shelter-2` for the second: keys of `Stack.processes`."""
    return service if replica == 1 else f"{service}-{replica}"


class ServiceProcess:
    """One service's process; restarted by the supervisor as compose's restart policy would."""

    def __init__(
        self, name: str, env: dict[str, str], port: int, log_dir: Path, replica: int = 1
    ) -> None:
        self.name, self.env, self.port, self.replica = name, env, port, replica
        self.instance = instance_name(name, replica)
        self.log_path = log_dir / f"{self.instance}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        # 0600 whatever this process's umask; the child's own is set from its first
        # instruction (`umask`), before it writes anything.
        descriptor = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "korpu", "serve", self.name],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                umask=private.UMASK,
            )

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def ready(self) -> bool:
        try:
            answer = httpx.get(f"{self.url}/health/ready", timeout=2)
            # Another service on this port (it took the port first) is not this one ready.
            return answer.status_code == 200 and answer.json().get("service") == self.name
        except (httpx.HTTPError, ValueError):
            return False

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, deadline: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Stack:
    """Redis (embedded when no URL is given), every service (`catalog.SERVICES`), then the
    console.

    The embedded Redis has a user per service (`korpu.redis_acl`), with passwords made
    once per data folder and kept in its keys folder; each service process gets a
    `REDIS_URL` signing in as itself, and `redis_url` signs in as the operator.
    With a URL given, every service uses it (its operator manages Redis's users).

    `replicas` runs more than one process of a service (`{"shelter": 3}`), each with
    its own HTTP port and consumer name, all on the service's one database. They are
    keyed `shelter`, `shelter-2`, `shelter-3` in `processes`; `ports` may name any of them.
    """

    def __init__(
        self,
        data_dir: Path,
        redis_url: str | None = None,
        ports: dict[str, int] | None = None,
        extra_env: dict[str, str] | None = None,
        replicas: dict[str, int] | None = None,
        service_env: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.redis_url = redis_url
        self.embedded: EmbeddedRedis | None = None
        # Where the embedded Redis's passwords are kept (mode 0600).
        self.redis_passwords_file: Path | None = None
        self.ports = ports or {}
        self.extra_env = extra_env or {}
        self.replicas = replicas or {}
        # Per service, over everything else: its own Redis user (`REDIS_URL`), say.
        self.service_env = service_env or {}
        self.processes: dict[str, ServiceProcess] = {}
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        tightened = private.tighten(private.folder(self.data_dir))
        if tightened:
            print(
                f"korpu: {tightened} files and folders in {self.data_dir} were readable "
                "by others (made by an older build); now their owner's only",
                file=sys.stderr,
            )
        if self.redis_url is None:
            keys_dir = ServiceSettings(service="korpu", data_dir=self.data_dir).keys_dir
            passwords = redis_acl.passwords(keys_dir)
            self.redis_passwords_file = keys_dir / redis_acl.PASSWORDS_FILE
            self.embedded = EmbeddedRedis(
                self.data_dir, passwords=passwords, more_users=agency_users.lines(keys_dir)
            )
            self.embedded.start()
            self.redis_url = self.embedded.url_for(redis_acl.OPERATOR)
        log_dir = private.folder(self.data_dir / "logs")
        self._migrate()
        # The console's own read-only key at each provider (its Capacity page), made in
        # the providers' databases now that they exist; kept from one start to the next.
        console_keys.ensure(ServiceSettings(service="korpu", data_dir=self.data_dir).keys_dir)
        ports = self._ports()
        for name in catalog.PROCESSES:
            for replica in range(1, self.replicas.get(name, 1) + 1):
                self._start_replica(name, replica, ports[instance_name(name, replica)], log_dir)
        self._wait_ready()
        self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._watcher.start()

    def _ports(self) -> dict[str, int]:
        """Every instance's port: as given, else the service's own for its first replica,
        else a free one, never one another instance has (a port chosen free is only
        bound when its process starts, so two chosen apart could be the same)."""
        wanted = {
            instance_name(name, replica): self.ports.get(instance_name(name, replica))
            or (catalog.settings(name).http_port if replica == 1 else None)
            for name in catalog.PROCESSES
            for replica in range(1, self.replicas.get(name, 1) + 1)
        }
        ports = {instance: port for instance, port in wanted.items() if port is not None}
        missing = [instance for instance, port in wanted.items() if port is None]
        while missing:
            for instance, port in free_ports(missing).items():
                if port not in ports.values():
                    ports[instance] = port
            missing = [instance for instance in missing if instance not in ports]
        return ports

    def _start_replica(self, name: str, replica: int, port: int, log_dir: Path) -> None:
        instance = instance_name(name, replica)
        env = self._env(name, port)
        if name == catalog.CONSOLE:
            # Where every instance started before it answers (its overview asks each).
            urls = {other: process.url for other, process in self.processes.items()}
            env["CONSOLE_SERVICE_URLS"] = json.dumps(urls)
        if not _port_free(port):
            # Checked first: a service of another run answering on the port would
            # otherwise pass for ours at the readiness check.
            raise StartError(
                f"port {port} for {instance} is taken (another `korpu up`?); "
                f"set {name.upper()}_HTTP_PORT to another port"
            )
        process = ServiceProcess(name, env, port, log_dir, replica)
        self.processes[instance] = process
        process.start()

    def _migrate(self) -> None:
        """Every service's database at the newest schema before any process starts.

        Each service would migrate at its start too; done here first, an old data
        folder's upgrade is one line per service, and a database that cannot be
        migrated stops `korpu up` with why, not with a service restarting for ever.
        One `korpu migrate` process per service, all at once, each with the
        environment its service gets (its own database URL).
        """
        runs = {
            name: subprocess.Popen(
                [sys.executable, "-m", "korpu", "migrate", "--service", name, "--json"],
                env=self._env(name, 0),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                umask=private.UMASK,
            )
            for name in catalog.PROCESSES
        }
        for name, run in runs.items():
            out, err = run.communicate(timeout=READY_TIMEOUT_SECONDS)
            if run.returncode != 0:
                raise StartError(err.decode(errors="replace").strip() or f"{name}: migrate failed")
            for done in json.loads(out):
                # A new database is no news; an existing one upgraded is.
                if done["before"] not in (None, done["revision"]):
                    how = " (made before migrations)" if done["made_before_migrations"] else ""
                    print(
                        f"korpu: {name} database upgraded from {done['before']}{how} "
                        f"to {done['revision']}",
                        file=sys.stderr,
                    )

    @property
    def redis_address(self) -> str:
        """Where Redis is, without any password: what may be printed."""
        return without_password(str(self.redis_url))

    def instances(self, name: str) -> list[ServiceProcess]:
        """Every replica of one service, the first first."""
        return [process for process in self.processes.values() if process.name == name]

    def _env(self, name: str, port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.extra_env)
        # The console signs in to Redis as the operator: it does what `korpu dlq` does.
        user = redis_acl.OPERATOR if name == catalog.CONSOLE else name
        redis_url = self.embedded.url_for(user) if self.embedded else self.redis_url
        env["REDIS_URL"] = str(redis_url)
        env["KORPU_DATA_DIR"] = str(self.data_dir)
        if env.get("KORPU_KEYS_DIR"):
            # Passed on as the operator gave it, made absolute like the data folder.
            env["KORPU_KEYS_DIR"] = str(Path(env["KORPU_KEYS_DIR"]).resolve())
        env[f"{name.upper()}_HTTP_PORT"] = str(port)
        env.update(self.service_env.get(name, {}))
        return env

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        waiting = set(self.processes)
        while waiting:
            for name in sorted(waiting):
                process = self.processes[name]
                if process.exited():
                    raise StartError(f"{name} exited at start; see {process.log_path}")
                if process.ready():
                    waiting.discard(name)
            if waiting and time.monotonic() > deadline:
                raise StartError(f"not ready in time: {', '.join(sorted(waiting))}")
            time.sleep(0.1)

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for process in self.processes.values():
                if process.exited() and not self._stopping.is_set():
                    code = process.process.returncode if process.process else None
                    print(f"korpu: {process.instance} exited ({code}); restarting", file=sys.stderr)
                    time.sleep(RESTART_BACKOFF_SECONDS)
                    process.restarts += 1
                    process.start()

    def stop(self) -> None:
        """SIGTERM every service (in-flight work finishes), then stop Redis."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
        # The console, then the referral service: it stops taking referrals before its
        # providers go.
        for name in reversed(catalog.PROCESSES):
            for process in self.instances(name):
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in self.processes.values():
            process.wait(deadline)
        if self.embedded is not None:
            self.embedded.stop()

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
