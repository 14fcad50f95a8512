"""Running scenario files (``replay.md``, "Scenario files") through replay, in process.

A scenario passes when, for the types in ``compare``, the outputs equal ``expect`` as a
multiset, each output projected on the keys its expectation names; times compare as
instants and numbers to six decimal places.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.replay import Cause, replay
from slawatch.replay.runner import Emitted
from slawatch.timeutil import parse_duration, parse_time

DEFAULT_COMPARE = [
    "sla.warning",
    "sla.breached",
    "sla.clock.stopped",
    "sla.clock.cancelled",
    "sla.retracted",
    "sla.availability.warning",
    "sla.availability.breached",
    "sla.availability.window_closed",
]
TIME_KEYS = {"time", "deadline", "window_start", "window_end"}


@dataclass
class ScenarioRun:
    """The outputs of one scenario and what did not match its expectations."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _normalise(key: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return ("t", value.timestamp())
    if isinstance(value, str) and key in TIME_KEYS:
        try:
            return ("t", datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
        except ValueError:
            return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return round(float(value), 6)
    return value


def _project(output: dict[str, Any], keys: Sequence[str]) -> tuple[Any, ...]:
    return tuple((k, _normalise(k, output.get(k))) for k in keys)


def _time(value: Any) -> int:
    return parse_time(value.isoformat() if isinstance(value, datetime) else str(value))


def scenario_versions(sc: dict[str, Any]) -> list[DefinitionsVersion]:
    """The scenario's definitions versions, numbered as replay numbers them."""
    versions = [(None, load_definitions(yaml.safe_dump(sc["definitions"], sort_keys=False)))]
    for entry in sc.get("definitions_versions") or []:
        text = yaml.safe_dump(entry["definitions"], sort_keys=False)
        versions.append((_time(entry["effective_from"]), load_definitions(text)))
    return [DefinitionsVersion(n, since, d) for n, (since, d) in enumerate(versions, 1)]


def run_scenario(path: Path) -> ScenarioRun:
    """Replay one scenario file and compare its outputs with its expectations."""
    sc = yaml.safe_load(path.read_text())
    run = ScenarioRun()
    lines = [json.dumps(e, default=str).encode() for e in sc.get("events", [])]

    def emit(outputs: Sequence[Emitted], cause: Cause) -> None:
        run.outputs.extend(json.loads(o.to_json()) for o in outputs)

    replay(
        scenario_versions(sc),
        lines,
        emit=emit,
        until=_time(sc["until"]) if sc.get("until") else None,
        lateness=parse_duration(str(sc["lateness"])) if sc.get("lateness") else 0,
    )
    compare = sc.get("compare", DEFAULT_COMPARE)
    expected = sc.get("expect") or []
    for typ in compare:
        want = [e for e in expected if e.get("type") == typ]
        unmatched = [o for o in run.outputs if o.get("type") == typ]
        for e in want:
            keys = sorted(e)
            target = _project(e, keys)
            hit = next((o for o in unmatched if _project(o, keys) == target), None)
            if hit is None:
                run.problems.append(f"missing {json.dumps(e, default=str)}")
            else:
                unmatched.remove(hit)
        run.problems.extend(f"unexpected {json.dumps(o)}" for o in unmatched)
    return run
