"""The evaluator on the real broker and database: throughput, breach latency, recovery.

Not a test: a measurement (run it after ``deploy/kafka/start.sh`` and
``deploy/postgres/start.sh``). It starts real ``python -m slawatch serve evaluator``
processes, each on its own topic prefix, consumer group and freshly migrated database,
the way ``tests/support/live.py`` does, and reports, from one run:

1. **R**, the raw consume rate: N canonical ticket events (the help-desk stream of
   ``tests/support/streams.py`` with realistic extra ticket fields, ~300 bytes each,
   encoded as ingest writes them: ``encode_event`` with ``received_at``) are produced to
   a fresh 4-partition canonical topic; a plain ``AIOKafkaConsumer`` then reads them all
   in a ``getmany`` loop, decoding nothing, with the evaluator's fetch sizes and
   ``max_records`` (this is R) and with ``max_records`` unbounded, each twice (best).
2. **Sustained evaluator rate with durable commits**: one evaluator over the same N
   events (``DESK`` definitions, lateness 1 s). Timed from its first commit to the moment
   the committed offsets (``partitions.next_offset``) of every canonical partition reach
   the end offsets: events/s and the ratio to R. Its ``/metrics`` (engine and commit
   histograms) and the CPU time of the evaluator, PostgreSQL and Kafka processes over the
   same window say where the time goes. The stream's event times are moved to start at
   the wall clock, as in a live pipeline that keeps up: no event is late and no deadline
   passes during the run. ``--historical`` keeps its March 2026 times instead (as the
   live tests do): every deadline has passed on arrival, so most later events of a ticket
   follow a timer output and are recomputed (rule 6), which is much slower.
3. **Breach latency**: a second evaluator (a definitions document written here: one
   target, a 24x7 goal) gets ``--clocks`` tickets created with event times spread over
   the last ``--spread`` seconds, so ``--clocks`` clocks are open and their deadlines fall
   over ``--spread`` seconds in the near future (the goal is chosen from the rate of 2 so
   that every clock is committed before the first deadline). For every ``sla.breached``
   on ``sla-events``: record timestamp (the relay's send time) minus ``deadline``;
   p50/p99/max against lateness + 1 s.
4. **Recovery**: with those clocks committed, the evaluator is ``kill -9``-ed and started
   again; the time from the restart until ``/readyz`` answers 200 with every partition in
   its ``partitions`` list and a ``partition loaded`` log line for each (this evaluator
   logs at ``info`` for that; the one of 2 at ``warning``). For comparison the same after
   a clean stop (SIGTERM, which leaves the consumer group).
5. **Scale-out**: two evaluator processes in one consumer group (two partitions each, a
   database of their own) over the stream of 1, timed as 2: their rate together, against
   the one evaluator of 2, with the CPU of both.

Targets (the issue): rate >= 0.5 R and >= 20,000 events/s per process; breach p99 <=
lateness + 1 s with 100,000 open clocks; 100,000 clocks ready within 5 s after ``kill -9``.

Everything it creates is removed at the end except its topics (prefix ``bench<run>.``):
databases are dropped, processes stopped, the temporary directory deleted.

Usage: .venv/bin/python bench/pipeline_bench.py [--events N] [--clocks N] [--spread S]
       [--phases 12345] [--historical] [--keep-logs]

Kafka and PostgreSQL are found from ``SLAWATCH_KAFKA_BOOTSTRAP`` and
``SLAWATCH_TEST_DATABASE_URL`` (``eval "$(deploy/env.sh)"``), else the deploy defaults.
About 5 minutes with the defaults on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import math
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.streams import DESK, tickets
from tests.support.streams import START as STREAM_START  # the generator's first event time

from slawatch.bus.kafka import ensure_topics
from slawatch.events import encode_event, parse_event
from slawatch.events.model import Rejection
from slawatch.settings import Topics
from slawatch.store.migrate import upgrade
from slawatch.timeutil import SECOND, format_time, parse_time

REPO = Path(__file__).resolve().parents[1]
PARTITIONS = 4
LATENESS_S = 1.0
BATCH_MAX_RECORDS = 2000
"""The evaluator's ``batch_max_records`` default: ``getmany``'s ``max_records``."""
FETCH = {"fetch_max_bytes": 16 * 1024 * 1024, "max_partition_fetch_bytes": 4 * 1024 * 1024}
"""The fetch sizes of the evaluator's ``KafkaSource``."""

CUSTOMERS = [f"cust-{n:04d}" for n in range(400)]
SERVICES = ["payments", "checkout", "identity", "search", "billing-portal", "mobile-app"]
REGIONS = ["eu-west-1", "eu-central-1", "us-east-1", "ap-southeast-2"]
TITLES = [
    "Customer cannot log in to the self-service portal after password reset",
    "Invoice PDF shows the wrong VAT rate for orders shipped to Belgium",
    "Checkout times out intermittently when paying with a stored card",
    "Mobile app crashes on start after the latest update on Android 14",
    "Search results are missing products added in the last two days",
]


def log(message: str) -> None:
    """Progress, on standard error."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- environment ----------------------------------------------------------------------


def kafka_bootstrap() -> str:
    default = f"127.0.0.1:{os.environ.get('SLAWATCH_KAFKA_PORT', '9092')}"
    return os.environ.get("SLAWATCH_KAFKA_BOOTSTRAP", "").strip() or default


def admin_url() -> str:
    """The SQLAlchemy URL of the deploy cluster's ``slawatch`` database (``deploy/env.sh``)."""
    port = os.environ.get("SLAWATCH_PG_PORT", "55432")
    default = f"postgresql+asyncpg://slawatch:slawatch@127.0.0.1:{port}/slawatch"
    return os.environ.get("SLAWATCH_TEST_DATABASE_URL", "").strip() or default


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


# --- CPU accounting (/proc) -----------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, thread: int | None = None) -> float | None:
    """CPU seconds of process ``pid``, or of its thread ``thread`` alone."""
    path = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def _pids_named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
    return pids


def _machine_cpu() -> tuple[float, float]:
    """CPU seconds the machine's processes have run, and those its hypervisor took (steal)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values[:3] + values[5:7]) / _TICK, values[7] / _TICK


@dataclass
class CpuSample:
    """CPU seconds so far: the evaluator (and its event loop's thread), each PostgreSQL and
    Kafka process, the machine, and the time the hypervisor took from it."""

    at: float
    evaluator: float
    loop: float
    postgres: dict[int, float]
    kafka: dict[int, float]
    bench: float
    machine: float
    steal: float

    @classmethod
    def take(cls, evaluator_pids: Sequence[int]) -> CpuSample:
        def each(name: str) -> dict[int, float]:
            out = {}
            for pid in _pids_named(name):
                cpu = _proc_cpu(pid)
                if cpu is not None:
                    out[pid] = cpu
            return out

        return cls(
            time.monotonic(),
            sum(_proc_cpu(pid) or 0.0 for pid in evaluator_pids),
            sum(_proc_cpu(pid, pid) or 0.0 for pid in evaluator_pids),
            each("postgres"),
            each("java"),
            _proc_cpu(os.getpid()) or 0.0,
            *_machine_cpu(),
        )

    def since(self, start: CpuSample) -> dict[str, float]:
        """Cores busy on average between ``start`` and this sample, by who."""
        wall = max(1e-9, self.at - start.at)

        def delta(now: dict[int, float], then: dict[int, float]) -> float:
            return sum(v - then.get(pid, 0.0) for pid, v in now.items())

        return {
            "evaluator": (self.evaluator - start.evaluator) / wall,
            "loop": (self.loop - start.loop) / wall,
            "postgres": delta(self.postgres, start.postgres) / wall,
            "kafka": delta(self.kafka, start.kafka) / wall,
            "bench": (self.bench - start.bench) / wall,
            "machine": (self.machine - start.machine) / wall,
            "steal": (self.steal - start.steal) / wall,
        }


# --- events ---------------------------------------------------------------------------


def enrich(event: dict[str, Any], rnd: random.Random, shift: int = 0) -> dict[str, Any]:
    """A generated ticket event with the fields a real help desk's webhook carries.

    ``shift`` (microseconds) moves its time.
    """
    ticket = dict(event["ticket"])
    if event["type"] == "ticket.created":
        ticket.update(
            customer=rnd.choice(CUSTOMERS),
            service=rnd.choice(SERVICES),
            region=rnd.choice(REGIONS),
            type="incident",
            attributes={
                "channel": rnd.choice(["email", "portal", "phone", "chat"]),
                "title": rnd.choice(TITLES),
                "requester": f"user{rnd.randrange(100_000)}@example.com",
            },
        )
    else:
        ticket["attributes"] = {
            "updated_by": f"agent-{rnd.randrange(200):03d}",
            "via": rnd.choice(["web", "api", "automation"]),
        }
    moved = format_time(parse_time(event["time"]) + shift) if shift else event["time"]
    return {**event, "time": moved, "ticket": ticket}


def canonical(event: dict[str, Any], received_at: int) -> tuple[bytes, bytes]:
    """(key, value) as ingest writes a valid event to the canonical topic."""
    parsed = parse_event(orjson.dumps(event))
    assert not isinstance(parsed, Rejection), parsed
    if parsed.received_at is None:
        parsed = dataclasses.replace(parsed, received_at=received_at)
    return parsed.subject.encode(), encode_event(parsed)


def desk_stream(count: int, seed: int, *, historical: bool) -> list[tuple[bytes, bytes]]:
    """``count`` canonical records of the generated help desk (about five per ticket).

    The generator's event times are a week of March 2026. Unless ``historical``, they are
    moved to start at the wall clock: then no event is late and no deadline (30 min at
    the earliest) passes while the evaluator reads them, as in a live pipeline keeping
    up. Historical times make every clock's deadline pass on its first event, so later
    events of the ticket arrive after a timer output and are recomputed (rule 6).
    """
    rnd = random.Random(seed)
    tickets_wanted = max(1, math.ceil(count / 4.9))
    while True:
        events = tickets(tickets_wanted, seed=seed)
        if len(events) >= count:
            break
        tickets_wanted = math.ceil(tickets_wanted * 1.1)
    now = _now_us()
    shift = 0 if historical else now - STREAM_START
    return [canonical(enrich(e, rnd, shift), now) for e in events[:count]]


def clock_stream(
    count: int, first: int, last: int, run: str, seed: int
) -> list[tuple[bytes, bytes]]:
    """``count`` ticket creations with event times spread evenly over [first, last]."""
    rnd = random.Random(seed)
    now = _now_us()
    step = (last - first) / max(1, count - 1)
    records = []
    for n in range(count):
        t = first + int(n * step) // 1000 * 1000
        event = {
            "id": f"c{n}",
            "source": "bench",
            "type": "ticket.created",
            "time": format_time(t),
            "ticket": {
                "id": f"B-{run}-{n}",
                "status": "open",
                "priority": rnd.choice(["P1", "P2", "P3"]),
                "customer_tier": "gold",
                "assignee_group": "l1",
            },
        }
        records.append(canonical(enrich(event, rnd), now))
    return records


def _now_us() -> int:
    return time.time_ns() // 1000


def bench_definitions(goal_s: int) -> str:
    """One target on the 24x7 calendar: every ticket's clock breaches ``goal_s`` after it."""
    return f"""
slas:
  - id: bench
    kind: customer
    targets:
      - id: first_response
        start: [{{event: created}}]
        stop: [{{event: commented, author_role: agent, public: true}}]
        goals: [{{target: {goal_s}s, calendar: 24x7}}]
"""


# --- Kafka ----------------------------------------------------------------------------


async def produce(topic: str, records: Sequence[tuple[bytes, bytes]]) -> float:
    """Write ``records`` (key, value) with an idempotent producer; returns records/s."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap(),
        acks="all",
        enable_idempotence=True,
        linger_ms=10,
        max_batch_size=512 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    began = time.perf_counter()
    try:
        pending: list[asyncio.Future[Any]] = []
        for key, value in records:
            pending.append(await producer.send(topic, value=value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(records) / (time.perf_counter() - began)


async def end_offsets(topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(parts)
        return {tp.partition: int(offset) for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def raw_consume(topic: str, expected: int, max_records: int | None) -> float:
    """Records/s of a plain ``getmany`` loop reading the whole topic, decoding nothing."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap(),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        **FETCH,
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        count = 0
        began = time.perf_counter()
        while count < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=max_records)
            for messages in batches.values():
                count += len(messages)
            if time.perf_counter() - began > 300:
                raise RuntimeError(f"read only {count} of {expected} records in 300 s")
        return count / (time.perf_counter() - began)
    finally:
        await consumer.stop()


@dataclass
class Breaches:
    """What the ``sla-events`` reader saw."""

    latencies: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Output id -> (deadline, record timestamp minus deadline), seconds (first sighting)."""
    repeated: int = 0
    types: Counter[str] = field(default_factory=Counter)


async def read_breaches(topic: str, stop: asyncio.Event, sink: Breaches) -> None:
    """Follow ``topic`` from the start and record every ``sla.breached``'s latency."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap(),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        **FETCH,
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                for m in messages:
                    value = m.value or b""
                    if b'"sla.breached"' not in value:
                        sink.types["other"] += 1
                        continue
                    body = orjson.loads(value)
                    sink.types[body["type"]] += 1
                    if body["id"] in sink.latencies:
                        sink.repeated += 1
                        continue
                    deadline = parse_time(body["deadline"]) / SECOND
                    sink.latencies[body["id"]] = (deadline, m.timestamp / 1000 - deadline)
    finally:
        await consumer.stop()


# --- the database ---------------------------------------------------------------------


@dataclass
class Database:
    """A database of the deploy cluster created (and migrated) for one phase."""

    name: str
    url: str

    @classmethod
    def named(cls, name: str) -> Database:
        return cls(name, admin_url().rsplit("/", 1)[0] + "/" + name)

    async def create(self) -> None:
        """Create it and run the migrations (``slawatch migrate``)."""
        conn = await asyncpg.connect(libpq(admin_url()))
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        upgrade(self.url)

    async def drop(self) -> None:
        conn = await asyncpg.connect(libpq(admin_url()))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


async def committed(conn: asyncpg.Connection, topic: str) -> dict[int, int]:
    rows = await conn.fetch("SELECT partition, next_offset FROM partitions WHERE topic = $1", topic)
    return {int(r["partition"]): int(r["next_offset"]) for r in rows}


async def outbox_pending(conn: asyncpg.Connection) -> int:
    """Outputs waiting in the outbox (a row holds a committed batch's)."""
    return int(await conn.fetchval("SELECT coalesce(sum(entries), 0) FROM outbox"))


# --- the evaluator process ------------------------------------------------------------


@dataclass
class Evaluator:
    """``python -m slawatch serve evaluator`` with a phase's environment."""

    name: str
    env: dict[str, str]
    tmp: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    log: Path | None = None

    def start(self) -> float:
        """Start a new process logging to a file of its own; returns the wall time."""
        self.starts += 1
        self.log = self.tmp / f"{self.name}-{self.starts}.log"
        out = self.log.open("wb")
        began = time.time()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "slawatch", "serve", "evaluator"],
            env={**os.environ, **self.env, "SLAWATCH_PORT": str(self.port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        out.close()
        return began

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 30) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def log_lines(self, event: str, *, prefix: bool = False) -> list[dict[str, Any]]:
        """The JSON log lines of the current process whose ``event`` is (or starts with)
        ``event``."""
        if self.log is None or not self.log.exists():
            return []
        found = []
        for line in self.log.read_bytes().splitlines():
            if event.encode() in line:
                with contextlib.suppress(orjson.JSONDecodeError):
                    doc = orjson.loads(line)
                    if not isinstance(doc, dict):
                        continue
                    text = str(doc.get("event"))
                    if text == event or (prefix and text.startswith(event)):
                        found.append(doc)
        return found

    def first_logged(self, event: str, since: float) -> float:
        """Seconds from ``since`` (wall time) to the first line starting with ``event``."""
        lines = self.log_lines(event, prefix=True)
        return log_time(lines[0]) - since if lines else math.nan

    async def get(self, client: httpx.AsyncClient, path: str) -> httpx.Response | None:
        try:
            return await client.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)
        except httpx.HTTPError:
            return None

    async def metrics(self) -> dict[str, float]:
        """``/metrics`` as sample name (with labels) -> value."""
        async with httpx.AsyncClient() as client:
            response = await self.get(client, "/metrics")
        if response is None or response.status_code != 200:
            return {}
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                samples[f"{s.name}{{{labels}}}" if labels else s.name] = float(s.value)
        return samples

    async def ready(self, partitions: int, timeout: float = 120.0) -> Readiness:
        """Poll until ``/readyz`` is 200 listing ``partitions`` partitions, each logged loaded."""
        began = time.monotonic()
        seen = Readiness()
        async with httpx.AsyncClient() as client:
            while time.monotonic() - began < timeout:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited\n{self.tail()}")
                if seen.http is None:
                    health = await self.get(client, "/healthz")
                    if health is not None and health.status_code == 200:
                        seen.http = time.time()
                response = await self.get(client, "/readyz")
                if response is not None and response.status_code == 200:
                    if seen.first_200 is None:
                        seen.first_200 = time.time()
                    listed = response.json()["checks"]["partitions"]
                    loaded = self.log_lines("partition loaded")
                    if len(listed) >= partitions and len(loaded) >= partitions:
                        seen.ready = time.time()
                        seen.loaded = loaded
                        return seen
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready in {timeout:.0f}s\n{self.tail()}")


@dataclass
class Readiness:
    """Wall times seen while waiting for an evaluator to be ready."""

    http: float | None = None
    first_200: float | None = None
    ready: float | None = None
    loaded: list[dict[str, Any]] = field(default_factory=list)


def log_time(doc: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(doc["timestamp"])).timestamp()


# --- helpers for reports --------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


def histogram(samples: dict[str, float], name: str) -> dict[str, float]:
    """count, sum, mean and bucket upper bounds of p50/p99 of a Prometheus histogram."""
    count = samples.get(f"{name}_count", 0.0)
    total = samples.get(f"{name}_sum", 0.0)
    buckets = sorted(
        (float(key.split("le=", 1)[1].rstrip("}")), value)
        for key, value in samples.items()
        if key.startswith(f"{name}_bucket{{")
    )

    def bound(q: float) -> float:
        for le, cumulative in buckets:
            if cumulative >= q * count:
                return le
        return math.inf

    return {
        "count": count,
        "sum": total,
        "mean": total / count if count else math.nan,
        "p50_le": bound(0.5),
        "p99_le": bound(0.99),
    }


def labelled(samples: dict[str, float], name: str) -> dict[str, float]:
    """``name{label=value}`` samples by their label text."""
    prefix = name + "{"
    return {k[len(prefix) : -1]: v for k, v in samples.items() if k.startswith(prefix)}


def hist_text(h: dict[str, float]) -> str:
    return (
        f"{int(h['count'])} x, mean {h['mean'] * 1000:.1f} ms, "
        f"p50 <= {h['p50_le'] * 1000:.0f} ms, p99 <= {h['p99_le'] * 1000:.0f} ms, "
        f"total {h['sum']:.1f} s"
    )


# --- the phases -----------------------------------------------------------------------


@dataclass
class Run:
    """One bench run: its names, its temporary directory and what it must clean up."""

    args: argparse.Namespace
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="slawatch-bench-")))
    databases: list[Database] = field(default_factory=list)
    evaluators: list[Evaluator] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def prefix(self, phase: str) -> str:
        return f"bench{self.id}{phase}."

    async def topics(self, prefix: str) -> None:
        names = [prefix + t for t in (Topics.CANONICAL, Topics.SLA_EVENTS, Topics.DEADLETTER)]
        await ensure_topics(
            kafka_bootstrap(), names, PARTITIONS, {"max.message.bytes": str(8 * 1024 * 1024)}
        )

    async def database(self, phase: str) -> Database:
        db = Database.named(f"slawatch_bench_{self.id}_{phase}")
        self.databases.append(db)
        await db.create()
        return db

    def evaluator(
        self, phase: str, db: Database, definitions: str, number: int = 1, **env: str
    ) -> Evaluator:
        path = self.tmp / f"definitions-{phase}.yaml"
        path.write_text(definitions)
        evaluator = Evaluator(
            f"evaluator-{phase}{number}",
            {
                "SLAWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap(),
                "SLAWATCH_DATABASE_URL": db.url,
                "SLAWATCH_DEFINITIONS": str(path),
                "SLAWATCH_TOPIC_PREFIX": self.prefix(phase),
                "SLAWATCH_CONSUMER_GROUP_PREFIX": f"gbench{self.id}{phase}-",
                "SLAWATCH_INSTANCE_ID": f"bench-{phase}{number}",
                "SLAWATCH_LATENESS": f"{LATENESS_S:g}s",
                "SLAWATCH_LOG_FORMAT": "json",
                "SLAWATCH_LOG_LEVEL": "warning",
                **env,
            },
            self.tmp,
        )
        self.evaluators.append(evaluator)
        return evaluator

    async def cleanup(self) -> None:
        for evaluator in self.evaluators:
            evaluator.stop()
        for db in self.databases:
            try:
                await db.drop()
            except Exception as exc:
                log(f"could not drop database {db.name}: {exc}")
        if self.args.keep_logs:
            log(f"logs kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


async def phase_raw(run: Run) -> None:
    """1: produce the stream to a fresh canonical topic, then read it back raw."""
    n = run.args.events
    prefix = run.prefix("p")
    await run.topics(prefix)
    log(f"1: generating {n:,} canonical ticket events")
    began = time.perf_counter()
    records = desk_stream(n, run.args.seed, historical=run.args.historical)
    encode_rate = n / (time.perf_counter() - began)
    mean_bytes = sum(len(v) for _, v in records) / n
    log(f"1: producing them to {prefix}{Topics.CANONICAL} ({mean_bytes:.0f} bytes each)")
    produce_rate = await produce(prefix + Topics.CANONICAL, records)
    ends = await end_offsets(prefix + Topics.CANONICAL)
    log(f"1: end offsets {ends}; reading them back (plain getmany loop)")
    # Alternating, best of two each: the first read of a topic is the slowest.
    rates: dict[int | None, list[float]] = {BATCH_MAX_RECORDS: [], None: []}
    for max_records in (BATCH_MAX_RECORDS, None, BATCH_MAX_RECORDS, None):
        rates[max_records].append(await raw_consume(prefix + Topics.CANONICAL, n, max_records))
    r_source, r_unbounded = max(rates[BATCH_MAX_RECORDS]), max(rates[None])
    run.results["raw"] = {
        "events": n,
        "mean_bytes": mean_bytes,
        "generate_rate": encode_rate,
        "produce_rate": produce_rate,
        "R": r_source,
        "R_unbounded": r_unbounded,
        "R_runs": rates[BATCH_MAX_RECORDS],
        "R_unbounded_runs": rates[None],
        "end_offsets": ends,
    }
    log(f"1: R = {r_source:,.0f} records/s (max_records unbounded: {r_unbounded:,.0f})")


async def phase_sustained(run: Run, count: int = 1) -> None:
    """2 (and 5): ``count`` evaluators in one group over the pre-produced stream, durable
    commits; the rate is theirs together."""
    n = run.args.events
    phase, label, key = ("p", "2", "sustained") if count == 1 else ("s", "5", "scaled")
    db = await run.database(phase)
    topic = run.prefix("p") + Topics.CANONICAL
    ends = run.results["raw"]["end_offsets"]
    evaluators = [
        run.evaluator(phase, db, DESK, number, SLAWATCH_TOPIC_PREFIX=run.prefix("p"))
        for number in range(1, count + 1)
    ]
    conn = await asyncpg.connect(libpq(db.url))
    try:
        spawned = time.monotonic()
        for evaluator in evaluators:
            evaluator.start()
        pids = [evaluator.pid for evaluator in evaluators]
        log(f"{label}: {count} evaluator(s) started; waiting for the first commit")
        first: tuple[float, int] | None = None
        cpu_first: CpuSample | None = None
        done_at: float | None = None
        progress = 0
        timeout = run.args.phase_timeout
        while True:
            for evaluator in evaluators:
                if not evaluator.alive():
                    raise RuntimeError(f"an evaluator exited\n{evaluator.tail()}")
            offsets = await committed(conn, topic)
            progress = sum(offsets.values())
            now = time.monotonic()
            if first is None and progress > 0:
                first = (now, progress)
                cpu_first = CpuSample.take(pids)
                log(f"{label}: first commit {now - spawned:.1f} s after the start; timing")
            if all(offsets.get(p, 0) >= end for p, end in ends.items()):
                done_at = now
                break
            if first is not None and now - first[0] > timeout:
                log(f"{label}: not done after {timeout:.0f} s; reporting the rate so far")
                break
            if first is None and now - spawned > 120:
                raise RuntimeError(f"no commit in 120 s\n{evaluators[0].tail()}")
            await asyncio.sleep(0.02)
        assert first is not None and cpu_first is not None
        end = done_at if done_at is not None else time.monotonic()
        cpu = CpuSample.take(pids).since(cpu_first)
        rate = (progress - first[1]) / (end - first[0])
        samples = [await evaluator.metrics() for evaluator in evaluators]
        drained: float | None = None
        while time.monotonic() - end < 120:
            if await outbox_pending(conn) == 0:
                drained = time.monotonic() - end
                break
            await asyncio.sleep(0.1)
        after = [await evaluator.metrics() for evaluator in evaluators]
        outputs = await outbox_pending(conn)
        subjects = await conn.fetchval("SELECT count(*) FROM subject_states")
    finally:
        await conn.close()
        for evaluator in evaluators:
            evaluator.stop()
    summed = {name: sum(s.get(name, 0.0) for s in samples) for name in set().union(*samples)}
    run.results[key] = {
        "evaluators": count,
        "rate": rate,
        "complete": done_at is not None,
        "events_timed": progress - first[1],
        "seconds": end - first[0],
        "startup_to_first_commit": first[0] - spawned,
        "cpu": cpu,
        "batch": histogram(summed, "slawatch_evaluator_batch_seconds"),
        "commit": histogram(summed, "slawatch_evaluator_commit_seconds"),
        "load": histogram(summed, "slawatch_evaluator_partition_load_seconds"),
        "results": labelled(summed, "slawatch_evaluator_events_total"),
        "outputs": int(outputs),  # still in the outbox: the relay deletes as it publishes
        "subjects": int(subjects),
        "published": sum(a.get("slawatch_evaluator_published_total", 0.0) for a in after),
        "outbox_drained_after": drained,
        "events": n,
    }
    log(f"{label}: {rate:,.0f} events/s over {end - first[0]:.1f} s; evaluator(s) stopped")


async def phase_latency_and_recovery(run: Run, *, recover: bool = True) -> None:
    """3 and 4: open clocks breaching over ``--spread`` s; then kill -9 and restart."""
    n = run.args.clocks
    spread = run.args.spread
    rate = run.results.get("sustained", {}).get("rate") or 5000.0
    # Every clock must be committed (and its sla.clock.started relayed) before the first
    # deadline: twice the time the sustained rate needs, plus start-up, encode and produce.
    margin = min(180, max(20, math.ceil(2 * n / rate + n / 20_000 + 10)))
    goal = int(spread + margin)
    prefix = run.prefix("l")
    await run.topics(prefix)
    db = await run.database("l")
    evaluator = run.evaluator("l", db, bench_definitions(goal), SLAWATCH_LOG_LEVEL="info")
    topic = prefix + Topics.CANONICAL
    conn = await asyncpg.connect(libpq(db.url))
    stop_reader = asyncio.Event()
    breaches = Breaches()
    reader = asyncio.create_task(read_breaches(prefix + Topics.SLA_EVENTS, stop_reader, breaches))
    try:
        evaluator.start()
        await evaluator.ready(PARTITIONS)
        t0 = _now_us()
        first_deadline = t0 - spread * SECOND + goal * SECOND
        log(f"3: {n:,} clocks, goal {goal} s, deadlines from now+{margin} s over {spread} s")
        records = clock_stream(n, t0 - spread * SECOND, t0, run.id, run.args.seed)
        await produce(topic, records)
        ends = await end_offsets(topic)
        while True:
            if sum((await committed(conn, topic)).values()) >= sum(ends.values()):
                break
            if not evaluator.alive():
                raise RuntimeError(f"the evaluator exited\n{evaluator.tail()}")
            await asyncio.sleep(0.05)
        loaded_at = _now_us()
        while await outbox_pending(conn) and _now_us() < first_deadline:
            await asyncio.sleep(0.05)
        relayed_at = _now_us()
        log(
            f"3: all clocks committed {(loaded_at - t0) / SECOND:.1f} s after the first was"
            f" produced, started outputs relayed at {(relayed_at - t0) / SECOND:.1f} s;"
            f" first deadline at {(first_deadline - t0) / SECOND:.0f} s"
        )
        await asyncio.sleep(max(0.0, (first_deadline - _now_us()) / SECOND - 1.5))
        before = await evaluator.metrics()
        last_deadline = t0 + goal * SECOND
        give_up = last_deadline + int((LATENESS_S + 60) * SECOND)
        while len(breaches.latencies) < n and _now_us() < give_up:
            if not evaluator.alive():
                raise RuntimeError(f"the evaluator exited\n{evaluator.tail()}")
            await asyncio.sleep(0.25)
        samples = await evaluator.metrics()
        pairs = sorted(breaches.latencies.values())
        latencies = [latency for _, latency in pairs]
        windows: list[tuple[float, float, float, int]] = []
        if pairs:
            width = max(1.0, spread / 6)
            count = max(1, round((pairs[-1][0] - pairs[0][0]) / width))
            slices: list[list[float]] = [[] for _ in range(count)]
            for d, x in pairs:
                slices[min(count - 1, int((d - pairs[0][0]) / width))].append(x)
            windows = [
                (k * width, percentile(part, 0.5), percentile(part, 0.99), len(part))
                for k, part in enumerate(slices)
                if part
            ]
        run.results["latency"] = {
            "clocks": n,
            "goal": goal,
            "spread": spread,
            "margin": margin,
            "committed_after": (loaded_at - t0) / SECOND,
            "relayed_after": (relayed_at - t0) / SECOND,
            "open_running": before.get("slawatch_open_clocks{state=running}", math.nan),
            "breaches": len(latencies),
            "repeated": breaches.repeated,
            "other_outputs": breaches.types["other"],
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "max": max(latencies, default=math.nan),
            "min": min(latencies, default=math.nan),
            "windows": windows,
            "batch": histogram(samples, "slawatch_evaluator_batch_seconds"),
            "commit": histogram(samples, "slawatch_evaluator_commit_seconds"),
        }
        log(f"3: {len(latencies):,} breaches; p99 {run.results['latency']['p99']:.3f} s")

        subjects = int(await conn.fetchval("SELECT count(*) FROM subject_states"))
        recovery: dict[str, Any] = {"subjects": subjects}
        for how in ("kill -9", "SIGTERM") if recover else ():
            if how == "kill -9":
                evaluator.kill()
            else:
                evaluator.stop()
            log(f"4: evaluator stopped ({how}) with {subjects:,} clocks committed; restarting")
            began = evaluator.start()
            seen = await evaluator.ready(PARTITIONS, timeout=120)
            assert seen.ready is not None
            loads = sorted(log_time(doc) for doc in seen.loaded)
            metrics = await evaluator.metrics()
            recovery[how] = {
                "ready": seen.ready - began,
                "http": (seen.http or math.nan) - began,
                "first_200": (seen.first_200 or math.nan) - began,
                "started_log": evaluator.first_logged("evaluator started", began),
                "subscribed": evaluator.first_logged("Subscribed to topic", began),
                "joined": evaluator.first_logged("Joined group", began),
                "first_loaded": loads[0] - began,
                "last_loaded": loads[-1] - began,
                "subjects_loaded": sum(int(doc.get("subjects", 0)) for doc in seen.loaded),
                "load": histogram(metrics, "slawatch_evaluator_partition_load_seconds"),
            }
            log(f"4: ready {seen.ready - began:.2f} s after the restart ({how})")
        if recover:
            run.results["recovery"] = recovery
    finally:
        stop_reader.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader, timeout=15)
        await conn.close()
        evaluator.stop()


# --- report ---------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def report(run: Run, info: dict[str, str]) -> None:
    res = run.results
    print()
    print("slawatch pipeline bench (bench/pipeline_bench.py)")
    print(f"date {info['date']}; {info['nproc']} CPUs, {info['cpu']}; {info['python']}")
    print(f"Kafka {kafka_bootstrap()}; PostgreSQL {admin_url().rsplit('@', 1)[-1]}")
    rows: list[tuple[str, str, str, str]] = []
    raw = res.get("raw")
    if raw:
        print()
        print(f"1. raw consume, {raw['events']:,} records of {raw['mean_bytes']:.0f} B,")
        print(f"   {PARTITIONS} partitions: generated+encoded {raw['generate_rate']:,.0f}/s,")
        print(f"   produced {raw['produce_rate']:,.0f}/s (acks=all, idempotent)")
        runs = ", ".join(f"{r:,.0f}" for r in raw["R_runs"])
        unbounded = ", ".join(f"{r:,.0f}" for r in raw["R_unbounded_runs"])
        print(f"   getmany, max_records={BATCH_MAX_RECORDS} (the evaluator's), best of {runs}:")
        print(f"   R = {raw['R']:,.0f} records/s")
        print(
            f"   getmany, max_records unbounded, best of {unbounded}: {raw['R_unbounded']:,.0f}/s"
        )
        rows.append(("raw aiokafka consume rate R", f"{raw['R']:,.0f} rec/s", "-", "-"))
    sus = res.get("sustained")
    if sus and raw:
        ratio = sus["rate"] / raw["R"]
        cpu = sus["cpu"]
        print()
        print(f"2. one evaluator, durable commits: {sus['rate']:,.0f} events/s = {ratio:.3f} R")
        print(
            f"   ({sus['events_timed']:,} events in {sus['seconds']:.1f} s from the first commit;"
        )
        print(f"   first commit {sus['startup_to_first_commit']:.1f} s after the process start;")
        print(f"   complete: {sus['complete']})")
        verdicts = ", ".join(
            f"{k.split('=', 1)[1]} {v:,.0f}" for k, v in sorted(sus["results"].items())
        )
        times = "historical (March 2026)" if run.args.historical else "moved to the wall clock"
        print(f"   event times {times}; verdicts: {verdicts}; {sus['subjects']:,} subjects;")
        print(f"   {sus['outputs']:,} outputs left in the outbox,"
              f" {sus['published']:,.0f} published;")  # fmt: skip
        drained = sus["outbox_drained_after"]
        drained_text = f"{drained:.1f} s" if drained is not None else "not within 120 s"
        print(f"   outbox drained {drained_text} after the last commit")
        print(f"   engine (batch_seconds): {hist_text(sus['batch'])}")
        print(f"   commit (commit_seconds): {hist_text(sus['commit'])}")
        wall = sus["seconds"]
        commits = sus["commit"]["count"]
        if commits:
            print(
                f"   {sus['events_timed'] / commits:,.0f} events per commit; of the wall time,"
                f" engine {sus['batch']['sum'] / wall:.0%},"
                f" commit {sus['commit']['sum'] / wall:.0%}"
                f" (they overlap: a partition's commit runs while its next batch is in"
                f" the engine, and a commit's time includes waiting for the interpreter;"
                f" the totals include the batch before the first commit)"
            )
        mine = ("evaluator", "postgres", "kafka", "bench")
        other = cpu["machine"] - sum(cpu[k] for k in mine)
        print(
            f"   cores busy: evaluator {cpu['evaluator']:.2f}"
            f" (event loop {cpu['loop']:.2f}, engine threads {cpu['evaluator'] - cpu['loop']:.2f}),"
            f" postgres {cpu['postgres']:.2f}, kafka {cpu['kafka']:.2f},"
            f" this bench {cpu['bench']:.2f}; machine {cpu['machine']:.2f} of {info['nproc']}"
            f" (other processes {other:.2f}); taken by the hypervisor (steal) {cpu['steal']:.2f}"
        )
        us = {k: v * 1e6 / sus["rate"] for k, v in cpu.items()}
        print(
            f"   CPU per event: evaluator {us['evaluator']:.0f} µs (event loop {us['loop']:.0f},"
            f" engine threads {us['evaluator'] - us['loop']:.0f}),"
            f" postgres {us['postgres']:.0f} µs, kafka {us['kafka']:.0f} µs"
        )
        ok = sus["rate"] >= 0.5 * raw["R"] and sus["rate"] >= 20_000
        rows.append(
            (
                "evaluator sustained rate, durable commits",
                f"{sus['rate']:,.0f} ev/s ({ratio:.3f} R)",
                f">= 0.5 R ({0.5 * raw['R']:,.0f}) and >= 20,000",
                verdict(ok),
            )
        )
    scaled = res.get("scaled")
    if scaled:
        cpu = scaled["cpu"]
        print()
        print(f"5. {scaled['evaluators']} evaluators in one consumer group, durable commits:"
              f" {scaled['rate']:,.0f} events/s together")  # fmt: skip
        if sus:
            print(f"   {scaled['rate'] / sus['rate']:.2f} times the one evaluator of 2")
        print(f"   ({scaled['events_timed']:,} events in {scaled['seconds']:.1f} s;"
              f" complete: {scaled['complete']}); {scaled['subjects']:,} subjects")  # fmt: skip
        print(
            f"   cores busy: evaluators {cpu['evaluator']:.2f} (event loops {cpu['loop']:.2f}),"
            f" postgres {cpu['postgres']:.2f}, kafka {cpu['kafka']:.2f};"
            f" machine {cpu['machine']:.2f} of {info['nproc']}; steal {cpu['steal']:.2f}"
        )
        us = {k: v * 1e6 / scaled["rate"] for k, v in cpu.items()}
        print(f"   CPU per event: evaluators {us['evaluator']:.0f} µs,"
              f" postgres {us['postgres']:.0f} µs, kafka {us['kafka']:.0f} µs")  # fmt: skip
        rows.append(
            (
                f"{scaled['evaluators']} evaluators together, durable commits",
                f"{scaled['rate']:,.0f} ev/s",
                "(scale-out; the target is per process)",
                "-",
            )
        )
    lat = res.get("latency")
    if lat:
        limit = LATENESS_S + 1
        print()
        print(f"3. breach latency, lateness {LATENESS_S:g} s, {lat['clocks']:,} clocks (goal")
        print(f"   {lat['goal']} s, deadlines over {lat['spread']} s starting {lat['margin']} s")
        print("   after the first creation was produced); clocks committed after")
        print(f"   {lat['committed_after']:.1f} s, their started outputs relayed after")
        print(f"   {lat['relayed_after']:.1f} s; open running clocks before the first")
        print(f"   deadline (gauge): {lat['open_running']:,.0f}")
        print(
            f"   {lat['breaches']:,} breaches seen ({lat['repeated']} repeated ids;"
            f" {lat['other_outputs']:,} other outputs on the topic);"
        )
        print(
            f"   record timestamp - deadline: min {lat['min']:.3f} s, p50 {lat['p50']:.3f} s,"
            f" p99 {lat['p99']:.3f} s, max {lat['max']:.3f} s"
        )
        for offset, p50, p99, count in lat["windows"]:
            print(
                f"   deadlines {offset:4.0f} s + {max(1.0, lat['spread'] / 6):.0f} s:"
                f" {count:6,} breaches, p50 {p50:.3f} s, p99 {p99:.3f} s"
            )
        print(f"   engine over the run: {hist_text(lat['batch'])}")
        print(f"   commit over the run: {hist_text(lat['commit'])}")
        ok = lat["p99"] <= limit and lat["breaches"] >= lat["clocks"]
        rows.append(
            (
                f"breach latency p50 / p99 / max, {lat['clocks']:,} clocks",
                f"{lat['p50']:.3f} / {lat['p99']:.3f} / {lat['max']:.3f} s",
                f"p99 <= {limit:g} s, all {lat['clocks']:,} breached",
                verdict(ok),
            )
        )
    rec = res.get("recovery")
    if rec:
        print()
        print(f"4. recovery with {rec['subjects']:,} clocks committed (from the restart):")
        for how in ("kill -9", "SIGTERM"):
            r = rec.get(how)
            if not r:
                continue
            print(
                f"   after {how}: 'evaluator started' logged {r['started_log']:.2f} s,"
                f" subscribed {r['subscribed']:.2f} s, HTTP up {r['http']:.2f} s,"
                f" first /readyz 200 {r['first_200']:.2f} s (partitions not required),"
                f" joined the group {r['joined']:.2f} s, partitions loaded"
                f" {r['first_loaded']:.2f} to {r['last_loaded']:.2f} s"
                f" ({r['subjects_loaded']:,} subjects; {r['load']['sum']:.2f} s of loading),"
                f" ready with all {PARTITIONS} partitions {r['ready']:.2f} s"
            )
        kill = rec.get("kill -9")
        if kill:
            rows.append(
                (
                    f"ready after kill -9, {rec['subjects']:,} clocks",
                    f"{kill['ready']:.2f} s",
                    "<= 5 s",
                    verdict(kill["ready"] <= 5.0),
                )
            )
        term = rec.get("SIGTERM")
        if term:
            rows.append(("ready after SIGTERM (clean leave)", f"{term['ready']:.2f} s", "-", "-"))
    print()
    print("| measure | result | target | met |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=200_000, help="events for 1 and 2")
    parser.add_argument("--clocks", type=int, default=100_000, help="open clocks for 3 and 4")
    parser.add_argument("--spread", type=int, default=60, help="seconds the deadlines span")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--phases",
        default="12345",
        help="which measurements (3 needs no 2, 4 runs after 3; 5: two evaluators)",
    )
    parser.add_argument(
        "--historical",
        action="store_true",
        help="keep the stream's March 2026 event times for 1 and 2 (late events recomputed)",
    )
    parser.add_argument("--phase-timeout", type=float, default=240.0, help="cap on phase 2, s")
    parser.add_argument("--keep-logs", action="store_true", help="keep the evaluators' logs")
    args = parser.parse_args(argv)
    info = machine()
    run = Run(args)
    log(f"run {run.id}: topics {run.prefix('p')}*, {run.prefix('l')}*; tmp {run.tmp}")
    failed = False
    try:
        if {"1", "2", "5"} & set(args.phases):
            await phase_raw(run)
        if "2" in args.phases:
            await phase_sustained(run)
        if "5" in args.phases:
            await phase_sustained(run, count=2)
        if "3" in args.phases or "4" in args.phases:
            await phase_latency_and_recovery(run, recover="4" in args.phases)
    except (Exception, asyncio.CancelledError) as exc:
        failed = True
        log(f"bench failed: {type(exc).__name__}: {exc}")
        args.keep_logs = True
    finally:
        await run.cleanup()
    report(run, info)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
