"""Instructions per event on the evaluator's engine path, counted by cachegrind.

Not a timed measurement: a repeatable one for a host whose speed varies. It runs this
script twice under ``valgrind --tool=cachegrind`` with address randomisation off
(``setarch -R``): once building the worker bench's help-desk stream on the digest's
fixed processing clock and feeding it to one ``PartitionWorker`` (``--process``), once
only building it, and reports the difference per event. Same code, same count, to within
a few instructions per event, so a saving of 1 % shows.

Usage: python bench/engine_instructions.py [--events N] [--seed S]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def _feed(events: int, seed: int, *, process: bool) -> None:
    """Build the stream and, with ``process``, run it through one worker."""
    import pipeline_bench
    import worker_bench
    import worker_digest

    from slawatch import collector
    from slawatch.bus import Record
    from slawatch.settings import Settings

    collector.tune()
    pipeline_bench._now_us = lambda: worker_digest.NOW
    pairs = pipeline_bench.desk_stream(events, seed, historical=False)
    records = [Record("canonical", 0, n, key, value) for n, (key, value) in enumerate(pairs)]
    worker = worker_bench.new_worker()
    if not process:
        return
    size = Settings().batch_max_records
    for n, start in enumerate(range(0, len(records), size)):
        worker.process(records[start : start + size], worker_digest.NOW + n * worker_digest.TICK)


def _count(events: int, seed: int, *, process: bool) -> int:
    """Instructions of one run of this script under cachegrind."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            "setarch", "-R", "valgrind", "--tool=cachegrind", "--cache-sim=no",
            f"--cachegrind-out-file={tmp}/out", sys.executable, __file__, "--inner",
            "--events", str(events), "--seed", str(seed),
        ]  # fmt: skip
        if process:
            command.append("--process")
        env = dict(os.environ, PYTHONHASHSEED="0")
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    found = _TOTAL.search(done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in cachegrind's output:\n{done.stderr}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        _feed(args.events, args.seed, process=args.process)
        return
    full = _count(args.events, args.seed, process=True)
    base = _count(args.events, args.seed, process=False)
    print(f"engine path: {(full - base) / args.events:,.0f} instructions per event "
          f"({args.events:,} events; {full:,} with processing, {base:,} without)")  # fmt: skip


if __name__ == "__main__":
    main()
