"""What one definitions document changes against another, for people to read before it
is applied (``slawatch apply``).

:func:`changes` names each calendar, SLA, target, availability objective, escalation
chain, person, team and channel added (``+``), removed (``-``) or changed (``~``), and
for a changed one the fields that differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from slawatch.definitions.model import Definitions

__all__ = ["changes"]


def _fields(old: Any, new: Any, skip: tuple[str, ...] = ()) -> list[str]:
    """The names of the dataclass fields that differ between ``old`` and ``new``."""
    return [
        f.name
        for f in dataclasses.fields(old)
        if f.name not in skip and getattr(old, f.name) != getattr(new, f.name)
    ]


def _by_id(items: Mapping[str, Any] | tuple[Any, ...]) -> dict[str, Any]:
    if isinstance(items, Mapping):
        return dict(items)
    return {item.id: item for item in items}


def _section(
    what: str, old: Mapping[str, Any], new: Mapping[str, Any], within: str = ""
) -> list[str]:
    lines = [f"- {what} {within}{key}" for key in old if key not in new]
    for key, item in new.items():
        if key not in old:
            lines.append(f"+ {what} {within}{key}")
        elif old[key] != item:
            named = _fields(old[key], item) if dataclasses.is_dataclass(item) else []
            listed = f": {', '.join(named)}" if named else ""
            lines.append(f"~ {what} {within}{key}{listed}")
    return lines


def _slas(old: Definitions, new: Definitions) -> list[str]:
    before, after = _by_id(old.slas), _by_id(new.slas)
    lines = [f"- sla {key}" for key in before if key not in after]
    for key, sla in after.items():
        previous = before.get(key)
        if previous is None:
            lines.append(f"+ sla {key}")
        elif previous != sla:
            named = _fields(previous, sla, skip=("targets",))
            if named:
                lines.append(f"~ sla {key}: {', '.join(named)}")
            lines += _section(
                "target", _by_id(previous.targets), _by_id(sla.targets), within=f"{key}/"
            )
    return lines


def changes(old: Definitions | None, new: Definitions) -> list[str]:
    """Each thing ``new`` adds, removes or changes against ``old`` (``None``: nothing
    before, so everything is added), one line each, in document order by section."""
    base = old if old is not None else Definitions(calendars={})
    return [
        *_section("calendar", base.calendars, new.calendars),
        *_slas(base, new),
        *_section("availability", _by_id(base.availability), _by_id(new.availability)),
        *_section("escalation", base.escalations, new.escalations),
        *_section("person", base.people, new.people),
        *_section("team", base.teams, new.teams),
        *_section("channel", base.channels, new.channels),
    ]
