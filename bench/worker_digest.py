"""A digest of everything the evaluator's engine path produces, to check a speed-up.

Not a measurement: a guard for one. It feeds the worker bench's help-desk stream
(``pipeline_bench.desk_stream``, live and historical event times) to one
``PartitionWorker`` on a fixed processing clock and hashes every output (body bytes,
type, time, order, cycle, backfill), every header, dead letter and verdict count,
every stored change of every batch (the last one 40 days later, when every
timer still pending has fired), and finally every subject's full export. A change
meant to make the path faster must leave both digests as they were.

Usage: python bench/worker_digest.py [--events N] [--seed S]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson
import pipeline_bench
import worker_bench

from slawatch.bus import Record
from slawatch.settings import Settings
from slawatch.timeutil import DAY, SECOND, parse_time
from slawatch_evaluator.partition import Batch

NOW = parse_time("2026-12-02T12:00:00Z")
"""The processing clock's start: the stream's times are moved to it, not to the wall clock."""
TICK = SECOND // 5
"""Processing time between two batches."""


def _digest_batch(h: hashlib._Hash, batch: Batch) -> None:
    for out, headers in zip(batch.outputs, batch.headers, strict=True):
        h.update(repr((out.type.value, out.time, out.subject, out.order, out.cycle)).encode())
        h.update(repr((out.backfill, headers)).encode())
        h.update(orjson.dumps(out.body))
    for dead in batch.dead_letters:
        h.update(repr((dead.id, dead.key, dead.payload, dead.reason)).encode())
    h.update(repr(sorted(batch.verdicts.items())).encode())
    h.update(repr((batch.next_offset, batch.event_time_lag)).encode())
    for change in sorted(batch.changes, key=lambda c: c.key):
        h.update(repr((change.key, change.due, change.rewrite, change.start)).encode())
        h.update(orjson.dumps(change.record))
        h.update(orjson.dumps(change.lines))


def digest(events: int, seed: int, *, historical: bool) -> tuple[str, int, int]:
    """The digest of one stream through the worker, its outputs and its subjects."""
    pairs = pipeline_bench.desk_stream(events, seed, historical=historical)
    records = [Record("canonical", 0, n, key, value) for n, (key, value) in enumerate(pairs)]
    worker = worker_bench.new_worker()
    h = hashlib.sha256()
    outputs = 0
    size = Settings().batch_max_records
    for n, start in enumerate(range(0, len(records), size)):
        batch = worker.process(records[start : start + size], NOW + n * TICK)
        outputs += len(batch.outputs)
        _digest_batch(h, batch)
    batch = worker.process([], NOW + 40 * DAY)  # every timer still pending fires
    outputs += len(batch.outputs)
    _digest_batch(h, batch)
    engine = worker.engine
    for key in sorted(engine.subjects):
        change = engine.export_change(key)
        h.update(orjson.dumps(change.record))
    return h.hexdigest(), outputs, len(engine.subjects)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pipeline_bench._now_us = lambda: NOW  # the stream's times moved to the fixed clock
    for historical in (False, True):
        text, outputs, subjects = digest(args.events, args.seed, historical=historical)
        name = "historical" if historical else "live"
        print(f"{name:>10}: {text} ({outputs:,} outputs, {subjects:,} subjects)")


if __name__ == "__main__":
    main()
