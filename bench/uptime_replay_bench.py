"""Uptime status events through the whole of ``slawatch replay`` (``make bench``; not a test).

The stream of ``bench/availability_bench.py`` (1,000 services, a check every 30 s for a
day: 2.88 million ``uptime.status`` events, nearly all repeating the status in force),
as JSON lines through the same :class:`~slawatch.replay.Replayer` the CLI runs:
parsing, duplicates, late-event bookkeeping, the availability fold, the planner.

Usage: python bench/uptime_replay_bench.py [--services N] [--hours H]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))

from availability_bench import START, STEP, definitions, timeline

from slawatch import collector
from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.replay import Cause, Emitted, Replayer
from slawatch.timeutil import format_time


def compact(event: dict[str, object]) -> bytes:
    """JSON bytes of exactly their size (orjson's own output keeps a 4 KiB buffer)."""
    return bytes(bytearray(orjson.dumps(event)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--hours", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    collector.tune()  # as the slawatch command does
    rng = random.Random(args.seed)
    ticks = args.hours * 3600 // 30
    versions = [DefinitionsVersion(1, None, load_definitions(definitions(args.services)))]
    plans = [timeline(rng, ticks) for _ in range(args.services)]
    lines = [
        compact(
            {
                "id": f"u{tick}-{i}",
                "type": "uptime.status",
                "time": format_time(START + tick * STEP),
                "service": f"svc-{i}",
                "status": plans[i][tick],
            }
        )
        for tick in range(ticks)
        for i in range(args.services)
    ]
    kinds: Counter[str] = Counter()

    def emit(items: Sequence[Emitted], cause: Cause) -> None:
        for item in items:
            kinds[item.body["type"]] += 1

    replayer = Replayer(versions, emit=emit)
    began = time.perf_counter()
    for number, raw in enumerate(lines, 1):
        replayer.feed(number, raw)
    replayer.finish()
    took = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(lines):,} uptime.status events for {args.services:,} services over {args.hours} h")
    print(f"replay: {took:.1f} s, {len(lines) / took:,.0f} events/s; peak RSS {peak:,.0f} MiB")
    print("outputs: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
