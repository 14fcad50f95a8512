"""Hand-made SLA outputs for driving the planner, with bodies shaped like the engine's."""

from __future__ import annotations

import textwrap
from typing import Any

from slawatch.clock.catalog import Catalog
from slawatch.events.model import Acknowledgement
from slawatch.outputs import Output, OutputType, output_id
from slawatch.timeutil import format_seconds, format_time, parse_duration, parse_time
from tests.support.replaying import versions

T0 = parse_time("2026-03-02T09:00:00Z")
"""Monday 09:00 UTC."""

MIN = 60_000_000
HOUR = 60 * MIN

_DISCRIMINATED = {
    OutputType.WARNING: ("threshold",),
    OutputType.AVAILABILITY_WARNING: ("threshold",),
    OutputType.STOPPED: ("outcome", "elapsed_seconds"),
    OutputType.CANCELLED: ("reason",),
}


def catalog(*docs: str | tuple[str, str | None]) -> Catalog:
    """A catalog of YAML documents; a tuple gives its ``effective_from``."""
    pairs = [(textwrap.dedent(d), None) if isinstance(d, str) else d for d in docs]
    return Catalog(versions(*pairs))


def at(text: str) -> int:
    """An instant from a time of day on Monday 2 March 2026 (``"10:30"``) or a full time."""
    if "T" in text:
        return parse_time(text)
    return parse_time(f"2026-03-02T{text}:00Z")


def ticket_output(
    kind: OutputType,
    time: int,
    *,
    subject: str = "ticket:T-1",
    sla: str = "gold",
    target: str = "resolution",
    cycle: int = 1,
    order: int = 0,
    version: int = 1,
    goal: str = "1h",
    labels: dict[str, Any] | None = None,
    backfill: bool = False,
    **extras: Any,
) -> Output:
    """A ticket target's SLA output, its id derived as the engine derives it."""
    time_text = format_time(time)
    discriminator = [extras[k] for k in _DISCRIMINATED.get(kind, ()) if k in extras]
    body: dict[str, Any] = {
        "id": output_id(kind.value, subject, sla, target, cycle, time_text, *discriminator),
        "type": kind.value,
        "time": time_text,
        "sla": sla,
        "target": target,
        "kind": "customer",
        "subject": subject,
        "cycle": cycle,
        "goal_seconds": format_seconds(parse_duration(goal)),
        "calendar": "24x7",
        "elapsed_seconds": 0,
        "deadline": None,
        "labels": {
            "priority": None,
            "customer": None,
            "service": None,
            "region": None,
            "assignee_group": None,
            **(labels or {}),
        },
        "definitions_version": version,
        **extras,
    }
    return Output(kind, time, subject, order, cycle, body, backfill)


def warning(time: int, threshold: float | str, **kw: Any) -> Output:
    return ticket_output(OutputType.WARNING, time, threshold=threshold, **kw)


def breached(time: int, **kw: Any) -> Output:
    return ticket_output(OutputType.BREACHED, time, **kw)


def stopped(time: int, outcome: str = "breached", **kw: Any) -> Output:
    return ticket_output(OutputType.STOPPED, time, outcome=outcome, elapsed_seconds=0, **kw)


def cancelled(time: int, **kw: Any) -> Output:
    return ticket_output(
        OutputType.CANCELLED, time, reason="no_longer_applies", breached=False, **kw
    )


def service_output(
    kind: OutputType,
    time: int,
    *,
    service: str = "api",
    sla: str = "api-uptime",
    window_start: str = "2026-03-01T00:00:00Z",
    window_end: str = "2026-04-01T00:00:00Z",
    version: int = 1,
    order: int = 1_000_000,
    backfill: bool = False,
    **extras: Any,
) -> Output:
    """An availability objective's SLA output."""
    subject = "service:" + service
    time_text = format_time(time)
    discriminator = [extras[k] for k in _DISCRIMINATED.get(kind, ()) if k in extras]
    body: dict[str, Any] = {
        "id": output_id(
            kind.value, subject, sla, "availability", window_start, time_text, *discriminator
        ),
        "type": kind.value,
        "time": time_text,
        "sla": sla,
        "target": "availability",
        "kind": "customer",
        "subject": subject,
        "labels": {"service": service},
        "window_start": window_start,
        "window_end": window_end,
        "definitions_version": version,
        **extras,
    }
    return Output(kind, time, subject, order, 0, body, backfill)


def retraction(out: Output, now: int) -> Output:
    """The ``sla.retracted`` of an output, made at processing time ``now``."""
    body = out.body
    scope = (
        {"cycle": body["cycle"]}
        if "cycle" in body
        else {"window_start": body["window_start"], "window_end": body["window_end"]}
    )
    retracted = {
        "id": output_id(OutputType.RETRACTED.value, body["id"]),
        "type": OutputType.RETRACTED.value,
        "time": format_time(now),
        "sla": body["sla"],
        "target": body["target"],
        "kind": body["kind"],
        "subject": body["subject"],
        **scope,
        "definitions_version": body["definitions_version"],
        "retracts": body["id"],
        "reason": "late_event",
    }
    return Output(OutputType.RETRACTED, now, out.subject, out.order, out.cycle, retracted)


def ack(
    time: int,
    subject: str = "ticket:T-1",
    *,
    by: str = "person:lead",
    sla: str | None = None,
    target: str | None = None,
    cycle: int | None = None,
    note: str | None = None,
    eid: str = "a-1",
) -> Acknowledgement:
    return Acknowledgement(eid, time, subject, by, sla, target, cycle, note)


def brief(notes: Any) -> list[tuple[str, int, int, str, str | None, str | None]]:
    """(time, step, repeat, notice, channel, recipient) of each notification."""
    return [
        (
            n.body["time"],
            n.body["step"],
            n.body["repeat"],
            n.body["notice"],
            n.body["channel"],
            n.body["recipient"],
        )
        for n in notes
    ]


DOC = """
calendars:
  office:
    timezone: UTC
    week: {mon-fri: ["09:00-17:00"]}
slas:
  - id: gold
    kind: customer
    escalation: main
    targets:
      - id: resolution
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 1h, calendar: "24x7"}]
        warn_at: [0.5, 0.75, 15m]
      - id: response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 30m, calendar: "24x7"}]
      - id: update
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 2h, calendar: "24x7"}]
        escalation: side
  - id: plain
    kind: customer
    targets:
      - id: resolution
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 1h, calendar: "24x7"}]
availability:
  - id: api-uptime
    service: api
    objective: 99.9
    window: month
    warn_at_budget: [0.5, 0.9]
    escalation: main
escalations:
  main:
MAIN
  side:
    steps:
      - when: {event: sla.breached}
        notify: ["person:manager"]
people:
  lead: {email: lead@example.com, chat: "@lead"}
  manager: {email: manager@example.com}
  ghost: {}
PEOPLE
teams:
  support: {members: [lead], email: support@example.com}
channels:
  email: {type: smtp, host: smtp.example.com, port: 587, from: "slawatch@example.com"}
  chat: {type: slack, webhook_url: "https://hooks.example.com/services/x"}
"""


def doc(main: str, *, people: str = "") -> str:
    """The test document with chain ``main`` (its body as YAML) and extra ``people`` lines."""
    body = textwrap.indent(textwrap.dedent(main).strip("\n"), "    ")
    extra = textwrap.indent(textwrap.dedent(people).strip("\n"), "  ")
    return DOC.replace("MAIN", body).replace("PEOPLE", extra)
