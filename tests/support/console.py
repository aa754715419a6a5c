"""The console as an operator meets it: its own process on a real port, signed in over HTTP."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Nothing listens on port 1: an instance the overview must show unreachable.
GONE = "http://127.0.0.1:1"


@dataclasses.dataclass(frozen=True)
class ConsoleProcess:
    url: str
    env: dict[str, str]
    database: Path

    def korpu(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "korpu", *args],
            env=self.env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def account(self, name: str, role: str) -> str:
        """A new account; its password, made by `korpu users create`."""
        made = self.korpu("users", "create", name, "--role", role, "--json")
        assert made.returncode == 0, made.stderr
        password: str = json.loads(made.stdout)["password"]
        return password

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def signed_in(self, name: str, password: str) -> SignedIn:
        client = self.client()
        answer = sign_in(client, name, password)
        assert answer.status_code == 303, answer.text
        # Each role lands on its own first page.
        return SignedIn(client, csrf_of(client.get("/", follow_redirects=True).text))


@dataclasses.dataclass
class SignedIn:
    http: httpx.Client
    csrf: str

    def post(self, path: str, **form: str) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf, **form})


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no form token on the page"
    return found.group(1)


def sign_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    token = csrf_of(client.get("/sign-in").text)
    return client.post(
        "/sign-in", data={"name": name, "password": password, "csrf": token, "next": "/"}
    )


@contextlib.contextmanager
def running(env: dict[str, str], port: int, database: Path) -> Iterator[ConsoleProcess]:
    """`korpu serve console` with `env`, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "korpu", "serve", "console"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    found = ConsoleProcess(f"http://127.0.0.1:{port}", env, database)
    try:
        wait_ready(found.url, process)
        yield found
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_ready(url: str, process: subprocess.Popen[bytes], service: str = "console") -> None:
    """Until `service`'s process answers ready on `url` (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{service} exited at start"
        try:
            if httpx.get(f"{url}/health/ready", timeout=2).json().get("service") == service:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{service} was not ready within 60 s")


@contextlib.contextmanager
def serving(name: str, env: dict[str, str], port: int) -> Iterator[str]:
    """`korpu serve NAME` on `port` with `env`, ready; its URL, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "korpu", "serve", name],
        env={**env, f"{name.upper()}_HTTP_PORT": str(port)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, name)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
