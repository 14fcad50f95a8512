"""The validated definitions document as immutable values.

Everything here is produced by :func:`slawatch.definitions.load_definitions`
from a document that passed validation; nothing in this module validates.
Durations are integer microseconds, instants integer microseconds UTC
(:mod:`slawatch.timeutil`), decimals exact :class:`~fractions.Fraction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Final, TypeAlias

__all__ = [
    "TICKET_FIELDS",
    "AllOf",
    "AnyOf",
    "Availability",
    "CalendarDef",
    "Channel",
    "Condition",
    "Credit",
    "Definitions",
    "DefinitionsVersion",
    "EscalationChain",
    "EscalationStep",
    "FieldMatch",
    "Goal",
    "Maintenance",
    "Not",
    "Person",
    "Sla",
    "SlaKind",
    "Target",
    "Team",
    "Trigger",
    "TriggerKind",
    "UnknownPolicy",
    "WarnPoint",
    "WindowKind",
    "in_force",
    "in_force_from",
]

TICKET_FIELDS = frozenset(
    {
        "priority",
        "status",
        "customer",
        "customer_tier",
        "service",
        "region",
        "assignee",
        "assignee_group",
        "type",
    }
)
"""Top-level ticket fields that conditions may name (``definitions.md``, "Conditions")."""

Value: TypeAlias = str | int | float | bool | None


# --- conditions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """``field: value`` or ``field: [values]``; ``None`` among values matches an absent field.

    ``field`` is a top-level ticket field or ``attributes.NAME``.
    """

    field: str
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every item matches (a condition mapping with several keys)."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """``{any: [...]}``: at least one item matches."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """``{not: {...}}``."""

    item: Condition


Condition: TypeAlias = FieldMatch | AllOf | AnyOf | Not


# --- calendars ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarDef:
    """A business calendar: working intervals per ISO weekday in a time zone, minus holidays.

    ``week[d]`` (``d`` = 0 for Monday .. 6 for Sunday) holds sorted, non-overlapping
    ``(start, end)`` pairs of seconds after local midnight, ``end`` at most 86400.
    ``holidays`` are the whole local days closed: the explicit ``dates`` plus the public
    holidays resolved from the ``holidays`` package when the document was accepted.
    The calendar ``24x7`` has ``always_open`` set and no week.
    """

    id: str
    timezone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    holidays: frozenset[date] = frozenset()
    country: str | None = None
    subdivision: str | None = None
    explicit_dates: frozenset[date] = frozenset()
    holidays_package_version: str | None = None
    always_open: bool = False


# --- ticket SLAs ----------------------------------------------------------------


class SlaKind(StrEnum):
    """What kind of agreement an SLA is; descriptive, copied into outputs."""

    CUSTOMER = "customer"
    """An agreement with a customer."""
    OLA = "ola"
    """An internal operational level agreement."""
    UC = "uc"
    """An underpinning contract with a supplier."""


class TriggerKind(StrEnum):
    """The kinds of trigger of ``definitions.md`` ("Triggers")."""

    CREATED = "created"
    """The ticket's first ``ticket.created``."""
    STATUS_ENTERED = "status_entered"
    """``status`` moves into a value (optionally from one)."""
    FIELD_CHANGED = "field_changed"
    """A field changes (optionally from / to a value)."""
    COMMENTED = "commented"
    """A ``ticket.commented`` with an author role and visibility."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """One start or stop trigger.

    ``status``, ``from_values``, ``to_values`` and ``author_roles`` are ``None`` when the
    key is absent; a tuple containing ``None`` matches a null value. ``field`` is the
    field a ``field_changed`` trigger watches (``status`` for ``status_entered``).
    """

    kind: TriggerKind
    field: str | None = None
    status: tuple[Value, ...] | None = None
    from_values: tuple[Value, ...] | None = None
    to_values: tuple[Value, ...] | None = None
    author_roles: tuple[str, ...] | None = None
    public: bool | None = None
    condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class Goal:
    """``target`` microseconds of business time on ``calendar``, for tickets matching ``when``."""

    target: int
    calendar: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class WarnPoint:
    """A warning point: a fraction of the goal, or a duration before the deadline.

    ``written`` is the threshold as the definitions wrote it (``0.75`` or ``"15m"``) and
    is what outputs carry; exactly one of ``fraction`` and ``before`` is set.
    """

    written: float | str
    fraction: Fraction | None = None
    before: int | None = None


NO_ESCALATION: Final = ""
"""A target's ``escalation`` when the document sets it to null: no chain for this target,
where an absent one (``None``) means the SLA's."""


@dataclass(frozen=True, slots=True)
class Target:
    """One measured promise of an SLA."""

    id: str
    start: tuple[Trigger, ...]
    stop: tuple[Trigger, ...]
    goals: tuple[Goal, ...]
    pause_while: Condition | None = None
    warn_at: tuple[WarnPoint, ...] = ()
    escalation: str | None = None
    retroactive: bool = False


@dataclass(frozen=True, slots=True)
class Sla:
    """A named agreement with one or more targets."""

    id: str
    kind: SlaKind
    targets: tuple[Target, ...]
    applies_to: Condition | None = None
    description: str | None = None
    underpins: str | None = None
    escalation: str | None = None


# --- availability ---------------------------------------------------------------


class WindowKind(StrEnum):
    """How an availability objective's windows are laid out."""

    MONTH = "month"
    """Calendar months, from 00:00 local on the 1st."""
    WEEK = "week"
    """Calendar weeks, from Monday 00:00 local."""
    QUARTER = "quarter"
    """Calendar quarters, from 1 January, April, July, October."""
    ROLLING = "rolling"
    """A trailing window of ``rolling`` microseconds, for metrics only (rule 20a)."""


class UnknownPolicy(StrEnum):
    """How time with no fresh status counts (rule 22)."""

    EXCLUDED = "excluded"
    """Removed from measured time."""
    DOWN = "down"
    """Counts as downtime."""
    UP = "up"
    """Counts as up."""


@dataclass(frozen=True, slots=True)
class Maintenance:
    """Planned maintenance: an RFC 5545 ``rrule`` in the objective's time zone, of ``duration``."""

    rrule: str
    duration: int


@dataclass(frozen=True, slots=True)
class Credit:
    """A service-credit tier: ``percent`` when final availability is under ``below`` percent."""

    below: Fraction
    percent: int | float


@dataclass(frozen=True, slots=True)
class Availability:
    """An availability objective for one service (rules 19-26)."""

    id: str
    service: str
    objective: Fraction
    window: WindowKind
    timezone: str = "UTC"
    calendar: str = "24x7"
    kind: SlaKind = SlaKind.CUSTOMER
    rolling: int | None = None
    degraded_weight: Fraction = Fraction(0)
    stale_after: int | None = None
    unknown_counts_as: UnknownPolicy = UnknownPolicy.EXCLUDED
    maintenance: tuple[Maintenance, ...] = ()
    warn_at_budget: tuple[Fraction, ...] = ()
    warn_at_budget_written: tuple[float, ...] = ()
    credits: tuple[Credit, ...] = ()
    escalation: str | None = None


# --- escalation -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """A chain step, fired by an SLA event (``when_event``) or ``after`` the step before it."""

    notify: tuple[str, ...]
    when_event: str | None = None
    at_least: Fraction | None = None
    targets: tuple[str, ...] | None = None
    outcome: str | None = None
    condition: Condition | None = None
    after: int | None = None
    repeat_every: int | None = None
    repeat_times: int = 0
    during: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationChain:
    """A chain of steps and the events that stop it."""

    id: str
    steps: tuple[EscalationStep, ...]
    stop_on: tuple[str, ...] = ("acknowledged", "sla.clock.stopped")


@dataclass(frozen=True, slots=True)
class Person:
    """A person and their addresses, keyed by channel name."""

    id: str
    addresses: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Team:
    """A team, its addresses keyed by channel name, and its (informational) members."""

    id: str
    addresses: tuple[tuple[str, str], ...]
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Channel:
    """A delivery channel; ``settings`` holds its other keys with ``${VAR}`` left unexpanded."""

    id: str
    type: str
    settings: tuple[tuple[str, Value], ...] = ()


# --- the document ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Definitions:
    """A whole validated definitions document."""

    calendars: dict[str, CalendarDef]
    slas: tuple[Sla, ...] = ()
    availability: tuple[Availability, ...] = ()
    escalations: dict[str, EscalationChain] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    format_version: int = 1


@dataclass(frozen=True, slots=True)
class DefinitionsVersion:
    """An accepted document with its version number and the instant it is in force from.

    ``effective_from`` is ``None`` for a version in force from the beginning of time
    (replay's first ``--definitions`` without ``@``).
    """

    number: int
    effective_from: int | None
    definitions: Definitions


def in_force(versions: Sequence[DefinitionsVersion], instant: int) -> DefinitionsVersion | None:
    """The version in force at ``instant``: the latest ``effective_from`` at or before it
    (a version without one is in force from the beginning); ``None`` before every one.
    Of versions with the same ``effective_from``, the last in ``versions``."""
    started = [v for v in versions if in_force_from(v.effective_from) <= instant]
    return max(reversed(started), key=lambda v: in_force_from(v.effective_from), default=None)


def in_force_from(effective_from: int | None) -> int:
    """The instant a version comes into force, for ordering and comparing versions:
    ``effective_from``, or a time before every instant for a version without one."""
    return -(2**62) if effective_from is None else effective_from
