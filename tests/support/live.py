"""Real processes on the real broker and database, for pipeline tests.

Each test gets its own topic prefix, consumer groups and PostgreSQL database, so tests
never see each other's data. Services run as ``python -m slawatch serve NAME``
subprocesses that tests can stop, ``kill -9`` and start again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from slawatch.bus.kafka import ensure_topics
from slawatch.settings import Topics
from slawatch.store.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
PARTITIONS = 4


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.fail(f"{name} is not set: run the suite with `make test` (deploy/run-tests.sh)")
    return value


def kafka_bootstrap() -> str:
    return _required("SLAWATCH_KAFKA_BOOTSTRAP")


def database_url() -> str:
    return _required("SLAWATCH_TEST_DATABASE_URL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """One service process."""

    name: str
    env: dict[str, str]
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "slawatch", "serve", self.name],
            env={**os.environ, **self.env, "SLAWATCH_PORT": str(self.port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        out.close()

    async def ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.proc is not None and self.proc.poll() is None, self.tail()
                try:
                    r = await client.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)
                    if r.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} not ready in {timeout}s\n{self.tail()}")

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

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Pipeline:
    """A test's topics, database and services."""

    prefix: str
    database: str
    dsn: str
    env: dict[str, str]
    tmp: Path
    services: list[Service] = field(default_factory=list)

    def topic(self, name: str) -> str:
        return self.prefix + name

    def service(self, name: str, **env: str) -> Service:
        index = len(self.services)
        svc = Service(
            name,
            {**self.env, "SLAWATCH_INSTANCE_ID": f"{name}-{index}", **env},
            self.tmp / f"{name}-{index}.log",
            free_port(),
        )
        self.services.append(svc)
        return svc

    async def produce(self, topic: str, records: Sequence[tuple[bytes | None, bytes]]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap(),
            enable_idempotence=True,
            acks="all",
            max_request_size=16 * 1024 * 1024,
        )
        await producer.start()
        try:
            for key, value in records:
                await producer.send(self.topic(topic), value=value, key=key)
            await producer.flush()
        finally:
            await producer.stop()

    async def read_all(self, name: str, timeout: float = 5.0) -> list[bytes]:
        """Every record of a topic, from the start to its end now."""
        topic = self.topic(name)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap(),
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_partition_fetch_bytes=16 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            values: list[bytes] = []
            deadline = time.monotonic() + timeout
            by_part: dict[int, list[bytes]] = {tp.partition: [] for tp in parts}
            while True:
                positions = [await consumer.position(tp) for tp in parts]
                if all(pos >= ends[tp] for pos, tp in zip(positions, parts, strict=True)):
                    break
                batch = await consumer.getmany(timeout_ms=500)
                for tp, messages in batch.items():
                    by_part[tp.partition].extend(
                        m.value or b"" for m in messages if m.offset < ends[tp]
                    )
                if time.monotonic() > deadline + 60:
                    raise AssertionError(f"could not read {topic} to its end")
            for partition in sorted(by_part):
                values.extend(by_part[partition])
            return values
        finally:
            await consumer.stop()

    async def end_offsets(self, name: str) -> dict[int, int]:
        topic = self.topic(name)
        consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap())
        await consumer.start()
        try:
            parts = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            ends = await consumer.end_offsets(parts)
            return {tp.partition: offset for tp, offset in ends.items()}
        finally:
            await consumer.stop()

    async def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def evaluated(self) -> bool:
        """Whether the evaluators committed every canonical record and published every output."""
        ends = await self.end_offsets(Topics.CANONICAL)
        rows = await self.query(
            "SELECT partition, next_offset FROM partitions WHERE topic = $1",
            self.topic(Topics.CANONICAL),
        )
        committed = {r["partition"]: r["next_offset"] for r in rows}
        if any(committed.get(p, 0) < end for p, end in ends.items()):
            return False
        pending = await self.query("SELECT count(*) AS n FROM outbox")
        return int(pending[0]["n"]) == 0

    async def wait_evaluated(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.evaluated():
                return
            await asyncio.sleep(0.5)
        logs = "\n".join(f"--- {s.name}\n{s.tail()}" for s in self.services)
        raise AssertionError(f"the pipeline did not finish in {timeout}s\n{logs}")

    async def owners(self) -> set[str]:
        rows = await self.query("SELECT DISTINCT owner FROM partitions WHERE owner IS NOT NULL")
        return {r["owner"] for r in rows}

    async def wait_owners(self, count: int, timeout: float = 60.0) -> None:
        """Wait until ``count`` evaluators have claimed canonical partitions."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = await self.query("SELECT owner, count(*) AS n FROM partitions GROUP BY owner")
            if len(rows) == count and sum(r["n"] for r in rows) == PARTITIONS:
                return
            await asyncio.sleep(0.3)
        raise AssertionError(f"{count} evaluators did not share the partitions: {rows}")

    async def canonical_count(self) -> int:
        return sum((await self.end_offsets(Topics.CANONICAL)).values())


@asynccontextmanager
async def fresh_database() -> AsyncIterator[tuple[str, str]]:
    """A PostgreSQL database of its own, migrated to the newest schema, dropped after.

    Yields its name and its SQLAlchemy URL.
    """
    base = database_url()
    name = f"slawatch_{uuid.uuid4().hex[:10]}"
    admin_dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield name, url
    finally:
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@asynccontextmanager
async def pipeline(tmp: Path, definitions: str, **settings: str) -> AsyncIterator[Pipeline]:
    """Topics, a database migrated to the newest schema, and the services' environment."""
    run = uuid.uuid4().hex[:10]
    prefix = f"t{run}."
    async with fresh_database() as (name, url):
        await ensure_topics(
            kafka_bootstrap(),
            [prefix + t for t in (Topics.TICKETS, Topics.UPTIME, Topics.ACKS, Topics.CANONICAL,
                                  Topics.SLA_EVENTS, Topics.NOTIFICATIONS, Topics.DEADLETTER)],
            PARTITIONS,
            {"max.message.bytes": str(16 * 1024 * 1024)},
        )  # fmt: skip
        defs = tmp / "definitions.yaml"
        defs.write_text(definitions)
        env = {
            "SLAWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap(),
            "SLAWATCH_DATABASE_URL": url,
            "SLAWATCH_DEFINITIONS": str(defs),
            "SLAWATCH_TOPIC_PREFIX": prefix,
            "SLAWATCH_CONSUMER_GROUP_PREFIX": f"g{run}-",
            "SLAWATCH_LATENESS": "0s",
            "SLAWATCH_LOG_FORMAT": "json",
            **settings,
        }
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        line = Pipeline(prefix, name, dsn, env, tmp)
        try:
            yield line
        finally:
            for svc in line.services:
                svc.stop()


def decode(values: Sequence[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(v) for v in values]
