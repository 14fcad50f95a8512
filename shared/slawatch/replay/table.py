"""``--format table``: a timeline per subject of what happened to each clock, and why.

Each row names the instant, the clock (SLA/target and cycle, or the availability
window), what happened, the figures that matter and the input that caused it (or
``timer`` when processing time reached a deadline or warning point).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from slawatch.events.model import InputEvent, TicketEvent
from slawatch.replay.runner import Cause, Emitted
from slawatch.timeutil import format_duration

__all__ = ["Timeline", "clock_name", "describe", "duration_text"]


def duration_text(seconds: Any) -> str:
    """A duration to read: whole seconds from one second up, milliseconds below."""
    if seconds is None:
        return "-"
    value = float(seconds)
    micros = round(value) * 1_000_000 if abs(value) >= 1 else round(value * 1_000) * 1_000
    return format_duration(micros)


def _short_time(text: str | None) -> str:
    """An RFC 3339 UTC instant to read, to the second (``2026-03-02 09:30:00``)."""
    return "-" if text is None else text.replace("T", " ").replace("Z", "").split(".")[0]


def _cause(cause: Cause) -> str:
    event = cause.event
    if event is None:
        return "timer"
    return f"line {cause.line}: {_describe(event)}"


def _describe(event: InputEvent) -> str:
    if isinstance(event, TicketEvent):
        parts = [event.type.value, event.id]
        changed = {**event.fields, **{f"attributes.{k}": v for k, v in event.attributes.items()}}
        if changed:
            parts.append(", ".join(f"{k}={v}" for k, v in changed.items()))
        if event.comment is not None:
            visibility = "public" if event.comment.public else "private"
            parts.append(f"{event.comment.author_role} comment, {visibility}")
        return " ".join(parts)
    return f"{type(event).__name__} {event.id}"


def describe(body: dict[str, Any]) -> str:
    """What an output or notification says, in a few words."""
    kind = body["type"]
    if kind == "sla.clock.started":
        goal = f"{duration_text(body['goal_seconds'])} on {body['calendar']}"
        return f"started: goal {goal}, due {_short_time(body['deadline'])}"
    if kind == "sla.clock.paused":
        return f"paused at {duration_text(body['elapsed_seconds'])} elapsed"
    if kind == "sla.clock.resumed":
        return f"resumed, due {_short_time(body['deadline'])}"
    if kind == "sla.goal.changed":
        return (
            f"goal {duration_text(body['previous_goal_seconds'])} on {body['previous_calendar']}"
            f" -> {duration_text(body['goal_seconds'])} on {body['calendar']},"
            f" {duration_text(body['elapsed_seconds'])} elapsed"
        )
    if kind == "sla.warning":
        return f"WARNING {body['threshold']}: {duration_text(body['remaining_seconds'])} left"
    if kind == "sla.breached":
        goal = duration_text(body["goal_seconds"])
        return f"BREACHED: deadline {_short_time(body['deadline'])}, goal {goal}"
    if kind == "sla.clock.stopped":
        spent = f"{duration_text(body['elapsed_seconds'])} of {duration_text(body['goal_seconds'])}"
        return f"stopped, {body['outcome']}: {spent}"
    if kind == "sla.clock.cancelled":
        breached = ", had breached" if body.get("breached") else ""
        return f"cancelled ({body['reason']}{breached})"
    if kind == "sla.retracted":
        return f"RETRACTED {body['retracts']} ({body['reason']})"
    if kind == "sla.availability.warning":
        return f"budget {body['threshold']} used; availability {body['availability']}"
    if kind == "sla.availability.breached":
        down, budget = (
            duration_text(body["downtime_seconds"]),
            duration_text(body["budget_seconds"]),
        )
        return f"BUDGET EXHAUSTED: {down} down of {budget}"
    if kind == "sla.availability.window_closed":
        return (
            f"window closed, {body['outcome']}: availability {body['availability']},"
            f" downtime {duration_text(body['downtime_seconds'])}"
            f" of {duration_text(body['measured_seconds'])} measured,"
            f" credit {body['credit_percent']}%"
        )
    if kind == "escalation.acknowledged":
        note = f": {body['note']}" if body.get("note") else ""
        return f"ACKNOWLEDGED by {body['by']}{note}"
    if kind == "notification":
        step = f"step {body['step']}" + (f" repeat {body['repeat']}" if body["repeat"] else "")
        notice = " (retraction notice)" if body.get("notice") == "retraction" else ""
        if body.get("channel") is None:
            unresolved = ", ".join(body.get("unresolved") or []) or "a target"
            return f"notify {step}{notice}: {body['status']}, no address for {unresolved}"
        failed = f" ({body['error']})" if body["status"] == "failed" and body.get("error") else ""
        return (
            f"notify {step}{notice} via {body['channel']} to {body.get('recipient')}:"
            f" {body['status']}{failed}"
        )
    return str(kind)


def clock_name(body: dict[str, Any]) -> str:
    """Which clock (SLA/target #cycle) or window an output is about."""
    if "cycle" in body and body["cycle"] is not None:
        return f"{body['sla']}/{body['target']} #{body['cycle']}"
    if "window_start" in body:
        return f"{body['sla']} [{_short_time(body['window_start'])[:10]}]"
    return f"{body.get('sla') or '*'}/{body.get('target') or '*'}"


class Timeline:
    """Collects replay steps and renders them as a text table per subject."""

    def __init__(self) -> None:
        self._rows: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)

    def add(self, outputs: Sequence[Emitted], cause: Cause) -> None:
        """Record one step."""
        why = _cause(cause)
        for out in outputs:
            body = out.body
            self._rows[out.subject].append(
                (_short_time(body["time"]), clock_name(body), describe(body), why)
            )

    def render(self) -> str:
        """The whole timeline, headed by the zone its times are in."""
        lines: list[str] = ["(times in UTC)", ""] if self._rows else []
        for subject in sorted(self._rows):
            rows = self._rows[subject]
            lines.append(subject)
            w_clock = max(len(r[1]) for r in rows)
            w_what = max(len(r[2]) for r in rows)
            for time_text, clock, what, why in rows:
                lines.append(f"  {time_text:<26} {clock:<{w_clock}}  {what:<{w_what}}  <- {why}")
            lines.append("")
        return "\n".join(lines)
