"""The evaluator's Prometheus metrics, on an injected registry.

Labels never carry ticket, customer or subject ids; SLA and target ids are bounded
by the definitions.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from slawatch.definitions.model import DefinitionsVersion
from slawatch.observability import counter, gauge, histogram

__all__ = ["EvaluatorMetrics"]

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
        self.warnings = counter(
            registry,
            "slawatch_sla_warnings_total",
            "Near-breach warnings emitted.",
            ["sla", "target", "kind"],
        )
        self.breaches = counter(
            registry,
            "slawatch_sla_breaches_total",
            "Breaches emitted.",
            ["sla", "target", "kind"],
        )
        self.open_clocks = gauge(
            registry,
            "slawatch_open_clocks",
            "Open clocks in the partitions this process owns, by state.",
            ["state"],
        )
        self.timers_overdue = gauge(
            registry,
            "slawatch_evaluator_timers_overdue",
            "Subjects with a timer past its due instant plus lateness that has not fired yet.",
        )
        self.event_time_lag = gauge(
            registry,
            "slawatch_evaluator_event_time_lag_seconds",
            "Processing time minus the event time of the last event applied.",
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
        self.availability = gauge(
            registry,
            "slawatch_availability_ratio",
            "Availability so far in the current window of each availability objective.",
            ["sla", "kind"],
        )
        self.budget_remaining = gauge(
            registry,
            "slawatch_error_budget_remaining_ratio",
            "Share of the current window's error budget not yet consumed (below 0: breached).",
            ["sla", "kind"],
        )
        self.last_poll = gauge(
            registry,
            "slawatch_evaluator_last_poll_timestamp_seconds",
            "Unix time of the last successful poll of the canonical topic.",
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
