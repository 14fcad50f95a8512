"""Every setting of every service, read from the environment (``SLAWATCH_*``) in one place.

Build a :class:`Settings` in ``main()`` and pass it down; nothing reads the
environment at import time. Durations are written like definitions durations
(``30s``, ``5m``) and held as integer microseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from slawatch.timeutil import SECOND, parse_duration, parse_time

__all__ = ["Settings", "Topics"]


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return 0 if value.strip() in ("0", "") else parse_duration(value)
    return value


Duration = Annotated[int, BeforeValidator(_duration)]
"""A duration in microseconds, written ``30s``, ``5m``, ``1h30m``."""


def _instant(value: Any) -> Any:
    return parse_time(value) if isinstance(value, str) else value


Instant = Annotated[int, BeforeValidator(_instant)]
"""An instant in microseconds since the epoch, written in RFC 3339 with an offset."""


class Topics:
    """Topic names after the prefix (``README.md`` of the spec, "Running it")."""

    TICKETS = "tickets"
    UPTIME = "uptime"
    ACKS = "acks"
    CANONICAL = "canonical"
    SLA_EVENTS = "sla-events"
    NOTIFICATIONS = "notifications"
    DEADLETTER = "deadletter"


class Settings(BaseSettings):
    """The settings of ingest, evaluator, notifier and standalone."""

    model_config = SettingsConfigDict(env_prefix="SLAWATCH_", extra="ignore", frozen=True)

    kafka_bootstrap: str = "127.0.0.1:9092"
    database_url: str = "sqlite+aiosqlite:///var/slawatch.db"
    definitions: Path | None = None
    definitions_effective_from: Instant | None = None
    """When a changed document comes into force (not before it is accepted); unset,
    at once. Ignored when the document is already stored."""
    definitions_poll: Duration = 10 * SECOND
    """How often a running evaluator or notifier looks for definitions versions stored
    since it started (``slawatch apply``, or another process started with a changed
    document) and takes them up; 0: only at start."""
    lateness: Duration = 30 * SECOND
    retention: Duration = 7 * 24 * 3600 * SECOND
    max_future: Duration = 5 * 60 * SECOND
    topic_prefix: str = "slawatch."
    raw_topics: tuple[str, ...] = (Topics.TICKETS, Topics.UPTIME)
    max_event_bytes: int = Field(default=1_048_576, gt=0)
    dedup_horizon: Duration = 10 * 60 * SECOND
    dedup_capacity: int = Field(default=1_000_000, gt=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    consumer_group_prefix: str = "slawatch-"
    batch_max_records: int = Field(default=2000, gt=0)
    commit_interval: Duration = SECOND // 5
    stall_after: Duration = 60 * SECOND
    instance_id: str | None = None
    log_level: str = "info"
    log_format: str = "auto"
    """``json`` (one object per line, for a log collector), ``console`` (for people), or
    ``auto``: ``console`` when standard error is a terminal, else ``json``."""
    max_record_bytes: int = Field(default=8 * 1_048_576, gt=65_536)
    """The largest record a service produces: the Kafka producer's ``max_request_size``
    and the ``max.message.bytes`` of the topics slawatch creates."""
    raw_max_record_bytes: int = Field(default=32 * 1_048_576, gt=65_536)
    """The ``max.message.bytes`` of the raw topics slawatch creates: larger than any
    event it accepts, so that an oversized one reaches ingest and is dead-lettered
    instead of being refused to the system that produced it."""
    deadletter_raw_max_bytes: int = Field(default=1_048_576, ge=0)
    """How many bytes of a rejected record its dead letter quotes; the rest is cut (the
    dead letter records the original size, and the record stays in its raw topic)."""
    kafka_create_topics: bool = True
    """Create missing topics at start (the broker may not auto-create them)."""
    kafka_partitions: int = Field(default=3, gt=0)
    kafka_replication_factor: int = Field(default=1, gt=0)
    kafka_linger_ms: int = Field(default=5, ge=0)
    kafka_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = "none"
    """The compression of the record batches slawatch produces (Kafka's
    ``compression.type``); consumers read every kind whatever this is."""
    kafka_session_timeout: Duration = 30 * SECOND
    kafka_heartbeat_interval: Duration = 3 * SECOND
    kafka_max_poll_interval: Duration = 5 * 60 * SECOND
    retry_backoff_max: Duration = 10 * SECOND
    """The longest wait between retries of a failing broker operation."""
    http_max_body_bytes: int = Field(default=16 * 1_048_576, gt=0)
    """The largest ``POST /v1/events`` body; a larger one is answered 413."""
    http_max_events: int = Field(default=10_000, gt=0)
    """The most events in one ``POST /v1/events``; more is answered 413."""
    notify_attempts: int = Field(default=8, ge=1)
    """Tries per notification (the first included) before it is ``failed``."""
    notify_retry_first: Duration = 10 * SECOND
    """The wait before the first retry; each next one doubles, up to ``notify_retry_max``
    (with the defaults a notification is tried for about 20 minutes, past SMTP
    greylisting and a short outage)."""
    notify_retry_max: Duration = 10 * 60 * SECOND
    """The longest wait between tries, a server's ``Retry-After`` included."""
    notify_senders: int = Field(default=4, ge=1)
    """Concurrent senders per notifier process."""
    notify_rate_limit: int = Field(default=20, ge=1)
    """Notifications to one recipient per ``notify_rate_window``; more are ``suppressed``."""
    notify_rate_window: Duration = 10 * 60 * SECOND
    public_url: str = "http://127.0.0.1:8080"
    """Where users reach the notifier's API: acknowledgement links are built on it."""
    clocks_url: str | None = None
    """Where users reach an evaluator's API (``GET /v1/clocks``): notifications link to
    the subject's clocks on it. Unset: no link (standalone uses ``public_url``)."""
    ack_secret: str = ""
    """Signs acknowledgement links; without it emails carry none."""
    ack_link_ttl: Duration = 24 * 3600 * SECOND
    templates_dir: Path | None = None
    """Your Jinja2 templates, overriding the packaged defaults by name."""

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if any(c.isspace() for c in value):
            raise ValueError("a topic prefix has no white space")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.strip().lower() not in ("json", "console", "auto"):
            raise ValueError("use json, console or auto")
        return value.strip().lower()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.strip().lower() not in ("debug", "info", "warning", "error", "critical"):
            raise ValueError("use debug, info, warning, error or critical")
        return value.strip().lower()

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("use postgresql+asyncpg://... or sqlite+aiosqlite:///...")
        return value

    def topic(self, name: str) -> str:
        """A topic's full name."""
        return self.topic_prefix + name

    def group(self, service: str) -> str:
        """The consumer group of a service."""
        return self.consumer_group_prefix + service
