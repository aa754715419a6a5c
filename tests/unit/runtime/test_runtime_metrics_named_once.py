"""Every metric is named in `korpu_runtime.metrics`, and what reads them keeps to those
names: docs/metrics.md lists each one and a runbook for each alert, and the alert rules
and the dashboard ask only for metrics that exist, so a renamed metric fails here, not
silently on a screen that shows nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from prometheus_client.metrics import MetricWrapperBase
from ruamel.yaml import YAML

from korpu_runtime import metrics

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs" / "metrics.md"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "korpu.json"
# What Prometheus adds to a counter's or a histogram's name.
SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _named() -> dict[str, set[str]]:
    """Each metric's name as exposed (a counter with `_total`) -> its labels."""
    found = {}
    for value in vars(metrics.Metrics()).values():
        if isinstance(value, MetricWrapperBase):
            (family,) = value.describe()
            name = family.name + ("_total" if family.type == "counter" else "")
            found[name] = set(value._labelnames)
    return found


def _base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and name.removesuffix(suffix) + "_total" not in NAMED:
            return name.removesuffix(suffix)
    return name


NAMED = _named()


def _asked_for(text: str) -> set[str]:
    return {name for name in re.findall(r"\bkorpu_[a-z_]+", text) if not name.endswith("_")}


def test_every_metric_is_korpu_prefixed_and_documented_with_its_labels() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    rows = dict(
        re.findall(r"^\| `(korpu_[a-z_]+)` \|\s*([a-z, ]*?)\s*\|", docs, flags=re.MULTILINE)
    )
    assert set(rows) == set(NAMED), "docs/metrics.md lists exactly the metrics the module names"
    for name, labels in NAMED.items():
        documented = {label.strip() for label in rows[name].split(",") if label.strip()}
        assert documented == labels, f"{name}: documented {documented}, has {labels}"


def test_no_label_can_hold_an_id() -> None:
    every = set().union(*NAMED.values())
    allowed = {"stream", "type", "group", "reason", "route", "method", "status", "region"}
    # `kind`: why a case is in the coordinator's queue, a closed vocabulary (ActionNeeded).
    assert every <= allowed | {"provider", "kind"}, every - allowed


@pytest.mark.parametrize("where", [ALERTS, DASHBOARD], ids=lambda path: path.name)
def test_rules_and_dashboard_ask_only_for_metrics_that_exist(where: Path) -> None:
    asked = {_base(name) for name in _asked_for(where.read_text(encoding="utf-8"))}
    known = {name.removesuffix("_total") for name in NAMED} | set(NAMED)
    assert asked, f"{where.name} asks for no metric at all"
    assert asked <= known, f"{where.name} asks for unknown metrics: {asked - known}"


def test_every_alert_has_a_runbook_section() -> None:
    rules = YAML(typ="safe", pure=True).load(ALERTS.read_text(encoding="utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    docs = DOCS.read_text(encoding="utf-8")
    for rule in alerts:
        name = rule["alert"]
        assert f"\n### {name}\n" in docs, f"docs/metrics.md has no section for {name}"
        assert rule["annotations"]["runbook"] == f"docs/metrics.md#{name.lower()}"


def test_the_dashboard_reads_the_provisioned_data_source() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    sources = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    (source,) = YAML(typ="safe", pure=True).load(sources.read_text("utf-8"))["datasources"]
    assert source["url"] == "http://prometheus:9090"
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
