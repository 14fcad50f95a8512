"""Replay throughput and memory per open clock (``make bench``; not a test).

Generates a realistic help-desk stream (tickets with 2-3 targets on business-hours
calendars with holidays, pauses, priority changes, reopens, replies) and reports, from
one run:

(a) replay throughput in events/s, through the same code ``slawatch replay`` runs;
(b) a minimal loop over the same lines (decode, dict update, heap push) as the ceiling,
    and the ratio (a)/(b);
(c) peak RSS and bytes per open clock with ``--open-clocks`` clocks open.

Usage: python bench/replay_bench.py [--tickets N] [--open-clocks N] [--seed S]
"""

from __future__ import annotations

import argparse
import gc
import heapq
import os
import platform
import random
import resource
import sys
import time
from collections.abc import Sequence

import orjson

from slawatch import collector
from slawatch.definitions import load_definitions
from slawatch.definitions.model import DefinitionsVersion
from slawatch.events import parse_event
from slawatch.replay import Cause, Replayer
from slawatch.replay.runner import Emitted
from slawatch.timeutil import MINUTE, SECOND, format_time, parse_time

DEFINITIONS = """
calendars:
  nl-office:
    timezone: Europe/Amsterdam
    week: {mon-fri: ["08:00-12:00", "13:00-17:00"]}
    holidays: {country: NL, dates: ["2026-12-24", "2026-12-31"]}
  us-support:
    timezone: America/New_York
    week: {mon-fri: ["09:00-18:00"]}
    holidays: {country: US}
slas:
  - id: gold-support
    kind: customer
    applies_to: {customer_tier: gold}
    targets:
      - id: time_to_first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true},
               {event: status_entered, status: [resolved, closed]}]
        goals:
          - {when: {priority: P1}, target: 30m, calendar: 24x7}
          - {when: {priority: P2}, target: 2h, calendar: nl-office}
          - {target: 8h, calendar: nl-office}
        warn_at: [0.5, 0.75, 0.9]
      - id: time_to_resolution
        start: [{event: created, if: {not: {status: [resolved, closed]}}},
                {event: status_entered, status: open, from: [resolved, closed]}]
        stop: [{event: status_entered, status: [resolved, closed]}]
        pause_while: {status: [waiting_on_customer, on_hold]}
        goals:
          - {when: {priority: [P1, P2]}, target: 8h, calendar: nl-office}
          - {target: 5d, calendar: nl-office}
        warn_at: [0.75, 0.9, 1h]
  - id: standard-support
    kind: customer
    applies_to: {customer_tier: standard}
    targets:
      - id: time_to_resolution
        start: [{event: created}, {event: status_entered, status: open, from: [resolved]}]
        stop: [{event: status_entered, status: [resolved, closed]}]
        pause_while: {status: waiting_on_customer}
        goals: [{target: 3d, calendar: us-support}]
        warn_at: [0.5, 0.9]
  - id: l2-ola
    kind: ola
    applies_to: {assignee_group: network-l2}
    targets:
      - id: time_to_acknowledge
        start: [{event: field_changed, field: assignee_group, to: network-l2}]
        stop: [{event: field_changed, field: assignee, from: null}]
        goals: [{target: 1h, calendar: nl-office}]
"""

START = parse_time("2026-11-02T07:00:00Z")


def generate(tickets: int, seed: int) -> list[bytes]:
    """A month of a help desk: events in arrival (= time) order."""
    rnd = random.Random(seed)
    pending: list[tuple[int, int, dict[str, object]]] = []
    seq = 0

    def add(t: int, event: dict[str, object]) -> None:
        nonlocal seq
        seq += 1
        event["id"] = f"e{seq}"
        event["time"] = format_time(t)
        heapq.heappush(pending, (t, seq, event))

    span = 30 * 24 * 60
    for n in range(tickets):
        tid = f"T-{n}"
        t = START + rnd.randrange(span) * MINUTE
        tier = "gold" if rnd.random() < 0.6 else "standard"
        priority = rnd.choice(["P1", "P2", "P3", "P3", "P4"])
        group = "network-l2" if rnd.random() < 0.2 else "l1"
        add(t, {"type": "ticket.created", "ticket": {
            "id": tid, "status": "open", "priority": priority, "customer": f"c{n % 500}",
            "customer_tier": tier, "service": "email", "region": "eu", "assignee": None,
            "assignee_group": group, "attributes": {"channel": "email"}}})  # fmt: skip
        t += rnd.randrange(5, 600) * MINUTE
        if group == "network-l2":
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "assignee": "ann"}})
        if rnd.random() < 0.3:
            t += rnd.randrange(1, 300) * MINUTE
            add(
                t,
                {
                    "type": "ticket.updated",
                    "ticket": {"id": tid, "priority": rnd.choice(["P1", "P2"])},
                },
            )
        add(t + MINUTE, {"type": "ticket.commented", "ticket": {"id": tid},
                         "comment": {"author_role": "agent", "public": True}})  # fmt: skip
        if rnd.random() < 0.4:
            t += rnd.randrange(10, 600) * MINUTE
            add(
                t,
                {"type": "ticket.updated", "ticket": {"id": tid, "status": "waiting_on_customer"}},
            )
            t += rnd.randrange(10, 2000) * MINUTE
            add(t, {"type": "ticket.commented", "ticket": {"id": tid, "status": "open"},
                    "comment": {"author_role": "customer", "public": True}})  # fmt: skip
        t += rnd.randrange(30, 3000) * MINUTE
        add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "resolved"}})
        if rnd.random() < 0.1:
            t += rnd.randrange(60, 3000) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "open"}})
            t += rnd.randrange(60, 3000) * MINUTE
            add(t, {"type": "ticket.updated", "ticket": {"id": tid, "status": "closed"}})
    lines = []
    while pending:
        _, _, event = heapq.heappop(pending)
        lines.append(orjson.dumps(event))
    return lines


def versions() -> list[DefinitionsVersion]:
    return [DefinitionsVersion(1, None, load_definitions(DEFINITIONS))]


def ceiling(lines: Sequence[bytes]) -> float:
    """Events/s of the minimal loop: decode, dict update, heap push."""
    state: dict[str, dict[str, object]] = {}
    heap: list[tuple[str, str]] = []
    began = time.perf_counter()
    for raw in lines:
        event = orjson.loads(raw)
        ticket = event["ticket"]
        state.setdefault(ticket["id"], {}).update(ticket)
        heapq.heappush(heap, (event["time"], ticket["id"]))
    return len(lines) / (time.perf_counter() - began)


def throughput(lines: Sequence[bytes]) -> tuple[float, int]:
    """Events/s through the replay engine, and the number of outputs."""
    count = 0

    def emit(outputs: Sequence[Emitted], cause: Cause) -> None:
        nonlocal count
        for o in outputs:
            o.to_json()
        count += len(outputs)

    replayer = Replayer(versions(), emit=emit)
    for raw in lines[:2000]:
        parse_event(raw)
    began = time.perf_counter()
    for number, raw in enumerate(lines, 1):
        replayer.feed(number, raw)
    replayer.finish()
    return len(lines) / (time.perf_counter() - began), count


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory(open_clocks: int) -> dict[str, float]:
    """RSS per open clock: gold tickets created 1s apart, 2 clocks each, none stopped."""
    replayer = Replayer(versions(), emit=lambda outputs, cause: None)
    gc.collect()
    base = rss_kib()
    tickets = open_clocks // 2
    began = time.perf_counter()
    for n in range(tickets):
        event = {
            "id": f"m{n}",
            "type": "ticket.created",
            "time": format_time(START + n * SECOND),
            "ticket": {"id": f"T-{n}", "status": "open", "priority": "P3",
                       "customer": f"c{n % 500}", "customer_tier": "gold", "service": "email",
                       "region": "eu", "assignee_group": "l1"},
        }  # fmt: skip
        replayer.feed(n + 1, orjson.dumps(event))
    elapsed = time.perf_counter() - began
    gc.collect()
    clocks = sum(len(s.state.open) for s in replayer.engine.subjects.values())
    used = (rss_kib() - base) * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "open_clocks": clocks,
        "bytes_per_clock": used / clocks if clocks else 0.0,
        "peak_rss_mib": peak / 2**20,
        "load_events_per_s": tickets / elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tickets", type=int, default=60_000)
    ap.add_argument("--open-clocks", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    collector.tune()  # as the slawatch command does
    lines = generate(args.tickets, args.seed)
    python = sys.version.split()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    print(f"stream: {args.tickets} tickets, {len(lines)} events")
    rate, outputs = throughput(lines)
    top = ceiling(lines)
    print(f"(a) replay: {rate:,.0f} events/s ({outputs} outputs)")
    print(f"(b) minimal loop: {top:,.0f} events/s; ratio (a)/(b) = {rate / top:.3f}")
    mem = memory(args.open_clocks)
    print(
        f"(c) {mem['open_clocks']:,} open clocks: {mem['bytes_per_clock']:.0f} bytes per clock,"
        f" peak RSS {mem['peak_rss_mib']:.0f} MiB"
        f" (loaded at {mem['load_events_per_s']:,.0f} events/s)"
    )


if __name__ == "__main__":
    main()
