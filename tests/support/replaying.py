"""Replaying literal definitions and events in tests, with outputs as JSON objects."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.replay import Cause, ReplayStats, replay
from slawatch.replay.runner import Emitted
from slawatch.timeutil import parse_duration, parse_time


@dataclass
class Result:
    """What a replay emitted, step by step, and its statistics."""

    steps: list[tuple[Cause, list[dict[str, Any]]]] = field(default_factory=list)
    stats: ReplayStats | None = None

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return [o for _, outs in self.steps for o in outs]

    def of(self, *types: str, **match: Any) -> list[dict[str, Any]]:
        """Outputs of these types whose fields equal ``match``."""
        return [
            o
            for o in self.outputs
            if (not types or o["type"] in types) and all(o.get(k) == v for k, v in match.items())
        ]

    def lines(self) -> bytes:
        return b"".join(json.dumps(o).encode() + b"\n" for o in self.outputs)


def versions(*docs: tuple[str, str | None]) -> list[DefinitionsVersion]:
    """Definitions versions from (YAML text, effective_from) pairs, numbered in order."""
    loaded = [
        (parse_time(since) if since else None, load_definitions(textwrap.dedent(text)))
        for text, since in docs
    ]
    loaded.sort(key=lambda item: (item[0] is not None, item[0] or 0))
    return [DefinitionsVersion(n, since, d) for n, (since, d) in enumerate(loaded, 1)]


def run(
    definitions: str | Sequence[DefinitionsVersion],
    events: Sequence[dict[str, Any] | str | bytes],
    *,
    until: str | None = None,
    lateness: str = "0s",
    retention: str | None = None,
) -> Result:
    """Replay events (dicts, or raw lines) under definitions (YAML text, or versions)."""
    vs = versions((definitions, None)) if isinstance(definitions, str) else list(definitions)
    result = Result()
    lines = [
        e if isinstance(e, bytes) else e.encode() if isinstance(e, str) else json.dumps(e).encode()
        for e in events
    ]

    def emit(outputs: Sequence[Emitted], cause: Cause) -> None:
        result.steps.append((cause, [json.loads(o.to_json()) for o in outputs]))

    result.stats = replay(
        vs,
        lines,
        emit=emit,
        until=parse_time(until) if until else None,
        lateness=parse_duration(lateness) if lateness != "0s" else 0,
        retention=parse_duration(retention) if retention else None,
    )
    return result


def ticket(
    eid: str, time: str, tid: str = "T-1", kind: str = "ticket.updated", **fields: Any
) -> dict[str, Any]:
    """A ticket event; ``comment=(role, public)`` makes a ``ticket.commented``."""
    comment = fields.pop("comment", None)
    extra = {k: fields.pop(k) for k in ("received_at", "backfill", "source") if k in fields}
    event: dict[str, Any] = {"id": eid, "type": kind, "time": time, "ticket": {"id": tid, **fields}}
    if comment is not None:
        event["type"] = "ticket.commented"
        event["comment"] = {"author_role": comment[0], "public": comment[1]}
    event.update(extra)
    return event


def created(eid: str, time: str, tid: str = "T-1", **fields: Any) -> dict[str, Any]:
    """A ``ticket.created`` with status open unless given."""
    fields.setdefault("status", "open")
    return ticket(eid, time, tid, "ticket.created", **fields)
