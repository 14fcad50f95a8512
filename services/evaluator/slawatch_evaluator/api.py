"""The evaluator's HTTP API: clocks by subject or id, plus health and metrics.

``GET /v1/clocks?subject=ticket:T-1`` lists a subject's open clocks;
``GET /v1/clocks/{id}`` shows one (ids are ``SUBJECT/SLA/TARGET/CYCLE``);
``GET /v1/clocks?due_within=2h`` lists the ticket clocks of every partition due within two
hours (breached ones included), soonest first, from the store (through its index of each
ticket's soonest deadline), so that it never waits for an engine. Each gives
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

import orjson
from fastapi import APIRouter, FastAPI, HTTPException, Query
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncConnection

from slawatch.availability import RecordError, ServiceState
from slawatch.availability.views import objective_views
from slawatch.clock.catalog import Catalog
from slawatch.clock.kinds import TICKETS, kind_of_key
from slawatch.clock.snapshot import SnapshotError, open_clocks
from slawatch.clock.views import ClockView, clock_views, due_clock_views, parse_clock_id
from slawatch.observability.http import health_router, use_error_bodies
from slawatch.settings import Topics
from slawatch.store.common import DB_ERRORS
from slawatch.timeutil import TimeFormatError, format_time, parse_duration
from slawatch_evaluator import store
from slawatch_evaluator.runtime import Evaluator

__all__ = ["STORE_PAGE", "clocks_router", "create_app"]

STORE_PAGE = 500
"""Rows a due listing reads from the store at a time, at the least."""


def create_app(
    evaluator: Evaluator, registry: CollectorRegistry, clock: Callable[[], int]
) -> FastAPI:
    """The evaluator's FastAPI application."""
    app = FastAPI(title="slawatch evaluator", version="1")
    use_error_bodies(app)
    app.include_router(health_router(registry, evaluator.ready))
    app.include_router(clocks_router(evaluator, clock))
    return app


def _soonest(view: ClockView) -> tuple[int, str]:
    """A listed clock's place in a due listing: it always has a deadline."""
    assert view.deadline is not None
    return view.deadline, view.id


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
        subject: str | None = Query(None, min_length=1, description="ticket:ID or service:NAME"),
        due_within: str | None = Query(
            None, description="without subject: the clocks due (or breached) within it (2h)"
        ),
        sla: str | None = Query(None, description="with due_within: only this SLA's clocks"),
        target: str | None = Query(None, description="with due_within: only this target's"),
        limit: int = Query(100, ge=1, le=1000, description="with due_within: at most this many"),
    ) -> dict[str, Any]:
        if subject is not None:
            if due_within is not None:
                raise HTTPException(400, "give either subject or due_within, not both")
            source, clocks = await views(subject)
            return {"subject": subject, "source": source, "clocks": clocks}
        if due_within is None:
            raise HTTPException(
                400,
                "give subject (ticket:ID or service:NAME) for its clocks, or due_within "
                "(e.g. 2h) for the ticket clocks due (or breached) within it",
            )
        try:
            within = parse_duration(due_within)
        except TimeFormatError as exc:
            raise HTTPException(400, f"due_within: {exc}") from None
        return await due_soon(clock(), within, sla, target, limit)

    async def due_soon(
        now: int, within: int, sla: str | None, target: str | None, limit: int
    ) -> dict[str, Any]:
        """The ticket clocks of every partition due by ``now + within``, soonest deadline
        first, read from the store as their owners last committed them."""
        until = now + within
        try:
            async with evaluator.db.connect() as conn:
                found, unreadable = await due_in_store(conn, now, until, sla, target, limit)
        except DB_ERRORS as exc:
            raise HTTPException(503, f"the store cannot be read: {exc}") from None
        found.sort(key=_soonest)
        return {
            "as_of": format_time(now),
            "due_by": format_time(until),
            "source": "store",
            "clocks": [v.body for v in found[:limit]],
            "more": len(found) > limit,
            "unreadable": unreadable,
        }

    async def due_in_store(
        conn: AsyncConnection,
        now: int,
        until: int,
        sla: str | None,
        target: str | None,
        limit: int,
    ) -> tuple[list[ClockView], int]:
        """Enough due clocks to fill ``limit`` and say whether there are more, read a page
        of rows at a time; and how many records could not be read (a definitions version
        not taken up here yet)."""
        topic = evaluator.settings.topic(Topics.CANONICAL)
        page = max(limit + 1, STORE_PAGE)
        found: list[ClockView] = []
        cutoff: int | None = None  # the deadline of the (limit + 1)-th clock found so far
        unreadable = 0
        after: tuple[int, str] | None = None
        while True:
            rows = await store.due_rows(conn, topic, until, after, page)
            for key, record, deadline in rows:
                if cutoff is not None and cutoff < deadline:
                    return found, unreadable  # no later row has a clock before it
                try:
                    ticket = orjson.loads(record)["state"]
                    if (sla or target) and not any(
                        (sla is None or s == sla) and (target is None or t == target)
                        for s, t, *_ in open_clocks(ticket)
                    ):
                        continue  # none of its clocks is of the SLA or target asked for
                    state = TICKETS.from_record(ticket, catalog())
                except (SnapshotError, orjson.JSONDecodeError, KeyError, TypeError):
                    unreadable += 1
                    continue
                views = due_clock_views(key, state, now, until, sla=sla, target=target)
                if views:
                    found += views
                    if len(found) > limit:
                        found.sort(key=_soonest)
                        del found[limit + 1 :]
                        cutoff = _soonest(found[limit])[0]
            if len(rows) < page:
                return found, unreadable
            after = (rows[-1][2], rows[-1][0])

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
