"""The shared observability helpers, as the ingest service uses them."""

from __future__ import annotations

import io
import logging

import httpx
import orjson
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from slawatch.observability import (
    MetricNameError,
    configure_logging,
    counter,
    gauge,
    get_logger,
    health_router,
    histogram,
    new_registry,
    render,
)
from slawatch.settings import Settings


def test_registry_is_private_and_has_build_info() -> None:
    one, two = new_registry("ingest"), new_registry("ingest")
    counter(one, "slawatch_test_things_total", "Things.").inc()
    text = render(one)[0].decode()
    assert 'slawatch_build_info{service="ingest",version="0.1.0"} 1.0' in text
    assert "slawatch_test_things_total 1.0" in text
    assert "process_" in text
    assert "slawatch_test_things_total" not in render(two)[0].decode()


@pytest.mark.parametrize(
    ("kind", "name", "labels"),
    [
        ("counter", "ingest_events_total", ()),
        ("counter", "slawatch_events", ()),
        ("gauge", "slawatch_lag_total", ()),
        ("gauge", "slawatch_Lag", ()),
        ("counter", "slawatch_x_total", ("ticket_id",)),
        ("gauge", "slawatch_x", ("customer",)),
        ("histogram", "slawatch_y_seconds", ("subject",)),
        ("gauge", "slawatch_z", ("a", "a")),
    ],
)
def test_conventions_are_enforced(kind: str, name: str, labels: tuple[str, ...]) -> None:
    registry = CollectorRegistry()
    factory = {"counter": counter, "gauge": gauge, "histogram": histogram}[kind]
    with pytest.raises(MetricNameError):
        factory(registry, name, "doc", labels)


def test_json_logs_include_library_logs() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="info"), stream=stream)
    try:
        get_logger("slawatch.test").info("hello", answer=42)
        logging.getLogger("aiokafka").warning("from %s", "a library")
        get_logger("slawatch.test").debug("hidden")
        try:
            raise ValueError("boom")
        except ValueError:
            get_logger("slawatch.test").exception("failed")
    finally:
        configure_logging(Settings())
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "hello"
    assert lines[0]["answer"] == 42
    assert lines[0]["level"] == "info"
    assert lines[0]["logger"] == "slawatch.test"
    assert lines[0]["timestamp"].endswith("Z")
    assert lines[1]["event"] == "from a library"
    assert lines[1]["level"] == "warning"
    assert len(lines) == 3
    assert "ValueError: boom" in lines[2]["exception"]


def test_console_logs() -> None:
    stream = io.StringIO()
    configure_logging(Settings(log_format="console"), stream=stream)
    try:
        get_logger("slawatch.test").warning("careful", thing="x")
    finally:
        configure_logging(Settings())
    text = stream.getvalue()
    assert "careful" in text
    assert "thing" in text
    assert not text.startswith("{")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "json"), [(io.StringIO(), True), (_Terminal(), False)])
def test_auto_logs_are_json_unless_a_terminal_reads_them(stream: io.StringIO, json: bool) -> None:
    configure_logging(Settings(log_format="auto"), stream=stream)
    try:
        get_logger("slawatch.test").warning("careful")
        logging.getLogger("httpx").info('HTTP Request: POST http://x "HTTP/1.1 200 OK"')
    finally:
        configure_logging(Settings())
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, "httpx's line per request is kept for debug"
    assert lines[0].startswith("{") is json


def test_bad_log_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="json, console or auto"):
        Settings(log_format="xml")
    with pytest.raises(ValueError, match="debug, info"):
        Settings(log_level="loud")


async def test_health_router() -> None:
    registry = new_registry("test", runtime=False)
    state = {"ok": False}

    def ready() -> tuple[bool, dict[str, object]]:
        return state["ok"], {"kafka": "connected" if state["ok"] else "connecting"}

    app = FastAPI()
    app.include_router(health_router(registry, ready))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        not_ready = await client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json() == {"ready": False, "checks": {"kafka": "connecting"}}
        state["ok"] = True
        assert (await client.get("/readyz")).status_code == 200
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "slawatch_build_info" in metrics.text


async def test_readiness_that_raises_is_not_ready() -> None:
    def ready() -> tuple[bool, dict[str, object]]:
        raise RuntimeError("broken check")

    app = FastAPI()
    app.include_router(health_router(new_registry("test", runtime=False), ready))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert "broken check" in answer.json()["checks"]["error"]
