"""The evaluator's engine path alone: ``PartitionWorker.process`` without Kafka or a database.

Not a test: a measurement (``make bench``). It feeds the records the pipeline bench
produces (``pipeline_bench.desk_stream``: the help-desk stream, ~300-byte canonical
records with event times at the wall clock) to one ``PartitionWorker`` with the ``DESK``
definitions in batches of the evaluator's ``batch_max_records``, and reports events/s and
CPU µs per event of the ``process`` calls only (parsing, the engine, outputs with their
ids and bodies, the export of every touched subject, the notifier headers). This is the
ceiling of one evaluator process: everything the live service adds (consuming,
committing, publishing) comes on top.

Usage: python bench/worker_bench.py [--events N] [--runs R] [--seed S]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pipeline_bench
from tests.support.streams import DESK

from slawatch import collector
from slawatch.bus import Record
from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.settings import Settings
from slawatch.store.common import Claim
from slawatch.timeutil import SECOND
from slawatch_evaluator.partition import PartitionWorker


def new_worker() -> PartitionWorker:
    """The worker of partition 0 with the ``DESK`` definitions and the bench's lateness."""
    return PartitionWorker(
        Claim("canonical", 0, 1, 0),
        [DefinitionsVersion(1, None, load_definitions(DESK))],
        lateness=int(pipeline_bench.LATENESS_S * SECOND),
        retention=Settings().retention,
    )


def run(records: list[Record], batch: int) -> tuple[float, int]:
    """CPU seconds spent in ``process`` over all of ``records``, and the outputs made."""
    worker = new_worker()
    cpu, outputs = 0.0, 0
    for start in range(0, len(records), batch):
        now = pipeline_bench._now_us()
        began = time.process_time()
        done = worker.process(records[start : start + batch], now)
        cpu += time.process_time() - began
        outputs += len(done.outputs)
    return cpu, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    collector.tune()
    pairs = pipeline_bench.desk_stream(args.events, args.seed, historical=False)
    records = [Record("canonical", 0, n, key, value) for n, (key, value) in enumerate(pairs)]
    batch = Settings().batch_max_records
    print(f"slawatch worker bench: {len(records):,} records, batches of {batch}; "
          f"{platform.python_implementation()} {platform.python_version()}")  # fmt: skip
    costs = []
    began, stolen = time.monotonic(), pipeline_bench._machine_cpu()[1]
    for n in range(args.runs):
        cpu, outputs = run(records, batch)
        costs.append(cpu / len(records))
        print(f"  run {n + 1}: {1e6 * costs[-1]:.1f} µs/event CPU "
              f"({len(records) / cpu:,.0f} events/s), {outputs:,} outputs")  # fmt: skip
    best, median = min(costs), statistics.median(costs)
    print(f"best {1e6 * best:.1f} µs/event ({1 / best:,.0f} events/s), "
          f"median {1e6 * median:.1f} µs/event ({1 / median:,.0f} events/s)")  # fmt: skip
    steal = (pipeline_bench._machine_cpu()[1] - stolen) / (time.monotonic() - began)
    print(f"the hypervisor took {steal:.2f} of the machine's cores meanwhile (steal)")


if __name__ == "__main__":
    main()
