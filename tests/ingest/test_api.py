from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from fastapi import FastAPI

from slawatch.bus import MemoryBus, Message, PublishError, Record
from slawatch.observability import new_registry
from slawatch.settings import Settings
from slawatch.timeutil import parse_time
from slawatch_ingest.api import create_app
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.metrics import IngestMetrics
from tests.ingest.samples import BAD_INPUTS, NOW, ack, raw, ticket_created, uptime

SETTINGS = Settings(topic_prefix="t.", http_max_body_bytes=100_000, http_max_events=50)
JSON = {"Content-Type": "application/json"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def records(bus: MemoryBus, topic: str) -> list[Record]:
    if topic not in bus.topics():
        return []
    found: list[Record] = []
    for partition in range(bus.partitions(topic)):
        found.extend(bus.read(topic, partition, 0, 10_000))
    return found


class Failing:
    async def publish(self, messages: Sequence[Message]) -> None:
        raise PublishError("broker down")


def make_app(publisher: Any, settings: Settings = SETTINGS) -> tuple[FastAPI, IngestMetrics]:
    registry = new_registry("ingest", runtime=False)
    metrics = IngestMetrics(registry, topics=["t.tickets"])
    app = create_app(
        settings,
        publisher,
        registry,
        metrics=metrics,
        dedup=DuplicateFilter(settings.dedup_horizon, 1000),
        clock=lambda: parse_time(NOW),
    )
    return app, metrics


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
async def client(bus: MemoryBus) -> AsyncIterator[httpx.AsyncClient]:
    app, _ = make_app(bus)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as c:
        yield c


async def test_json_array_gives_per_event_results(
    client: httpx.AsyncClient, bus: MemoryBus
) -> None:
    body = orjson.dumps([ticket_created(), uptime(), {"id": "x", "type": "nope", "time": NOW}])
    answer = await client.post("/v1/events", content=body, headers=JSON)
    assert answer.status_code == 200
    doc = answer.json()
    assert (doc["accepted"], doc["duplicate"], doc["rejected"]) == (2, 0, 1)
    assert doc["results"] == [
        {
            "index": 0,
            "result": "accepted",
            "id": "e-1",
            "reason": None,
            "error": None,
            "field": None,
        },
        {
            "index": 1,
            "result": "accepted",
            "id": "u-1",
            "reason": None,
            "error": None,
            "field": None,
        },
        {
            "index": 2,
            "result": "rejected",
            "id": "x",
            "reason": "unknown_type",
            "error": doc["results"][2]["error"],
            "field": "type",
        },
    ]
    canonical = records(bus, "t.canonical")
    assert sorted(r.key or b"" for r in canonical) == [b"service:api", b"ticket:T-1"]
    assert all(orjson.loads(r.value)["received_at"] == NOW for r in canonical)
    [dead] = records(bus, "t.deadletter")
    letter = orjson.loads(dead.value)
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("http", 0, 2)
    assert letter["reason"] == "unknown_type"
    assert letter["request_id"] == doc["request_id"] == answer.headers["x-request-id"]
    assert len(doc["request_id"]) == 32  # made up: the client sent none


async def test_the_clients_request_id_names_the_answer_and_the_dead_letters(
    client: httpx.AsyncClient, bus: MemoryBus
) -> None:
    bad = orjson.dumps([{"id": "x", "type": "nope", "time": NOW}])
    answer = await client.post(
        "/v1/events", content=bad, headers={**JSON, "X-Request-Id": "zendesk-sync-42"}
    )
    assert answer.json()["request_id"] == answer.headers["x-request-id"] == "zendesk-sync-42"
    [dead] = records(bus, "t.deadletter")
    assert orjson.loads(dead.value)["request_id"] == "zendesk-sync-42"
    refused = await client.post("/v1/events", content=b"[", headers={**JSON, "X-Request-Id": "r-2"})
    assert (refused.status_code, refused.json()["request_id"]) == (400, "r-2")
    for unusable in ("", "x" * 129, "with space"):
        answer = await client.post(
            "/v1/events", content=b"[]", headers={**JSON, "X-Request-Id": unusable}
        )
        assert (
            answer.json()["request_id"] not in (unusable, "")
            and len(answer.json()["request_id"]) == 32
        )


async def test_a_dead_letter_quotes_an_array_element_as_it_was_written(
    client: httpx.AsyncClient, bus: MemoryBus
) -> None:
    bad = '{"id": "x",  "type": "nope", "time": "%s", "weight": 1e2, "n": 123456789012345678901}'
    body = f" [\n  {raw(ticket_created()).decode()} ,{bad % NOW}\n] ".encode()
    answer = await client.post("/v1/events", content=body, headers=JSON)
    assert [r["result"] for r in answer.json()["results"]] == ["accepted", "rejected"]
    [dead] = records(bus, "t.deadletter")
    assert orjson.loads(dead.value)["raw"] == bad % NOW


async def test_ndjson_with_blank_lines_and_bad_lines(
    client: httpx.AsyncClient, bus: MemoryBus
) -> None:
    lines = [raw(ticket_created()), b"", b"{broken\r", raw(ack()), b"  "]
    answer = await client.post("/v1/events", content=b"\n".join(lines) + b"\n", headers=NDJSON)
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert [(r["index"], r["line"], r["result"]) for r in results] == [
        (0, 1, "accepted"),
        (1, 3, "rejected"),
        (2, 4, "accepted"),
    ]
    assert results[1]["reason"] == "not_json"
    [acked] = records(bus, "t.acks")
    assert acked.key == b"ticket:T-1"
    [dead] = records(bus, "t.deadletter")
    assert orjson.loads(dead.value)["raw"] == "{broken"


async def test_every_bad_input_kind_is_rejected_with_its_reason(
    client: httpx.AsyncClient, bus: MemoryBus
) -> None:
    kinds = sorted(BAD_INPUTS)
    body = b"\n".join(BAD_INPUTS[k][0] for k in kinds) + b"\n" + raw(ticket_created())
    answer = await client.post("/v1/events", content=body, headers=NDJSON)
    results = answer.json()["results"]
    assert [r["reason"] for r in results[:-1]] == [BAD_INPUTS[k][1] for k in kinds]
    assert results[-1]["result"] == "accepted"
    assert len(records(bus, "t.deadletter")) == len(kinds)


async def test_duplicates_are_reported(client: httpx.AsyncClient, bus: MemoryBus) -> None:
    body = orjson.dumps([ticket_created(), ticket_created()])
    first = (await client.post("/v1/events", content=body, headers=JSON)).json()
    again = (await client.post("/v1/events", content=body, headers=JSON)).json()
    assert [r["result"] for r in first["results"]] == ["accepted", "duplicate"]
    assert [r["result"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert len(records(bus, "t.canonical")) == 1


async def test_one_object_is_one_event(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/events", content=raw(ticket_created()), headers=JSON)
    assert [r["result"] for r in answer.json()["results"]] == ["accepted"]


async def test_charset_parameter_is_accepted(client: httpx.AsyncClient) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    answer = await client.post("/v1/events", content=b"[]", headers=headers)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc == {"accepted": 0, "duplicate": 0, "rejected": 0, "results": [],
                   "request_id": doc["request_id"]}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"[{broken", JSON, 400),
        (b"", JSON, 400),
        (b'"a string"', JSON, 400),
        (b"[]", {"Content-Type": "text/csv"}, 415),
        (b"[]", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        (b"[" + b"1," * 60_000 + b"1]", JSON, 413),
        (b"[" + b"{}," * 60 + b"{}]", JSON, 413),
    ],
)
async def test_unusable_bodies(
    client: httpx.AsyncClient, bus: MemoryBus, body: bytes, headers: dict[str, str], status: int
) -> None:
    answer = await client.post("/v1/events", content=body, headers=headers)
    assert answer.status_code == status
    assert answer.json()["error"]
    assert bus.topics() == []


async def test_an_event_over_the_size_limit_is_rejected_not_the_request(bus: MemoryBus) -> None:
    settings = Settings(topic_prefix="t.", max_event_bytes=1000)
    app, _ = make_app(bus, settings)
    doc = ticket_created(pad="x" * 2000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as c:
        answer = await c.post("/v1/events", content=orjson.dumps([doc, uptime()]), headers=JSON)
    assert answer.status_code == 200
    assert [r["reason"] for r in answer.json()["results"]] == ["too_large", None]


async def test_publish_failure_is_503_and_a_retry_is_not_a_duplicate(bus: MemoryBus) -> None:
    registry = new_registry("ingest", runtime=False)
    metrics = IngestMetrics(registry)
    dedup = DuplicateFilter(600_000_000, 100)
    failing = create_app(SETTINGS, Failing(), registry, metrics=metrics, dedup=dedup)
    working = create_app(SETTINGS, bus, new_registry("ingest", runtime=False), dedup=dedup)
    body = orjson.dumps([ticket_created()])
    transport = httpx.ASGITransport(app=failing)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as c:
        answer = await c.post("/v1/events", content=body, headers=JSON)
        assert answer.status_code == 503
        assert "broker down" in answer.json()["error"]
        text = (await c.get("/metrics")).text
    assert 'slawatch_ingest_http_requests_total{code="503"} 1.0' in text
    assert 'slawatch_ingest_events_total{reason="",result="accepted",topic="http"} 0.0' in text
    transport = httpx.ASGITransport(app=working)
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as c:
        retry = await c.post("/v1/events", content=body, headers=JSON)
    assert retry.json()["results"][0]["result"] == "accepted"


async def test_metrics_count_results_and_dead_letters(client: httpx.AsyncClient) -> None:
    body = b"\n".join([raw(ticket_created()), raw(ticket_created()), b"nope"])
    await client.post("/v1/events", content=body, headers=NDJSON)
    text = (await client.get("/metrics")).text
    assert 'slawatch_ingest_events_total{reason="",result="accepted",topic="http"} 1.0' in text
    assert 'slawatch_ingest_events_total{reason="",result="duplicate",topic="http"} 1.0' in text
    assert (
        'slawatch_ingest_events_total{reason="not_json",result="rejected",topic="http"} 1.0' in text
    )
    assert 'slawatch_ingest_deadletters_total{reason="not_json"} 1.0' in text
    assert (
        'slawatch_ingest_events_total{reason="bad_time",result="rejected",topic="t.tickets"} 0.0'
        in text
    )
    assert "T-1" not in text
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


async def test_real_server_over_tcp(bus: MemoryBus) -> None:
    app, _ = make_app(bus)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            body = b"\n".join([raw(ticket_created()), b"[1]"])
            answer = await c.post("/v1/events", content=body, headers=NDJSON)
            health = await c.get("/healthz")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert [r["result"] for r in answer.json()["results"]] == ["accepted", "rejected"]
    assert health.json() == {"status": "ok"}
    assert len(records(bus, "t.canonical")) == 1
