"""``slawatch backtest``'s figures: what a replay's outputs say about each SLA target and
availability objective, with retracted outputs left out.

A :class:`Report` takes the outputs of one replay in the order they were emitted and
keeps those it counts by id, so that a later ``sla.retracted`` removes the output it
withdraws (rule 6). :meth:`Report.figures` then tallies, per SLA target (optionally per
value of one ticket label, taken from each clock's latest output), the clocks started,
stopped met or breached, cancelled and still open, the breaches and warnings, and the
business time the stopped clocks took; and per availability objective, its closed
windows by outcome, the availability over all of them, the worst window and the
service credits. :attr:`Report.escalations` counts, per escalation chain and channel,
the notifications people would have been sent (retraction notices included: what was
sent stays sent). Compliance is ``met / (met + breached)`` of the stopped clocks, as
``slawatch_sla_outcomes_total`` reports it live. With ``per`` (day, week, month or
quarter, in a time zone) each row is split by period: a clock counts in the period it
stopped or was cancelled in (an open clock, the one it started in), an availability
window in the period it started in, a notification in the period it was due in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from slawatch.calendar.localtime import zone
from slawatch.escalation import Notification
from slawatch.outputs import Output, OutputType
from slawatch.timeutil import parse_time, to_datetime

__all__ = [
    "GROUP_LABELS",
    "PERIODS",
    "EscalationFigures",
    "EscalationKey",
    "ObjectiveFigures",
    "ObjectiveKey",
    "Report",
    "TargetFigures",
    "TargetKey",
]

GROUP_LABELS = ("priority", "customer", "service", "region", "assignee_group")
"""The ticket labels a report can be broken down by (every output carries them)."""

PERIODS = ("day", "week", "month", "quarter")
"""The periods a report can be split by, named ``2026-03-02``, ``2026-W10`` (ISO week),
``2026-03`` and ``2026-Q1``."""


class TargetKey(NamedTuple):
    """A row of ticket figures: the SLA, its target and kind, the label's value and the
    period."""

    sla: str
    target: str
    kind: str
    group: str | None
    period: str | None = None


class ObjectiveKey(NamedTuple):
    """A row of availability figures: the objective (SLA id), its kind and service, and
    the period."""

    sla: str
    kind: str
    service: str | None
    period: str | None = None


@dataclass(slots=True)
class TargetFigures:
    """What the clocks of one SLA target did."""

    started: int = 0
    met: int = 0
    breached: int = 0
    cancelled: int = 0
    breaches: int = 0
    warnings: int = 0
    elapsed: list[float] = field(default_factory=list)
    """Business seconds each stopped clock took, sorted once tallied."""

    @property
    def stopped(self) -> int:
        """Clocks stopped (met or breached)."""
        return self.met + self.breached

    @property
    def open(self) -> int:
        """Clocks started and neither stopped nor cancelled by the end of the replay."""
        return self.started - self.stopped - self.cancelled

    @property
    def compliance(self) -> float | None:
        """Share of the stopped clocks that met their goal; ``None`` with none stopped."""
        return self.met / self.stopped if self.stopped else None

    def elapsed_quantile(self, q: float) -> float | None:
        """The nearest-rank ``q`` quantile of the stopped clocks' business seconds."""
        if not self.elapsed:
            return None
        return self.elapsed[max(0, math.ceil(q * len(self.elapsed)) - 1)]

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "clocks": self.started,
            "stopped": self.stopped,
            "met": self.met,
            "breached": self.breached,
            "cancelled": self.cancelled,
            "open": self.open,
            "compliance": self.compliance,
            "breaches": self.breaches,
            "warnings": self.warnings,
            "elapsed_p50_seconds": self.elapsed_quantile(0.5),
            "elapsed_p90_seconds": self.elapsed_quantile(0.9),
        }


@dataclass(slots=True)
class ObjectiveFigures:
    """What the closed windows of one availability objective came to."""

    windows: int = 0
    met: int = 0
    breached: int = 0
    no_data: int = 0
    breaches: int = 0
    warnings: int = 0
    worst: float | None = None
    credit_percent: float = 0.0
    downtime_seconds: float = 0.0
    measured_seconds: float = 0.0

    @property
    def availability(self) -> float | None:
        """Availability over every closed window; ``None`` with nothing measured."""
        if self.measured_seconds <= 0:
            return None
        return 1 - self.downtime_seconds / self.measured_seconds

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "windows": self.windows,
            "met": self.met,
            "breached": self.breached,
            "no_data": self.no_data,
            "breaches": self.breaches,
            "warnings": self.warnings,
            "availability": self.availability,
            "worst_availability": self.worst,
            "credit_percent": self.credit_percent,
            "downtime_seconds": self.downtime_seconds,
            "measured_seconds": self.measured_seconds,
        }


class EscalationKey(NamedTuple):
    """A row of notification figures: the escalation chain, the channel (``None`` for a
    step target with no address) and the period."""

    escalation: str
    channel: str | None
    period: str | None = None


@dataclass(slots=True)
class EscalationFigures:
    """The notifications one chain sent through one channel."""

    sent: int = 0
    failed: int = 0
    retraction_notices: int = 0
    recipients: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retraction_notices": self.retraction_notices,
            "recipients": len(self.recipients),
        }


_COUNTED = frozenset(
    {
        OutputType.STARTED,
        OutputType.STOPPED,
        OutputType.CANCELLED,
        OutputType.WARNING,
        OutputType.BREACHED,
        OutputType.AVAILABILITY_WARNING,
        OutputType.AVAILABILITY_BREACHED,
        OutputType.WINDOW_CLOSED,
    }
)


_ENDS = frozenset({OutputType.STOPPED, OutputType.CANCELLED})


class _Kept(NamedTuple):
    """What a report keeps of one counted output (a fraction of its body's size).

    ``clock`` is the ticket's subject and cycle (``None`` for a window); ``label`` the
    ``by`` label's value, or a window's service; ``time`` the output's, or a window's
    start; ``value`` a stopped clock's elapsed seconds, or a closed window's availability.
    """

    kind: OutputType
    sla: str
    target: str
    sla_kind: str
    clock: tuple[str, int] | None
    label: str | None
    time: str
    outcome: str | None = None
    value: float | None = None
    credit: float = 0.0
    downtime: float = 0.0
    measured: float = 0.0


class Report:
    """The figures of one replay, fed its outputs as they are emitted.

    ``by`` names a ticket label (one of :data:`GROUP_LABELS`) to break ticket figures
    down by; availability figures are per objective either way. ``per`` (one of
    :data:`PERIODS`) splits both by period in ``timezone``.
    """

    def __init__(
        self, by: str | None = None, per: str | None = None, timezone: str = "UTC"
    ) -> None:
        if by is not None and by not in GROUP_LABELS:
            raise ValueError(f"cannot group by {by!r}: one of {', '.join(GROUP_LABELS)}")
        if per is not None and per not in PERIODS:
            raise ValueError(f"cannot split per {per!r}: one of {', '.join(PERIODS)}")
        self.by, self.per = by, per
        self._zone = zone(timezone)
        self._kept: dict[str, _Kept] = {}
        self.escalations: dict[EscalationKey, EscalationFigures] = {}
        """The notifications per chain, channel and period, as they were taken."""

    def add(self, outputs: Iterable[object]) -> None:
        """Take a step's outputs and notifications; anything else is passed over."""
        kept = self._kept
        for out in outputs:
            if isinstance(out, Notification):
                self._notified(out.body)
                continue
            if not isinstance(out, Output):
                continue
            if out.type is OutputType.RETRACTED:
                kept.pop(out.body["retracts"], None)
            elif out.type in _COUNTED:
                kept[out.body["id"]] = self._keep(out.type, out.body)

    def _keep(self, kind: OutputType, body: dict[str, Any]) -> _Kept:
        sla, target, sla_kind = body["sla"], body["target"], body["kind"]
        labels = body["labels"]
        if target == "availability" and "window_start" in body:
            service, start = labels.get("service"), body["window_start"]
            if kind is not OutputType.WINDOW_CLOSED:
                return _Kept(kind, sla, target, sla_kind, None, service, start)
            availability = body["availability"]
            return _Kept(
                kind, sla, target, sla_kind, None, service, start, body["outcome"],
                None if availability is None else float(availability),
                float(body["credit_percent"]), float(body["downtime_seconds"]),
                float(body["measured_seconds"]),
            )  # fmt: skip
        clock = (body["subject"], body["cycle"])
        label = labels.get(self.by) if self.by is not None else None
        if kind is OutputType.STOPPED:
            elapsed = float(body["elapsed_seconds"])
            return _Kept(kind, sla, target, sla_kind, clock, label, body["time"],
                         body["outcome"], elapsed)  # fmt: skip
        return _Kept(kind, sla, target, sla_kind, clock, label, body["time"])

    def figures(
        self,
    ) -> tuple[dict[TargetKey, TargetFigures], dict[ObjectiveKey, ObjectiveFigures]]:
        """The ticket figures per target row and the availability figures per objective,
        each in the order their rows were first seen."""
        targets: dict[TargetKey, TargetFigures] = {}
        objectives: dict[ObjectiveKey, ObjectiveFigures] = {}
        rows = self._rows()
        for kept in self._kept.values():
            if kept.clock is None:
                period = self._period(kept.time)
                key = ObjectiveKey(kept.sla, kept.sla_kind, kept.label, period)
                _tally_window(objectives.setdefault(key, ObjectiveFigures()), kept)
            else:
                group, period = rows[kept.sla, kept.target, kept.clock]
                row = TargetKey(kept.sla, kept.target, kept.sla_kind, group, period)
                _tally_clock(targets.setdefault(row, TargetFigures()), kept)
        for figures in targets.values():
            figures.elapsed.sort()
        return targets, objectives

    def _rows(self) -> dict[tuple[Any, ...], tuple[str | None, str | None]]:
        """Per clock, the row it counts in: the ``by`` label's value in its latest output
        (for a stopped clock, its value when it stopped) and the period it stopped or was
        cancelled in (still open: started in), so that each clock counts in one row."""
        rows: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}
        ended: set[tuple[Any, ...]] = set()
        for kept in self._kept.values():
            if kept.clock is None:
                continue
            clock = (kept.sla, kept.target, kept.clock)
            kind = kept.kind
            period = rows[clock][1] if clock in rows else None
            if clock not in ended and (kind in _ENDS or kind is OutputType.STARTED):
                period = self._period(kept.time)
                if kind in _ENDS:
                    ended.add(clock)
            rows[clock] = (kept.label, period)
        return rows

    def _notified(self, body: dict[str, Any]) -> None:
        key = EscalationKey(body["escalation"], body.get("channel"), self._period(body["time"]))
        figures = self.escalations.setdefault(key, EscalationFigures())
        if body["status"] == "failed":
            figures.failed += 1
        else:
            figures.sent += 1
            if body.get("recipient") is not None:
                figures.recipients.add(body["recipient"])
        if body.get("notice") == "retraction":
            figures.retraction_notices += 1

    def _period(self, time: str) -> str | None:
        """The name of the period ``time`` falls in, or ``None`` without ``per``."""
        per = self.per
        if per is None:
            return None
        local = to_datetime(parse_time(time)).astimezone(self._zone)
        if per == "day":
            return local.date().isoformat()
        if per == "week":
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        if per == "month":
            return f"{local.year}-{local.month:02d}"
        return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def _tally_clock(figures: TargetFigures, kept: _Kept) -> None:
    kind = kept.kind
    if kind is OutputType.STARTED:
        figures.started += 1
    elif kind is OutputType.STOPPED:
        if kept.outcome == "met":
            figures.met += 1
        else:
            figures.breached += 1
        assert kept.value is not None
        figures.elapsed.append(kept.value)
    elif kind is OutputType.CANCELLED:
        figures.cancelled += 1
    elif kind is OutputType.BREACHED:
        figures.breaches += 1
    elif kind is OutputType.WARNING:
        figures.warnings += 1


def _tally_window(figures: ObjectiveFigures, kept: _Kept) -> None:
    kind = kept.kind
    if kind is OutputType.AVAILABILITY_BREACHED:
        figures.breaches += 1
    elif kind is OutputType.AVAILABILITY_WARNING:
        figures.warnings += 1
    elif kind is OutputType.WINDOW_CLOSED:
        figures.windows += 1
        if kept.outcome == "met":
            figures.met += 1
        elif kept.outcome == "breached":
            figures.breached += 1
        else:
            figures.no_data += 1
        availability = kept.value
        if availability is not None and (figures.worst is None or availability < figures.worst):
            figures.worst = availability
        figures.credit_percent += kept.credit
        figures.downtime_seconds += kept.downtime
        figures.measured_seconds += kept.measured
