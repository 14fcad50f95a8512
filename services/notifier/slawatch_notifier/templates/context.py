"""The context templates are rendered with: the record, the event, and what follows from them.

:func:`view` never fails on a record or event that lacks keys: a derived field that
cannot be computed is ``None`` (templates test it with ``{% if late_by %}``). Durations
are written like definitions durations (``1h30m``), instants as ``2026-03-02 17:00 UTC``,
followed by the local time of the calendar (or objective) when its zone is not UTC.

Fields (besides ``record``, ``event``, ``ack_url`` and ``clock_url``):

- ``what`` (a :class:`Happening`), ``headline``, ``retraction`` (bool);
- ``subject``, ``subject_kind`` (``ticket``/``service``), ``subject_name``;
- ``sla``, ``target``, ``kind``, ``underpins``, ``cycle``, ``window_start``,
  ``window_end``, ``labels_text``;
- ``goal``, ``calendar``, ``elapsed``, ``remaining``, ``deadline``, ``threshold_text``;
- ``late_by``: business time elapsed beyond the goal (elapsed − goal), when positive;
- ``past_deadline``: real time from the deadline to the notification (a breach) or to
  the stop (a clock stopped after its breach), when positive;
- ``outcome``, ``reason``, ``retraction_reason``;
- ``availability``, ``budget_consumed``, ``budget``, ``downtime``, ``measured``,
  ``credit_percent``;
- ``escalation``, ``step``, ``repeat``, ``step_text``, ``time``, ``event_time``,
  ``notification_id``, ``cause``;
- ``stale_by``: how long before the notification its event happened, when over a
  minute (a later step, a repeat, a held notification): the facts shown are as of then.

Filters for user templates: ``duration`` (seconds), ``when`` (an RFC 3339 instant),
``percent`` (a ratio in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Undefined

from slawatch.outputs import OutputType
from slawatch.timeutil import SECOND, TimeFormatError, format_duration, parse_time, to_datetime

__all__ = ["FILTERS", "Happening", "duration", "percent", "view", "when"]


class Happening(StrEnum):
    """What the SLA event behind a notification reports."""

    WARNING = "warning"
    """A ticket clock reached a warning point."""
    BREACH = "breach"
    """A ticket clock reached its goal while running."""
    STOPPED_BREACHED = "stopped_breached"
    """A clock that had breached stopped: the work is done, late."""
    STOPPED_MET = "stopped_met"
    """A clock stopped within its goal."""
    CANCELLED = "cancelled"
    """A clock was cancelled (no longer applies, or the ticket was deleted)."""
    BUDGET_WARNING = "budget_warning"
    """An availability objective consumed a share of its error budget."""
    AVAILABILITY_BREACH = "availability_breach"
    """An availability objective can no longer be met this window."""
    WINDOW_CLOSED = "window_closed"
    """An availability window ended."""
    RETRACTED = "retracted"
    """An earlier SLA event was withdrawn."""
    CLOCK = "clock"
    """Another clock event (started, paused, resumed, goal changed)."""
    UNKNOWN = "unknown"
    """The SLA event is not known."""


_HEADLINES = {
    Happening.WARNING: "SLA warning",
    Happening.BREACH: "SLA breached",
    Happening.STOPPED_BREACHED: "Finished after the SLA breach",
    Happening.STOPPED_MET: "Finished within the SLA",
    Happening.CANCELLED: "SLA clock cancelled",
    Happening.BUDGET_WARNING: "Error budget warning",
    Happening.AVAILABILITY_BREACH: "Availability objective breached",
    Happening.WINDOW_CLOSED: "Availability window closed",
    Happening.RETRACTED: "SLA event retracted",
    Happening.UNKNOWN: "SLA escalation",
}

_RETRACTION_REASONS = {
    "late_event": "an input event that arrived late changed the clock's history",
}


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def duration(value: Any) -> str:
    """Seconds as ``1h30m``; ``""`` for a missing or non-numeric value."""
    seconds = _seconds(value)
    if seconds is None:
        return ""
    micros = round(seconds * SECOND)
    return ("-" + format_duration(-micros)) if micros < 0 else format_duration(micros)


def _instant(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except (TimeFormatError, ValueError):
        return None


def when(value: Any, zone: str | None = None) -> str:
    """An RFC 3339 instant as ``2026-03-02 17:00 UTC``, followed by the local time in
    ``zone`` (an IANA name) when it is not UTC: ``2026-03-02 17:00 UTC, 18:00
    Europe/Amsterdam``, with the date when it differs. Other text is returned as it is."""
    instant = _instant(value)
    if instant is None:
        return "" if value is None or isinstance(value, Undefined) else str(value)
    dt = to_datetime(instant)
    precise = dt.second or dt.microsecond
    shown = dt.strftime("%Y-%m-%d %H:%M:%S" if precise else "%Y-%m-%d %H:%M")
    local = _local(dt, zone)
    if local is None:
        return f"{shown} UTC"
    clock = local.strftime("%H:%M:%S" if precise else "%H:%M")
    day = "" if local.date() == dt.date() else local.strftime("%Y-%m-%d ")
    return f"{shown} UTC, {day}{clock} {zone}"


def _local(dt: datetime, zone: str | None) -> datetime | None:
    if not zone or zone in ("UTC", "Etc/UTC"):
        return None
    try:
        return dt.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def percent(value: Any) -> str:
    """A ratio as a percentage with up to four decimals (``0.99871`` is ``99.871%``)."""
    ratio = _seconds(value)
    if ratio is None:
        return ""
    return f"{ratio * 100:.4f}".rstrip("0").rstrip(".") + "%"


FILTERS: dict[str, Callable[[Any], str]] = {
    "duration": duration,
    "when": when,
    "percent": percent,
}


def _happening(event: dict[str, Any]) -> Happening:
    kind = event.get("type")
    if kind is None:
        return Happening.UNKNOWN
    simple = {
        OutputType.WARNING.value: Happening.WARNING,
        OutputType.BREACHED.value: Happening.BREACH,
        OutputType.CANCELLED.value: Happening.CANCELLED,
        OutputType.AVAILABILITY_WARNING.value: Happening.BUDGET_WARNING,
        OutputType.AVAILABILITY_BREACHED.value: Happening.AVAILABILITY_BREACH,
        OutputType.WINDOW_CLOSED.value: Happening.WINDOW_CLOSED,
        OutputType.RETRACTED.value: Happening.RETRACTED,
    }
    if kind in simple:
        return simple[kind]
    if kind == OutputType.STOPPED.value:
        breached = event.get("outcome") == "breached"
        return Happening.STOPPED_BREACHED if breached else Happening.STOPPED_MET
    return Happening.CLOCK


def _headline(what: Happening, event: dict[str, Any]) -> str:
    if what is Happening.CLOCK:
        kind = str(event.get("type", "")).removeprefix("sla.").replace(".", " ")
        return f"SLA {kind}"
    if what is Happening.WINDOW_CLOSED and event.get("outcome"):
        return f"{_HEADLINES[what]}: {str(event['outcome']).replace('_', ' ')}"
    return _HEADLINES[what]


def _threshold_text(what: Happening, threshold: Any) -> str | None:
    if isinstance(threshold, str):
        return f"{threshold} before the deadline"
    ratio = _seconds(threshold)
    if ratio is None:
        return None
    share = percent(ratio)
    return (
        f"{share} of the error budget used"
        if what is Happening.BUDGET_WARNING
        else (f"{share} of the goal used")
    )


def _positive(seconds: float | None) -> str | None:
    return duration(seconds) if seconds is not None and seconds > 0 else None


def _past_deadline(what: Happening, record: dict[str, Any], event: dict[str, Any]) -> str | None:
    deadline = _instant(event.get("deadline"))
    if what is Happening.BREACH:
        until = _instant(record.get("time"))
    elif what is Happening.STOPPED_BREACHED:
        until = _instant(event.get("time"))
    else:
        return None
    if deadline is None or until is None:
        return None
    return _positive((until - deadline) / SECOND)


def _stale_by(record: dict[str, Any], event: dict[str, Any]) -> str | None:
    """How long before the notification its event happened, when more than a minute (a
    later ``after:`` step, a repeat, a notification held by ``during:``)."""
    sent, happened = _instant(record.get("time")), _instant(event.get("time"))
    if sent is None or happened is None or sent - happened <= 60 * SECOND:
        return None
    return _positive((sent - happened) / SECOND)


def _step_text(record: dict[str, Any]) -> str:
    text = f"step {record.get('step', '?')} of escalation {record.get('escalation', '?')}"
    repeat = record.get("repeat")
    return f"{text}, repeat {repeat}" if isinstance(repeat, int) and repeat > 0 else text


def view(
    record: dict[str, Any],
    event: dict[str, Any] | None,
    *,
    ack_url: str | None,
    clock_url: str | None,
    zone: str | None = None,
) -> dict[str, Any]:
    """The template context of one notification; instants also in ``zone``'s local time."""
    ev = event or {}
    what = _happening(ev)
    retraction = record.get("notice") == "retraction"
    headline = _headline(what, ev)
    if retraction:
        known = what not in (Happening.RETRACTED, Happening.UNKNOWN)
        headline = f"Withdrawn: {headline}" if known else "Withdrawn: an earlier notification"
    subject = str(record.get("subject") or ev.get("subject") or "")
    subject_kind, _, subject_name = subject.partition(":")
    goal = _seconds(ev.get("goal_seconds"))
    elapsed = _seconds(ev.get("elapsed_seconds"))
    late = elapsed - goal if elapsed is not None and goal is not None else None
    labels = ev.get("labels")
    if not isinstance(labels, dict):
        labels = {}
    reason = ev.get("reason")
    return {
        "record": record,
        "event": ev,
        "ack_url": ack_url,
        "clock_url": clock_url,
        "what": what.value,
        "headline": headline,
        "retraction": retraction,
        "retraction_reason": _RETRACTION_REASONS.get(
            str(reason) if what is Happening.RETRACTED else "late_event",
            "the SLA event it reported was withdrawn",
        ),
        "subject": subject,
        "subject_kind": subject_kind if subject_name else "",
        "subject_name": subject_name or subject,
        "sla": record.get("sla") or ev.get("sla"),
        "target": record.get("target") or ev.get("target"),
        "kind": ev.get("kind"),
        "underpins": ev.get("underpins"),
        "cycle": record.get("cycle", ev.get("cycle")),
        "window_start": when(record.get("window_start") or ev.get("window_start"), zone) or None,
        "window_end": when(ev.get("window_end"), zone) or None,
        "labels_text": ", ".join(f"{k}={v}" for k, v in labels.items() if v is not None),
        "goal": duration(goal) or None,
        "calendar": ev.get("calendar"),
        "elapsed": duration(elapsed) or None,
        "remaining": duration(ev.get("remaining_seconds")) or None,
        "deadline": when(ev.get("deadline"), zone) or None,
        "threshold_text": _threshold_text(what, ev.get("threshold")),
        "late_by": _positive(late),
        "past_deadline": _past_deadline(what, record, ev),
        "outcome": ev.get("outcome"),
        "reason": reason,
        "availability": percent(ev.get("availability")) or None,
        "budget_consumed": percent(ev.get("budget_consumed")) or None,
        "budget": duration(ev.get("budget_seconds")) or None,
        "downtime": duration(ev.get("downtime_seconds")) or None,
        "measured": duration(ev.get("measured_seconds")) or None,
        "credit_percent": ev.get("credit_percent"),
        "escalation": record.get("escalation"),
        "step": record.get("step"),
        "repeat": record.get("repeat"),
        "step_text": _step_text(record),
        "time": when(record.get("time"), zone) or None,
        "event_time": when(ev.get("time"), zone) or None,
        "stale_by": _stale_by(record, ev),
        "notification_id": record.get("id"),
        "cause": record.get("cause"),
    }
