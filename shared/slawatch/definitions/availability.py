"""Availability objectives (``definitions.md``, ``availability``; ``semantics.md`` rules 19-26).

``objective`` is a percentage in (0, 100), ``degraded_weight`` a fraction in [0, 1] and
credit tiers' ``below`` percentages, all read exactly from their written decimals (a
string such as ``"99.95"`` is accepted too). Credit tiers are strictly decreasing in
``below`` and need a calendar window (``month``, ``week``, ``quarter``); ``{rolling: D}``
is for metrics only. A maintenance ``rrule`` must parse (RFC 5545, DTSTART
1970-01-01T00:00:00 local unless it gives one); only its text is kept.
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

from dateutil.rrule import rrulestr

from slawatch.definitions.calendars import ALWAYS_OPEN, timezone
from slawatch.definitions.context import Context, calendar_name, escalation
from slawatch.definitions.model import (
    Availability,
    Credit,
    Maintenance,
    SlaKind,
    UnknownPolicy,
    WindowKind,
)
from slawatch.definitions.problems import Report, at, describe
from slawatch.definitions.readers import NAME, Fields, choice, decimal, duration, identifier, string

__all__ = ["availability"]

_KEYS = frozenset(
    {
        "id",
        "service",
        "objective",
        "kind",
        "window",
        "timezone",
        "calendar",
        "degraded_weight",
        "stale_after",
        "unknown_counts_as",
        "maintenance",
        "warn_at_budget",
        "credits",
        "escalation",
    }
)
_MAINTENANCE_KEYS = ("rrule", "duration")
_CREDIT_KEYS = ("below", "percent")
_CALENDAR_WINDOWS = (WindowKind.MONTH, WindowKind.WEEK, WindowKind.QUARTER)
_RRULE_START = datetime(1970, 1, 1)


def availability(ctx: Context, path: str, value: object) -> Availability | None:
    """One entry of ``availability``; its id's uniqueness is checked by the caller."""
    fields = Fields.of(ctx, path, value, "an availability objective", _KEYS)
    if fields is None:
        return None
    ident = fields.required("id", identifier, "an availability id", NAME)
    service = fields.required("service", string, "service")
    objective = fields.required("objective", _objective)
    window = fields.required("window", _window)
    credits = fields.optional("credits", _credits, objective) or ()
    if credits and window is not None and window[0] is WindowKind.ROLLING:
        ctx.error(
            fields.at("credits"),
            "credits need a calendar window (month, week or quarter): "
            "a rolling window is for metrics only",
        )
    warn_points = fields.optional("warn_at_budget", _warn_at_budget) or []
    zone = fields.optional("timezone", timezone) or "UTC"
    calendar = fields.optional("calendar", calendar_name) or ALWAYS_OPEN.id
    kind = fields.optional("kind", choice, SlaKind, "kind") or SlaKind.CUSTOMER
    weight = fields.optional("degraded_weight", _degraded_weight)
    stale_after = fields.optional("stale_after", duration, "stale_after")
    unknown = fields.optional("unknown_counts_as", choice, UnknownPolicy, "unknown_counts_as")
    maintenance = fields.optional("maintenance", _maintenance) or ()
    chain = fields.optional("escalation", escalation)
    if unknown is not None and stale_after is None and "stale_after" not in fields.body:
        ctx.warn(
            fields.at("unknown_counts_as"),
            "has no effect without stale_after: a status holds until the next, so once "
            "measured the service is never unknown",
        )
    if ident is None or service is None or objective is None or window is None:
        return None
    if not fields.valid:
        return None
    return Availability(
        id=ident,
        service=service,
        objective=objective,
        window=window[0],
        rolling=window[1],
        timezone=zone,
        calendar=calendar,
        kind=kind,
        degraded_weight=weight if weight is not None else Fraction(0),
        stale_after=stale_after,
        unknown_counts_as=unknown or UnknownPolicy.EXCLUDED,
        maintenance=maintenance,
        warn_at_budget=tuple(fraction for fraction, _ in warn_points),
        warn_at_budget_written=tuple(written for _, written in warn_points),
        credits=credits,
        escalation=chain,
    )


def _objective(report: Report, path: str, value: object) -> Fraction | None:
    objective = decimal(report, path, value, "objective")
    if objective is not None and not 0 < objective < 100:
        report.error(
            path, f"objective is a percentage between 0 and 100 (exclusive), not {value!r}"
        )
        return None
    return objective


def _degraded_weight(report: Report, path: str, value: object) -> Fraction | None:
    weight = decimal(report, path, value, "degraded_weight")
    if weight is not None and not 0 <= weight <= 1:
        report.error(path, f"degraded_weight must be between 0.0 and 1.0, not {value!r}")
        return None
    return weight


def _window(report: Report, path: str, value: object) -> tuple[WindowKind, int | None] | None:
    if isinstance(value, dict):
        fields = Fields.of(report, path, value, "a rolling window", ("rolling",))
        length = fields.required("rolling", duration, "a rolling window") if fields else None
        return (WindowKind.ROLLING, length) if length is not None else None
    if value == WindowKind.ROLLING.value:
        report.error(path, "a rolling window needs its length: {rolling: 30d}")
        return None
    kind = choice(report, path, value, _CALENDAR_WINDOWS, "window (or {rolling: DURATION})")
    return None if kind is None else (kind, None)


def _maintenance(report: Report, path: str, value: object) -> tuple[Maintenance, ...] | None:
    if not isinstance(value, list):
        report.error(
            path, f"maintenance must be a list of {{rrule, duration}}, not {describe(value)}"
        )
        return None
    result: list[Maintenance] = []
    for index, item in enumerate(value):
        fields = Fields.of(report, at(path, index), item, "a maintenance rule", _MAINTENANCE_KEYS)
        if fields is None:
            continue
        rule = fields.required("rrule", _rrule)
        length = fields.required("duration", duration, "a maintenance duration")
        if rule is not None and length is not None:
            result.append(Maintenance(rrule=rule, duration=length))
    return tuple(result)


def _rrule(report: Report, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        report.error(
            path,
            f'rrule must be an RFC 5545 rule such as "FREQ=WEEKLY;BYDAY=SU", not {describe(value)}',
        )
        return None
    try:
        rrulestr(value, dtstart=_RRULE_START)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        hint = ""
        if "UNTIL" in str(exc):
            hint = (
                "; the rule runs in the objective's local time, so write UNTIL in local time"
                " without a Z (UNTIL=20261231T235959)"
            )
        report.error(path, f"rrule {value!r} does not parse: {exc}{hint}")
        return None
    return value


def _warn_at_budget(report: Report, path: str, value: object) -> list[tuple[Fraction, float]]:
    if not isinstance(value, list):
        report.error(
            path, f"warn_at_budget must be a list of fractions in (0, 1), not {describe(value)}"
        )
        return []
    points: list[tuple[Fraction, float]] = []
    seen: dict[Fraction, str] = {}
    for index, item in enumerate(value):
        item_path = at(path, index)
        if isinstance(item, bool) or not isinstance(item, int | float):
            report.error(
                item_path, f"a budget warning is a fraction in (0, 1), not {describe(item)}"
            )
            continue
        fraction = decimal(report, item_path, item, "a budget warning")
        if fraction is None:
            continue
        if not 0 < fraction < 1:
            report.error(
                item_path, f"a budget warning must be between 0 and 1 (exclusive), not {item!r}"
            )
        elif fraction in seen:
            report.error(item_path, f"budget warning {item!r} repeats {seen[fraction]}")
        else:
            seen[fraction] = item_path
            points.append((fraction, float(item)))
    return points


def _credits(
    report: Report, path: str, value: object, objective: Fraction | None
) -> tuple[Credit, ...]:
    if not isinstance(value, list):
        report.error(
            path, f"credits must be a list of {{below, percent}} tiers, not {describe(value)}"
        )
        return ()
    tiers: list[Credit] = []
    for index, item in enumerate(value):
        fields = Fields.of(report, at(path, index), item, "a credit tier", _CREDIT_KEYS)
        if fields is None:
            continue
        below = fields.required("below", _below)
        percent = fields.required("percent", _percent)
        if below is None or percent is None:
            continue
        if tiers and below >= tiers[-1].below:
            report.error(
                fields.at("below"),
                "credit tiers must be strictly decreasing in below: "
                f"{fields.body['below']!r} is not below {float(tiers[-1].below):g}",
            )
            continue
        if objective is not None and below > objective:
            report.warn(
                fields.at("below"),
                "this tier is above the objective: it pays a credit even when the objective is met",
            )
        tiers.append(Credit(below=below, percent=percent))
    return tuple(tiers)


def _below(report: Report, path: str, value: object) -> Fraction | None:
    below = decimal(report, path, value, "below")
    if below is not None and not 0 < below <= 100:
        report.error(path, f"below is an availability percentage in (0, 100], not {value!r}")
        return None
    return below


def _percent(report: Report, path: str, value: object) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        report.error(path, f"percent must be a number from 0 to 100, not {describe(value)}")
        return None
    return value
