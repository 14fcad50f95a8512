"""Replay with the planner attached: the engine's outputs fed in at their emission instants.

Mirrors the replay loop (``replay.md``): at each advance of processing time the
engine's timers fire; each timer output is fed at its emission instant (its time plus
lateness, rule 31) after the planner's work due before that instant, then the input
event's outputs (retractions first) or acknowledgement is fed at processing time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slawatch.clock.engine import Engine, Verdict
from slawatch.definitions.model import DefinitionsVersion
from slawatch.escalation import Notification, Planner
from slawatch.events import parse_event
from slawatch.events.model import Acknowledgement, Rejection
from slawatch.outputs import Output


@dataclass
class Drive:
    """Everything the run emitted, as JSON objects, and the planner at its end."""

    planner: Planner
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def notifications(self) -> list[dict[str, Any]]:
        return [o for o in self.outputs if o["type"] == "notification"]


class Driver:
    """An engine and a planner advanced together, line by line."""

    def __init__(
        self,
        versions: Sequence[DefinitionsVersion],
        *,
        lateness: int = 0,
        until: int | None = None,
        planner: Planner | None = None,
    ) -> None:
        self.engine = Engine(versions, lateness=lateness)
        self.until = until
        self.lateness = lateness
        self.planner = planner or Planner(self.engine.catalog, ticket=self.ticket)
        self.now: int | None = None
        self.emitted: list[dict[str, Any]] = []

    def ticket(self, subject: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        found = self.engine.subjects.get(subject)
        return None if found is None else (found.state.fields, found.state.attributes)

    def _emit(self, items: list[Output | Notification]) -> None:
        items.sort(key=lambda x: x.sort_key())
        self.emitted.extend(json.loads(x.to_json()) for x in items)

    def _advance(self, limit: int) -> None:
        step: list[Output | Notification] = []
        timers = sorted(self.engine.due(limit), key=lambda o: (o.time, o.sort_key()))
        for out in timers:
            emission = out.time + self.lateness
            step += self.planner.due(emission)
            step += self.planner.on_output(out, emission)
            step.append(out)
        step += self.planner.due(limit)
        self._emit(step)

    def feed(self, raw: bytes) -> None:
        event = parse_event(raw)
        assert not isinstance(event, Rejection), event
        arrival = event.received_at if event.received_at is not None else event.time
        if self.until is not None and arrival > self.until:
            return
        verdict = self.engine.check(event, self.now if self.now is not None else arrival)
        if verdict in (Verdict.DUPLICATE, Verdict.TOO_LATE):
            return
        if self.now is None or arrival > self.now:
            self.now = arrival
            self._advance(arrival)
        if isinstance(event, Acknowledgement):
            self.planner.on_ack(event, self.now)
            return
        result = self.engine.apply(event, self.now)
        step: list[Output | Notification] = list(result.outputs)
        step += self.planner.on_outputs(result.outputs, self.now)
        self._emit(step)

    def finish(self) -> None:
        final = self.until if self.until is not None else self.now
        if final is not None:
            self._advance(final + 1)


def drive(
    versions: Sequence[DefinitionsVersion],
    events: Sequence[dict[str, Any]],
    *,
    until: int | None = None,
    lateness: int = 0,
) -> Drive:
    """Run events through the engine and the planner; every output and notification."""
    driver = Driver(versions, lateness=lateness, until=until)
    for event in events:
        driver.feed(json.dumps(event, default=str).encode())
    driver.finish()
    return Drive(driver.planner, driver.emitted)
