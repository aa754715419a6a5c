"""What an operator types during and after an incident: `korpu status`, `korpu recover`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from typing import Any


def korpu_json(*args: str, redis_url: str) -> Any:
    """`korpu ARGS --json` in its own process, with the services' environment and Redis."""
    done = subprocess.run(
        [sys.executable, "-m", "korpu", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "REDIS_URL": redis_url},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, f"korpu {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


def status(redis_url: str) -> dict[str, Any]:
    found: dict[str, Any] = korpu_json("status", redis_url=redis_url)
    return found


def dead_letters(redis_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = korpu_json("dlq", "list", redis_url=redis_url)
    return found


def recover(since: datetime, redis_url: str) -> dict[str, Any]:
    found: dict[str, Any] = korpu_json("recover", "--since", since.isoformat(), redis_url=redis_url)
    return found
