"""The evaluator's HTTP API: clocks by subject or id, plus health and metrics.

``GET /v1/clocks?subject=ticket:T-1`` lists a subject's open clocks;
``GET /v1/clocks/{id}`` shows one (ids are ``SUBJECT/SLA/TARGET/CYCLE``). Each gives
state, elapsed and remaining business time at the moment of the request, and every
upcoming warning and breach instant. A service's "clocks" are its availability
objectives (:mod:`slawatch.availability.views`; ids ``SUBJECT/OBJECTIVE/availability/
WINDOW_START``). A subject of a partition this evaluator owns is read from memory; any
other from the store, as its owner last committed it (``"source": "store"``), so any
evaluator behind a load balancer answers for every subject.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Query
from prometheus_client import CollectorRegistry

from slawatch.availability import RecordError, ServiceState
from slawatch.availability.views import objective_views
from slawatch.clock.catalog import Catalog
from slawatch.clock.kinds import kind_of_key
from slawatch.clock.snapshot import SnapshotError
from slawatch.clock.views import clock_views, parse_clock_id
from slawatch.observability.http import health_router, use_error_bodies
from slawatch.store.common import DB_ERRORS
from slawatch_evaluator import store
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

    def shown(subject: str, state: Any, now: int) -> list[dict[str, Any]]:
        if isinstance(state, ServiceState):
            return objective_views(subject, state, now)
        return [v.body for v in clock_views(subject, state, now)]

    async def views(subject: str) -> tuple[str, list[dict[str, Any]]]:
        """Where the subject's clocks were read (``memory`` or ``store``), and the views."""
        for worker in list(evaluator.workers.values()):
            with worker.lock:
                found = worker.engine.subjects.get(subject)
                if found is not None:
                    return "memory", shown(subject, found.state, clock())
        try:
            async with evaluator.db.connect() as conn:
                record = await store.load_state(conn, subject)
        except DB_ERRORS as exc:
            raise HTTPException(503, f"the store cannot be read: {exc}") from None
        if record is None:
            try:
                kind_of_key(subject)
                hint = ""
            except ValueError:
                hint = " (a subject is ticket:ID or service:NAME)"
            raise HTTPException(404, f"{subject} is not known{hint}")
        kind = kind_of_key(subject)
        try:
            state = kind.from_record(record["state"], catalog())
        except (RecordError, SnapshotError) as exc:  # e.g. a version not taken up here yet
            raise HTTPException(503, f"{subject} cannot be read from the store: {exc}") from None
        return "store", shown(subject, state, clock())

    built: list[Catalog] = []

    def catalog() -> Catalog:
        """The catalog of the versions the evaluator holds now (``slawatch apply`` adds)."""
        held = evaluator.versions
        if not built or len(built[0].versions) != len(held):
            built[:] = [Catalog(held)]
        return built[0]

    @app.get("/v1/clocks")
    async def list_clocks(
        subject: str = Query(..., min_length=1, description="ticket:ID or service:NAME"),
    ) -> dict[str, Any]:
        source, clocks = await views(subject)
        return {"subject": subject, "source": source, "clocks": clocks}

    @app.get("/v1/clocks/{clock_id:path}")
    async def get_clock(clock_id: str) -> dict[str, Any]:
        parsed = parse_clock_id(clock_id)
        if parsed is None:
            raise HTTPException(
                400,
                "a clock id is SUBJECT/SLA/TARGET/CYCLE or SUBJECT/OBJECTIVE/availability/WINDOW",
            )
        for body in (await views(parsed[0]))[1]:
            if body["id"] == clock_id:
                return body
        raise HTTPException(404, f"no open clock {clock_id}")

    return app
