"""What every service exposes about itself: metrics, logs, health.

- :mod:`~slawatch.observability.metrics`: Prometheus metrics on an injected
  ``CollectorRegistry`` (never the global one), with the project's naming rules checked.
- :mod:`~slawatch.observability.logs`: :func:`configure_logging`, structured logs with
  structlog (JSON lines, or a console format for people).
- :mod:`~slawatch.observability.http`: :func:`health_router`, ``/healthz``, ``/readyz``
  and ``/metrics`` for a FastAPI app.
"""

from slawatch.observability.http import ReadyCheck, health_router
from slawatch.observability.logs import LogFormat, configure_logging, get_logger
from slawatch.observability.metrics import (
    DURATION_BUCKETS,
    FORBIDDEN_LABELS,
    MetricNameError,
    counter,
    gauge,
    histogram,
    new_registry,
    render,
)

__all__ = [
    "DURATION_BUCKETS",
    "FORBIDDEN_LABELS",
    "LogFormat",
    "MetricNameError",
    "ReadyCheck",
    "configure_logging",
    "counter",
    "gauge",
    "get_logger",
    "health_router",
    "histogram",
    "new_registry",
    "render",
]
