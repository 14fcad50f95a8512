"""Prometheus metrics on an injected registry, following the project's conventions.

Each service builds one :class:`prometheus_client.CollectorRegistry` with
:func:`new_registry` in its ``main``, builds its own metrics object on it and passes both
down; nothing here touches prometheus_client's global ``REGISTRY``, so tests and the
standalone process can hold several services' metrics side by side.

The factories :func:`counter`, :func:`gauge` and :func:`histogram` enforce the
conventions (``shared/notes/users.md``, "Prometheus conventions"):

- names start with ``slawatch_`` and are snake case;
- counters, and only counters, end in ``_total``;
- no label may carry a ticket, customer, user or event identity
  (:data:`FORBIDDEN_LABELS`): those are unbounded. Labels hold bounded values only.

A violation raises :class:`MetricNameError` (a ``ValueError``) when the metric is
built, so a bad name fails the service's first test, not a dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

import slawatch

__all__ = [
    "DURATION_BUCKETS",
    "FORBIDDEN_LABELS",
    "PREFIX",
    "MetricNameError",
    "counter",
    "gauge",
    "histogram",
    "new_registry",
    "render",
]

PREFIX: Final = "slawatch_"

FORBIDDEN_LABELS: Final = frozenset(
    {
        "id",
        "event_id",
        "ticket",
        "ticket_id",
        "customer",
        "customer_id",
        "subject",
        "user",
        "user_id",
        "recipient",
        "key",
    }
)
"""Label names that would carry an unbounded identity."""

DURATION_BUCKETS: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Histogram buckets in seconds for broker and database round trips."""

_NAME: Final = re.compile(r"slawatch_[a-z][a-z0-9_]*[a-z0-9]")
_LABEL: Final = re.compile(r"[a-z][a-z0-9_]*")


class MetricNameError(ValueError):
    """A metric name or label that breaks the project's conventions."""


def new_registry(service: str, *, runtime: bool = True) -> CollectorRegistry:
    """A fresh registry with ``slawatch_build_info{service, version}`` and, if ``runtime``,
    the process, platform and GC collectors (``process_*``, ``python_*``)."""
    registry = CollectorRegistry(auto_describe=True)
    if runtime:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    info = gauge(
        registry,
        "slawatch_build_info",
        "Always 1: the service and slawatch version of this process.",
        ("service", "version"),
    )
    info.labels(service, slawatch.__version__).set(1)
    return registry


def _check(name: str, labels: Sequence[str], *, is_counter: bool) -> None:
    if _NAME.fullmatch(name) is None or "__" in name:
        raise MetricNameError(f"metric {name!r}: names are snake case and start with {PREFIX!r}")
    if name.endswith("_total") != is_counter:
        raise MetricNameError(f"metric {name!r}: counters, and only counters, end in '_total'")
    for label in labels:
        if _LABEL.fullmatch(label) is None:
            raise MetricNameError(f"metric {name!r}: label {label!r} is not snake case")
        if label in FORBIDDEN_LABELS:
            raise MetricNameError(
                f"metric {name!r}: label {label!r} would carry an unbounded identity"
            )
    if len(set(labels)) != len(labels):
        raise MetricNameError(f"metric {name!r}: a label is repeated")


def counter(
    registry: CollectorRegistry, name: str, documentation: str, labels: Sequence[str] = ()
) -> Counter:
    """A counter named ``slawatch_..._total`` on ``registry``."""
    _check(name, labels, is_counter=True)
    return Counter(name, documentation, tuple(labels), registry=registry)


def gauge(
    registry: CollectorRegistry, name: str, documentation: str, labels: Sequence[str] = ()
) -> Gauge:
    """A gauge on ``registry``; name it for its unit (``_seconds``, ``_ratio``, ...)."""
    _check(name, labels, is_counter=False)
    return Gauge(name, documentation, tuple(labels), registry=registry)


def histogram(
    registry: CollectorRegistry,
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    *,
    buckets: Sequence[float] = DURATION_BUCKETS,
) -> Histogram:
    """A histogram on ``registry`` (seconds buckets unless given)."""
    _check(name, labels, is_counter=False)
    return Histogram(name, documentation, tuple(labels), registry=registry, buckets=buckets)


def render(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The registry in the Prometheus text format, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
