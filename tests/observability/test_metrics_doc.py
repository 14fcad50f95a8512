"""docs/metrics.md names every metric the services export, with its type and labels."""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry
from tests.support.live import REPO

from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_ingest.metrics import IngestMetrics
from slawatch_notifier.metrics import NotifierMetrics

ROW = re.compile(r"^\| `(?P<name>slawatch_\w+)` \| (?P<type>\w+) \| (?P<labels>[^|]*) \|", re.M)


def documented() -> dict[str, tuple[str, tuple[str, ...]]]:
    text = (REPO / "docs/metrics.md").read_text(encoding="utf-8")
    rows = {}
    for m in ROW.finditer(text):
        labels = tuple(x.strip() for x in m["labels"].split(",") if x.strip() not in ("", "–"))
        rows[m["name"]] = (m["type"], labels)
    return rows


def exported() -> dict[str, tuple[str, tuple[str, ...]]]:
    found = {}
    for cls in (IngestMetrics, EvaluatorMetrics, NotifierMetrics):
        registry = CollectorRegistry()
        cls(registry)
        for metric in list(registry._collector_to_names):
            if hasattr(metric, "_labelnames"):
                suffix = "_total" if metric._type == "counter" else ""
                found[metric._name + suffix] = (metric._type, tuple(metric._labelnames))
    return found


@pytest.mark.parametrize("name", sorted(exported()))
def test_every_exported_metric_is_documented_as_exported(name: str) -> None:
    assert documented().get(name) == exported()[name]


def test_nothing_documented_is_missing_from_the_code() -> None:
    assert set(documented()) <= set(exported())
