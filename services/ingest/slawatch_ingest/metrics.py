"""The ingest service's Prometheus metrics, built on an injected registry.

- ``slawatch_ingest_events_total{topic, result, reason}`` (counter): raw records by
  outcome. ``result`` is ``accepted``, ``duplicate`` or ``rejected``; ``reason`` is the
  rejection reason (``events.md``: ``not_json``, ``too_large``, ``missing_field``, ...,
  ``future_time``, and ``internal_error``) and ``""`` unless rejected; ``topic`` is the
  raw topic, or ``http`` for ``POST /v1/events``.
- ``slawatch_ingest_deadletters_total{reason}`` (counter): dead letters the bus
  acknowledged.
- ``slawatch_ingest_consumer_lag{topic, partition}`` (gauge): records between the
  consumer's position and the last stable offset, per assigned raw partition.
- ``slawatch_ingest_publish_seconds`` (histogram): one batch publish, until every record
  is acknowledged.
- ``slawatch_ingest_commit_seconds`` (histogram): one offset commit.
- ``slawatch_ingest_last_poll_timestamp_seconds`` (gauge): the consumer's last
  successful poll (stall alert: ``time() - x``).
- ``slawatch_ingest_last_event_timestamp_seconds{topic}`` (gauge): when an event of the
  topic was last accepted.
- ``slawatch_ingest_retries_total{operation}`` (counter): broker operations retried
  (``poll``, ``publish``, ``commit``; ``consumer``: the consumer was rebuilt).
- ``slawatch_ingest_http_requests_total{code}`` (counter): answers of
  ``POST /v1/events`` by status code.

Every known label set is initialised at construction, so a rate over a series that has
not moved yet is 0, not absent. No label carries an event, ticket or customer identity.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from enum import StrEnum

from prometheus_client import CollectorRegistry

from slawatch.events import RejectReason
from slawatch.observability import counter, gauge, histogram
from slawatch_ingest.pipeline import HTTP_TOPIC, IngestReason, Result, Routed

__all__ = ["IngestMetrics", "Operation"]


class Operation(StrEnum):
    """The ``operation`` label of ``slawatch_ingest_retries_total``."""

    POLL = "poll"
    PUBLISH = "publish"
    COMMIT = "commit"
    CONSUMER = "consumer"
    """The consumer was rebuilt after a failure."""


_REASONS: tuple[str, ...] = (
    *(r.value for r in RejectReason if r is not RejectReason.TOO_LATE),
    *(r.value for r in IngestReason),
)
"""The reasons ingest rejects for (``too_late`` is the evaluator's, which counts it)."""
_HTTP_CODES: tuple[str, ...] = ("200", "400", "413", "415", "503")


class IngestMetrics:
    """The ingest metrics; ``topics`` are the raw topics (``http`` is always added)."""

    def __init__(self, registry: CollectorRegistry, *, topics: Iterable[str] = ()) -> None:
        self.events = counter(
            registry,
            "slawatch_ingest_events_total",
            "Raw records ingested, by topic, result and rejection reason.",
            ("topic", "result", "reason"),
        )
        self.deadletters = counter(
            registry,
            "slawatch_ingest_deadletters_total",
            "Dead-letter records written, by reason.",
            ("reason",),
        )
        self.consumer_lag = gauge(
            registry,
            "slawatch_ingest_consumer_lag",
            "Records not yet consumed, per assigned raw partition.",
            ("topic", "partition"),
        )
        self.publish_seconds = histogram(
            registry,
            "slawatch_ingest_publish_seconds",
            "Time to publish one batch until every record is acknowledged.",
        )
        self.commit_seconds = histogram(
            registry,
            "slawatch_ingest_commit_seconds",
            "Time to commit the consumed offsets of one batch.",
        )
        self.last_poll = gauge(
            registry,
            "slawatch_ingest_last_poll_timestamp_seconds",
            "Unix time of the consumer's last successful poll.",
        )
        self.last_event = gauge(
            registry,
            "slawatch_ingest_last_event_timestamp_seconds",
            "Unix time at which an event of the topic was last accepted.",
            ("topic",),
        )
        self.retries = counter(
            registry,
            "slawatch_ingest_retries_total",
            "Broker operations retried after a failure, by operation.",
            ("operation",),
        )
        self.http_requests = counter(
            registry,
            "slawatch_ingest_http_requests_total",
            "Answers of POST /v1/events, by status code.",
            ("code",),
        )
        for topic in (*topics, HTTP_TOPIC):
            self.events.labels(topic, Result.ACCEPTED, "")
            self.events.labels(topic, Result.DUPLICATE, "")
            for reason in _REASONS:
                self.events.labels(topic, Result.REJECTED, reason)
        for reason in _REASONS:
            self.deadletters.labels(reason)
        for operation in Operation:
            self.retries.labels(operation)
        for code in _HTTP_CODES:
            self.http_requests.labels(code)

    def routed(self, topic: str, routed: Routed) -> None:
        """Count one decided record of ``topic``."""
        reason = routed.reason.value if routed.reason is not None else ""
        self.events.labels(topic, routed.result, reason).inc()
        if routed.result is Result.ACCEPTED:
            self.last_event.labels(topic).set(time.time())

    def delivered(self, routed: Iterable[Routed]) -> None:
        """Count the dead letters among records whose messages were acknowledged."""
        for item in routed:
            if item.result is Result.REJECTED and item.reason is not None:
                self.deadletters.labels(item.reason.value).inc()
