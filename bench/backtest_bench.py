"""``slawatch backtest`` on the replay bench's help desk: how long comparing two sets of
terms takes, and its memory.

Not a test: a measurement (``make bench``). It runs what ``slawatch backtest`` runs, with
``--by priority --per month``: the 60,000 tickets of ``replay_bench.py`` (about 270,000
events) replayed under the bench's definitions and again under a candidate with every
goal half as long again, each replay's outputs and notifications taken by a ``Report``,
then the comparison rendered. It reports the events/s of the whole (both replays over
the events, counted once), the share the reports add to the replays, and the peak RSS.

Usage: python bench/backtest_bench.py [--tickets N] [--seed S]
"""

from __future__ import annotations

import argparse
import platform
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import replay_bench

from slawatch import collector
from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.replay.backtest import compare, render_table
from slawatch.replay.report import Report
from slawatch.replay.runner import replay


def candidate() -> list[DefinitionsVersion]:
    """The bench's definitions with every goal half as long again."""

    def longer(match: re.Match[str]) -> str:
        minutes = int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[match.group(2)]
        return f"target: {minutes * 3 // 2}m"

    text = re.sub(r"target: (\d+)([mhd])", longer, replay_bench.DEFINITIONS)
    return [DefinitionsVersion(1, None, load_definitions(text))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    collector.tune()
    lines = replay_bench.generate(args.tickets, args.seed)
    print(f"slawatch backtest bench: {len(lines):,} events; "
          f"{platform.python_implementation()} {platform.python_version()}")  # fmt: skip
    began = time.perf_counter()
    replay(replay_bench.versions(), lines, emit=lambda outputs, cause: None)
    bare = time.perf_counter() - began
    began = time.perf_counter()
    reports = []
    for versions in (replay_bench.versions(), candidate()):
        report = Report(by="priority", per="month")
        replay(versions, lines, emit=lambda outputs, cause, r=report: r.add(outputs))
        reports.append(report)
    table = render_table(compare(*reports))
    spent = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  backtest (two replays and the comparison): {spent:.1f} s, "
          f"{len(lines) / spent:,.0f} events/s; one bare replay {bare:.1f} s")  # fmt: skip
    print(
        f"  the reports add {spent / (2 * bare) - 1:.0%} to two replays; peak RSS {peak:,.0f} MiB"
    )
    print(f"  {len(table.splitlines())} lines of comparison")


if __name__ == "__main__":
    main()
