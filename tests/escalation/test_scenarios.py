"""The contract's escalation scenarios (15, 16, 17), with their expected notifications exactly."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from slawatch.timeutil import parse_duration, parse_time
from tests.escalation.driving import drive
from tests.support.scenarios import scenario_versions

CONTRACT = Path(__file__).parent.parent / "scenarios" / "contract"
ESCALATION = ["15-escalation-chain-basic", "16-acknowledgement-stops-chain", "17-quiet-hours-hold"]


def _time(value: Any) -> int:
    return parse_time(value.isoformat() if isinstance(value, datetime) else str(value))


def _norm(key: str, value: Any) -> Any:
    if key in {"time", "deadline", "window_start", "window_end"} and value is not None:
        return ("t", _time(value))
    if isinstance(value, float | int) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


def _project(output: dict[str, Any], keys: list[str]) -> tuple[Any, ...]:
    return tuple((k, _norm(k, output.get(k))) for k in keys)


def _problems(sc: dict[str, Any], outputs: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    expected = sc.get("expect") or []
    for typ in sc["compare"]:
        unmatched = [o for o in outputs if o["type"] == typ]
        for e in (e for e in expected if e["type"] == typ):
            keys = sorted(e)
            hit = next((o for o in unmatched if _project(o, keys) == _project(e, keys)), None)
            if hit is None:
                problems.append(f"missing {e}")
            else:
                unmatched.remove(hit)
        problems += [f"unexpected {o}" for o in unmatched]
    return problems


@pytest.mark.parametrize("name", ESCALATION)
def test_escalation_scenario(name: str) -> None:
    sc = yaml.safe_load((CONTRACT / f"{name}.yaml").read_text())
    run = drive(
        scenario_versions(sc),
        sc["events"],
        until=_time(sc["until"]),
        lateness=parse_duration(str(sc["lateness"])) if sc.get("lateness") else 0,
    )
    assert _problems(sc, run.outputs) == []


def test_scenario_16_leaves_only_the_unacknowledged_instance_running() -> None:
    sc = yaml.safe_load((CONTRACT / "16-acknowledgement-stops-chain.yaml").read_text())
    run = drive(scenario_versions(sc), sc["events"], until=_time(sc["until"]))
    (view,) = run.planner.running()
    assert view.subject == "ticket:T-2"
    assert [(s.step, s.repeat) for s in view.sent] == [(1, 0), (2, 0)]
    assert view.due == ()


def test_scenario_15_records_are_whole_and_ordered() -> None:
    sc = yaml.safe_load((CONTRACT / "15-escalation-chain-basic.yaml").read_text())
    run = drive(scenario_versions(sc), sc["events"], until=_time(sc["until"]))
    notes = run.notifications
    assert next(list(n) for n in notes) == [
        "id",
        "type",
        "time",
        "escalation",
        "step",
        "repeat",
        "notice",
        "channel",
        "recipient",
        "cause",
        "subject",
        "sla",
        "target",
        "cycle",
        "status",
    ]
    breach = next(o for o in run.outputs if o["type"] == "sla.breached")
    warning = next(o for o in run.outputs if o["type"] == "sla.warning" and o["threshold"] == 0.75)
    assert [(n["step"], n["repeat"], n["cause"]) for n in notes] == [
        (1, 0, warning["id"]),
        (2, 0, breach["id"]),
        (2, 0, breach["id"]),
        (3, 0, breach["id"]),
        (3, 1, breach["id"]),
    ]
    assert [n["channel"] for n in notes[1:3]] == ["chat", "email"]
    at_ten = [o["type"] for o in run.outputs if o["time"] == "2026-03-02T10:00:00Z"]
    assert at_ten == ["sla.breached", "notification", "notification"]
