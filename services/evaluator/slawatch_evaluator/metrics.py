"""The evaluator's Prometheus metrics, on an injected registry.

Labels never carry ticket, customer or subject ids; SLA and target ids are bounded
by the definitions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

from slawatch.clock.cycle import CycleState
from slawatch.clock.engine import Verdict
from slawatch.definitions.model import (
    AllOf,
    AnyOf,
    Condition,
    DefinitionsVersion,
    FieldMatch,
    Not,
    WindowKind,
    in_force,
)
from slawatch.events.model import RejectReason
from slawatch.observability import counter, gauge, histogram
from slawatch.outputs import Output, OutputType
from slawatch.timeutil import SECOND, format_duration
from slawatch_evaluator.availability_metrics import AvailabilityMetrics

__all__ = ["EvaluatorMetrics"]

UNEXPECTED_REASONS = ("unknown_ticket", "created_again")
"""The reasons ``slawatch_evaluator_unexpected_events_total`` counts."""

WINDOW_OUTCOMES = ("met", "breached", "no_data")
"""The outcomes of a closed availability window (``events.md``)."""

_WARNINGS = frozenset({OutputType.WARNING, OutputType.AVAILABILITY_WARNING})
_BREACHES = frozenset({OutputType.BREACHED, OutputType.AVAILABILITY_BREACHED})
_OUTCOMES = frozenset({OutputType.STOPPED, OutputType.WINDOW_CLOSED})

NETTED = 600 * SECOND
"""How soon after its breach a retraction is ``retracted="breached"``, netted by alerts."""

OTHER_PRIORITY = "other"
"""The ``priority`` label of a ticket whose priority no goal of its target names."""


def _priorities_in(conditions: Iterable[Condition | None]) -> Iterator[str]:
    """The ``priority`` values the conditions compare with."""
    for condition in conditions:
        if isinstance(condition, FieldMatch):
            if condition.field == "priority":
                yield from (str(v) for v in condition.values if v is not None)
        elif isinstance(condition, AllOf | AnyOf):
            yield from _priorities_in(condition.items)
        elif isinstance(condition, Not):
            yield from _priorities_in([condition.item])


ELAPSED_BUCKETS = tuple(
    float(m * 60)
    for m in (5, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080, 20160, 43200)
)
"""Business-time buckets of stopped clocks, 5 minutes to 30 days; the goals are added."""

_LATENCY = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class EvaluatorMetrics:
    """Every metric the evaluator exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = counter(
            registry,
            "slawatch_evaluator_events_total",
            "Canonical events consumed, by what became of them.",
            ["result"],
        )
        self.duplicates = counter(
            registry,
            "slawatch_events_duplicate_total",
            "Input events ignored because their (subject, source, id) was already applied.",
        )
        self.unexpected = counter(
            registry,
            "slawatch_evaluator_unexpected_events_total",
            "Ticket events applied although out of step (events.md): an update, comment or "
            "delete of a ticket never seen (unknown_ticket), a created for a known one "
            "(created_again).",
            ["reason"],
        )
        for reason in UNEXPECTED_REASONS:
            self.unexpected.labels(reason=reason)
        self.dead_letters = counter(
            registry,
            "slawatch_evaluator_deadletters_total",
            "Events the evaluator could not apply, sent to the dead-letter topic, by reason.",
            ["reason"],
        )
        self.outputs = counter(
            registry,
            "slawatch_sla_events_total",
            "SLA events emitted, by type.",
            ["type"],
        )
        for verdict in Verdict:
            self.events.labels(result=verdict.value)
        for reason in RejectReason:
            self.dead_letters.labels(reason=reason.value)
        for kind in OutputType:
            self.outputs.labels(type=kind.value)
        self.warnings = counter(
            registry,
            "slawatch_sla_warnings_total",
            "Near-breach warnings emitted (backfilled ones are not counted).",
            ["sla", "target", "kind"],
        )
        self.breaches = counter(
            registry,
            "slawatch_sla_breaches_total",
            "Breaches emitted (backfilled ones are not counted).",
            ["sla", "target", "kind"],
        )
        self.retractions = counter(
            registry,
            "slawatch_sla_retractions_total",
            "Counted warnings, breaches and other outputs later withdrawn by sla.retracted.",
            ["sla", "target", "kind", "retracted"],
        )
        self._registry = registry
        self.elapsed = _elapsed_histogram(registry, ELAPSED_BUCKETS)
        self._elapsed_bounds = ELAPSED_BUCKETS
        self.outcomes = counter(
            registry,
            "slawatch_sla_outcomes_total",
            "Clocks stopped and availability windows closed, by outcome (backfill included).",
            ["sla", "target", "kind", "outcome"],
        )
        self.open_clocks = gauge(
            registry,
            "slawatch_open_clocks",
            "Open clocks in the partitions this process owns, by state.",
            ["state"],
        )
        self.ticket_clocks = gauge(
            registry,
            "slawatch_ticket_sla_clocks",
            "Open ticket clocks in the partitions this process owns, by SLA target and state "
            "(running, paused, or breached: past its goal and still open).",
            ["sla", "target", "kind", "state"],
        )
        self.timers_overdue = gauge(
            registry,
            "slawatch_evaluator_timers_overdue",
            "Subjects with a timer past its due instant plus lateness that has not fired yet.",
        )
        self.event_time_lag = gauge(
            registry,
            "slawatch_evaluator_event_time_lag_seconds",
            "Processing time minus the event time of the last live (not backfilled) event applied.",
        )
        self.consumer_lag = gauge(
            registry,
            "slawatch_evaluator_consumer_lag",
            "Records behind the end of each owned canonical partition.",
            ["partition"],
        )
        self.commit_seconds = histogram(
            registry,
            "slawatch_evaluator_commit_seconds",
            "Time to commit one batch (state, offset and outbox in one transaction).",
            buckets=_LATENCY,
        )
        self.batch_seconds = histogram(
            registry,
            "slawatch_evaluator_batch_seconds",
            "Time to apply one batch in the engine.",
            buckets=_LATENCY,
        )
        self.partitions = gauge(
            registry,
            "slawatch_evaluator_partitions_owned",
            "Canonical partitions this process owns and has loaded.",
        )
        self.fenced = counter(
            registry,
            "slawatch_evaluator_fenced_total",
            "Commits refused because another owner claimed the partition.",
        )
        self.store_errors = counter(
            registry,
            "slawatch_evaluator_store_errors_total",
            "Database failures; the partition is reloaded from the last commit.",
        )
        self.outbox_pending = gauge(
            registry,
            "slawatch_evaluator_outbox_pending",
            "Outputs committed but not yet published.",
        )
        self.published = counter(
            registry,
            "slawatch_evaluator_published_total",
            "Outputs published from the outbox to the bus.",
        )
        self.publish_errors = counter(
            registry,
            "slawatch_evaluator_publish_errors_total",
            "Failed attempts to publish from the outbox (retried).",
        )
        self.load_seconds = histogram(
            registry,
            "slawatch_evaluator_partition_load_seconds",
            "Time to load a partition's clocks from the store after assignment.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.info = gauge(
            registry,
            "slawatch_sla_info",
            "1 for each SLA and availability objective of the definitions version in force, "
            "with what it is: its service, window, time zone and calendar (availability), "
            "the SLA it underpins (ticket SLAs), and the version's number.",
            ["sla", "kind", "service", "window", "timezone", "calendar", "underpins", "version"],
        )
        self.objectives = AvailabilityMetrics(registry)
        self.last_poll = gauge(
            registry,
            "slawatch_evaluator_last_poll_timestamp_seconds",
            "Unix time of the last successful poll of the canonical topic.",
        )
        self._lag_shown: set[str] = set()
        self._kinds: dict[str, str] = {}
        self._targets: dict[tuple[str, str], str] = {}
        self._priorities: dict[tuple[str, str], set[str]] = {}
        self._clocks_shown: set[tuple[str, str, str, str]] = set()
        self._versions: list[DefinitionsVersion] = []
        self._info: tuple[int | None, set[tuple[str, ...]]] = (None, set())

    def show_clocks(self, clocks: Mapping[tuple[str, str, CycleState, bool], int]) -> None:
        """Set the open-clock gauges from ``(sla, target, state, breached)`` counts: every
        declared target's three states (0 when none), and the two-state total."""
        counts: Counter[tuple[str, str, str, str]] = Counter(
            dict.fromkeys(self._clocks_declared(), 0)
        )
        by_state: Counter[CycleState] = Counter()
        for (sla, target, state, breached), n in clocks.items():
            by_state[state] += n
            label = "breached" if breached else state.value
            counts[sla, target, self._kinds.get(sla, ""), label] += n
        for gone in self._clocks_shown - counts.keys():
            self.ticket_clocks.remove(*gone)
        for (sla, target, kind, shown), n in counts.items():
            self.ticket_clocks.labels(sla=sla, target=target, kind=kind, state=shown).set(n)
        self._clocks_shown = set(counts)
        self.open_clocks.labels(state="running").set(by_state[CycleState.RUNNING])
        self.open_clocks.labels(state="paused").set(by_state[CycleState.PAUSED])

    def _clocks_declared(self) -> list[tuple[str, str, str, str]]:
        return [
            (sla, target, kind, state)
            for (sla, target), kind in self._targets.items()
            for state in ("running", "paused", "breached")
        ]

    def show_lag(self, lag: Mapping[int, int]) -> None:
        """Set each owned partition's lag; drop the series of partitions no longer owned."""
        shown = {str(p): n for p, n in lag.items()}
        for partition in self._lag_shown - shown.keys():
            self.consumer_lag.remove(partition)
        for partition, n in shown.items():
            self.consumer_lag.labels(partition=partition).set(n)
        self._lag_shown = set(shown)

    def show_definitions(self, now: int) -> None:
        """Set ``slawatch_sla_info`` to the SLAs and objectives of the version in force at
        ``now`` (of those :meth:`declare` was given), dropping an earlier version's."""
        version = in_force(self._versions, now)
        number = None if version is None else version.number
        if number == self._info[0]:
            return
        rows = set() if version is None else set(_info_rows(version))
        for gone in self._info[1] - rows:
            self.info.remove(*gone)
        for row in rows:
            self.info.labels(*row).set(1)
        self._info = (number, rows)

    def count(self, outputs: Iterable[Output]) -> None:
        """Count a batch's outputs: every type; live warnings and breaches; the
        retractions of counted ones; the outcomes of stopped clocks and closed windows.

        Backfilled warnings and breaches are history, not news: they are left out, so
        alerts on these counters behave like escalation chains (rule 27).
        """
        types: Counter[OutputType] = Counter()
        counted: Counter[tuple[str, tuple[str, str, str], str]] = Counter()
        for out in outputs:
            kind = out.type
            types[kind] += 1
            if kind in _WARNINGS or kind in _BREACHES:
                if not out.backfill:
                    counted["breach" if kind in _BREACHES else "warning", _labels(out), ""] += 1
            elif kind in _OUTCOMES:
                body = out.body
                counted["outcome", _labels(out), body["outcome"]] += 1
                if kind is OutputType.STOPPED:
                    priority = self._priority(body["sla"], body["target"], body["labels"])
                    self.elapsed.labels(
                        sla=body["sla"], target=body["target"], kind=body["kind"], priority=priority
                    ).observe(body["elapsed_seconds"])
            elif kind is OutputType.RETRACTED and out.retracts is not None:
                counted["retraction", _labels(out), _retracted(out.retracts, out.time)] += 1
        for kind, n in types.items():
            self.outputs.labels(type=kind.value).inc(n)
        for (family, (sla, target, sla_kind), value), n in counted.items():
            labels = {"sla": sla, "target": target, "kind": sla_kind}
            if family == "breach":
                self.breaches.labels(**labels).inc(n)
            elif family == "warning":
                self.warnings.labels(**labels).inc(n)
            elif family == "outcome":
                self.outcomes.labels(**labels, outcome=value).inc(n)
            else:
                self.retractions.labels(**labels, retracted=value).inc(n)

    def _priority(self, sla: str, target: str, labels: dict[str, Any]) -> str:
        """The ``priority`` label: a priority the target's goals name, ``""`` for none,
        else ``other`` (ticket data never becomes an unbounded label)."""
        value = labels.get("priority")
        if value is None:
            return ""
        text = str(value)
        return text if text in self._priorities.get((sla, target), ()) else OTHER_PRIORITY

    def declare(self, versions: Sequence[DefinitionsVersion]) -> None:
        """Start every SLA target's warning, breach, retraction and outcome counters at 0.

        A labelled counter that first appears with a value hides its first increase from
        ``increase()``/``rate()``; declared ones start at 0, so alerts see every breach.
        The elapsed-time histogram gets every goal as a bucket bound, so the share of
        clocks stopped within a goal is one bucket over the count.
        """
        goals = {
            goal.target / SECOND
            for version in versions
            for sla in version.definitions.slas
            for target in sla.targets
            for goal in target.goals
        }
        self._versions = list(versions)
        self.objectives.declare(versions)
        bounds = tuple(sorted(goals.union(ELAPSED_BUCKETS)))
        if bounds != self._elapsed_bounds:
            self._registry.unregister(self.elapsed)
            self.elapsed = _elapsed_histogram(self._registry, bounds)
            self._elapsed_bounds = bounds
        for version in versions:
            defs = version.definitions
            for sla in defs.slas:
                self._kinds[sla.id] = sla.kind.value
                for target in sla.targets:
                    self._targets[sla.id, target.id] = sla.kind.value
                    self._declare(sla.id, target.id, sla.kind.value, ("met", "breached"))
                    known = self._priorities.setdefault((sla.id, target.id), set())
                    known.update(_priorities_in(g.when for g in target.goals))
            for objective in defs.availability:
                if objective.window is not WindowKind.ROLLING:
                    kind = objective.kind.value
                    self._declare(objective.id, "availability", kind, WINDOW_OUTCOMES)

        for (sla_id, target_id), known in self._priorities.items():
            kind = self._targets[sla_id, target_id]
            for priority in (*known, "", OTHER_PRIORITY):
                self.elapsed.labels(sla=sla_id, target=target_id, kind=kind, priority=priority)

    def _declare(self, sla: str, target: str, kind: str, outcomes: Sequence[str]) -> None:
        labels = {"sla": sla, "target": target, "kind": kind}
        self.warnings.labels(**labels)
        self.breaches.labels(**labels)
        for retracted in ("warning", "breached", "breached_earlier"):
            self.retractions.labels(**labels, retracted=retracted)
        for outcome in outcomes:
            self.outcomes.labels(**labels, outcome=outcome)


def _info_rows(version: DefinitionsVersion) -> Iterator[tuple[str, ...]]:
    """The ``slawatch_sla_info`` label values of a version's SLAs and objectives."""
    number = str(version.number)
    for sla in version.definitions.slas:
        yield sla.id, sla.kind.value, "", "", "", "", sla.underpins or "", number
    for o in version.definitions.availability:
        window = o.window.value if o.rolling is None else format_duration(o.rolling)
        yield o.id, o.kind.value, o.service, window, o.timezone, o.calendar, "", number


def _elapsed_histogram(registry: CollectorRegistry, buckets: Sequence[float]) -> Histogram:
    return histogram(
        registry,
        "slawatch_ticket_sla_elapsed_seconds",
        "Business seconds ticket clocks had run when they stopped, by SLA target and the "
        "ticket's priority (backfill included); every goal is a bucket bound.",
        ["sla", "target", "kind", "priority"],
        buckets=buckets,
    )


def _labels(out: Output) -> tuple[str, str, str]:
    body = out.body
    return body["sla"], body["target"], body["kind"]


def _retracted(withdrawn: Output, at: int) -> str:
    """The retractions label of an output withdrawn at ``at``: was it counted, as what?

    A breach withdrawn more than :data:`NETTED` after it breached is ``breached_earlier``:
    the alerts net ``breached`` retractions out of the breaches of their last 10 minutes,
    and one whose breach was counted before that span would hide a new breach.
    """
    if withdrawn.backfill:
        return "other"
    if withdrawn.type in _WARNINGS:
        return "warning"
    if withdrawn.type in _BREACHES:
        return "breached" if at - withdrawn.time <= NETTED else "breached_earlier"
    return "other"
