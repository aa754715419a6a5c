"""`korpu up` keeps every service running: a process that dies is started again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from korpu.catalog import PROCESSES, PROVIDERS
from korpu.embedded_redis import free_ports
from support import cli
from support.infra import wait_until
from support.stack import running_stack

pytestmark = pytest.mark.slow


def test_a_killed_service_is_restarted_and_ready_again(
    spare_redis_url: str, tmp_path: Path
) -> None:
    with running_stack(tmp_path, spare_redis_url, {}) as (stack, _agency):
        shelter = stack.processes["shelter"]
        assert shelter.process is not None
        killed = shelter.process.pid
        os.kill(killed, signal.SIGKILL)

        def ready_again() -> bool:
            restarted = shelter.process is not None and shelter.process.pid != killed
            if not restarted:
                return False
            try:
                answer = httpx.get(f"{shelter.url}/health/ready", timeout=2)
            except httpx.HTTPError:
                return False
            return answer.status_code == 200

        wait_until(ready_again, timeout=30, interval=0.2, message="shelter was not restarted")
        assert shelter.restarts == 1


def test_korpu_up_starts_again_at_once_after_a_stop_with_a_client_still_connected(
    tmp_path: Path,
) -> None:
    # The services close their kept-alive connections as they stop, which leaves the
    # ports in TIME_WAIT for a minute: a start right after must still take them.
    data_dir = tmp_path / "data"
    ports = {f"{name.upper()}_HTTP_PORT": str(port) for name, port in free_ports(PROCESSES).items()}
    referral = f"http://127.0.0.1:{ports['REFERRAL_HTTP_PORT']}"
    with cli.korpu_up(data_dir, ports) as up, httpx.Client(base_url=referral) as client:
        assert client.get("/health/live").status_code == 200  # kept alive
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=60) == 0
    with cli.korpu_up(data_dir, ports), httpx.Client(base_url=referral) as client:
        assert client.get("/health/ready").json()["service"] == "referral"
        # A second terminal in the same folder finds the embedded Redis `korpu up` started
        # (on a port of its choosing), not whatever listens on Redis's usual port.
        status = cli.korpu("status", "--json", data_dir=data_dir, unset=["REDIS_URL"])
        assert status.returncode == 0, status.stderr
        groups = {g["name"] for s in json.loads(status.stdout)["streams"] for g in s["groups"]}
        assert {"referral-coordinator", *PROVIDERS} <= groups


def test_korpu_up_json_says_where_everything_runs_and_the_running_system_checks_healthy(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    ports = {f"{name.upper()}_HTTP_PORT": str(port) for name, port in free_ports(PROCESSES).items()}
    up = subprocess.Popen(
        [sys.executable, "-m", "korpu", "--data-dir", str(data_dir), "up", "--json"],
        env=cli.environment(**ports), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    with cli.stopped_at_the_end(up, signal.SIGKILL):
        assert up.stdout is not None
        started = json.loads(up.stdout.readline())  # once every service is ready
        assert set(started) == {"redis", "redis_passwords_file", "services"}
        assert set(started["services"]) == set(PROCESSES)
        for name, where in started["services"].items():
            assert where["url"] == f"http://127.0.0.1:{ports[f'{name.upper()}_HTTP_PORT']}"
            assert httpx.get(f"{where['url']}/health/ready").status_code == 200
        # The console, at its listed address, shows nothing but its sign-in form.
        console = httpx.get(started["services"]["console"]["url"] + "/")
        assert console.status_code == 303
        assert console.headers["location"].startswith("/sign-in")
        passwords = json.loads(Path(started["redis_passwords_file"]).read_text())
        assert not any(password in started["redis"] for password in passwords.values())

        # Every group read by a live service, nothing pending, no dead letter: healthy.
        def check() -> subprocess.CompletedProcess[str]:
            return cli.korpu("status", "--check", data_dir=data_dir, unset=["REDIS_URL"])

        wait_until(lambda: check().returncode == 0, timeout=30, interval=1,
                   message=f"korpu status --check on a quiet system: {check().stderr}")  # fmt: skip
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=60) == 0
        assert up.stdout.read() == ""  # the one document was all
