"""However the notifier's records are batched and however late each batch is read, it
decides what it decides reading each record the moment it was written (hypothesis).

This is what lets a notifier catch up after downtime: each record counts at its broker
timestamp, with what fell due fired in between, so a batch read late is no different
from the same records read one by one as they came.
"""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from slawatch.bus import Record
from slawatch.settings import Settings
from slawatch.store.common import Claim
from slawatch.timeutil import MINUTE, format_time, parse_time
from slawatch_evaluator.partition import PartitionWorker
from slawatch_notifier.partition import NotifierPartition
from tests.notifier.test_catch_up import VERSIONS, notifier
from tests.support.pipeline import canonical

START = parse_time("2026-03-02T09:00:00Z")
END = START + 24 * 60 * MINUTE
ANSWERED = [None, 20, 70, 95, 120, None, 45, 61, 89, 91]
"""Minutes after its creation each ticket is answered (goal 1h, manager 30m after)."""


def stamped_records() -> list[Record]:
    """The SLA events of ten tickets, each stamped with its event time, in that order."""
    raw = []
    for n, answered in enumerate(ANSWERED):
        created = START + n * 7 * MINUTE
        raw.append({"id": f"c{n}", "type": "ticket.created", "time": format_time(created),
                    "ticket": {"id": f"T-{n}", "status": "open"}})  # fmt: skip
        if answered is not None:
            reply = format_time(created + answered * MINUTE)
            raw.append({"id": f"r{n}", "type": "ticket.commented", "time": reply,
                        "ticket": {"id": f"T-{n}"},
                        "comment": {"author_role": "agent", "public": True}})  # fmt: skip
    raw.sort(key=lambda e: str(e["time"]))
    worker = PartitionWorker(
        Claim("canonical", 0, 1, 0), VERSIONS, lateness=0, retention=Settings().retention
    )
    pairs = []
    for n, event in enumerate(raw):
        at = parse_time(str(event["time"]))
        ((key, value),) = canonical([orjson.dumps(event)], at)
        batch = worker.process([Record("canonical", 0, n, key, value)], at + 1)
        pairs += zip(batch.outputs, batch.headers, strict=True)
    batch = worker.process([], END)
    pairs += zip(batch.outputs, batch.headers, strict=True)
    pairs.sort(key=lambda p: p[0].time)
    return [
        Record("sla-events", 0, n, out.subject.encode(), out.to_json(), out.time // 1000, headers)
        for n, (out, headers) in enumerate(pairs)
    ]


def decided(
    part: NotifierPartition, batches: list[tuple[list[Record], int]]
) -> list[tuple[str, str | None, int]]:
    """The notifications decided over ``batches`` (records, processing time), then at END."""
    found = []
    for records, now in batches:
        found += [(i.id, i.recipient, i.due_at) for i in part.process(records, [], now).intents]
    found += [(i.id, i.recipient, i.due_at) for i in part.process([], [], END).intents]
    return sorted(found)


RECORDS = stamped_records()


def one_by_one() -> list[tuple[str, str | None, int]]:
    return decided(notifier(), [([r], r.timestamp_ms * 1000) for r in RECORDS])  # type: ignore[operator]


EXPECTED = one_by_one()


@settings(max_examples=150)
@given(st.data())
def test_any_batching_read_at_any_delay_decides_the_same(data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(1, len(RECORDS) - 1), max_size=8)))
    groups = [RECORDS[a:b] for a, b in zip([0, *cuts], [*cuts, len(RECORDS)], strict=True)]
    batches = []
    for i, group in enumerate(groups):
        last = group[-1].timestamp_ms * 1000  # type: ignore[operator]
        limit = groups[i + 1][0].timestamp_ms * 1000 if i + 1 < len(groups) else END  # type: ignore[operator]
        now = data.draw(st.integers(last, max(last, limit - 1)))
        batches.append((group, now))
    assert decided(notifier(), batches) == EXPECTED


def test_the_stream_escalates_and_stops() -> None:
    """The reference itself: breaches page the lead, and only those unanswered 30 minutes
    after their breach page the manager."""
    recipients = [r for _, r, _ in EXPECTED]
    assert recipients.count("lead@example.com") == sum(1 for a in ANSWERED if a is None or a > 60)
    assert recipients.count("manager@example.com") == sum(
        1 for a in ANSWERED if a is None or a > 90
    )
