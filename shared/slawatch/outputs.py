"""Output events (``events.md``, "Output events"): their types, ids, order and JSON.

An :class:`Output` carries the JSON object exactly as it is written, in a fixed key
order, plus the keys replay sorts a step by (``replay.md``): time, subject, SLA and
target in document order, cycle, then type.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

__all__ = ["TYPE_RANK", "Output", "OutputType", "output_id", "uuid5_text", "written"]


class OutputType(StrEnum):
    """The SLA output event types, in replay's order within one instant."""

    RETRACTED = "sla.retracted"
    """A late event showed an emitted output was wrong (rule 6)."""
    CANCELLED = "sla.clock.cancelled"
    """The ticket no longer matches ``applies_to`` or was deleted (rule 8)."""
    STOPPED = "sla.clock.stopped"
    """A stop trigger matched (rule 11)."""
    STARTED = "sla.clock.started"
    """A start trigger matched (rule 10)."""
    PAUSED = "sla.clock.paused"
    """The ticket started matching ``pause_while`` (rule 12)."""
    RESUMED = "sla.clock.resumed"
    """The ticket stopped matching ``pause_while`` (rule 12)."""
    GOAL_CHANGED = "sla.goal.changed"
    """A different goal now applies (rule 17)."""
    WARNING = "sla.warning"
    """A warning point was reached (rule 15)."""
    BREACHED = "sla.breached"
    """The goal was reached while the clock ran (rule 16), or by a goal change (rule 17)."""
    AVAILABILITY_WARNING = "sla.availability.warning"
    """Error-budget consumption reached a threshold (rule 24)."""
    AVAILABILITY_BREACHED = "sla.availability.breached"
    """The objective can no longer be met this window (rule 25)."""
    WINDOW_CLOSED = "sla.availability.window_closed"
    """An availability window ended (rule 26)."""


TYPE_RANK = {t: i for i, t in enumerate(OutputType)}


_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
"""The integers ``orjson`` writes (as ``str`` does)."""


def written(value: Any) -> str:
    """A key field as the output writes it: ``None`` as empty, numbers as JSON."""
    if value is None:
        return ""
    if type(value) is str:
        return value
    if type(value) is int and _INT64_MIN <= value <= _UINT64_MAX:
        return str(value)
    return orjson.dumps(value).decode()


_NAMESPACE = hashlib.sha1(uuid.NAMESPACE_URL.bytes + b"slawatch:")
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
"""The first hex digit of the clock sequence once the RFC 4122 variant bits are set."""


def uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(uuid.NAMESPACE_URL, "slawatch:" + name))``, without the object."""
    digest = _NAMESPACE.copy()
    digest.update(name.encode())
    h = digest.hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def output_id(*parts: Any) -> str:
    """The UUIDv5 (URL namespace) of ``slawatch:`` followed by the parts joined by ``|``."""
    return uuid5_text("|".join(map(written, parts)))


@dataclass(slots=True)
class Output:
    """One output event: its JSON ``body`` (with ``id`` first) and replay's sort keys.

    ``order`` is the SLA and target's document order; ``cycle`` is the ticket cycle, or
    0 for a service. ``backfill`` marks outputs of a ``backfill: true`` input (rule 27).
    ``ticket`` is the ticket's ``(fields, attributes)`` at the output's time, which a
    step's ``if:`` reads (rule 27); shared with the engine's state, so read it, never
    mutate it. ``None`` for a service, or where the output came without it.
    ``retracts`` is, on a ``sla.retracted``, the output it withdraws (for metrics).
    """

    type: OutputType
    time: int
    subject: str
    order: int
    cycle: int
    body: dict[str, Any]
    backfill: bool = False
    ticket: tuple[dict[str, Any], dict[str, Any]] | None = None
    retracts: Output | None = None

    @property
    def id(self) -> str:
        """The output's deterministic id."""
        return str(self.body["id"])

    def sort_key(self) -> tuple[int, str, int, int, int]:
        """Replay's order within one step."""
        return (self.time, self.subject, self.order, self.cycle, TYPE_RANK[self.type])

    def to_json(self) -> bytes:
        """The output as one JSON line, without the newline."""
        return orjson.dumps(self.body)
