"""The `korpu` command run as an operator runs it: a process of its own, no standard input."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

# What `korpu up` prints once every service is ready.
UP_READY_LINE = "Ctrl-C stops everything."


def korpu(
    *args: str,
    data_dir: Path,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`korpu --data-dir DATA_DIR ARGS`, with `env` added and `unset` removed from ours.

    KORPU_DATA_DIR is always removed: the test run sets one of its own
    (tests/conftest.py), and `--data-dir` is what an operator would give.
    """
    environment = {key: value for key, value in os.environ.items() if key not in set(unset)}
    environment.pop("KORPU_DATA_DIR", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "korpu", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def environment(**extra: str) -> dict[str, str]:
    """Ours without the run's own KORPU_DATA_DIR, KORPU_KEYS_DIR and REDIS_URL, then `extra`."""
    drop = {"KORPU_DATA_DIR", "KORPU_KEYS_DIR", "REDIS_URL"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


@contextlib.contextmanager
def stopped_at_the_end(process: subprocess.Popen[Any], how: int) -> Iterator[None]:
    """Send `how` to `process` at the end if it still runs; kill it if it outlives 30 s."""
    try:
        yield
    finally:
        if process.poll() is None:
            process.send_signal(how)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def korpu_up(
    data_dir: Path, env: Mapping[str, str], *, umask: int = -1
) -> Iterator[subprocess.Popen[str]]:
    """`korpu up` as an operator starts it (`environment(**env)`), once it says every
    service is ready; stopped with Ctrl-C (SIGINT) at the end unless stopped before."""
    up = subprocess.Popen(
        [sys.executable, "-m", "korpu", "--data-dir", str(data_dir), "up"],
        env=environment(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        umask=umask,
    )
    with stopped_at_the_end(up, signal.SIGINT):
        assert up.stdout is not None
        seen = []
        for line in up.stdout:  # ends when the process does
            seen.append(line)
            if line.strip() == UP_READY_LINE:
                break
        else:
            raise AssertionError("korpu up stopped:\n" + "".join(seen))
        yield up
