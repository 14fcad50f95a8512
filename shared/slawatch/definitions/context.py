"""What a validation pass knows about the whole document while it reads one part.

Names are gathered from the raw document before any part is read, so a reference to
an entry that is itself invalid still resolves (its own problems are reported once,
where it is defined) and the order of sections does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from slawatch.definitions.model import CalendarDef
from slawatch.definitions.problems import Report
from slawatch.definitions.readers import reference

__all__ = ["Context", "calendar_name", "escalation"]


@dataclass(slots=True)
class Context(Report):
    """A report being filled, the names the document defines, and the chains it uses."""

    calendar_names: set[str] = field(default_factory=set)
    calendars: dict[str, CalendarDef] = field(default_factory=dict)
    escalations: set[str] = field(default_factory=set)
    sla_ids: set[str] = field(default_factory=set)
    target_ids: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    teams: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    used_escalations: set[str] = field(default_factory=set)


def escalation(ctx: Context, path: str, value: object) -> str | None:
    """A reference to an escalation chain, recorded as used."""
    name = reference(ctx, path, value, "escalation chain", ctx.escalations)
    if name is not None:
        ctx.used_escalations.add(name)
    return name


def calendar_name(ctx: Context, path: str, value: object) -> str | None:
    """A reference to a calendar (``24x7`` or one of ``calendars``)."""
    return reference(ctx, path, value, "calendar", ctx.calendar_names)
