"""The health and metrics endpoints every service serves.

``health_router(registry, ready)`` returns a FastAPI router with:

- ``GET /healthz``: ``200 {"status": "ok"}`` whenever the process answers HTTP at all
  (liveness: the event loop runs).
- ``GET /readyz``: calls ``ready()``, which returns ``(ok, details)``; ``200`` with
  ``{"ready": true, "checks": details}`` when ok, else ``503`` with
  ``{"ready": false, "checks": details}`` saying what is not ready. A ``ready`` that
  raises counts as not ready, with the error in ``checks.error``.
- ``GET /metrics``: the registry in the Prometheus text format.

``HEAD`` works on the first two, for probes. :func:`use_error_bodies` makes an app's
errors JSON objects with an ``error`` message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException

from slawatch.observability.logs import get_logger
from slawatch.observability.metrics import render

__all__ = ["ReadyCheck", "health_router", "use_error_bodies"]

ReadyCheck: TypeAlias = Callable[[], tuple[bool, dict[str, Any]]]
"""Returns whether the service is ready, and the state of each of its parts."""

_log = get_logger(__name__)


def use_error_bodies(app: FastAPI) -> None:
    """Answer every error of ``app`` as ``{"error": "..."}``, as ``POST /v1/events`` does:
    an HTTP error with its message, a request that does not validate with status 400 and
    each problem (``"query subject: Field required"``) in ``problems`` as well."""

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse({"error": str(exc.detail)}, exc.status_code, headers=exc.headers)

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [f"{' '.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"error": "; ".join(problems), "problems": problems}, 400)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)


def health_router(registry: CollectorRegistry, ready: ReadyCheck) -> APIRouter:
    """``/healthz``, ``/readyz`` and ``/metrics`` for ``registry`` and ``ready``."""
    router = APIRouter()

    @router.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @router.api_route("/readyz", methods=["GET", "HEAD"], include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            ok, details = ready()
        except Exception as exc:
            _log.exception("readiness check failed")
            ok, details = False, {"error": f"{type(exc).__name__}: {exc}"}
        return JSONResponse({"ready": ok, "checks": details}, status_code=200 if ok else 503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = render(registry)
        return Response(content=body, headers={"Content-Type": content_type})

    return router
