"""Who a step notifies, and where (rule 29).

A ``notify`` entry resolves, against the newest definitions version, to the
addresses of one person or team as ``(channel name, address)`` pairs in definition
order; ``role:assignee`` names the person in the ticket's ``assignee`` field. An
entry that resolves to nothing yields no pairs: the planner reports it as
``failed`` with ``no_address``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from slawatch.definitions.model import Definitions

__all__ = ["ASSIGNEE_FIELD", "Role", "TargetKind", "addresses", "assignee_of", "needs_assignee"]

ASSIGNEE_FIELD = "assignee"
Address = tuple[str, str]


class TargetKind(StrEnum):
    """The prefix of a ``notify`` entry."""

    PERSON = "person"
    """``person:NAME``: a person's own addresses."""
    TEAM = "team"
    """``team:NAME``: the team's addresses (members are not notified one by one)."""
    ROLE = "role"
    """``role:NAME``: a person found through the ticket."""


class Role(StrEnum):
    """The roles a ``role:`` entry may name."""

    ASSIGNEE = "assignee"
    """The person in the ticket's ``assignee`` field."""


def needs_assignee(notify: tuple[str, ...]) -> bool:
    """Whether any entry is ``role:assignee``."""
    return f"{TargetKind.ROLE}:{Role.ASSIGNEE}" in notify


def assignee_of(ticket: tuple[dict[str, Any], dict[str, Any]] | None) -> str | None:
    """The ticket's assignee as a person name, or ``None`` (no ticket, unset, not a string)."""
    if ticket is None:
        return None
    value = ticket[0].get(ASSIGNEE_FIELD)
    return value if isinstance(value, str) else None


def addresses(entry: str, definitions: Definitions, assignee: str | None) -> tuple[Address, ...]:
    """The ``(channel, address)`` pairs a ``notify`` entry reaches; empty when none."""
    kind, _, name = entry.partition(":")
    if kind == TargetKind.PERSON:
        person = definitions.people.get(name)
        return person.addresses if person is not None else ()
    if kind == TargetKind.TEAM:
        team = definitions.teams.get(name)
        return team.addresses if team is not None else ()
    if kind == TargetKind.ROLE and name == Role.ASSIGNEE and assignee is not None:
        person = definitions.people.get(assignee)
        return person.addresses if person is not None else ()
    return ()
