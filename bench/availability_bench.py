"""Availability fold throughput (not a test).

1,000 services, each with one check reporting every 30 s for a day: 2.88 million
``uptime.status`` events, nearly all repeats of the status in force, with a few
outages and degraded spells per service. Events are fed in time order straight
through :mod:`slawatch.availability`, the way the engine drives it: the timers due
before each event, the event, then the next due instant. Half the services are
measured on a business-hours calendar, some objectives have weekly planned
maintenance and every objective goes stale after 5 minutes without a status.

Prints events/s through the fold (event construction excluded) and the outputs.

Usage: python bench/availability_bench.py [--services N] [--hours H] [--seed S]
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections import Counter

from slawatch.availability import ServiceState, apply_event, fire_before, next_due
from slawatch.clock.catalog import Catalog
from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import UptimeStatus
from slawatch.outputs import Output
from slawatch.timeutil import MINUTE, SECOND, parse_time

START = parse_time("2026-03-02T00:00:00Z")
STEP = 30 * SECOND


def definitions(services: int) -> str:
    lines = [
        "calendars:",
        "  office:",
        "    timezone: Europe/Amsterdam",
        '    week: {mon-fri: ["08:00-18:00"]}',
        "availability:",
    ]
    for n in range(services):
        lines += [
            f"  - id: svc-{n}-uptime",
            f"    service: svc-{n}",
            f"    objective: {99.9 if n % 3 else 99.5}",
            "    window: month",
            "    timezone: Europe/Amsterdam",
            f"    calendar: {'office' if n % 2 else '24x7'}",
            "    degraded_weight: 0.5",
            "    stale_after: 5m",
            f"    unknown_counts_as: {('excluded', 'down', 'up')[n % 3]}",
            "    warn_at_budget: [0.5, 0.75, 0.9]",
            "    credits: [{below: 99.9, percent: 10}, {below: 99.0, percent: 25}]",
        ]
        if n % 4 == 0:
            lines.append(
                '    maintenance: [{rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", duration: 2h}]'
            )
    return "\n".join(lines) + "\n"


def timeline(rng: random.Random, ticks: int) -> list[str]:
    """One service's status at each tick: up, with a few outages and degraded spells."""
    statuses = ["up"] * ticks
    for _ in range(rng.randint(0, 4)):
        begin = rng.randrange(ticks)
        length = rng.randint(1, 120)
        value = rng.choice(("down", "down", "degraded"))
        for i in range(begin, min(ticks, begin + length)):
            statuses[i] = value
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    ticks = args.hours * 3600 // 30
    versions = [DefinitionsVersion(1, None, load_definitions(definitions(args.services)))]
    catalog = Catalog(versions)
    names = [f"svc-{n}" for n in range(args.services)]
    subjects = [f"service:{name}" for name in names]
    plans = [timeline(rng, ticks) for _ in names]
    silent = {
        rng.randrange(args.services): rng.randrange(ticks) for _ in range(args.services // 20)
    }
    states = [ServiceState() for _ in names]
    outputs: list[Output] = []
    events = 0
    folding = 0.0
    for tick in range(ticks):
        t = START + tick * STEP
        batch = [
            (i, UptimeStatus(f"{tick}", t, names[i], plans[i][tick]))
            for i in range(args.services)
            if not (i in silent and silent[i] <= tick < silent[i] + 40)
        ]
        began = time.perf_counter()
        for i, ev in batch:
            state = states[i]
            subject = subjects[i]
            outputs += fire_before(state, subject, ev.time)
            outputs += apply_event(state, subject, ev, catalog)
            next_due(state)
        folding += time.perf_counter() - began
        events += len(batch)
    until = START + ticks * STEP + 31 * 24 * 60 * MINUTE
    began = time.perf_counter()
    for state, subject in zip(states, subjects, strict=True):
        outputs += fire_before(state, subject, until)
    closing = time.perf_counter() - began
    kinds = Counter(o.type.value for o in outputs)
    print(f"python {platform.python_version()} on {platform.machine()}")
    print(f"{events:,} uptime.status events for {args.services:,} services over {args.hours} h")
    print(f"fold: {folding:.2f} s, {events / folding:,.0f} events/s")
    print(f"closing the windows at the end: {closing:.2f} s")
    print("outputs: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
