"""Helpers for pipeline tests: canonical records, replay's expectation, output comparison."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import encode_event, parse_event
from slawatch.events.model import Rejection
from slawatch.replay import Cause, Emitted, replay
from slawatch.timeutil import format_time, parse_time


def canonical(raw_lines: Iterable[bytes], received_at: int) -> list[tuple[bytes, bytes]]:
    """(key, value) canonical records as ingest writes them, ``received_at`` stamped."""
    records = []
    for raw in raw_lines:
        event = parse_event(raw)
        assert not isinstance(event, Rejection), event
        doc = json.loads(encode_event(event))
        doc.setdefault("received_at", format_time(received_at))
        subject = event.subject if hasattr(event, "subject") else ""
        records.append((subject.encode(), json.dumps(doc).encode()))
    return records


def replayed(
    versions: Sequence[DefinitionsVersion], values: Iterable[bytes]
) -> list[dict[str, Any]]:
    """What ``slawatch replay`` emits for these canonical values: SLA events only."""
    out: list[dict[str, Any]] = []

    def emit(items: Sequence[Emitted], cause: Cause) -> None:
        out.extend(json.loads(i.to_json()) for i in items)

    replay(versions, list(values), emit=emit)
    return [o for o in out if o["type"] != "notification"]


def comparable(outputs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Outputs by id (duplicates collapse), retraction times left out (they are processing time)."""
    by_id: dict[str, dict[str, Any]] = {}
    for o in outputs:
        body = dict(o)
        if body["type"] == "sla.retracted":
            body.pop("time")
        by_id[body["id"]] = body
    return by_id


def duplicates(outputs: Iterable[dict[str, Any]]) -> int:
    """How many outputs repeat an id already seen."""
    seen: set[str] = set()
    count = 0
    for o in outputs:
        if o["id"] in seen:
            count += 1
        seen.add(o["id"])
    return count


def replayed_with_notifications(
    versions: Sequence[DefinitionsVersion], values: Iterable[bytes], *, after: int = 0
) -> list[dict[str, Any]]:
    """What ``slawatch replay`` emits for these canonical values, notifications included,
    with processing time run on ``after`` microseconds past the last event (``after:`` steps)."""
    lines = list(values)
    out: list[dict[str, Any]] = []

    def emit(items: Sequence[Emitted], cause: Cause) -> None:
        out.extend(json.loads(i.to_json()) for i in items)

    arrivals = [json.loads(v).get("received_at") or json.loads(v)["time"] for v in lines]
    until = max(parse_time(a) for a in arrivals) + after if arrivals else None
    replay(versions, lines, emit=emit, until=until)
    return out
