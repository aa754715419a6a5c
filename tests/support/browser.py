"""The console in a real browser: Debian's Chromium driven by Playwright, and a `korpu up` to show.

Playwright's own browser download is not used (it needs the network and a build for
this machine); the machine's Chromium is, installed by `scripts/machine-tools`.
Shared by tests/browser and `scripts/screenshots`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from playwright import sync_api

from korpu import catalog
from korpu.embedded_redis import free_ports
from support import cli

# The same line `scripts/machine-tools` prints when it cannot install Chromium.
MISSING = (
    "chromium not found: the pages in a real browser not tested (as root: apt-get install chromium)"
)
# Headless, as in CI: no sandbox (a container's root has none to give), no GPU, /tmp
# rather than a small /dev/shm, and no calls home.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
# The width the README's screenshots are taken at; the tests use it too.
VIEWPORT: sync_api.ViewportSize = {"width": 1280, "height": 800}
DIRECTORY = Path(__file__).resolve().parents[2] / "deploy" / "demo-directory.json"
# The shelter's directory table: while it is away, a request to the shelter fails.
SHELTER_DIRECTORY_TABLE = "facilities"
# A task request that fails once is a dead letter at once, within a second.
ONE_TRY = {"SHELTER_MAX_DELIVERIES": "1", "SHELTER_CLAIM_IDLE_MS": "300"}


def chromium() -> str | None:
    return shutil.which("chromium")


def launch(playwright: sync_api.Playwright) -> sync_api.Browser:
    path = chromium()
    assert path is not None, MISSING
    return playwright.chromium.launch(executable_path=path, args=ARGS)


@dataclasses.dataclass
class System:
    """A running `korpu up`: where the console and the referral service answer, and an
    agency's key for the referral API."""

    data_dir: Path
    console: str
    referral: str
    api_key: str

    def account(self, name: str, role: str) -> str:
        """A console account made as an operator makes one (`korpu users create`); its
        password, made by the command and shown once."""
        made = cli.korpu("users", "create", name, "--role", role, "--json", data_dir=self.data_dir)
        assert made.returncode == 0, made.stderr
        password: str = json.loads(made.stdout)["password"]
        return password

    def agency(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return httpx.Client(base_url=self.referral, headers=headers, timeout=10)

    def submit(self, body: dict[str, Any]) -> str:
        with self.agency() as agency:
            answer = agency.post(
                "/v1/referrals", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
        assert answer.status_code in (201, 202), answer.text
        referral_id: str = answer.json()["id"]
        return referral_id

    def referral_view(self, referral_id: str) -> dict[str, Any]:
        with self.agency() as agency:
            answer = agency.get(f"/v1/referrals/{referral_id}")
        answer.raise_for_status()
        view: dict[str, Any] = answer.json()
        return view

    @contextlib.contextmanager
    def shelter_directory_away(self) -> Iterator[None]:
        """The shelter's directory table gone for a while, as while an operator restores it
        from a backup: every request to the shelter fails meanwhile, then works again.

        Rejected: holding SQLite's write lock instead, which the shelter waits out for
        30 seconds (its busy timeout) before failing, and which stops every other
        transaction of the shelter's too.
        """
        away = f"{SHELTER_DIRECTORY_TABLE}_away"
        self._shelter_sql(f"ALTER TABLE {SHELTER_DIRECTORY_TABLE} RENAME TO {away}")
        try:
            yield
        finally:
            self._shelter_sql(f"ALTER TABLE {away} RENAME TO {SHELTER_DIRECTORY_TABLE}")

    def _shelter_sql(self, statement: str) -> None:
        with contextlib.closing(sqlite3.connect(self.data_dir / "shelter.db", timeout=30)) as db:
            db.execute(statement)
            db.commit()


@contextlib.contextmanager
def running(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[System]:
    """`korpu up` in `data_dir` on free ports with its embedded Redis, the demo directory
    loaded and an agency made (`korpu seed`, `korpu org create`)."""
    ports = free_ports(catalog.PROCESSES)
    settings = {f"{name.upper()}_HTTP_PORT": str(port) for name, port in ports.items()}
    with cli.korpu_up(data_dir, {**settings, **(env or {})}):
        seeded = cli.korpu("seed", str(DIRECTORY), data_dir=data_dir)
        assert seeded.returncode == 0, seeded.stderr
        made = cli.korpu("org", "create", "Browser test agency", "--json", data_dir=data_dir)
        assert made.returncode == 0, made.stderr
        yield System(
            data_dir=data_dir,
            console=f"http://127.0.0.1:{ports[catalog.CONSOLE]}",
            referral=f"http://127.0.0.1:{ports[catalog.REFERRAL]}",
            api_key=json.loads(made.stdout)["api_key"],
        )


def sign_in(page: sync_api.Page, console: str, name: str, password: str) -> None:
    """Through the sign-in form, as a person would; back on the page asked for."""
    page.goto(f"{console}/sign-in")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)
