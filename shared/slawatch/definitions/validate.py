"""Turn a loaded definitions document into :class:`~slawatch.definitions.model.Definitions`.

:func:`build` reads every section, collecting every error and warning in a
:class:`~slawatch.definitions.problems.Report`, and returns the model only when there
is no error. Ids are checked for form and uniqueness (SLA and availability ids share
one namespace, since outputs carry either in their ``sla`` field; target ids are
unique within their SLA) and every reference must resolve. The built-in calendar
``24x7`` is always present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from slawatch.definitions.availability import availability
from slawatch.definitions.calendars import ALWAYS_OPEN, calendar
from slawatch.definitions.context import Context
from slawatch.definitions.escalations import chain, channel, person, team
from slawatch.definitions.model import (
    CalendarDef,
    Definitions,
)
from slawatch.definitions.problems import DOCUMENT, Report, at, describe
from slawatch.definitions.readers import check_keys, mapping
from slawatch.definitions.slas import sla

__all__ = ["FORMAT_VERSION", "Built", "build"]

FORMAT_VERSION = 1
T = TypeVar("T")
_SECTIONS = (
    "version",
    "calendars",
    "slas",
    "availability",
    "escalations",
    "people",
    "teams",
    "channels",
)


@dataclass(slots=True)
class Built:
    """The outcome of :func:`build`: the model (``None`` if any error) and the valid calendars."""

    definitions: Definitions | None
    report: Report
    calendars: dict[str, CalendarDef] = field(default_factory=dict)


def build(data: object) -> Built:
    """Validate a loaded document (mappings, lists and scalars) and build the model."""
    ctx = Context()
    if data is None:
        ctx.error(
            DOCUMENT,
            "the document is empty: expected a mapping with slas, availability, calendars, ...",
        )
        return Built(None, ctx)
    document = mapping(ctx, DOCUMENT, data, "the document")
    if document is None:
        return Built(None, ctx)
    check_keys(ctx, DOCUMENT, document, _SECTIONS, "the document")
    _version(ctx, document.get("version"))
    sections = {name: _section(ctx, name, document.get(name)) for name in _SECTIONS[1:]}
    _gather_names(ctx, sections)

    calendars: dict[str, CalendarDef] = {}
    for name, value in _named(sections["calendars"]):
        parsed = calendar(ctx, at("calendars", name), name, value)
        if parsed is not None:
            calendars[name] = parsed
    ctx.calendars = {ALWAYS_OPEN.id: ALWAYS_OPEN, **calendars}

    slas = _listed(ctx, "slas", sections["slas"], sla)
    objectives = _listed(ctx, "availability", sections["availability"], availability)
    _unique_ids(ctx, sections)
    escalations = _mapped(ctx, "escalations", sections["escalations"], chain)
    people = _mapped(ctx, "people", sections["people"], person)
    teams = _mapped(ctx, "teams", sections["teams"], team)
    channels = _mapped(ctx, "channels", sections["channels"], channel)
    for name in escalations:
        if name not in ctx.used_escalations:
            ctx.warn(
                at("escalations", name), "no SLA, target or availability objective uses this chain"
            )

    built: Definitions | None = None
    if not ctx.errors:
        built = Definitions(
            calendars=ctx.calendars,
            slas=tuple(slas),
            availability=tuple(objectives),
            escalations=escalations,
            people=people,
            teams=teams,
            channels=channels,
            format_version=FORMAT_VERSION,
        )
    return Built(built, ctx, ctx.calendars)


def _version(report: Report, value: object) -> None:
    if value is not None and (type(value) is not int or value != FORMAT_VERSION):
        report.error(
            "version",
            f"unsupported format version {describe(value)}: this slawatch reads version 1",
        )


def _section(report: Report, name: str, value: object) -> object:
    """The section's value, ``None`` if absent or of the wrong shape (reported)."""
    if value is None:
        return None
    listed = name in ("slas", "availability")
    if listed and not isinstance(value, list):
        report.error(name, f"{name} must be a list, not {describe(value)}")
        return None
    if not listed:
        return mapping(report, name, value, f"{name}")
    return value


def _named(section: object) -> list[tuple[str, object]]:
    if not isinstance(section, dict):
        return []
    return [(name, value) for name, value in section.items() if isinstance(name, str)]


def _ids(section: object) -> list[tuple[int, str]]:
    if not isinstance(section, list):
        return []
    return [
        (index, item["id"])
        for index, item in enumerate(section)
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]


def _gather_names(ctx: Context, sections: dict[str, object]) -> None:
    ctx.calendar_names = {ALWAYS_OPEN.id, *(name for name, _ in _named(sections["calendars"]))}
    ctx.escalations = {name for name, _ in _named(sections["escalations"])}
    ctx.people = {name for name, _ in _named(sections["people"])}
    ctx.teams = {name for name, _ in _named(sections["teams"])}
    ctx.channels = {name for name, _ in _named(sections["channels"])}
    ctx.sla_ids = {ident for _, ident in _ids(sections["slas"])}
    slas = sections["slas"]
    for item in slas if isinstance(slas, list) else []:
        targets = item.get("targets") if isinstance(item, dict) else None
        ctx.target_ids.update(ident for _, ident in _ids(targets))
    if _ids(sections["availability"]):
        ctx.target_ids.add("availability")  # the target of every availability output


def _unique_ids(report: Report, sections: dict[str, object]) -> None:
    seen: dict[str, str] = {}
    for name in ("slas", "availability"):
        for index, ident in _ids(sections[name]):
            path = at(at(name, index), "id")
            if ident in seen:
                report.error(
                    path,
                    f"duplicate id {ident!r} (also at {seen[ident]}); "
                    "SLA and availability ids share one namespace",
                )
            else:
                seen[ident] = path


def _listed(
    ctx: Context, name: str, section: object, parse: Callable[[Context, str, object], T | None]
) -> list[T]:
    items = section if isinstance(section, list) else []
    parsed = (parse(ctx, at(name, index), item) for index, item in enumerate(items))
    return [item for item in parsed if item is not None]


def _mapped(
    ctx: Context,
    name: str,
    section: object,
    parse: Callable[[Context, str, str, object], T | None],
) -> dict[str, T]:
    result: dict[str, T] = {}
    for key, value in _named(section):
        parsed = parse(ctx, at(name, key), key, value)
        if parsed is not None:
            result[key] = parsed
    return result
