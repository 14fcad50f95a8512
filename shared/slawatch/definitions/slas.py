"""Ticket SLAs, their targets, goals and warning points (``definitions.md``, ``slas``).

A goal list is tried in order; every goal but the last has a ``when`` and the last has
none. ``warn_at`` holds fractions in (0, 1) (kept as written and as exact fractions)
and positive durations before the deadline, without repeats. A goal or warning duration
written with ``d`` or ``w`` on a calendar other than ``24x7`` is a warning: ``1d`` there
means 24 working hours, several days of that calendar.
"""

from __future__ import annotations

import re
from fractions import Fraction

from slawatch.definitions.calendars import ALWAYS_OPEN, working_seconds_per_day
from slawatch.definitions.conditions import condition, triggers
from slawatch.definitions.context import Context, calendar_name, escalation
from slawatch.definitions.model import (
    NO_ESCALATION,
    CalendarDef,
    Condition,
    Goal,
    Sla,
    SlaKind,
    Target,
    WarnPoint,
)
from slawatch.definitions.problems import at, describe
from slawatch.definitions.readers import (
    SLA_ID,
    TARGET_ID,
    Fields,
    boolean,
    choice,
    decimal,
    duration,
    identifier,
    reference,
    string,
)
from slawatch.timeutil import HOUR, SECOND, TimeFormatError, format_duration, parse_duration

__all__ = ["sla"]

_SLA_KEYS = frozenset(
    {"id", "kind", "description", "applies_to", "underpins", "escalation", "targets"}
)
_TARGET_KEYS = frozenset(
    {"id", "start", "stop", "pause_while", "goals", "warn_at", "escalation", "retroactive"}
)
_GOAL_KEYS = frozenset({"when", "target", "calendar"})
_DAY_UNITS = re.compile(r"\d+[dw]")


def sla(ctx: Context, path: str, value: object) -> Sla | None:
    """One entry of ``slas``; its id's uniqueness is checked by the caller."""
    fields = Fields.of(ctx, path, value, "an SLA", _SLA_KEYS)
    if fields is None:
        return None
    sla_id = fields.required("id", identifier, "an SLA id", SLA_ID)
    kind = fields.optional("kind", choice, SlaKind, "kind") or SlaKind.CUSTOMER
    description = fields.optional("description", string, "description")
    applies_to: Condition | None = fields.optional("applies_to", condition)
    underpins = fields.optional("underpins", reference, "SLA id", ctx.sla_ids)
    if underpins is not None and underpins == sla_id:
        ctx.error(fields.at("underpins"), "an SLA cannot underpin itself")
    chain = fields.optional("escalation", escalation)
    targets = fields.required("targets", _targets)
    if sla_id is None or targets is None or not fields.valid:
        return None
    return Sla(
        id=sla_id,
        kind=kind,
        targets=targets,
        applies_to=applies_to,
        description=description,
        underpins=underpins,
        escalation=chain,
    )


def _targets(ctx: Context, path: str, value: object) -> tuple[Target, ...] | None:
    if not isinstance(value, list):
        ctx.error(path, f"targets must be a list, not {describe(value)}")
        return None
    if not value:
        ctx.warn(path, "no targets: this SLA measures nothing")
        return ()
    seen: dict[str, str] = {}
    result: list[Target] = []
    for index, item in enumerate(value):
        item_path = at(path, index)
        parsed = _target(ctx, item_path, item)
        raw_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(raw_id, str):
            if raw_id in seen:
                ctx.error(
                    at(item_path, "id"), f"duplicate target id {raw_id!r} (also at {seen[raw_id]})"
                )
            seen.setdefault(raw_id, item_path)
        if parsed is not None:
            result.append(parsed)
    return tuple(result) if len(result) == len(value) else None


def _target(ctx: Context, path: str, value: object) -> Target | None:
    fields = Fields.of(ctx, path, value, "a target", _TARGET_KEYS)
    if fields is None:
        return None
    target_id = fields.required("id", identifier, "a target id", TARGET_ID)
    start = fields.required("start", triggers, "start")
    stop = fields.required("stop", triggers, "stop")
    pause_while: Condition | None = fields.optional("pause_while", condition)
    goals = fields.required("goals", _goals)
    warn_at = fields.optional("warn_at", _warn_at, goals or ())
    chain = fields.optional("escalation", escalation)
    if chain is None and "escalation" in fields.body:
        chain = NO_ESCALATION  # an explicit null: no chain, not the SLA's
    retroactive = fields.optional("retroactive", boolean, "retroactive")
    if target_id is None or start is None or stop is None or goals is None or not fields.valid:
        return None
    return Target(
        id=target_id,
        start=start,
        stop=stop,
        goals=goals,
        pause_while=pause_while,
        warn_at=warn_at or (),
        escalation=chain,
        retroactive=bool(retroactive),
    )


def _goals(ctx: Context, path: str, value: object) -> tuple[Goal, ...] | None:
    if not isinstance(value, list) or not value:
        ctx.error(
            path,
            "goals must be a non-empty list ending with one goal without `when`, "
            f"not {describe(value)}",
        )
        return None
    goals = [
        _goal(ctx, at(path, index), item, last=index == len(value) - 1)
        for index, item in enumerate(value)
    ]
    valid = [goal for goal in goals if goal is not None]
    return tuple(valid) if len(valid) == len(goals) else None


def _goal(ctx: Context, path: str, value: object, *, last: bool) -> Goal | None:
    fields = Fields.of(ctx, path, value, "a goal", _GOAL_KEYS)
    if fields is None:
        return None
    if not last and not fields.has("when"):
        ctx.error(
            path,
            "only the last goal may leave out `when`: this catch-all goal hides the goals after it",
        )
    if last and fields.has("when"):
        ctx.error(
            fields.at("when"),
            "the last goal must have no `when`: every goal list ends with one catch-all goal "
            "(restrict which tickets a target covers with applies_to)",
        )
    when: Condition | None = fields.optional("when", condition)
    target = fields.required("target", duration, "a goal's target")
    calendar = fields.required("calendar", calendar_name)
    if target is None or calendar is None or not fields.valid:
        return None
    _warn_day_units(ctx, fields.at("target"), fields.body["target"], target, calendar)
    return Goal(target=target, calendar=calendar, when=when)


def _warn_at(
    ctx: Context, path: str, value: object, goals: tuple[Goal, ...]
) -> tuple[WarnPoint, ...] | None:
    if not isinstance(value, list):
        ctx.error(path, f"warn_at must be a list of fractions and durations, not {describe(value)}")
        return None
    errors_before = len(ctx.errors)
    points: list[WarnPoint] = []
    seen: dict[tuple[str, Fraction | int | None], str] = {}
    for index, item in enumerate(value):
        item_path = at(path, index)
        point = _warn_point(ctx, item_path, item)
        if point is None:
            continue
        key = ("fraction", point.fraction) if point.before is None else ("before", point.before)
        if key in seen:
            ctx.error(item_path, f"warning point {item!r} repeats {seen[key]}")
            continue
        seen[key] = item_path
        points.append(point)
        if point.before is not None:
            _check_before(ctx, item_path, item, point.before, goals)
    return tuple(points) if len(ctx.errors) == errors_before else None


def _warn_point(ctx: Context, path: str, value: object) -> WarnPoint | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        fraction = decimal(ctx, path, value, "a warning fraction")
        if fraction is None:
            return None
        if 0 < fraction < 1:
            return WarnPoint(written=float(value), fraction=fraction)
        ctx.error(path, f"a warning fraction must be between 0 and 1 (exclusive), not {value!r}")
        return None
    if isinstance(value, str) and _looks_like_duration(value):
        micros = duration(ctx, path, value, "a warning duration")
        return None if micros is None else WarnPoint(written=value, before=micros)
    ctx.error(
        path,
        f"a warning point is a fraction in (0, 1) or a duration such as 15m, not {describe(value)}",
    )
    return None


def _looks_like_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except TimeFormatError:
        return False
    return True


def _check_before(
    ctx: Context, path: str, written: object, before: int, goals: tuple[Goal, ...]
) -> None:
    for goal in goals:
        if before >= goal.target:
            ctx.warn(
                path,
                f"{written} before the deadline is not inside the "
                f"{format_duration(goal.target)} goal on {goal.calendar}: "
                "this point never fires for that goal",
            )
    for name in dict.fromkeys(goal.calendar for goal in goals):
        _warn_day_units(ctx, path, written, before, name)


def _warn_day_units(ctx: Context, path: str, written: object, micros: int, calendar: str) -> None:
    cal = ctx.calendars.get(calendar)
    if not isinstance(written, str) or not _DAY_UNITS.search(written) or cal is None:
        return
    note = _business_days(written, micros, cal)
    if note is not None:
        ctx.warn(path, note)


def _business_days(written: str, micros: int, cal: CalendarDef) -> str | None:
    if cal.id == ALWAYS_OPEN.id:
        return None
    per_day = working_seconds_per_day(cal)
    if per_day is None:
        return None
    hours = Fraction(micros, HOUR)
    hours_text = (
        str(hours.numerator) if hours.denominator == 1 else f"{float(hours):.2f}".rstrip("0")
    )
    days = micros / SECOND / per_day
    days_text = f"{round(days)}" if abs(days - round(days)) < 0.05 else f"about {days:.1f}"
    return (
        f"{written} here is {hours_text} working hours, {days_text} days of this calendar "
        f"({cal.id} averages {per_day / 3600:.3g} working hours a day); "
        f"write {hours_text}h to make that plain, or use a 24x7 goal for calendar days"
    )
