"""The benchmark scripts still run, on a handful of referrals: each broke unseen before.

Figures are not judged here (a busy machine would fail any deadline); that the
scripts get through and print their summary lines is.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    # With no REDIS_URL each runs its own Redis, as on a fresh machine.
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
        cwd=ROOT,
    )


def test_the_throughput_benchmark_runs_and_prints_its_ratios() -> None:
    done = _run("throughput.py", "-n", "30", "--alone", "3", "--seconds", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "throughput ratio Körpü/baseline: " in done.stdout
    assert "one referral alone, submission to coordinated: " in done.stdout


def test_the_soak_runs_and_coordinates_every_referral() -> None:
    done = _run("soak.py", "-n", "60", "--rate", "30", "--every", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "coordinated: 60 of 60 submitted, all" in done.stdout
    assert "dead letters: 0" in done.stdout
