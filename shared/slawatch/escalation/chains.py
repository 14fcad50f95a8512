"""Which chain an SLA event escalates on, which steps it fires, and what stops an instance.

The chain is the target's ``escalation``, else its SLA's (or the availability
objective's), looked up in the definitions version the cycle or window runs under
(the event's ``definitions_version``, rule 18). A ``when:`` step fires on an event of
its type that passes its filters (rule 27); an instance stops at the ``stop_on``
events of its chain and always at its cycle's cancellation or its window's close
(rule 28).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from fractions import Fraction
from typing import Any

from slawatch.clock.catalog import Catalog
from slawatch.clock.match import matches
from slawatch.definitions.model import EscalationChain, EscalationStep
from slawatch.escalation.notifications import Scope
from slawatch.outputs import Output, OutputType
from slawatch.timeutil import SECOND, parse_duration

__all__ = [
    "ACKNOWLEDGED",
    "StopReason",
    "chain_for",
    "scope_of",
    "step_matches",
    "stops",
    "warning_point",
]

ACKNOWLEDGED = "acknowledged"
"""The ``stop_on`` entry for ``escalation.acknowledged`` (rule 28a)."""

_WARNINGS = frozenset({OutputType.WARNING, OutputType.AVAILABILITY_WARNING})
_ALWAYS_STOP = frozenset({OutputType.CANCELLED, OutputType.WINDOW_CLOSED})


class StopReason(StrEnum):
    """Why an instance stopped, besides an SLA event type listed in ``stop_on``."""

    ACKNOWLEDGED = ACKNOWLEDGED
    """An ``escalation.acknowledged`` matched it (rule 28a)."""
    RETRACTED = "retracted"
    """An SLA event that fired one of its steps was retracted (rule 28)."""


def scope_of(out: Output) -> Scope:
    """The cycle or window an SLA event (or its retraction) belongs to."""
    body = out.body
    cycle = body.get("cycle")
    return Scope(
        subject=out.subject,
        sla=str(body["sla"]),
        target=str(body["target"]),
        cycle=cycle if isinstance(cycle, int) else None,
        window_start=None if isinstance(cycle, int) else str(body.get("window_start")),
        order=out.order,
        sort_cycle=out.cycle,
    )


def chain_for(catalog: Catalog, out: Output) -> tuple[int, EscalationChain] | None:
    """The version number and chain an SLA event escalates on, or ``None`` when it has none.

    Raises :class:`KeyError` when the event names a version the catalog does not hold.
    """
    version = catalog.by_number(int(out.body["definitions_version"]))
    sla_id, target_id = str(out.body["sla"]), str(out.body["target"])
    chain_id: str | None = None
    if "cycle" in out.body:
        found = version.target(sla_id, target_id)
        if found is not None:
            sla, target = found
            chain_id = sla.escalation if target.escalation is None else target.escalation
    else:
        for objective in version.definitions.availability:
            if objective.id == sla_id:
                chain_id = objective.escalation
                break
    if not chain_id:
        return None
    chain = version.definitions.escalations.get(chain_id)
    return None if chain is None else (version.number, chain)


def _fraction(value: Any) -> Fraction:
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def warning_point(body: Mapping[str, Any]) -> Fraction | None:
    """A warning's point as a fraction: of the goal in force, or of the error budget.

    A fraction threshold counts as written; a duration ``d`` before the deadline of a
    goal ``g`` counts as ``(g - d) / g``.
    """
    threshold = body.get("threshold")
    if isinstance(threshold, bool) or threshold is None:
        return None
    if isinstance(threshold, int | float):
        return _fraction(threshold)
    goal = body.get("goal_seconds")
    if not isinstance(threshold, str) or not isinstance(goal, int | float) or goal <= 0:
        return None
    goal_micros = _fraction(goal) * SECOND
    return (goal_micros - parse_duration(threshold)) / goal_micros


def step_matches(
    step: EscalationStep,
    out: Output,
    fields: dict[str, Any],
    attributes: dict[str, Any],
) -> bool:
    """Whether a ``when:`` step fires on this SLA event (rule 27's filters).

    ``fields`` and ``attributes`` are the ticket as the step's ``if:`` sees it.
    """
    if step.when_event != out.type.value:
        return False
    body = out.body
    if step.at_least is not None:
        if out.type not in _WARNINGS:
            return False
        point = warning_point(body)
        if point is None or point < step.at_least:
            return False
    if step.targets is not None and body.get("target") not in step.targets:
        return False
    if step.outcome is not None and body.get("outcome") != step.outcome:
        return False
    return step.condition is None or matches(step.condition, fields, attributes)


def stops(chain: EscalationChain, kind: OutputType) -> bool:
    """Whether an SLA event of this type stops an instance of the chain for its cycle.

    ``sla.retracted`` in ``stop_on`` is accepted and changes nothing (rule 28).
    """
    if kind in _ALWAYS_STOP:
        return True
    return kind is not OutputType.RETRACTED and kind.value in chain.stop_on
