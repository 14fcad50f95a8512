"""Driving the availability fold directly, the way the engine does."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from slawatch.availability import (
    ServiceState,
    apply_event,
    fire_before,
    state_from_record,
    state_to_record,
)
from slawatch.clock.catalog import Catalog
from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import MaintenanceWindow, UptimeStatus, parse_event
from slawatch.outputs import Output
from slawatch.timeutil import parse_time

Event = UptimeStatus | MaintenanceWindow


def catalog(*docs: str | tuple[str, str | None]) -> Catalog:
    """A catalog of definitions versions: YAML texts, or (YAML text, effective_from) pairs."""
    pairs = [(d, None) if isinstance(d, str) else d for d in docs]
    versions = [
        DefinitionsVersion(
            n, parse_time(since) if since else None, load_definitions(textwrap.dedent(text))
        )
        for n, (text, since) in enumerate(pairs, 1)
    ]
    return Catalog(versions)


def objective(**fields: Any) -> str:
    """A definitions document with one availability objective for service ``api``."""
    body = {
        "id": "api-uptime",
        "service": "api",
        "objective": 99.9,
        "window": "month",
        "timezone": "UTC",
        "calendar": "24x7",
    }
    body.update(fields)
    calendars = body.pop("calendars", None)
    doc: dict[str, Any] = {"version": 1, "availability": [body]}
    if calendars is not None:
        doc["calendars"] = calendars
    return json.dumps(doc)


def status(eid: str, time: str, value: str, check: str | None = None, **extra: Any) -> Event:
    raw: dict[str, Any] = {"id": eid, "type": "uptime.status", "time": time, "service": "api"}
    raw["status"] = value
    if check is not None:
        raw["check"] = check
    raw.update(extra)
    return parse(raw)


def maintenance(
    eid: str, time: str, start: str, end: str, window_id: str | None = None, **extra: Any
) -> Event:
    raw: dict[str, Any] = {
        "id": eid,
        "type": "maintenance.window",
        "time": time,
        "service": "api",
        "start": start,
        "end": end,
    }
    if window_id is not None:
        raw["window_id"] = window_id
    raw.update(extra)
    return parse(raw)


def parse(raw: dict[str, Any]) -> Event:
    event = parse_event(json.dumps(raw))
    assert isinstance(event, UptimeStatus | MaintenanceWindow), event
    return event


@dataclass
class Run:
    """The outputs of one fold (as written JSON objects through :attr:`bodies`) and its state."""

    outputs: list[Output] = field(default_factory=list)
    state: ServiceState = field(default_factory=ServiceState)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(o.to_json()) for o in self.outputs]

    def of(self, *types: str, **match: Any) -> list[dict[str, Any]]:
        return [
            b
            for b in self.bodies
            if (not types or b["type"] in types) and all(b.get(k) == v for k, v in match.items())
        ]

    def lines(self) -> list[bytes]:
        return [o.to_json() for o in self.outputs]


def fold(
    cat: Catalog,
    events: Sequence[Event],
    until: str | int | None = None,
    *,
    subject: str = "service:api",
    restore_at: int | None = None,
    tamper: Callable[[ServiceState], None] | None = None,
) -> Run:
    """Drive the fold like the engine: timers before each event, the event, then the rest.

    ``restore_at`` round-trips the state through a JSON record before that event index.
    """
    run = Run()
    for i, ev in enumerate(events):
        if restore_at == i:
            record = json.loads(json.dumps(state_to_record(run.state, cat)))
            run.state = state_from_record(record, cat)
        run.outputs += fire_before(run.state, subject, ev.time)
        run.outputs += apply_event(run.state, subject, ev, cat)
    if until is not None:
        limit = parse_time(until) if isinstance(until, str) else until
        run.outputs += fire_before(run.state, subject, limit + 1)
    return run
