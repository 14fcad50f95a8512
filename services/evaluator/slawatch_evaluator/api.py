"""The evaluator's HTTP API: clocks by subject or id, plus health and metrics.

``GET /v1/clocks?subject=ticket:T-1`` lists a subject's open clocks;
``GET /v1/clocks/{id}`` shows one (ids are ``SUBJECT/SLA/TARGET/CYCLE``). Each gives
state, elapsed and remaining business time at the moment of the request, and every
upcoming warning and breach instant. A service's "clocks" are its availability
objectives (:mod:`slawatch.availability.views`; ids ``SUBJECT/OBJECTIVE/availability/
WINDOW_START``). A subject whose partition another evaluator
owns is answered 404 with that said.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query
from prometheus_client import CollectorRegistry

from slawatch.availability import ServiceState
from slawatch.availability.views import objective_views
from slawatch.clock.views import clock_views, parse_clock_id
from slawatch.observability.http import health_router, use_error_bodies
from slawatch_evaluator.runtime import Evaluator

__all__ = ["clocks_router", "create_app"]


def create_app(
    evaluator: Evaluator, registry: CollectorRegistry, clock: Callable[[], int]
) -> FastAPI:
    """The evaluator's FastAPI application."""
    app = FastAPI(title="slawatch evaluator", version="1")
    use_error_bodies(app)
    app.include_router(health_router(registry, evaluator.ready))
    app.include_router(clocks_router(evaluator, clock))
    return app


def clocks_router(evaluator: Evaluator, clock: Callable[[], int]) -> APIRouter:
    """``/v1/clocks`` and ``/v1/clocks/{id}``."""
    app = APIRouter()

    def views(subject: str) -> list[dict[str, Any]]:
        for worker in list(evaluator.workers.values()):
            with worker.lock:
                found = worker.engine.subjects.get(subject)
                if found is None:
                    continue
                if isinstance(found.state, ServiceState):
                    return objective_views(subject, found.state, clock())
                return [v.body for v in clock_views(subject, found.state, clock())]
        raise HTTPException(
            404,
            f"{subject} is not known to this evaluator (it may belong to a partition"
            f" another evaluator owns: this one owns {sorted(p for _, p in evaluator.workers)})",
        )

    @app.get("/v1/clocks")
    def list_clocks(
        subject: str = Query(..., min_length=1, description="ticket:ID or service:NAME"),
    ) -> dict[str, Any]:
        return {"subject": subject, "clocks": views(subject)}

    @app.get("/v1/clocks/{clock_id:path}")
    def get_clock(clock_id: str) -> dict[str, Any]:
        parsed = parse_clock_id(clock_id)
        if parsed is None:
            raise HTTPException(
                400,
                "a clock id is SUBJECT/SLA/TARGET/CYCLE or SUBJECT/OBJECTIVE/availability/WINDOW",
            )
        for body in views(parsed[0]):
            if body["id"] == clock_id:
                return body
        raise HTTPException(404, f"no open clock {clock_id}")

    return app
