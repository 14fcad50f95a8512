"""``slawatch backtest``'s figures, from real replays of small desks and services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from slawatch.definitions.model import DefinitionsVersion
from slawatch.replay import replay
from slawatch.replay.backtest import as_json, compare, render_table
from slawatch.replay.report import EscalationKey, ObjectiveKey, Report, TargetKey
from slawatch.timeutil import parse_time
from tests.support.replaying import run, versions

DESK = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals:
          - {when: {priority: P1}, target: 30m, calendar: "24x7"}
          - {target: 1h, calendar: "24x7"}
        warn_at: [0.5]
"""
CANDIDATE = (
    DESK.replace("target: 1h", "target: 2h")
    + """
  - id: silver
    kind: customer
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 4h, calendar: "24x7"}]
"""
)
UPTIME = """
availability:
  - id: api-uptime
    service: api
    objective: 99.9
    window: week
    timezone: UTC
    credits:
      - {below: 99.9, percent: 10}
      - {below: 99.0, percent: 25}
"""


def created(eid: str, ticket: str, time: str, priority: str = "P3") -> dict[str, Any]:
    return {"id": eid, "type": "ticket.created", "time": time,
            "ticket": {"id": ticket, "status": "open", "priority": priority}}  # fmt: skip


def replied(eid: str, ticket: str, time: str, **extra: Any) -> dict[str, Any]:
    return {"id": eid, "type": "ticket.commented", "time": time, "ticket": {"id": ticket},
            "comment": {"author_role": "agent", "public": True}, **extra}  # fmt: skip


def status(eid: str, time: str, value: str) -> dict[str, Any]:
    return {"id": eid, "type": "uptime.status", "time": time, "service": "api", "status": value}


def report_of(
    definitions: str | Sequence[DefinitionsVersion],
    events: Sequence[dict[str, Any]],
    until: str,
    by: str | None = None,
    per: str | None = None,
    zone: str = "UTC",
) -> Report:
    """The report of replaying ``events`` until ``until``, fed as the CLI feeds it."""
    import json

    vs = versions((definitions, None)) if isinstance(definitions, str) else definitions
    report = Report(by, per, zone)
    replay(vs, [json.dumps(e).encode() for e in events],
           emit=lambda outputs, _: report.add(outputs), until=parse_time(until))  # fmt: skip
    return report


DAY_AT_THE_DESK = [
    created("c1", "T-1", "2026-03-02T09:00:00Z"),
    created("c2", "T-2", "2026-03-02T09:05:00Z"),
    created("c3", "T-3", "2026-03-02T09:10:00Z"),
    replied("r1", "T-1", "2026-03-02T09:20:00Z"),  # 20m: met
    replied("r2", "T-2", "2026-03-02T10:35:00Z"),  # 1h30m: breached at 10:05
]  # T-3 never answered: breached at 10:10, still open


def test_a_desk_day_in_figures() -> None:
    targets, objectives = report_of(DESK, DAY_AT_THE_DESK, "2026-03-02T12:00:00Z").figures()
    assert objectives == {}
    (key,) = targets
    assert key == TargetKey("gold", "first_response", "customer", None)
    f = targets[key]
    assert (f.started, f.stopped, f.met, f.breached, f.cancelled, f.open) == (3, 2, 1, 1, 0, 1)
    assert f.compliance == 0.5
    assert f.breaches == 2  # T-2 and T-3
    assert f.warnings == 2  # T-2 and T-3 reached half their goal; T-1 was answered first
    assert f.elapsed == [1200.0, 5400.0]
    assert (f.elapsed_quantile(0.5), f.elapsed_quantile(0.9)) == (1200.0, 5400.0)


def test_a_retracted_breach_is_not_counted() -> None:
    """The reply that met the goal arrives after the breach fired: the breach is
    retracted (rule 6) and the report counts a met clock and no breach."""
    events = [
        created("c1", "T-1", "2026-03-02T09:00:00Z"),
        created("c2", "T-2", "2026-03-02T11:00:00Z"),  # processing time passes T-1's deadline
        replied("r1", "T-1", "2026-03-02T09:40:00Z"),  # late, but in time for the goal
    ]
    assert run(DESK, events, until="2026-03-02T11:00:00Z").of("sla.retracted")
    targets, _ = report_of(DESK, events, "2026-03-02T11:00:00Z").figures()
    f = targets[TargetKey("gold", "first_response", "customer", None)]
    assert (f.started, f.met, f.breached, f.breaches, f.open) == (2, 1, 0, 0, 1)


def test_a_clock_counts_under_the_label_of_its_latest_output() -> None:
    """T-1 starts as P3 and becomes P1 before it is answered: its clock is a P1 clock."""
    events = [
        created("c1", "T-1", "2026-03-02T09:00:00Z", priority="P3"),
        {
            "id": "u1",
            "type": "ticket.updated",
            "time": "2026-03-02T09:10:00Z",
            "ticket": {"id": "T-1", "priority": "P1"},
        },
        replied("r1", "T-1", "2026-03-02T09:20:00Z"),
        created("c2", "T-2", "2026-03-02T09:00:00Z", priority="P3"),
    ]
    targets, _ = report_of(DESK, events, "2026-03-02T09:30:00Z", by="priority").figures()
    p1 = targets[TargetKey("gold", "first_response", "customer", "P1")]
    p3 = targets[TargetKey("gold", "first_response", "customer", "P3")]
    assert (p1.started, p1.met, p1.open) == (1, 1, 0)
    assert (p3.started, p3.met, p3.open) == (1, 0, 1)


def test_closed_windows_give_availability_worst_window_and_credits() -> None:
    events = [
        status("u1", "2026-03-02T00:00:00Z", "up"),
        status("u2", "2026-03-04T00:00:00Z", "down"),  # 1h down in the first week
        status("u3", "2026-03-04T01:00:00Z", "up"),
        status("u4", "2026-03-10T00:00:00Z", "down"),  # 6m down in the second
        status("u5", "2026-03-10T00:06:00Z", "up"),
    ]
    _, objectives = report_of(UPTIME, events, "2026-03-16T00:00:00Z").figures()
    f = objectives[ObjectiveKey("api-uptime", "customer", "api")]
    week = 7 * 86400
    assert (f.windows, f.met, f.breached, f.no_data) == (2, 1, 1, 0)
    assert f.downtime_seconds == 3600 + 360
    assert f.measured_seconds == 2 * week
    assert f.availability == pytest.approx(1 - 3960 / (2 * week))
    assert f.worst == pytest.approx(1 - 3600 / week, abs=1e-9)
    assert f.credit_percent == 10  # the first week (99.40 %) is below 99.9, not 99.0
    assert f.breaches == 1


def test_the_candidate_beside_the_current_terms() -> None:
    current = report_of(DESK, DAY_AT_THE_DESK, "2026-03-02T12:00:00Z")
    candidate = report_of(CANDIDATE, DAY_AT_THE_DESK, "2026-03-02T12:00:00Z")
    comparison = compare(current, candidate)
    gold, silver = comparison.targets
    assert gold.key.sla == "gold" and silver.key.sla == "silver"
    assert gold.current is not None and gold.candidate is not None
    assert (gold.current.met, gold.candidate.met) == (1, 2)  # 1h30m meets a 2h goal
    assert silver.current is None and silver.candidate is not None
    document = as_json(comparison)
    assert document["targets"][1]["current"] is None
    assert document["targets"][0]["candidate"]["compliance"] == 1.0
    table = render_table(comparison)
    assert "current terms -> candidate terms" in table
    assert "50.0 % -> 100.0 %" in table
    assert "silver/first_response" in table


def test_without_a_candidate_the_json_has_current_figures_only() -> None:
    current = report_of(DESK, DAY_AT_THE_DESK, "2026-03-02T12:00:00Z")
    (row,) = as_json(compare(current))["targets"]
    assert set(row) == {"sla", "target", "kind", "current"}
    assert row["current"]["clocks"] == 3
    assert "->" not in render_table(compare(current))


def test_each_clock_counts_in_the_period_it_stopped_in() -> None:
    """T-1 starts in March and is answered in April (Amsterdam time); T-2 starts in April
    and stays open; T-3 is all in March. Per month: T-1 and T-2 count in April."""
    events = [
        created("c1", "T-1", "2026-03-31T21:30:00Z"),
        replied("r1", "T-1", "2026-03-31T22:40:00Z"),  # 00:40 on April 1 in Amsterdam: late
        created("c3", "T-3", "2026-03-30T08:00:00Z"),
        replied("r3", "T-3", "2026-03-30T08:10:00Z"),
        created("c2", "T-2", "2026-04-01T08:00:00Z"),
    ]
    report = report_of(DESK, events, "2026-04-01T08:30:00Z", per="month", zone="Europe/Amsterdam")
    targets, _ = report.figures()
    march = targets[TargetKey("gold", "first_response", "customer", None, "2026-03")]
    april = targets[TargetKey("gold", "first_response", "customer", None, "2026-04")]
    assert (march.started, march.met, march.open) == (1, 1, 0)
    assert (april.started, april.met, april.breached, april.open) == (2, 0, 1, 1)
    assert april.breaches == 1  # T-1's breach, in the period its clock stopped in


@pytest.mark.parametrize(
    ("per", "name"),
    [("day", "2026-03-02"), ("week", "2026-W10"), ("month", "2026-03"), ("quarter", "2026-Q1")],
)
def test_periods_are_named_for_sorting(per: str, name: str) -> None:
    report = Report(per=per)
    assert report._period("2026-03-02T09:00:00Z") == name
    assert Report()._period("2026-03-02T09:00:00Z") is None


def test_windows_count_in_the_period_they_started_in() -> None:
    events = [status("u1", "2026-03-02T00:00:00Z", "up")]
    report = report_of(UPTIME, events, "2026-03-30T00:00:00Z", per="month")
    _, objectives = report.figures()
    assert [k.period for k in objectives] == ["2026-03"]  # the weeks of March 2, 9, 16, 23
    assert objectives[ObjectiveKey("api-uptime", "customer", "api", "2026-03")].windows == 4
    (row,) = as_json(compare(report))["objectives"]
    assert row["period"] == "2026-03"


PAGED = (
    DESK.replace("kind: customer\n", "kind: customer\n    escalation: desk-chain\n", 1)
    + """
escalations:
  desk-chain:
    steps:
      - when: {event: sla.breached}
        notify: [team:desk, role:assignee]
      - after: 30m
        notify: [person:lead]
people:
  lead: {console: lead}
teams:
  desk: {console: "#desk"}
channels:
  console: {type: console}
"""
)


def test_notifications_are_counted_per_chain_and_channel() -> None:
    """T-2 and T-3 breach: each breach notifies #desk (their assignee has no address)
    and, 30 minutes on, the lead; retracting nothing, every notification counts."""
    report = report_of(PAGED, DAY_AT_THE_DESK, "2026-03-02T12:00:00Z")
    console = report.escalations[EscalationKey("desk-chain", "console")]
    assert (console.sent, len(console.recipients)) == (3, 2)  # the lead's for T-2 never came
    unaddressed = report.escalations[EscalationKey("desk-chain", None)]
    assert unaddressed.failed == 2
    rows = as_json(compare(report))["escalations"]
    assert [(r["channel"], r["current"]["sent"]) for r in rows] == [(None, 0), ("console", 3)]


def test_an_unknown_label_or_period_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot group by 'ticket'"):
        Report("ticket")
    with pytest.raises(ValueError, match="cannot split per 'year'"):
        Report(per="year")
