"""Structured logs: one configuration for structlog and the standard library.

:func:`configure_logging` (called once from a service's ``main``) sends every log line,
slawatch's own (structlog, :func:`get_logger`) and its libraries' (aiokafka, uvicorn, via
the ``logging`` module), through one handler on standard error:

- ``SLAWATCH_LOG_FORMAT=json``: one JSON object per line with ``timestamp`` (RFC 3339,
  UTC), ``level``, ``logger``, ``event`` (the message) and the bound fields; an
  exception is rendered into ``exception``.
- ``SLAWATCH_LOG_FORMAT=console``: aligned, coloured lines for a terminal.
- ``SLAWATCH_LOG_FORMAT=auto`` (the default): ``console`` when standard error is a
  terminal, ``json`` otherwise (a container, a file, a pipe to a collector).

``SLAWATCH_LOG_LEVEL`` sets the root level. Calling it again replaces the handler it
installed before (tests may reconfigure); other handlers are left alone.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Any, Final, TextIO

import orjson
import structlog

from slawatch.settings import Settings

__all__ = ["LogFormat", "configure_logging", "get_logger"]

_HANDLER_NAME: Final = "slawatch"


class LogFormat(StrEnum):
    """Values of ``SLAWATCH_LOG_FORMAT``."""

    JSON = "json"
    CONSOLE = "console"
    AUTO = "auto"


def _dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Route structlog and standard-library logging to ``stream`` (standard error).

    ``auto`` renders for people on a terminal and as JSON anywhere else. httpx's line
    per request (chat and webhook deliveries, the demo feed) is kept for ``debug``.
    """
    out = stream if stream is not None else sys.stderr
    fmt = LogFormat(settings.log_format)
    if fmt is LogFormat.AUTO:
        fmt = LogFormat.CONSOLE if out.isatty() else LogFormat.JSON
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise ValueError(f"unknown log level {settings.log_level!r}")
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.typing.Processor
    if fmt is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
        finish: list[structlog.typing.Processor] = [structlog.processors.format_exc_info]
    else:
        renderer = structlog.dev.ConsoleRenderer()
        finish = []
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *finish,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    logging.getLogger("httpx").setLevel(level if level <= logging.DEBUG else logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger; bind fields with ``.bind(...)`` or pass them per call."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
