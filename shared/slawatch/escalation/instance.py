"""One escalation instance: a chain frozen at its start, run for one cycle or window.

An :class:`Instance` holds the chain it started with (later definitions versions
change nothing for it), each step's state, what it has sent and to whom, and its
scheduled work: :class:`Item` timers for ``after:`` steps and repeats, and
notifications held by ``during:`` until their calendar opens. Everything converts to
and from JSON-ready records; the chain is recorded by version number and id, since
an accepted version never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from slawatch.clock.catalog import Catalog
from slawatch.definitions.model import EscalationChain
from slawatch.escalation.notifications import Scope
from slawatch.timeutil import format_time

__all__ = [
    "DueStep",
    "EscalationView",
    "Instance",
    "Item",
    "Phase",
    "Reached",
    "SentStep",
    "StepState",
    "Stop",
]


class StepState(StrEnum):
    """Where a step of an instance is."""

    PENDING = "pending"
    """Not fired yet: waiting for its event, or for its ``after:`` delay."""
    FIRED = "fired"
    """Fired (its first firing may still be held by ``during:``)."""
    SKIPPED = "skipped"
    """A later step fired first, or the step before an ``after:`` step was skipped."""


class Phase(StrEnum):
    """What a scheduled item waits for."""

    TIMER = "timer"
    """An ``after:`` step or a repeat that falls due at ``time``."""
    HELD = "held"
    """A notification that fell due outside its ``during:`` calendar, sent at ``time``."""


@dataclass(slots=True)
class Item:
    """Scheduled work of an instance; ``step`` counts from 0 and ``due`` is when it fell due."""

    token: int
    step: int
    repeat: int
    cause: str
    time: int
    phase: Phase
    due: int
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class SentStep:
    """A step firing that was sent (or reported failed), at ``time``; ``step`` counts from 1."""

    step: int
    repeat: int
    time: int
    cause: str


@dataclass(frozen=True, slots=True)
class DueStep:
    """A step firing still to come: at ``time``, or held until then when ``held``."""

    step: int
    repeat: int
    time: int
    cause: str
    held: bool


@dataclass(frozen=True, slots=True)
class Stop:
    """Why and when an instance stopped: a ``stop_on`` event type or a :class:`StopReason`.

    ``cause`` is the id of the SLA event or acknowledgement; ``by`` and ``note`` record
    who acknowledged.
    """

    reason: str
    at: int
    cause: str
    by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationView:
    """A running instance as the API shows it; times are instants."""

    escalation: str
    subject: str
    sla: str
    target: str
    cycle: int | None
    window_start: str | None
    definitions_version: int
    started: int
    sent: tuple[SentStep, ...]
    due: tuple[DueStep, ...]
    waiting: tuple[int, ...]
    """``when:`` steps (from 1) that have neither fired nor been skipped."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form with times written as RFC 3339."""
        scope: dict[str, Any] = (
            {"cycle": self.cycle} if self.cycle is not None else {"window_start": self.window_start}
        )
        return {
            "escalation": self.escalation,
            "subject": self.subject,
            "sla": self.sla,
            "target": self.target,
            **scope,
            "definitions_version": self.definitions_version,
            "started": format_time(self.started),
            "sent": [
                {"step": s.step, "repeat": s.repeat, "time": format_time(s.time), "cause": s.cause}
                for s in self.sent
            ],
            "due": [
                {
                    "step": d.step,
                    "repeat": d.repeat,
                    "time": format_time(d.time),
                    "cause": d.cause,
                    "held": d.held,
                }
                for d in self.due
            ],
            "waiting": list(self.waiting),
        }


@dataclass(frozen=True, slots=True)
class Reached:
    """The last notification one address got from an instance (for retraction notices)."""

    cause: str
    step: int
    repeat: int
    notify_index: int


@dataclass(slots=True)
class Instance:
    """The state of one escalation instance."""

    seq: int
    scope: Scope
    version: int
    chain: EscalationChain
    started: int
    states: list[StepState] = field(default_factory=list)
    highest: int = -1
    fired_by: set[str] = field(default_factory=set)
    items: dict[int, Item] = field(default_factory=dict)
    sent: list[SentStep] = field(default_factory=list)
    reached: dict[tuple[str, str], Reached] = field(default_factory=dict)
    stop: Stop | None = None
    retracted: bool = False

    def __post_init__(self) -> None:
        if not self.states:
            self.states = [StepState.PENDING] * len(self.chain.steps)

    def view(self) -> EscalationView:
        """What the API shows of this instance."""
        items = sorted(self.items.values(), key=lambda i: (i.time, i.step, i.repeat))
        return EscalationView(
            escalation=self.chain.id,
            subject=self.scope.subject,
            sla=self.scope.sla,
            target=self.scope.target,
            cycle=self.scope.cycle,
            window_start=self.scope.window_start,
            definitions_version=self.version,
            started=self.started,
            sent=tuple(self.sent),
            due=tuple(
                DueStep(i.step + 1, i.repeat, i.time, i.cause, i.phase is Phase.HELD) for i in items
            ),
            waiting=tuple(
                k + 1
                for k, step in enumerate(self.chain.steps)
                if step.when_event is not None and self.states[k] is StepState.PENDING
            ),
        )

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record of this instance."""
        s = self.scope
        stop = self.stop
        return {
            "seq": self.seq,
            "scope": [s.subject, s.sla, s.target, s.cycle, s.window_start, s.order, s.sort_cycle],
            "version": self.version,
            "escalation": self.chain.id,
            "started": self.started,
            "states": [state.value for state in self.states],
            "highest": self.highest,
            "fired_by": sorted(self.fired_by),
            "items": [
                [i.token, i.step, i.repeat, i.cause, i.time, i.phase.value, i.due, i.assignee]
                for i in sorted(self.items.values(), key=lambda i: i.token)
            ],
            "sent": [[x.step, x.repeat, x.time, x.cause] for x in self.sent],
            "reached": [
                [channel, recipient, r.cause, r.step, r.repeat, r.notify_index]
                for (channel, recipient), r in self.reached.items()
            ],
            "stop": None
            if stop is None
            else [stop.reason, stop.at, stop.cause, stop.by, stop.note],
            "retracted": self.retracted,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], catalog: Catalog) -> Instance:
        """An instance from :meth:`to_record`; its chain is taken from its version."""
        subject, sla, target, cycle, window_start, order, sort_cycle = record["scope"]
        version = catalog.by_number(record["version"])
        chain = version.definitions.escalations[record["escalation"]]
        stop = record["stop"]
        return cls(
            seq=record["seq"],
            scope=Scope(subject, sla, target, cycle, window_start, order, sort_cycle),
            version=version.number,
            chain=chain,
            started=record["started"],
            states=[StepState(v) for v in record["states"]],
            highest=record["highest"],
            fired_by=set(record["fired_by"]),
            items={
                token: Item(token, step, repeat, cause, time, Phase(phase), due, assignee)
                for token, step, repeat, cause, time, phase, due, assignee in record["items"]
            },
            sent=[SentStep(*x) for x in record["sent"]],
            reached={
                (channel, recipient): Reached(cause, step, repeat, index)
                for channel, recipient, cause, step, repeat, index in record["reached"]
            },
            stop=None if stop is None else Stop(*stop),
            retracted=record["retracted"],
        )
