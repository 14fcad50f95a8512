"""``slawatch backtest``'s answer: the current terms' figures beside a candidate's.

Rows are SLA targets, availability objectives and escalation chains by channel.

:func:`compare` lines up the rows of two :class:`~slawatch.replay.report.Report`s (the
candidate may be absent); :func:`render_table` writes them for people and
:func:`as_json` for scripts. A row one side lacks (an SLA the candidate adds or drops)
shows ``-`` there and ``null`` in JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slawatch.replay.report import (
    EscalationFigures,
    EscalationKey,
    ObjectiveFigures,
    ObjectiveKey,
    Report,
    TargetFigures,
    TargetKey,
)
from slawatch.replay.table import duration_text

__all__ = ["Comparison", "Row", "as_json", "compare", "render_table"]

K = TypeVar("K", TargetKey, ObjectiveKey, EscalationKey)
F = TypeVar("F", TargetFigures, ObjectiveFigures, EscalationFigures)


@dataclass(frozen=True, slots=True)
class Row(Generic[K, F]):
    """One SLA target (or objective) with its figures under each set of terms."""

    key: K
    current: F | None
    candidate: F | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """Every row of a backtest, the ticket label the targets are broken down by and the
    period the rows are split by."""

    by: str | None
    per: str | None
    with_candidate: bool
    targets: list[Row[TargetKey, TargetFigures]]
    objectives: list[Row[ObjectiveKey, ObjectiveFigures]]
    escalations: list[Row[EscalationKey, EscalationFigures]]


def _rows(current: dict[K, F], candidate: dict[K, F] | None) -> list[Row[K, F]]:
    keys = list(current)
    keys += [k for k in candidate or {} if k not in current]
    return [
        Row(k, current.get(k), None if candidate is None else candidate.get(k))
        for k in sorted(keys, key=lambda k: tuple("" if v is None else v for v in k))
    ]


def compare(current: Report, candidate: Report | None = None) -> Comparison:
    """The rows of ``current`` and ``candidate`` side by side, sorted by SLA and target."""
    targets, objectives = current.figures()
    theirs = candidate.figures() if candidate is not None else None
    return Comparison(
        current.by,
        current.per,
        candidate is not None,
        _rows(targets, theirs[0] if theirs else None),
        _rows(objectives, theirs[1] if theirs else None),
        _rows(current.escalations, candidate.escalations if candidate is not None else None),
    )


def as_json(comparison: Comparison) -> dict[str, Any]:
    """The comparison as one JSON-ready object: ``targets`` and ``objectives`` rows, each
    with its ``current`` figures (and ``candidate`` ones when a candidate was given)."""

    def sides(row: Row[Any, Any]) -> dict[str, Any]:
        out = {"current": row.current.as_dict() if row.current else None}
        if comparison.with_candidate:
            out["candidate"] = row.candidate.as_dict() if row.candidate else None
        return out

    targets = []
    for row in comparison.targets:
        key: dict[str, Any] = {"sla": row.key.sla, "target": row.key.target, "kind": row.key.kind}
        if comparison.by is not None:
            key[comparison.by] = row.key.group
        if comparison.per is not None:
            key["period"] = row.key.period
        targets.append({**key, **sides(row)})
    objectives = []
    for r in comparison.objectives:
        key = {"sla": r.key.sla, "kind": r.key.kind, "service": r.key.service}
        if comparison.per is not None:
            key["period"] = r.key.period
        objectives.append({**key, **sides(r)})
    escalations = []
    for e in comparison.escalations:
        key = {"escalation": e.key.escalation, "channel": e.key.channel}
        if comparison.per is not None:
            key["period"] = e.key.period
        escalations.append({**key, **sides(e)})
    return {"targets": targets, "objectives": objectives, "escalations": escalations}


def _percent(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f} %"


def _number(value: float) -> str:
    return f"{value:g}"


_TARGET_COLUMNS: list[tuple[str, Callable[[TargetFigures], str]]] = [
    ("clocks", lambda f: str(f.started)),
    ("stopped", lambda f: str(f.stopped)),
    ("compliance", lambda f: _percent(f.compliance, 1)),
    ("breaches", lambda f: str(f.breaches)),
    ("warnings", lambda f: str(f.warnings)),
    ("open", lambda f: str(f.open)),
    ("p50 elapsed", lambda f: duration_text(f.elapsed_quantile(0.5))),
    ("p90 elapsed", lambda f: duration_text(f.elapsed_quantile(0.9))),
]

_OBJECTIVE_COLUMNS: list[tuple[str, Callable[[ObjectiveFigures], str]]] = [
    ("windows", lambda f: str(f.windows)),
    ("met", lambda f: str(f.met)),
    ("breached", lambda f: str(f.breached)),
    ("no data", lambda f: str(f.no_data)),
    ("availability", lambda f: _percent(f.availability, 3)),
    ("worst window", lambda f: _percent(f.worst, 3)),
    ("credits", lambda f: f"{_number(f.credit_percent)} %"),
]


_ESCALATION_COLUMNS: list[tuple[str, Callable[[EscalationFigures], str]]] = [
    ("sent", lambda f: str(f.sent)),
    ("recipients", lambda f: str(len(f.recipients))),
    ("no address", lambda f: str(f.failed)),
    ("retraction notices", lambda f: str(f.retraction_notices)),
]


def _cell(row: Row[Any, Any], show: Callable[[Any], str], both: bool) -> str:
    mine = show(row.current) if row.current is not None else "-"
    if not both:
        return mine
    theirs = show(row.candidate) if row.candidate is not None else "-"
    return f"{mine} -> {theirs}"


def _table(
    title: str,
    heads: Sequence[str],
    names: list[list[str]],
    rows: Sequence[Row[Any, Any]],
    columns: Sequence[tuple[str, Callable[[Any], str]]],
    both: bool,
) -> list[str]:
    header = [*heads, *(c[0] for c in columns)]
    body: list[list[str]] = []
    for name, row in zip(names, rows, strict=True):
        body.append([*name, *[_cell(row, show, both) for _, show in columns]])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    left = len(heads)

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [title, line(header), *(line(r) for r in body), ""]


def render_table(comparison: Comparison) -> str:
    """The comparison as text tables: ticket targets, then availability objectives; with
    a candidate each figure reads ``current -> candidate``."""
    both = comparison.with_candidate
    lines: list[str] = []
    if both:
        lines += ["Each figure: current terms -> candidate terms.", ""]
    per = [comparison.per] if comparison.per else []
    if comparison.targets:
        heads = ["SLA / target", *([comparison.by] if comparison.by else []), *per]
        names = [
            [f"{r.key.sla}/{r.key.target}"]
            + ([r.key.group or "-"] if comparison.by else [])
            + ([r.key.period or "-"] if per else [])
            for r in comparison.targets
        ]
        title = "Ticket targets (compliance: met / stopped; elapsed: business time to stop)"
        lines += _table(title, heads, names, comparison.targets, _TARGET_COLUMNS, both)
    if comparison.objectives:
        names = [
            [f"{r.key.sla} ({r.key.kind})", r.key.service or "-"]
            + ([r.key.period or "-"] if per else [])
            for r in comparison.objectives
        ]
        title = "Availability objectives (closed windows)"
        heads = ["objective", "service", *per]
        lines += _table(title, heads, names, comparison.objectives, _OBJECTIVE_COLUMNS, both)
    if comparison.escalations:
        names = [
            [r.key.escalation, r.key.channel or "-"] + ([r.key.period or "-"] if per else [])
            for r in comparison.escalations
        ]
        title = "Escalations (notifications, simulated; no address: a target with none)"
        heads = ["escalation", "channel", *per]
        lines += _table(title, heads, names, comparison.escalations, _ESCALATION_COLUMNS, both)
    if not lines:
        lines = ["No SLA outputs: no clock started and no availability window closed.", ""]
    return "\n".join(lines)
