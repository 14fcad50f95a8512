"""The notifier's Prometheus metrics, on an injected registry (no recipient labels)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["NotifierMetrics"]


class NotifierMetrics:
    """Every metric the notifier exports."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            "slawatch_notifications",
            "Notifications by channel and final status (sent, failed, suppressed).",
            ["channel", "status"],
            registry=registry,
        )
        self.send_seconds = Histogram(
            "slawatch_notification_send_seconds",
            "Time for a channel to accept one notification.",
            ["channel"],
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.retries = Counter(
            "slawatch_notification_retries",
            "Channel failures that will be tried again, by channel.",
            ["channel"],
            registry=registry,
        )
        self.running = Gauge(
            "slawatch_escalations_running",
            "Escalation instances running in the partitions this process owns.",
            registry=registry,
        )
        self.steps_overdue = Gauge(
            "slawatch_escalation_steps_overdue",
            "Notifications due more than a minute ago and still not sent (alert on it).",
            registry=registry,
        )
        self.acks = Counter(
            "slawatch_escalation_acks",
            "Acknowledgements applied.",
            registry=registry,
        )
        self.time_to_ack = Histogram(
            "slawatch_escalation_time_to_ack_seconds",
            "From an escalation's start to its acknowledgement.",
            buckets=(30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 86400),
            registry=registry,
        )
        self.partitions = Gauge(
            "slawatch_notifier_partitions_owned",
            "sla-events partitions this process owns.",
            registry=registry,
        )
        self.fenced = Counter(
            "slawatch_notifier_fenced", "Commits refused: another owner.", registry=registry
        )
        self.store_errors = Counter(
            "slawatch_notifier_store_errors", "Database failures (retried).", registry=registry
        )
        self.published = Counter(
            "slawatch_notifier_published",
            "Notification records published to the notifications topic.",
            registry=registry,
        )
        self.publish_errors = Counter(
            "slawatch_notifier_publish_errors",
            "Failed attempts to publish notification records (retried).",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "slawatch_notifier_outbox_pending",
            "Notification records not yet published.",
            registry=registry,
        )
        self.last_poll = Gauge(
            "slawatch_notifier_last_poll_timestamp_seconds",
            "Unix time of the last poll of sla-events and acks.",
            registry=registry,
        )
