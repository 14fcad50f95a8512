"""The live pipeline on the real broker and database: ingest and evaluator as processes.

Events go in on the raw topic; SLA events come out on ``sla-events``. What comes out,
deduplicated by id, must equal what ``slawatch replay`` gives for the canonical stream
ingest wrote (which carries each event's ``received_at``): through crashes, a second
evaluator, a paused broker and a restarted database. Event times are in March 2026,
far behind the wall clock, so every deadline has passed when its events arrive, live
and in replay alike.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from slawatch.serving import wall_clock
from slawatch.settings import Topics
from slawatch.timeutil import SECOND, format_time
from tests.support.live import REPO, Pipeline, Service, decode, pipeline
from tests.support.pipeline import comparable, duplicates, replayed
from tests.support.replaying import versions
from tests.support.streams import DESK, tickets

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

VERSIONS = versions((DESK, None))
EDITED = DESK.replace("target: 4h, calendar: office", "target: 6h, calendar: office")


def raw_records(events: list[dict[str, object]]) -> list[tuple[bytes | None, bytes]]:
    return [(str(e["ticket"]["id"]).encode(), orjson.dumps(e)) for e in events]  # type: ignore[index]


async def start(line: Pipeline, evaluators: int = 1) -> list[Service]:
    services = [line.service("ingest")] + [line.service("evaluator") for _ in range(evaluators)]
    for svc in services:
        svc.start()
    for svc in services:
        await svc.ready()
    return services


async def expected_and_got(line: Pipeline) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Replay's outputs and the pipeline's, by id; and how many more repeated ids it has.

    An id can repeat in replay too (an output retracted and later produced again);
    repeats beyond those are redeliveries (a crash between publishing and marking).
    """
    canonical = await line.read_all(Topics.CANONICAL)
    got = decode(await line.read_all(Topics.SLA_EVENTS))
    want = replayed(VERSIONS, canonical)
    return comparable(want), comparable(got), duplicates(got) - duplicates(want)


async def test_events_in_sla_events_out_equal_replay(tmp_path: Path) -> None:
    async with pipeline(tmp_path, DESK) as line:
        await start(line)
        events = tickets(80, seed=11)
        bad = [
            (b"T-x", b"{not json"),
            (None, orjson.dumps({"id": "b1", "type": "ticket.exploded"})),
        ]
        await line.produce(Topics.TICKETS, [*raw_records(events), *bad])
        unique = len({e["id"] for e in events})
        for _ in range(240):
            if await line.canonical_count() >= unique:
                break
            await asyncio.sleep(0.25)
        assert await line.canonical_count() == unique
        await line.wait_evaluated()
        want, got, dups = await expected_and_got(line)
        assert len(want) > 300
        assert got == want
        assert dups == 0
        dead = decode(await line.read_all(Topics.DEADLETTER))
        assert sorted(d["reason"] for d in dead) == ["not_json", "unknown_type"]


KILLS = int(os.environ.get("SLAWATCH_CHAOS_KILLS", "5"))


async def test_evaluator_killed_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    """``kill -9`` while the stream flows (5 times; ``make chaos`` does 50)."""
    rnd = random.Random(5)
    async with pipeline(tmp_path, DESK) as line:
        _, evaluator = await start(line)
        events = tickets(30 * KILLS, seed=12)
        chunks = [events[i : i + 60] for i in range(0, len(events), 60)]
        kills = 0
        for chunk in chunks:
            await line.produce(Topics.TICKETS, raw_records(chunk))
            await asyncio.sleep(rnd.uniform(0.05, 0.6))
            if kills < KILLS:
                evaluator.kill()
                kills += 1
                evaluator.start()
        while kills < KILLS:
            await asyncio.sleep(rnd.uniform(0.1, 0.5))
            evaluator.kill()
            kills += 1
            evaluator.start()
        await evaluator.ready()
        await line.wait_evaluated(timeout=180)
        want, got, dups = await expected_and_got(line)
        assert got == want, (len(got), len(want))
        print(f"{kills} kills; {dups} duplicate outputs by id (a crash between publish and mark)")


async def test_second_evaluator_takes_over_the_partitions_of_a_dead_one(tmp_path: Path) -> None:
    async with pipeline(tmp_path, DESK, SLAWATCH_STALL_AFTER="60s") as line:
        _, first, _ = await start(line, evaluators=2)
        await line.wait_owners(2)
        events = tickets(120, seed=13)
        half = len(events) // 2
        await line.produce(Topics.TICKETS, raw_records(events[:half]))
        await line.wait_evaluated()
        owners = {r["owner"] for r in await line.query("SELECT owner FROM partitions")}
        assert len(owners) == 2
        first.kill()
        await line.produce(Topics.TICKETS, raw_records(events[half:]))
        await line.wait_evaluated(timeout=120)
        owners = {r["owner"] for r in await line.query("SELECT owner FROM partitions")}
        assert owners == {"evaluator-2"}
        want, got, _ = await expected_and_got(line)
        assert got == want


async def test_a_version_applied_while_two_evaluators_run_is_taken_up_by_both(
    tmp_path: Path,
) -> None:
    """``slawatch apply`` with no restart: both evaluators take the new version up within
    a poll, tickets created once it is in force run under it on every partition, and
    the clocks of earlier tickets keep the version they started under (rule 18)."""
    async with pipeline(tmp_path, DESK, SLAWATCH_DEFINITIONS_POLL="1s") as line:
        _, *evaluators = await start(line, evaluators=2)
        await line.wait_owners(2)
        await line.produce(Topics.TICKETS, raw_records(tickets(40, seed=14)))
        await line.wait_evaluated()
        edited = tmp_path / "edited.yaml"
        edited.write_text(EDITED)
        in_force = wall_clock() + 4 * SECOND
        applied = subprocess.run(
            [sys.executable, "-m", "slawatch", "apply", str(edited),
             "--effective-from", format_time(in_force)],
            env={**os.environ, **line.env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        assert "stored as version 2" in applied.stdout
        for svc in evaluators:  # each says so in slawatch_sla_info once version 2 is in force
            await wait_for_metric(svc, "slawatch_sla_info{", 'version="2"')
        created = format_time(max(wall_clock(), in_force))
        fresh = [
            {"id": f"n{i}", "type": "ticket.created", "time": created,
             "ticket": {"id": f"N-{i}", "status": "open", "priority": "P3",
                        "customer_tier": "gold"}}
            for i in range(12)
        ]  # fmt: skip
        await line.produce(Topics.TICKETS, raw_records(fresh))
        for _ in range(240):
            started = [o for o in decode(await line.read_all(Topics.SLA_EVENTS))
                       if o["type"] == "sla.clock.started"]  # fmt: skip
            new = [o for o in started if o["subject"].startswith("ticket:N-")]
            if len({o["subject"] for o in new}) == len(fresh):
                break
            await asyncio.sleep(0.25)
        first_response = [o for o in new if o["target"] == "first_response"]
        assert len(first_response) == len(fresh)
        assert {(o["definitions_version"], o["goal_seconds"]) for o in first_response} == {
            (2, 6 * 3600)
        }
        owners = await line.query(
            "SELECT DISTINCT p.owner FROM subject_states s JOIN partitions p"
            " ON p.topic = s.topic AND p.partition = s.partition WHERE s.key LIKE 'ticket:N-%'"
        )
        assert len(owners) == 2  # the new tickets ran on both evaluators
        old = [o for o in started if not o["subject"].startswith("ticket:N-")]
        assert old and {o["definitions_version"] for o in old} == {1}


async def wait_for_metric(service: Service, prefix: str, wanted: str, timeout: float = 60) -> None:
    """Until a line of ``service``'s ``/metrics`` that starts with ``prefix`` holds ``wanted``."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while asyncio.get_running_loop().time() < deadline:
            text = (await client.get(f"http://127.0.0.1:{service.port}/metrics")).text
            if any(line.startswith(prefix) and wanted in line for line in text.splitlines()):
                return
            await asyncio.sleep(0.25)
    raise AssertionError(f"{service.name}: no {prefix}... {wanted} in /metrics\n{service.tail()}")


def _broker_pid() -> int:
    pid_file = REPO / "var" / "kafka" / "kafka.pid"
    return int(pid_file.read_text().split()[0])


async def _readiness(service: Service) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{service.port}/readyz", timeout=5)
    doc: dict[str, Any] = answer.json()
    return {"status": answer.status_code, **doc}


async def test_paused_broker_and_restarted_database_recover_by_themselves(tmp_path: Path) -> None:
    async with pipeline(tmp_path, DESK, SLAWATCH_STALL_AFTER="5s") as line:
        _, evaluator = await start(line)
        events = tickets(120, seed=14)
        third = len(events) // 3
        await line.produce(Topics.TICKETS, raw_records(events[:third]))
        pid = _broker_pid()
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(12)
            # it still polls (each poll returns nothing), but nothing is fetched
            paused = await _readiness(evaluator)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert paused["status"] == 503, paused
        assert paused["checks"]["consumer_stalled"] is True, paused
        await line.produce(Topics.TICKETS, raw_records(events[third : 2 * third]))
        subprocess.run([REPO / "deploy/postgres/restart.sh", "--immediate"], check=True)
        await line.produce(Topics.TICKETS, raw_records(events[2 * third :]))
        await line.wait_evaluated(timeout=180)
        want, got, _ = await expected_and_got(line)
        assert got == want
