"""The `korpu` command run as an operator runs it: a process of its own, no standard input."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path


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
