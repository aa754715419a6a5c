"""With `korpu up`, every service answers /metrics to the scrape token, with the lag and
pending count of each group it reads, and refuses anyone else."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from korpu import catalog
from korpu.catalog import PROCESSES, SERVICES
from korpu.embedded_redis import free_ports
from korpu_runtime import scrape
from support import cli
from support.metrics import metric

pytestmark = pytest.mark.slow


def test_every_service_korpu_up_starts_shows_its_groups_lag_and_pending(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    chosen = free_ports(PROCESSES)
    env = {f"{name.upper()}_HTTP_PORT": str(port) for name, port in chosen.items()}
    ports = {name: chosen[name] for name in SERVICES}
    with cli.korpu_up(data_dir, env):
        token = scrape.token(data_dir / "keys" / "metrics-scrape-token")
        assert token is not None, "korpu up's services made no scrape token in the keys folder"
        for name, port in ports.items():
            url = f"http://127.0.0.1:{port}/metrics"
            refused = httpx.get(url, timeout=10)
            assert refused.status_code == 401, name
            answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert answer.status_code == 200, f"{name}: {answer.text[:200]}"
            for subscription in catalog.subscriptions(name):
                labels = {"stream": subscription.stream, "group": subscription.group}
                for gauge in ("korpu_consumer_group_lag", "korpu_consumer_group_pending"):
                    assert metric(answer.text, gauge, **labels) == 0, f"{name} {gauge} {labels}"
                assert metric(answer.text, "korpu_consumer_group_readers", **labels) == 1
            assert metric(answer.text, "korpu_outbox_backlog") is not None, name
