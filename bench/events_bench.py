"""Throughput of :func:`slawatch.events.parse_event` on typical events (not a test).

Run: ``.venv/bin/python bench/events_bench.py [seconds-per-case]``.
"""

from __future__ import annotations

import sys
import time

import orjson

from slawatch.events import Rejection, encode_event, parse_event

CASES: dict[str, bytes] = {
    "ticket.created": orjson.dumps(
        {
            "id": "e-1",
            "type": "ticket.created",
            "time": "2026-03-02T09:00:00Z",
            "source": "zendesk",
            "ticket": {
                "id": "T-1",
                "status": "open",
                "priority": "P2",
                "customer": "acme",
                "customer_tier": "gold",
                "service": "email",
                "region": "eu",
                "assignee": None,
                "assignee_group": "l1",
                "attributes": {"channel": "phone"},
            },
        }
    ),
    "ticket.updated": orjson.dumps(
        {
            "id": "e-2",
            "type": "ticket.updated",
            "time": "2026-03-02T09:30:00.123456+01:00",
            "ticket": {"id": "T-1", "status": "waiting_on_customer"},
        }
    ),
    "uptime.status": orjson.dumps(
        {
            "id": "u-1",
            "type": "uptime.status",
            "time": "2026-03-02T09:00:00Z",
            "service": "api",
            "status": "down",
            "check": "blackbox-eu",
        }
    ),
    "rejected (bad time)": orjson.dumps(
        {"id": "e-9", "type": "ticket.updated", "time": "2026-13-01", "ticket": {"id": "T-1"}}
    ),
}


def rate(raw: bytes, seconds: float) -> float:
    """Events per second parsed from ``raw`` over roughly ``seconds``."""
    batch = 10_000
    done = 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            parse_event(raw)
        done += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    for name, raw in CASES.items():
        result = parse_event(raw)
        if not isinstance(result, Rejection):
            assert parse_event(encode_event(result)) == result
        per_second = rate(raw, seconds)
        micros = 1e6 / per_second
        print(f"{name:22} {len(raw):4} B  {per_second:>10,.0f} events/s  {micros:5.2f} µs/event")


if __name__ == "__main__":
    main()
