"""The notifier's HTTP API: running escalations, and acknowledging them.

- ``GET /v1/escalations``: the running chains of every partition (those this notifier
  owns from memory, the others as their owners last committed them), each with the
  steps already sent, the steps still due (with their times) and every notification
  logged for it (status per recipient).
- ``POST /v1/escalations/{id}/ack`` with ``{"by": "...", "note": "..."}``: writes an
  ``escalation.acknowledged`` event to the ``acks`` topic; the owner of the
  escalation's partition applies it (rule 28a). Answers 202, or 404 when no such
  escalation is running (it stopped, or never started: nothing to acknowledge).
- ``GET /v1/escalations/{id}/ack?token=...``: the signed, expiring link in emails; it
  shows a confirmation page whose button POSTs ``/v1/escalations/{id}/confirm-ack``
  (so mail scanners that open links acknowledge nothing).

Escalation ids are ``SUBJECT/SLA/TARGET/CYCLE`` (``.../WINDOW_START`` for services).
"""

from __future__ import annotations

import contextlib
import html
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import HTMLResponse
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from slawatch.bus.base import Message, Publisher, PublishError
from slawatch.escalation import Planner
from slawatch.observability.http import health_router, use_error_bodies
from slawatch.settings import Settings, Topics
from slawatch.store.common import DB_ERRORS
from slawatch.timeutil import format_time, parse_time
from slawatch_notifier import store
from slawatch_notifier.acklinks import verify_ack
from slawatch_notifier.partition import escalation_id
from slawatch_notifier.runtime import Notifier

__all__ = ["create_app", "escalations_router"]


class AckRequest(BaseModel):
    """Who acknowledges, and why."""

    by: str = Field(min_length=1, examples=["person:duty-manager"])
    note: str | None = None


def _parse(ident: str) -> tuple[str, str, str, str]:
    """An escalation id's parts: ``ticket:T/SLA/TARGET/CYCLE`` or
    ``service:S/OBJECTIVE/availability/WINDOW_START``; 400 for anything else."""
    parts = ident.rsplit("/", 3)
    if len(parts) == 4 and all(parts):
        subject, sla, target, scope = parts
        if subject.startswith("ticket:") and scope.isdigit():
            return subject, sla, target, scope
        if subject.startswith("service:"):
            with contextlib.suppress(ValueError):
                parse_time(scope)
                return subject, sla, target, scope
    raise HTTPException(
        400,
        "an escalation id is ticket:ID/SLA/TARGET/CYCLE (a number) or"
        " service:NAME/OBJECTIVE/availability/WINDOW_START (a time)",
    )


def _names(view: dict[str, Any], subject: str, sla: str, target: str, scope: str) -> bool:
    """Whether a running escalation's view is the one an escalation id names."""
    if (view["subject"], view["sla"], view["target"]) != (subject, sla, target):
        return False
    if scope.isdigit():
        return bool(view.get("cycle") == int(scope))
    window = view.get("window_start")
    return window is not None and parse_time(str(window)) == parse_time(scope)


def escalations_router(
    notifier: Notifier,
    db: AsyncEngine,
    publisher: Publisher,
    settings: Settings,
    clock: Callable[[], int],
) -> APIRouter:
    """``/v1/escalations`` and acknowledgements."""
    router = APIRouter()
    acks_topic = settings.topic(Topics.ACKS)

    async def running_views(conn: AsyncConnection) -> tuple[list[dict[str, Any]], bool]:
        """Every running escalation: this process's partitions from memory, the others'
        from the store; and whether some partition's state could not be read (a
        definitions version not loaded here yet), whose escalations are left out."""
        views: list[dict[str, Any]] = []
        unreadable = False
        owned = dict(notifier.partitions)
        for worker in owned.values():
            with worker.lock:
                views += [v.to_dict() for v in worker.planner.running()]
        stored = await store.load_states(conn, notifier.sla_topic, but=owned)
        for _, record in sorted(stored.items()):
            try:
                planner = Planner.from_record(record["planner"], notifier.catalog)
            except KeyError:  # a definitions version this process has not loaded yet
                unreadable = True
                continue
            views += [v.to_dict() for v in planner.running()]
        for view in views:
            view["id"] = escalation_id(view)
        return views, unreadable

    async def acknowledge(ident: str, by: str, note: str | None) -> dict[str, Any]:
        subject, sla, target, scope = _parse(ident)
        try:
            async with db.connect() as conn:
                views, unreadable = await running_views(conn)
        except DB_ERRORS as exc:
            raise HTTPException(503, f"the escalations cannot be read: {exc}") from None
        if not unreadable and not any(_names(v, subject, sla, target, scope) for v in views):
            raise HTTPException(
                404,
                f"no escalation {ident} is running: it has stopped, or never started"
                " (GET /v1/escalations lists the running ones)",
            )
        event: dict[str, Any] = {
            "id": f"ack-{uuid.uuid4()}",
            "type": "escalation.acknowledged",
            "time": format_time(clock()),
            "subject": subject,
            "sla": sla,
            "target": target,
            "by": by,
        }
        if scope.isdigit():
            event["cycle"] = int(scope)
        if note:
            event["note"] = note
        try:
            await publisher.publish([Message(acks_topic, subject.encode(), orjson.dumps(event))])
        except PublishError as exc:
            raise HTTPException(503, f"the acknowledgement could not be written: {exc}") from None
        return event

    @router.get("/v1/escalations")
    async def running() -> dict[str, Any]:
        async with db.connect() as conn:
            views, _ = await running_views(conn)
            logged = await store.escalation_log(conn, [v["id"] for v in views])
        by_escalation: dict[str, list[dict[str, Any]]] = {}
        for row in logged:
            row["due_at"] = format_time(row["due_at"])
            if row["sent_at"] is not None:
                row["sent_at"] = format_time(row["sent_at"])
            by_escalation.setdefault(row.pop("escalation_id"), []).append(row)
        for view in views:
            view["notifications"] = by_escalation.get(view["id"], [])
        return {"escalations": views}

    @router.post("/v1/escalations/{ident:path}/ack", status_code=202)
    async def ack(ident: str, request: AckRequest) -> dict[str, Any]:
        return await acknowledge(ident, request.by, request.note)

    def _valid(ident: str, token: str, by: str) -> bool:
        secret = settings.ack_secret.encode()
        return bool(secret) and verify_ack(secret, ident, token, clock(), by)

    @router.get("/v1/escalations/{ident:path}/ack", response_class=HTMLResponse)
    async def ack_page(ident: str, token: str, by: str = "") -> HTMLResponse:
        """The link in an email: a confirmation page (link scanners must not acknowledge)."""
        if not _valid(ident, token, by):
            raise HTTPException(403, "this acknowledgement link is invalid or has expired")
        shown = html.escape(ident)
        query = urlencode({"token": token, **({"by": by} if by else {})})
        action = html.escape(f"/v1/escalations/{ident}/confirm-ack?{query}", quote=True)
        return HTMLResponse(
            f"<h1>Acknowledge {shown}?</h1><p>This stops the escalation chain.</p>"
            f'<form method="post" action="{action}">'
            '<button type="submit">Acknowledge</button></form>'
        )

    @router.post("/v1/escalations/{ident:path}/confirm-ack", response_class=HTMLResponse)
    async def ack_confirmed(ident: str, token: str, by: str = "") -> HTMLResponse:
        if not _valid(ident, token, by):
            raise HTTPException(403, "this acknowledgement link is invalid or has expired")
        try:
            await acknowledge(ident, by or "link", "acknowledged from a notification link")
        except HTTPException as refused:
            if refused.status_code != 404:
                raise
            page = f"<p>Nothing to acknowledge: {html.escape(ident)} is no longer running.</p>"
            return HTMLResponse(page, status_code=404)
        return HTMLResponse(f"<p>Acknowledged: {html.escape(ident)}. The escalation stops.</p>")

    return router


def create_app(
    notifier: Notifier,
    db: AsyncEngine,
    publisher: Publisher,
    settings: Settings,
    registry: CollectorRegistry,
    clock: Callable[[], int],
) -> FastAPI:
    """The notifier's FastAPI application."""
    app = FastAPI(title="slawatch notifier", version="1")
    use_error_bodies(app)
    app.include_router(health_router(registry, notifier.ready))
    app.include_router(escalations_router(notifier, db, publisher, settings, clock))
    return app
