"""Skipping the targets an event cannot concern changes no output (hypothesis)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from unittest import mock

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.replaying import versions

from slawatch.clock.catalog import Watch
from slawatch.replay import Cause, Replayer
from slawatch.replay.runner import Emitted
from slawatch.timeutil import MINUTE, format_time, parse_time

DEFINITIONS = """
calendars:
  office:
    timezone: Europe/Amsterdam
    week: {mon-fri: ["09:00-17:00"]}
slas:
  - id: gold
    kind: customer
    applies_to: {customer_tier: gold}
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals:
          - {when: {priority: P1}, target: 1h, calendar: 24x7}
          - {target: 4h, calendar: office}
        warn_at: [0.5, 15m]
      - id: resolution
        start: [{event: created}, {event: status_entered, status: open, from: [resolved]}]
        stop: [{event: status_entered, status: [resolved]}]
        pause_while: {attributes.hold: true}
        goals: [{target: 3h, calendar: 24x7}]
  - id: l2
    kind: ola
    applies_to: {assignee_group: l2}
    targets:
      - id: acknowledge
        start: [{event: field_changed, field: assignee_group, to: l2}]
        stop: [{event: field_changed, field: assignee, from: null}]
        goals: [{target: 1h, calendar: 24x7}]
"""
LATER = (
    DEFINITIONS.replace("applies_to: {customer_tier: gold}", "applies_to: {priority: [P1, P2]}")
    .replace("goals: [{target: 3h, calendar: 24x7}]", "goals: [{target: 2h, calendar: 24x7}]\n"
             "        retroactive: true")
)  # fmt: skip
BASE = parse_time("2026-03-02T08:00:00Z")
VERSIONS = versions((DEFINITIONS, None), (LATER, "2026-03-02T12:00:00Z"))

changes = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["open", "resolved", None]),
        "priority": st.sampled_from(["P1", "P2", "P3"]),
        "customer_tier": st.sampled_from(["gold", "free"]),
        "assignee_group": st.sampled_from(["l1", "l2", None]),
        "assignee": st.sampled_from(["ann", None]),
        "hold": st.sampled_from([True, False, None]),
        "note": st.sampled_from(["a", "b"]),
    },
)


@st.composite
def streams(draw: st.DrawFn) -> list[bytes]:
    """Events of two tickets, some late, some for deleted tickets."""
    lines = []
    minute = 0
    for n in range(draw(st.integers(1, 30))):
        minute += draw(st.sampled_from([0, 10, 40, 90]))
        late = draw(st.sampled_from([0, 0, 0, 0, 30]))
        kind = draw(st.sampled_from(
            ["ticket.created", "ticket.updated", "ticket.updated", "ticket.commented",
             "ticket.deleted"]))  # fmt: skip
        event: dict[str, Any] = {
            "id": f"e{n}",
            "type": kind,
            "time": format_time(BASE + (minute - late) * MINUTE),
            "ticket": {"id": draw(st.sampled_from(["T-1", "T-2"])), **draw(changes)},
        }
        if kind == "ticket.commented":
            event["comment"] = {
                "author_role": draw(st.sampled_from(["agent", "customer"])),
                "public": draw(st.booleans()),
            }
        lines.append(orjson.dumps(event))
    return lines


def replay(lines: Sequence[bytes], lateness: int) -> list[bytes]:
    out: list[bytes] = []

    def emit(outputs: Sequence[Emitted], cause: Cause) -> None:
        out.extend(o.to_json() for o in outputs)

    replayer = Replayer(VERSIONS, emit=emit, until=BASE + 3 * 24 * 60 * MINUTE, lateness=lateness)
    for number, line in enumerate(lines, 1):
        replayer.feed(number, line)
    replayer.finish()
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.sampled_from([0, 20 * MINUTE]))
def test_skipping_unconcerned_targets_changes_nothing(lines: list[bytes], lateness: int) -> None:
    """The same output bytes as stepping every target on every event."""
    skipping = replay(lines, lateness)
    with mock.patch.object(Watch, "concerns", return_value=True):
        stepping = replay(lines, lateness)
    assert skipping == stepping
