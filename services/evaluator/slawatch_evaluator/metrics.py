"""The evaluator's Prometheus metrics, on an injected registry.

Labels never carry ticket, customer or subject ids; SLA and target ids are bounded
by the definitions.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from slawatch.definitions.model import DefinitionsVersion

__all__ = ["EvaluatorMetrics"]

_LATENCY = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class EvaluatorMetrics:
    """Every metric the evaluator exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "slawatch_evaluator_events",
            "Canonical events consumed, by what became of them.",
            ["result"],
            registry=registry,
        )
        self.duplicates = Counter(
            "slawatch_events_duplicate",
            "Input events ignored because their (subject, source, id) was already applied.",
            registry=registry,
        )
        self.dead_letters = Counter(
            "slawatch_evaluator_deadletters",
            "Events the evaluator could not apply, sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=registry,
        )
        self.outputs = Counter(
            "slawatch_sla_events",
            "SLA events emitted, by type.",
            ["type"],
            registry=registry,
        )
        self.warnings = Counter(
            "slawatch_sla_warnings",
            "Near-breach warnings emitted.",
            ["sla", "target", "kind"],
            registry=registry,
        )
        self.breaches = Counter(
            "slawatch_sla_breaches",
            "Breaches emitted.",
            ["sla", "target", "kind"],
            registry=registry,
        )
        self.open_clocks = Gauge(
            "slawatch_open_clocks",
            "Open clocks in the partitions this process owns, by state.",
            ["state"],
            registry=registry,
        )
        self.timers_overdue = Gauge(
            "slawatch_evaluator_timers_overdue",
            "Subjects with a timer past its due instant plus lateness that has not fired yet.",
            registry=registry,
        )
        self.event_time_lag = Gauge(
            "slawatch_evaluator_event_time_lag_seconds",
            "Processing time minus the event time of the last event applied.",
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "slawatch_evaluator_consumer_lag",
            "Records behind the end of each owned canonical partition.",
            ["partition"],
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "slawatch_evaluator_commit_seconds",
            "Time to commit one batch (state, offset and outbox in one transaction).",
            buckets=_LATENCY,
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "slawatch_evaluator_batch_seconds",
            "Time to apply one batch in the engine.",
            buckets=_LATENCY,
            registry=registry,
        )
        self.partitions = Gauge(
            "slawatch_evaluator_partitions_owned",
            "Canonical partitions this process owns and has loaded.",
            registry=registry,
        )
        self.fenced = Counter(
            "slawatch_evaluator_fenced",
            "Commits refused because another owner claimed the partition.",
            registry=registry,
        )
        self.store_errors = Counter(
            "slawatch_evaluator_store_errors",
            "Database failures; the partition is reloaded from the last commit.",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "slawatch_evaluator_outbox_pending",
            "Outputs committed but not yet published.",
            registry=registry,
        )
        self.published = Counter(
            "slawatch_evaluator_published",
            "Outputs published from the outbox to the bus.",
            registry=registry,
        )
        self.publish_errors = Counter(
            "slawatch_evaluator_publish_errors",
            "Failed attempts to publish from the outbox (retried).",
            registry=registry,
        )
        self.load_seconds = Histogram(
            "slawatch_evaluator_partition_load_seconds",
            "Time to load a partition's clocks from the store after assignment.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.availability = Gauge(
            "slawatch_availability_ratio",
            "Availability so far in the current window of each availability objective.",
            ["sla", "kind"],
            registry=registry,
        )
        self.budget_remaining = Gauge(
            "slawatch_error_budget_remaining_ratio",
            "Share of the current window's error budget not yet consumed (below 0: breached).",
            ["sla", "kind"],
            registry=registry,
        )
        self.last_poll = Gauge(
            "slawatch_evaluator_last_poll_timestamp_seconds",
            "Unix time of the last successful poll of the canonical topic.",
            registry=registry,
        )

    def declare(self, versions: Sequence[DefinitionsVersion]) -> None:
        """Start every SLA target's warning and breach counters at 0.

        A labelled counter that first appears with a value hides its first increase from
        ``increase()``/``rate()``; declared ones start at 0, so alerts see every breach.
        """
        for version in versions:
            defs = version.definitions
            for sla in defs.slas:
                for target in sla.targets:
                    labels = {"sla": sla.id, "target": target.id, "kind": sla.kind.value}
                    self.warnings.labels(**labels)
                    self.breaches.labels(**labels)
            for objective in defs.availability:
                labels = {
                    "sla": objective.id,
                    "target": "availability",
                    "kind": objective.kind.value,
                }
                self.warnings.labels(**labels)
                self.breaches.labels(**labels)
