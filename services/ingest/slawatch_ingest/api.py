"""The ingest HTTP API, for systems that cannot write to Kafka.

``create_app(settings, publisher, registry, ...)`` builds the FastAPI app:

``POST /v1/events`` takes a batch of input events (``events.md``) as

- ``Content-Type: application/json``: a JSON array of event objects (or one object);
- ``Content-Type: application/x-ndjson`` (also ``application/ndjson``,
  ``application/jsonl``, ``application/x-jsonlines``): one event per line; blank lines
  are skipped.

Each event goes through the same :func:`~slawatch_ingest.pipeline.ingest_one` as a Kafka
record, with topic ``http``, partition 0 and offset its index in the batch; then the
canonical events and the dead letters of the whole batch are published at once
(:func:`~slawatch_ingest.delivery.deliver`: an event whose record its topic refuses as
too large is rejected ``too_large`` instead), counted, and the answer is ``200`` with
one result per event, in order::

    {"accepted": 2, "duplicate": 0, "rejected": 1, "request_id": "5f0c...",
     "results": [{"index": 0, "result": "accepted", "id": "e-1",
                  "reason": null, "error": null, "field": null}, ...]}

``request_id`` is the request's ``X-Request-Id`` header when it is 1-128 printable
ASCII characters, else one made up; every answer carries it (body and header), the
dead letters of the request quote it, and so do ingest's log lines about it.

``result`` is ``accepted``, ``duplicate`` (dropped: seen within the dedup horizon) or
``rejected`` (with ``reason``, ``error`` and ``field`` as in the dead letter, which was
written). NDJSON results also carry ``line``, the 1-based line number. A batch where
every event is rejected is still ``200``: the request itself was understood, and the
per-event results say what happened (the choice of most ingestion APIs; a 207 would
only restate that).

Other answers, each with ``{"error": "...", "request_id": "..."}``:

- ``400``: the body itself is unusable: not JSON (for ``application/json``), or JSON
  that is neither an array nor an object;
- ``413``: the body exceeds ``http_max_body_bytes``, or has more than
  ``http_max_events`` events; nothing was ingested;
- ``415``: another content type;
- ``503``: the bus did not acknowledge the batch; nothing is reported or counted, and the
  client should retry the whole request (events that did get through are dropped as
  duplicates downstream, rule 5).

Plus ``/healthz``, ``/readyz`` and ``/metrics``
(:func:`~slawatch.observability.health_router`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry

import slawatch
from slawatch.bus import Publisher, PublishError
from slawatch.observability import ReadyCheck, get_logger, health_router
from slawatch.observability.http import use_error_bodies
from slawatch.serving import wall_clock
from slawatch.settings import Settings
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.delivery import Decided, deliver
from slawatch_ingest.metrics import IngestMetrics
from slawatch_ingest.pipeline import HTTP_TOPIC, Origin, Result, ingest_one

__all__ = ["REQUEST_ID_HEADER", "BodyFormat", "create_app"]

REQUEST_ID_HEADER: Final = "X-Request-Id"
"""The header naming a ``POST /v1/events`` request; generated when absent or unusable."""

_REQUEST_ID = re.compile(r"[!-~]{1,128}")

_log = get_logger(__name__)


class BodyFormat(StrEnum):
    """How a ``POST /v1/events`` body is read."""

    JSON = "json"
    NDJSON = "ndjson"


MEDIA_TYPES: Final[dict[str, BodyFormat]] = {
    "application/json": BodyFormat.JSON,
    "application/x-ndjson": BodyFormat.NDJSON,
    "application/ndjson": BodyFormat.NDJSON,
    "application/jsonl": BodyFormat.NDJSON,
    "application/x-jsonlines": BodyFormat.NDJSON,
}


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def _always_ready() -> tuple[bool, dict[str, Any]]:
    return True, {}


def create_app(
    settings: Settings,
    publisher: Publisher,
    registry: CollectorRegistry,
    *,
    metrics: IngestMetrics | None = None,
    dedup: DuplicateFilter | None = None,
    ready: ReadyCheck | None = None,
    clock: Callable[[], int] = wall_clock,
) -> FastAPI:
    """The ingest app. ``metrics`` are built on ``registry`` when not given (pass them
    when the consumer shares them), and so is a duplicate filter from the settings."""
    if metrics is None:
        metrics = IngestMetrics(registry)
    if dedup is None:
        dedup = DuplicateFilter(settings.dedup_horizon, settings.dedup_capacity)
    app = FastAPI(title="slawatch ingest", version=slawatch.__version__)
    use_error_bodies(app)
    app.include_router(health_router(registry, ready or _always_ready))
    counted = metrics

    def answer(status: int, doc: dict[str, Any], request_id: str) -> Response:
        counted.http_requests.labels(str(status)).inc()
        return Response(
            content=orjson.dumps({**doc, "request_id": request_id}),
            status_code=status,
            media_type="application/json",
            headers={REQUEST_ID_HEADER: request_id},
        )

    @app.post(
        "/v1/events",
        summary="Ingest a batch of events (JSON array or NDJSON)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def post_events(request: Request) -> Response:
        request_id = _request_id(request.headers.get(REQUEST_ID_HEADER))
        try:
            fmt = _format(request.headers.get("content-type"))
            body = await _read_body(request, settings.http_max_body_bytes)
            items = _split(body, fmt)
            if len(items) > settings.http_max_events:
                raise _Refused(
                    413,
                    f"{len(items)} events in one request, more than the limit of "
                    f"{settings.http_max_events}",
                )
        except _Refused as refused:
            return answer(refused.status, {"error": refused.error}, request_id)
        now = clock()
        decided: list[Decided] = []
        for index, (_, raw) in enumerate(items):
            origin = Origin(HTTP_TOPIC, 0, index, request_id=request_id)
            item = ingest_one(raw, origin, now=now, settings=settings, dedup=dedup)
            decided.append(Decided(raw, origin, item))
        try:
            routed = await deliver(publisher, decided, now=now, settings=settings, dedup=dedup)
        except Exception as exc:
            for d in decided:
                if d.routed.dedup_key is not None:
                    dedup.forget(d.routed.dedup_key)
            if not isinstance(exc, PublishError):
                _log.exception("publishing an HTTP batch failed", request_id=request_id)
            error = f"the events were not stored, retry the request: {exc}"
            return answer(503, {"error": error}, request_id)
        for item in routed:
            counted.routed(HTTP_TOPIC, item)
        counted.delivered(routed)
        results: list[dict[str, Any]] = []
        totals = dict.fromkeys(Result, 0)
        for index, ((line, _), item) in enumerate(zip(items, routed, strict=True)):
            totals[item.result] += 1
            result: dict[str, Any] = {
                "index": index,
                "result": item.result.value,
                "id": item.event_id,
                "reason": item.reason.value if item.reason is not None else None,
                "error": item.error,
                "field": item.field,
            }
            if line is not None:
                result["line"] = line
            results.append(result)
        if totals[Result.REJECTED]:
            _log.warning(
                "rejected events of a request",
                request_id=request_id,
                rejected=totals[Result.REJECTED],
                events=len(items),
            )
        return answer(
            200, {**{r.value: n for r, n in totals.items()}, "results": results}, request_id
        )

    return app


def _request_id(given: str | None) -> str:
    """The client's request id when it is 1-128 printable ASCII characters, else a new one."""
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _format(content_type: str | None) -> BodyFormat:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    fmt = MEDIA_TYPES.get(media)
    if fmt is None:
        shown = repr(media) if media else "none"
        raise _Refused(
            415,
            f"content type {shown} is not supported: send application/json (an array of "
            "events) or application/x-ndjson (one event per line)",
        )
    return fmt


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _Refused(413, f"the body is {int(declared)} bytes, more than the limit of {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _Refused(413, f"the body is more than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _split(body: bytes, fmt: BodyFormat) -> list[tuple[int | None, bytes]]:
    """The raw events of a body, each with its line number (NDJSON only)."""
    if fmt is BodyFormat.NDJSON:
        items: list[tuple[int | None, bytes]] = []
        for number, line in enumerate(body.split(b"\n"), 1):
            if line.strip():
                items.append((number, line.removesuffix(b"\r")))
        return items
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _Refused(
            400,
            f"the body is not JSON ({exc}); send a JSON array of events, or use "
            "application/x-ndjson to have each line read on its own",
        ) from None
    if isinstance(doc, dict):
        return [(None, body)]
    if not isinstance(doc, list):
        raise _Refused(400, "the body is JSON but neither an array of events nor one event")
    return [(None, element) for element in _elements(body.decode("utf-8"))]


_BLANK = re.compile(r"[ \t\n\r]*")


def _elements(text: str) -> list[bytes]:
    """The elements of a JSON array (already known to be valid) as they are written, so
    that a dead letter quotes an event's own bytes, not a re-encoding of them."""
    decoder = json.JSONDecoder()
    elements: list[bytes] = []
    at = _BLANK.match(text, text.index("[") + 1).end()  # type: ignore[union-attr]
    while text[at] != "]":
        _, end = decoder.raw_decode(text, at)
        elements.append(text[at:end].encode("utf-8"))
        at = _BLANK.match(text, end).end()  # type: ignore[union-attr]
        if text[at] == ",":
            at = _BLANK.match(text, at + 1).end()  # type: ignore[union-attr]
    return elements
