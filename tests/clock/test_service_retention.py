"""Rule 6a for services: history is kept until retention after its window closed."""

from __future__ import annotations

from tests.support.replaying import run

UPTIME = """
availability:
  - id: api-uptime
    service: api
    objective: 99.5
    window: month
    timezone: UTC
    warn_at_budget: [0.5]
"""


def status(eid: str, time: str, value: str, **extra: object) -> dict[str, object]:
    return {"id": eid, "type": "uptime.status", "time": time, "service": "api",
            "status": value, **extra}  # fmt: skip


def test_late_status_in_a_window_closed_past_retention_is_too_late() -> None:
    events = [
        status("u1", "2026-04-01T00:00:00Z", "up"),
        status("u2", "2026-04-10T00:00:00Z", "down"),
        status("u3", "2026-04-10T01:00:00Z", "up"),
        status("u4", "2026-05-03T00:00:00Z", "up"),
        status("u5", "2026-05-05T00:00:00Z", "up"),
        status("late", "2026-04-20T00:00:00Z", "down"),
    ]
    r = run(UPTIME, events, retention="1d")
    assert r.stats is not None
    assert r.stats.too_late == 1
    (closed,) = r.of("sla.availability.window_closed")
    assert closed["downtime_seconds"] == 3600


def test_late_status_within_retention_recomputes_the_closed_window() -> None:
    """The late outage's warning and breach come out with their past times.

    The window's close keeps its id (``events.md`` keys it without its figures), so the
    recomputation does not emit it again (see docs/contract-decisions.md).
    """
    events = [
        status("u1", "2026-04-01T00:00:00Z", "up"),
        status("u4", "2026-05-01T06:00:00Z", "up"),
        status("late", "2026-04-30T00:00:00Z", "down"),
        status("u5", "2026-05-01T08:00:00Z", "up"),
    ]
    r = run(UPTIME, events, retention="7d")
    assert r.stats is not None
    assert r.stats.too_late == 0
    assert r.stats.recomputed == 1
    april = {"window_start": "2026-04-01T00:00:00Z"}
    (breach,) = r.of("sla.availability.breached", **april)
    assert breach["time"] == "2026-04-30T03:36:00Z"
    (warning,) = r.of("sla.availability.warning", **april)
    assert warning["time"] == "2026-04-30T01:48:00Z"
    assert len(r.of("sla.availability.window_closed", **april)) == 1


def test_after_compaction_later_late_events_in_the_open_window_still_recompute() -> None:
    events = [
        status("u1", "2026-04-01T00:00:00Z", "up"),
        status("u2", "2026-05-01T00:00:00Z", "up"),
        status("u3", "2026-05-10T00:00:00Z", "up"),
        status("u4", "2026-05-12T00:00:00Z", "up"),
        status("late", "2026-05-11T00:00:00Z", "down"),
    ]
    r = run(UPTIME, events, retention="1d", until="2026-06-01T00:00:00Z")
    assert r.stats is not None
    assert r.stats.too_late == 0 and r.stats.recomputed == 1
    may = r.of("sla.availability.window_closed", window_start="2026-05-01T00:00:00Z")
    assert [c["downtime_seconds"] for c in may] == [24 * 3600]
