"""The SLA counters alerts read: live breaches only, their retractions, outcomes."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry

from slawatch.bus.memory import MemoryBus
from slawatch.bus.source import MemorySource
from slawatch.clock.engine import Engine, Verdict
from slawatch.events.model import Rejection, RejectReason
from slawatch.events.parse import parse_event
from slawatch.outputs import Output, OutputType
from slawatch.settings import Settings, Topics
from slawatch.timeutil import parse_time
from slawatch_evaluator import store
from slawatch_evaluator.metrics import EvaluatorMetrics
from slawatch_evaluator.runtime import Evaluator
from tests.clock.test_time_and_order import FIRST_RESPONSE
from tests.evaluator.test_runtime_memory import publish, settings  # noqa: F401
from tests.support.pipeline import canonical
from tests.support.replaying import created, ticket, versions

TARGET = {"sla": "gold", "target": "first_response", "kind": "customer"}


def feed(events: list[tuple[dict[str, object], str]]) -> list[Output]:
    """Apply each event at its processing time, firing the timers due before it."""
    engine = Engine(versions((FIRST_RESPONSE, None)))
    outputs: list[Output] = []
    for doc, at in events:
        now = parse_time(at)
        outputs += engine.due(now)
        event = parse_event(json.dumps(doc))
        assert not isinstance(event, Rejection), event
        outputs += engine.apply(event, now).outputs
    return outputs


def counted(outputs: list[Output]) -> tuple[CollectorRegistry, EvaluatorMetrics]:
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    metrics.declare(versions((FIRST_RESPONSE, None)))
    metrics.count(outputs)
    return registry, metrics


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, {**TARGET, **labels})


def test_every_target_starts_at_zero() -> None:
    registry, _ = counted([])
    assert value(registry, "slawatch_sla_breaches_total") == 0
    assert value(registry, "slawatch_sla_warnings_total") == 0
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached") == 0
    assert value(registry, "slawatch_sla_retractions_total", retracted="warning") == 0
    assert value(registry, "slawatch_sla_outcomes_total", outcome="met") == 0
    assert value(registry, "slawatch_sla_outcomes_total", outcome="breached") == 0


def test_every_verdict_reason_and_output_type_starts_at_zero() -> None:
    registry, _ = counted([])
    for verdict in Verdict:
        labels = {"result": verdict.value}
        assert registry.get_sample_value("slawatch_evaluator_events_total", labels) == 0
    for reason in RejectReason:
        labels = {"reason": reason.value}
        assert registry.get_sample_value("slawatch_evaluator_deadletters_total", labels) == 0
    for kind in OutputType:
        assert registry.get_sample_value("slawatch_sla_events_total", {"type": kind.value}) == 0


def test_a_retracted_breach_is_counted_as_retracted_and_the_stop_as_met() -> None:
    outputs = feed([
        (created("e1", "2026-03-02T09:00:00Z"), "2026-03-02T09:00:00Z"),
        (created("x", "2026-03-02T10:05:00Z", "T-9"), "2026-03-02T10:05:00Z"),
        (ticket("e2", "2026-03-02T09:40:00Z", comment=("agent", True)), "2026-03-02T10:05:01Z"),
    ])  # fmt: skip
    retraction = next(o for o in outputs if o.type == "sla.retracted" and o.retracts is not None
                      and o.retracts.type == "sla.breached")  # fmt: skip
    assert retraction.body["retracts"] == retraction.retracts.id  # type: ignore[union-attr]
    registry, _ = counted(outputs)
    assert value(registry, "slawatch_sla_breaches_total") == 1
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached") == 1
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached_earlier") == 0
    assert value(registry, "slawatch_sla_retractions_total", retracted="warning") == 0  # 09:30
    assert value(registry, "slawatch_sla_outcomes_total", outcome="met") == 1
    assert registry.get_sample_value("slawatch_sla_events_total", {"type": "sla.retracted"}) == 1


def test_backfilled_warnings_and_breaches_are_not_counted_but_their_outcome_is() -> None:
    outputs = feed([
        (created("b1", "2026-03-01T09:00:00Z", "T-OLD", backfill=True), "2026-03-02T09:00:00Z"),
        (ticket("b2", "2026-03-01T12:00:00Z", "T-OLD", comment=("agent", True), backfill=True),
         "2026-03-02T09:00:00Z"),
    ])  # fmt: skip
    assert any(o.type == "sla.breached" and o.backfill for o in outputs)
    registry, _ = counted(outputs)
    assert value(registry, "slawatch_sla_breaches_total") == 0
    assert value(registry, "slawatch_sla_warnings_total") == 0
    assert value(registry, "slawatch_sla_outcomes_total", outcome="breached") == 1
    assert registry.get_sample_value("slawatch_sla_events_total", {"type": "sla.breached"}) == 1


def test_a_late_event_retracting_a_backfilled_breach_is_not_counted_as_a_breach_retracted() -> None:
    """Netting alerts subtract breach retractions: only those of counted breaches."""
    loaded = "2026-03-02T09:00:00Z"
    outputs = feed([
        (created("b1", "2026-03-01T09:00:00Z", received_at=loaded, backfill=True), loaded),
        (ticket("r1", "2026-03-01T09:40:00Z", comment=("agent", True)), "2026-03-02T09:05:00Z"),
    ])  # fmt: skip
    (breach,) = [o for o in outputs if o.type == "sla.breached"]
    assert breach.backfill
    (retraction,) = [o for o in outputs if o.type == "sla.retracted" and o.retracts is not None
                     and o.retracts.type == "sla.breached"]  # fmt: skip
    assert retraction.retracts is not None and retraction.retracts.backfill
    registry, _ = counted(outputs)
    assert value(registry, "slawatch_sla_breaches_total") == 0
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached") == 0
    assert value(registry, "slawatch_sla_retractions_total", retracted="other") == 1


def test_a_live_breach_after_a_backfilled_start_is_counted_and_so_is_its_retraction() -> None:
    """The ticket was loaded while its clock still ran; the breach came later, live."""
    loaded = "2026-03-02T09:10:00Z"
    outputs = feed([
        (created("b1", "2026-03-02T09:00:00Z", received_at=loaded, backfill=True), loaded),
        (created("x", "2026-03-02T11:00:00Z", "T-9"), "2026-03-02T11:00:00Z"),
        (ticket("r1", "2026-03-02T09:50:00Z", comment=("agent", True)), "2026-03-02T11:00:01Z"),
    ])  # fmt: skip
    breach = next(o for o in outputs if o.type == "sla.breached" and o.subject == "ticket:T-1")
    assert not breach.backfill
    registry, _ = counted(outputs)
    assert value(registry, "slawatch_sla_breaches_total") == 1
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached_earlier") == 1


def test_a_breach_retracted_after_the_alerts_span_is_breached_earlier() -> None:
    """Netted out 10 minutes after the breach was counted, it would hide a new breach."""
    outputs = feed([
        (created("e1", "2026-03-02T09:00:00Z"), "2026-03-02T09:00:00Z"),
        (created("e2", "2026-03-02T10:00:00Z", "T-2"), "2026-03-02T10:00:00Z"),
        (ticket("r1", "2026-03-02T09:40:00Z", comment=("agent", True)), "2026-03-02T11:00:01Z"),
    ])  # fmt: skip
    breaches = [o for o in outputs if o.type == "sla.breached"]
    assert [b.subject for b in breaches] == ["ticket:T-1", "ticket:T-2"]
    registry, _ = counted(outputs)
    assert value(registry, "slawatch_sla_breaches_total") == 2
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached") == 0
    assert value(registry, "slawatch_sla_retractions_total", retracted="breached_earlier") == 1


async def evaluated(
    settings: Settings,  # noqa: F811
    docs: list[dict[str, object]],
    now: int,
) -> tuple[CollectorRegistry, Evaluator]:
    """An evaluator that applied ``docs`` at ``now`` and refreshed its gauges."""
    bus = MemoryBus(partitions=1)
    topic = settings.topic(Topics.CANONICAL)
    await publish(bus, topic, canonical([json.dumps(d).encode() for d in docs], now))
    registry = CollectorRegistry()
    defs = versions((FIRST_RESPONSE, None))
    metrics = EvaluatorMetrics(registry)
    metrics.declare(defs)
    ev = Evaluator(settings=settings, versions=defs, db=store.create_engine(settings.database_url),
                   source=MemorySource(bus, [topic]), publisher=bus, metrics=metrics,
                   clock=lambda: now, owner="t")  # fmt: skip
    await ev.on_assign([(topic, 0)])
    await ev._step(ev.workers[(topic, 0)], bus.read(topic, 0, 0, 10), now)
    await ev._committed([(topic, 0)])  # on PostgreSQL a commit is queued; it counts when done
    ev._gauges(now)
    await ev.db.dispose()
    return registry, ev


async def test_open_clocks_by_target_show_the_breached_ones(settings: Settings) -> None:  # noqa: F811
    docs = [created("e1", "2026-03-02T09:00:00Z"), created("e2", "2026-03-02T10:30:00Z", "T-2")]
    registry, _ = await evaluated(settings, docs, parse_time("2026-03-02T10:31:00Z"))
    clocks = "slawatch_ticket_sla_clocks"
    assert value(registry, clocks, state="breached") == 1
    assert value(registry, clocks, state="running") == 1
    assert value(registry, clocks, state="paused") == 0
    assert registry.get_sample_value("slawatch_open_clocks", {"state": "running"}) == 2


async def test_out_of_step_ticket_events_are_applied_and_counted(settings: Settings) -> None:  # noqa: F811
    docs = [
        created("e1", "2026-03-02T09:00:00Z"),
        ticket("e2", "2026-03-02T09:05:00Z", "T-NEW", priority="P1"),
        created("e3", "2026-03-02T09:06:00Z", priority="P2"),
        ticket("e4", "2026-03-02T09:07:00Z", priority="P3"),
    ]
    registry, ev = await evaluated(settings, docs, parse_time("2026-03-02T09:10:00Z"))
    unexpected = "slawatch_evaluator_unexpected_events_total"
    assert registry.get_sample_value(unexpected, {"reason": "unknown_ticket"}) == 1
    assert registry.get_sample_value(unexpected, {"reason": "created_again"}) == 1
    assert registry.get_sample_value("slawatch_evaluator_events_total", {"result": "applied"}) == 4
    engine = ev.workers[(settings.topic(Topics.CANONICAL), 0)].engine
    assert engine.subjects["ticket:T-NEW"].state.fields["priority"] == "P1"


def test_stopped_clocks_fill_the_elapsed_histogram_by_priority_with_goals_as_bounds() -> None:
    outputs = feed([
        (created("e1", "2026-03-02T09:00:00Z", priority="P1"), "2026-03-02T09:00:00Z"),
        (ticket("e2", "2026-03-02T09:40:00Z", comment=("agent", True)), "2026-03-02T09:40:00Z"),
        (created("e3", "2026-03-02T09:00:00Z", "T-2"), "2026-03-02T09:41:00Z"),
        (ticket("e4", "2026-03-02T11:30:00Z", "T-2", comment=("agent", True)),
         "2026-03-02T11:30:00Z"),
    ])  # fmt: skip
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    # the bounds come from the definitions declared: 2,700 s from a 45m goal
    p1 = (
        'goals: [{when: {priority: P1}, target: 45m, calendar: "24x7"},'
        ' {target: 1h, calendar: "24x7"}]'
    )
    metrics.declare(
        versions((FIRST_RESPONSE.replace('goals: [{target: 1h, calendar: "24x7"}]', p1), None))
    )
    metrics.count(outputs)
    name = "slawatch_ticket_sla_elapsed_seconds"

    def bucket(priority: str, le: str) -> float | None:
        return value(registry, f"{name}_bucket", priority=priority, le=le)

    assert (bucket("P1", "1800.0"), bucket("P1", "2700.0"), bucket("P1", "3600.0")) == (0, 1, 1)
    assert value(registry, f"{name}_sum", priority="P1") == 2400
    assert (bucket("", "3600.0"), bucket("", "14400.0"), bucket("", "+Inf")) == (0, 1, 1)
    assert value(registry, f"{name}_sum", priority="") == 9000


def test_a_priority_no_goal_names_is_labelled_other() -> None:
    """Ticket data never becomes an unbounded label: the priorities the goals name, ``""``
    for none, and ``other``; each starts at 0."""
    by_priority = FIRST_RESPONSE.replace(
        'goals: [{target: 1h, calendar: "24x7"}]',
        'goals: [{when: {priority: [P1, P2]}, target: 30m, calendar: "24x7"},'
        ' {target: 1h, calendar: "24x7"}]',
    )
    stopped = feed([
        (created("e1", "2026-03-02T09:00:00Z", priority="P2"), "2026-03-02T09:00:00Z"),
        (created("e2", "2026-03-02T09:00:00Z", "T-2", priority="weird-9"), "2026-03-02T09:00:00Z"),
        (ticket("e3", "2026-03-02T09:10:00Z", comment=("agent", True)), "2026-03-02T09:10:00Z"),
        (ticket("e4", "2026-03-02T09:20:00Z", "T-2", comment=("agent", True)),
         "2026-03-02T09:20:00Z"),
    ])  # fmt: skip
    registry = CollectorRegistry()
    metrics = EvaluatorMetrics(registry)
    metrics.declare(versions((by_priority, None)))
    count = "slawatch_ticket_sla_elapsed_seconds_count"
    assert [value(registry, count, priority=p) for p in ("P1", "P2", "", "other")] == [0, 0, 0, 0]
    metrics.count(stopped)
    assert [value(registry, count, priority=p) for p in ("P1", "P2", "", "other")] == [0, 1, 0, 1]
    assert value(registry, count, priority="weird-9") is None
