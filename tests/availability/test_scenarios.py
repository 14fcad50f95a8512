"""Contract scenarios 13 and 14 through the availability fold, and their figures exactly."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from slawatch.clock.catalog import Catalog
from slawatch.timeutil import parse_time
from tests.availability.support import Run, fold, parse
from tests.support.scenarios import DEFAULT_COMPARE, scenario_versions

CONTRACT = Path(__file__).parent.parent / "scenarios" / "contract"
SCENARIOS = ["13-availability-budget-warnings", "14-availability-window-closed-credit"]


def _comparable(key: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return parse_time(value.isoformat())
    if key in {"time", "window_start", "window_end"} and isinstance(value, str):
        return parse_time(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


def _run(name: str) -> tuple[dict[str, Any], Run]:
    sc = yaml.safe_load((CONTRACT / f"{name}.yaml").read_text())
    events = [parse(json.loads(json.dumps(e, default=str))) for e in sc["events"]]
    return sc, fold(Catalog(scenario_versions(sc)), events, _comparable("time", sc["until"]))


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_expectations(name: str) -> None:
    sc, run = _run(name)
    for typ in sc.get("compare", DEFAULT_COMPARE):
        want = [e for e in sc["expect"] if e["type"] == typ]
        got = run.of(typ)
        assert len(got) == len(want), (typ, got)
        for expectation in want:
            keys = sorted(expectation)
            project = {k: _comparable(k, expectation[k]) for k in keys}
            assert any({k: _comparable(k, o.get(k)) for k in keys} == project for o in got), (
                expectation,
                got,
            )


def test_scenario_13_figures() -> None:
    _, run = _run("13-availability-budget-warnings")
    assert [(o["type"], o["time"], o.get("threshold")) for o in run.of()] == [
        ("sla.availability.warning", "2026-04-10T11:48:00Z", 0.5),
        ("sla.availability.warning", "2026-04-10T12:42:00Z", 0.75),
        ("sla.availability.warning", "2026-04-20T00:14:24Z", 0.9),
        ("sla.availability.breached", "2026-04-20T00:36:00Z", None),
    ]
    first, second, third, breach = run.of()
    assert [w["budget_consumed"] for w in (first, second, third)] == [0.5, 0.75, 0.9]
    # at 11:48 on April 10: 6,480 s down of 820,080 s measured
    assert first["availability"] == round(1 - 6480 / 820_080, 9)
    assert (breach["budget_seconds"], breach["downtime_seconds"]) == (12960, 12960)
    assert breach["availability"] == round(1 - 12960 / 1_643_760, 9)


def test_scenario_14_figures() -> None:
    _, run = _run("14-availability-window-closed-credit")
    warning, breach, close = run.of()
    assert (warning["time"], warning["threshold"]) == ("2026-04-07T08:21:36Z", 0.5)
    assert (breach["time"], breach["budget_seconds"]) == ("2026-04-07T08:43:12Z", 2592)
    assert close == {
        **close,
        "time": "2026-05-01T00:00:00Z",
        "window_start": "2026-04-01T00:00:00Z",
        "window_end": "2026-05-01T00:00:00Z",
        "availability": 0.997222222,
        "outcome": "breached",
        "credit_percent": 10,
        "downtime_seconds": 7200,
        "measured_seconds": 2_592_000,
    }
    assert run.state.windows["api-uptime"].start == parse_time("2026-05-01T00:00:00Z")


def test_window_reading_assumes_the_status_in_force_holds() -> None:
    """What the gauges read: the figures at the last change, then the status in force
    carried forward to the instant asked for, without changing the window."""
    sc = yaml.safe_load((CONTRACT / f"{SCENARIOS[0]}.yaml").read_text())
    events = [parse(json.loads(json.dumps(e, default=str))) for e in sc["events"]]
    at = parse_time("2026-04-10T11:48:00Z")
    run = fold(Catalog(scenario_versions(sc)), [e for e in events if e.time <= at], at)
    (window,) = run.state.windows.values()
    first = window.reading(at)
    assert first == (1 - 6480 / 820_080, 0.5, 6480.0, 820_080.0)
    later = window.reading(parse_time("2026-04-10T12:42:00Z"))
    assert later == (1 - 9720 / 823_320, 0.25, 9720.0, 823_320.0)
    assert window.reading(at) == first
