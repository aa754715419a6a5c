"""`korpu up` keeps every service running: a process that dies is started again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

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
