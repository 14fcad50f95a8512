"""The notifier's Prometheus metrics, on an injected registry (no recipient labels)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from prometheus_client import CollectorRegistry

from slawatch.definitions.model import DefinitionsVersion
from slawatch.escalation.chains import StopReason
from slawatch.observability import counter, gauge, histogram

__all__ = [
    "FINAL_STATUSES",
    "MALFORMED",
    "NO_CHANNEL",
    "RATE_LIMITED",
    "SUPPRESSION_REASONS",
    "UNKNOWN_VERSION",
    "NotifierMetrics",
]

NOTICES = ("step", "retraction")
"""The ``notice`` values of ``slawatch_escalation_notifications_total``."""

FINAL_STATUSES = ("sent", "failed", "suppressed")
"""The statuses ``slawatch_notifications_total`` counts."""

RATE_LIMITED = "rate_limited"
"""The ``reason`` of a notification suppressed by the recipient's rate limit."""

SUPPRESSION_REASONS = (
    RATE_LIMITED,
    StopReason.ACKNOWLEDGED.value,
    StopReason.RETRACTED.value,
    "stopped",
)
"""The ``reason`` values of ``slawatch_notifications_suppressed_total``: the rate limit, or
why the escalation of a step still being retried stopped (``stopped``: an SLA event of
its chain's ``stop_on``)."""

MALFORMED = "malformed"
"""The ``reason`` of a record of ``sla-events`` or ``acks`` that is not what the topic holds."""

UNKNOWN_VERSION = "unknown_definitions_version"
"""The ``reason`` of an SLA event skipped because its definitions version is not stored."""

NO_CHANNEL = "none"
"""The ``channel`` label of a notification whose target has no address (rule 29)."""


class NotifierMetrics:
    """Every metric the notifier exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = counter(
            registry,
            "slawatch_notifications_total",
            "Notifications by channel and final status (sent, failed, suppressed); "
            'a target with no address is failed on channel "none".',
            ["channel", "status"],
        )
        self.suppressed = counter(
            registry,
            "slawatch_notifications_suppressed_total",
            "Notifications suppressed, by channel and reason (rate_limited: the recipient's "
            "limit; acknowledged, retracted or stopped: the escalation of a step still being "
            "retried stopped).",
            ["channel", "reason"],
        )
        self.send_seconds = histogram(
            registry,
            "slawatch_notification_send_seconds",
            "Time for a channel to accept one notification.",
            ["channel"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.delay = histogram(
            registry,
            "slawatch_notification_delay_seconds",
            "From the instant a notification fell due to the channel taking it (retries, "
            "a backlog or a down channel make it long), by channel.",
            ["channel"],
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
        )
        self.retries = counter(
            registry,
            "slawatch_notification_retries_total",
            "Channel failures that will be tried again, by channel.",
            ["channel"],
        )
        self.skipped = counter(
            registry,
            "slawatch_notifier_events_skipped_total",
            "Records the notifier could not plan and left out, by reason (malformed: not an "
            "SLA event or acknowledgement; unknown_definitions_version: a version not stored "
            "even after reloading).",
            ["reason"],
        )
        for reason in (MALFORMED, UNKNOWN_VERSION):
            self.skipped.labels(reason=reason)
        self.running = gauge(
            registry,
            "slawatch_escalations_running",
            "Escalation instances running in the partitions this process owns, by chain.",
            ["escalation"],
        )
        self.planned_steps = counter(
            registry,
            "slawatch_escalation_notifications_total",
            "Notifications escalation chains decided, by chain and notice (step: a step "
            "fired, once per address; retraction: the notice that an event was withdrawn).",
            ["escalation", "notice"],
        )
        self.steps_overdue = gauge(
            registry,
            "slawatch_escalation_steps_overdue",
            "Notifications due more than a minute ago and still not sent (alert on it).",
        )
        self.acks = counter(registry, "slawatch_escalation_acks_total", "Acknowledgements applied.")
        self.time_to_ack = histogram(
            registry,
            "slawatch_escalation_time_to_ack_seconds",
            "From an escalation's start to its acknowledgement, by chain.",
            ["escalation"],
            buckets=(30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 86400),
        )
        self._chains_shown: set[str] = set()
        self.partitions = gauge(
            registry,
            "slawatch_notifier_partitions_owned",
            "sla-events partitions this process owns.",
        )
        self.fenced = counter(
            registry, "slawatch_notifier_fenced_total", "Commits refused: another owner."
        )
        self.store_errors = counter(
            registry, "slawatch_notifier_store_errors_total", "Database failures (retried)."
        )
        self.published = counter(
            registry,
            "slawatch_notifier_published_total",
            "Notification records published to the notifications topic.",
        )
        self.publish_errors = counter(
            registry,
            "slawatch_notifier_publish_errors_total",
            "Failed attempts to publish notification records (retried).",
        )
        self.outbox_pending = gauge(
            registry,
            "slawatch_notifier_outbox_pending",
            "Notification records not yet published.",
        )
        self.last_poll = gauge(
            registry,
            "slawatch_notifier_last_poll_timestamp_seconds",
            "Unix time of the last poll of sla-events and acks.",
        )
        self.consumer_lag = gauge(
            registry,
            "slawatch_notifier_consumer_lag",
            "Records behind the end of each owned sla-events and acks partition.",
            ["topic", "partition"],
        )
        self._lag_shown: set[tuple[str, str]] = set()

    def declare(self, versions: Sequence[DefinitionsVersion]) -> None:
        """Start every channel's notification and retry counters at 0, so that the first
        failure of a channel is an increase ``rate()`` sees."""
        names = {name for v in versions for name in v.definitions.channels}
        for name in sorted(names):
            for status in FINAL_STATUSES:
                self.notifications.labels(channel=name, status=status)
            for reason in SUPPRESSION_REASONS:
                self.suppressed.labels(channel=name, reason=reason)
            self.retries.labels(channel=name)
            self.delay.labels(channel=name)
        self.notifications.labels(channel=NO_CHANNEL, status="failed")
        chains = sorted({c for v in versions for c in v.definitions.escalations})
        for chain in chains:
            for notice in NOTICES:
                self.planned_steps.labels(escalation=chain, notice=notice)
            self.time_to_ack.labels(escalation=chain)
        self.show_running(dict.fromkeys(chains, 0))

    def show_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Set each owned partition's lag; drop the series of partitions no longer owned."""
        shown = {(topic, str(p)): n for (topic, p), n in lag.items()}
        for labels in self._lag_shown - shown.keys():
            self.consumer_lag.remove(*labels)
        for (topic, partition), n in shown.items():
            self.consumer_lag.labels(topic=topic, partition=partition).set(n)
        self._lag_shown = set(shown)

    def show_running(self, counts: Mapping[str, int]) -> None:
        """Set the running instances of each chain; a chain gone from ``counts`` shows 0."""
        for chain in self._chains_shown - counts.keys():
            self.running.labels(escalation=chain).set(0)
        for chain, n in counts.items():
            self.running.labels(escalation=chain).set(n)
        self._chains_shown |= set(counts)

    def suppressed_as(self, notifications: Iterable[tuple[str | None, str]]) -> None:
        """Count suppressed notifications from ``(channel, reason)`` pairs, in both
        ``slawatch_notifications_total`` and the reason counter; a stop reason that is an
        SLA event type counts as ``stopped``."""
        for channel, reason in notifications:
            name = channel or NO_CHANNEL
            shown = reason if reason in SUPPRESSION_REASONS else "stopped"
            self.notifications.labels(channel=name, status="suppressed").inc()
            self.suppressed.labels(channel=name, reason=shown).inc()

    def planned(self, outcomes: Iterable[tuple[str | None, str]]) -> None:
        """Count the notifications the planner decided without a send: ``(channel,
        status)`` pairs, such as a target with no address (failed, channel ``None``)."""
        for channel, status in outcomes:
            if status in FINAL_STATUSES:
                self.notifications.labels(channel=channel or NO_CHANNEL, status=status).inc()
