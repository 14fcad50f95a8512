"""Properties of the planner over generated streams of SLA events, acks and time (hypothesis)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slawatch.escalation import Notification, Planner
from slawatch.outputs import Output
from slawatch.timeutil import parse_time
from tests.escalation.making import (
    MIN,
    ack,
    breached,
    cancelled,
    catalog,
    doc,
    retraction,
    stopped,
    warning,
)

CHAIN = """
steps:
  - when: {event: sla.warning, at_least: 0.5}
    notify: ["team:support", "person:ghost"]
    repeat: {every: 20m, times: 2}
    during: office
  - when: {event: sla.breached}
    notify: ["role:assignee", "person:lead"]
  - after: 30m
    notify: ["person:manager", "person:lead"]
    repeat: {every: 15m, times: 3}
  - when: {event: sla.clock.stopped, outcome: breached}
    notify: ["team:support"]
"""
CATALOG = catalog(doc(CHAIN))
OFFICE = CATALOG.latest.calendars["office"]
START = parse_time("2026-03-06T15:00:00Z")

subjects = st.sampled_from(["ticket:T-1", "ticket:T-2"])
cycles = st.integers(1, 2)
operation = st.one_of(
    st.tuples(st.just("warn"), subjects, cycles, st.sampled_from([0.5, 0.75, 0.9, "15m"])),
    st.tuples(st.just("breach"), subjects, cycles),
    st.tuples(st.just("stop"), subjects, cycles, st.sampled_from(["met", "breached"])),
    st.tuples(st.just("cancel"), subjects, cycles),
    st.tuples(st.just("retract"), st.integers(0, 30)),
    st.tuples(st.just("refeed"), st.integers(0, 30)),
    st.tuples(st.just("ack"), subjects, st.none() | cycles),
    st.tuples(st.just("assign"), st.sampled_from(["lead", "manager", "nobody"])),
)
stream = st.lists(st.tuples(st.integers(0, 6 * 60), operation), max_size=40)


class World:
    """A planner fed a generated stream, keeping what it emitted."""

    def __init__(self) -> None:
        self.assignee: dict[str, Any] = {"assignee": "lead"}
        self.planner = Planner(CATALOG, ticket=self.ticket)
        self.fed: list[Output] = []
        self.notes: list[tuple[int, Notification]] = []

    def ticket(self, subject: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return dict(self.assignee), {}

    def restore(self) -> None:
        record = orjson.loads(orjson.dumps(self.planner.to_record()))
        self.planner = Planner.from_record(record, CATALOG, ticket=self.ticket)

    def step(self, t: int, op: tuple[Any, ...]) -> None:
        p = self.planner
        self.notes += [(t, n) for n in p.due(t)]
        kind = op[0]
        out: Output | None = None
        if kind == "warn":
            out = warning(t, op[3], subject=op[1], cycle=op[2])
        elif kind == "breach":
            out = breached(t, subject=op[1], cycle=op[2])
        elif kind == "stop":
            out = stopped(t, op[3], subject=op[1], cycle=op[2])
        elif kind == "cancel":
            out = cancelled(t, subject=op[1], cycle=op[2])
        elif kind in ("retract", "refeed") and self.fed:
            earlier = self.fed[op[1] % len(self.fed)]
            out = retraction(earlier, t) if kind == "retract" else earlier
        elif kind == "ack":
            p.on_ack(ack(t, op[1], cycle=op[2]), t)
        elif kind == "assign":
            self.assignee = {"assignee": op[1]}
        if out is not None:
            if kind != "retract":
                self.fed.append(out)
            self.notes += [(t, n) for n in p.on_output(out, t)]

    def finish(self, t: int) -> None:
        self.notes += [(t, n) for n in self.planner.due(t)]


def run(ops: list[tuple[int, tuple[Any, ...]]], cut: int | None = None) -> World:
    world = World()
    t = START
    for i, (delta, op) in enumerate(ops):
        if i == cut:
            world.restore()
        t += delta * MIN
        world.step(t, op)
    world.finish(t + 3 * 24 * 60 * MIN)
    return world


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream)
def test_no_notification_key_or_id_is_ever_produced_twice(ops: list[Any]) -> None:
    notes = [n for _, n in run(ops).notes]
    keys = [n.key for n in notes]
    assert len(keys) == len(set(keys))
    assert len({n.id for n in notes}) == len(notes)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream)
def test_notifications_come_in_time_order_never_ahead_of_the_caller(ops: list[Any]) -> None:
    world = run(ops)
    times = [n.time for _, n in world.notes]
    assert times == sorted(times)
    for limit, n in world.notes:
        assert n.time <= limit
        if n.step == 1 and n.body["notice"] == "step":
            assert OFFICE.is_open(n.time)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream, st.integers(0, 40))
def test_a_restore_anywhere_changes_nothing(ops: list[Any], cut: int) -> None:
    straight = [n.to_json() for _, n in run(ops).notes]
    restored = [n.to_json() for _, n in run(ops, cut).notes]
    assert restored == straight
