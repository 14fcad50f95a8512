"""The ingest process: HTTP API, Kafka consumer and publisher, shut down gracefully.

:func:`serve` is what ``slawatch serve ingest`` runs: it configures logging from the
settings, builds an :class:`IngestService` and runs it until SIGTERM or SIGINT.

:class:`IngestService` wires one registry and :class:`~slawatch_ingest.metrics.IngestMetrics`,
one :class:`~slawatch_ingest.dedup.DuplicateFilter` shared by the consumer and the HTTP
API, a :class:`~slawatch.bus.kafka.KafkaPublisher`, an
:class:`~slawatch_ingest.consumer.IngestConsumer`, and a uvicorn server for
:func:`~slawatch_ingest.api.create_app` on ``settings.host:settings.port`` (port 0: an
ephemeral port, see :attr:`IngestService.port`).

- Start: the HTTP server comes up at once (``/healthz`` answers; ``/readyz`` says 503
  until Kafka is reached). In the background, with backoff until the broker answers,
  the missing topics are created (``kafka_create_topics``: the raw topics, ``canonical``,
  ``acks`` and ``deadletter``, with ``kafka_partitions`` partitions and
  ``max.message.bytes`` = ``max_record_bytes``), the publisher connects and the
  consumer starts.
- Stop: the consumer finishes the batch in flight (published and committed) and leaves
  the group; the HTTP server stops accepting and lets requests in flight finish; then
  the publisher flushes and closes. A failed bind of the port raises ``OSError`` from
  :meth:`IngestService.start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Generator
from typing import Any, Final

import uvicorn
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from slawatch.bus import BusError
from slawatch.bus.kafka import KafkaPublisher, ensure_topics, topic_config
from slawatch.observability import configure_logging, get_logger, new_registry
from slawatch.serving import wall_clock
from slawatch.settings import Settings, Topics
from slawatch.timeutil import SECOND
from slawatch_ingest.api import create_app
from slawatch_ingest.consumer import SERVICE, Backoff, IngestConsumer
from slawatch_ingest.dedup import DuplicateFilter
from slawatch_ingest.metrics import IngestMetrics

__all__ = ["IngestService", "serve"]

_SHUTDOWN_SECONDS: Final = 30.0
_log = get_logger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: :func:`serve` owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def ensure_ingest_topics(settings: Settings) -> list[str]:
    """Create the missing topics ingest reads and writes; returns the ones created.

    Raw topics accept records up to ``raw_max_record_bytes``, so that an oversized
    event reaches ingest and is dead-lettered rather than refused to its producer; the
    topics slawatch writes accept ``max_record_bytes``.
    """
    raw = await ensure_topics(
        settings.kafka_bootstrap,
        [settings.topic(name) for name in settings.raw_topics],
        settings.kafka_partitions,
        topic_config(settings.raw_max_record_bytes),
        replication_factor=settings.kafka_replication_factor,
    )
    written = await ensure_topics(
        settings.kafka_bootstrap,
        [settings.topic(t) for t in (Topics.CANONICAL, Topics.ACKS, Topics.DEADLETTER)],
        settings.kafka_partitions,
        topic_config(settings.max_record_bytes),
        replication_factor=settings.kafka_replication_factor,
    )
    return [*raw, *written]


class IngestService:
    """One ingest process (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        registry: CollectorRegistry | None = None,
        publisher: KafkaPublisher | None = None,
        clock: Callable[[], int] = wall_clock,
        consumer_factory: Callable[[], AIOKafkaConsumer] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry if registry is not None else new_registry(SERVICE)
        raw_topics = [settings.topic(name) for name in settings.raw_topics]
        self.metrics = IngestMetrics(self.registry, topics=raw_topics)
        self.dedup = DuplicateFilter(settings.dedup_horizon, settings.dedup_capacity)
        self.publisher = publisher or KafkaPublisher.from_settings(
            settings, client_id=f"slawatch-{SERVICE}"
        )
        self.consumer = IngestConsumer(
            settings,
            self.publisher,
            self.metrics,
            self.dedup,
            clock=clock,
            consumer_factory=consumer_factory,
        )
        self.app = create_app(
            settings,
            self.publisher,
            self.registry,
            metrics=self.metrics,
            dedup=self.dedup,
            ready=self.ready,
            clock=clock,
        )
        self._stopping = asyncio.Event()
        self._kafka_error: str | None = None
        self._server: _Server | None = None
        self._server_task: asyncio.Task[None] | None = None
        self._kafka_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        """The TCP port the HTTP API listens on (once started)."""
        if self._socket is None:
            raise RuntimeError("the service is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def server_task(self) -> asyncio.Task[None] | None:
        """The task running the HTTP server, once started."""
        return self._server_task

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """Ready when the publisher is connected and the consumer is healthy."""
        consumer_ok, consumer = self.consumer.status()
        kafka: dict[str, Any] = {
            "publisher": "connected" if self.publisher.started else "connecting"
        }
        if self._kafka_error is not None and not self.publisher.started:
            kafka["error"] = self._kafka_error
        elif self.publisher.last_error is not None:
            kafka["last_publish_error"] = self.publisher.last_error
        return self.publisher.started and consumer_ok, {"kafka": kafka, "consumer": consumer}

    async def start(self) -> None:
        """Serve HTTP and start connecting to Kafka in the background."""
        self._socket = _bind(self.settings.host, self.settings.port)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(_SHUTDOWN_SECONDS),
        )
        self._server = _Server(config)
        self._server_task = asyncio.create_task(
            self._server.serve(sockets=[self._socket]), name="ingest-http"
        )
        while not self._server.started:
            if self._server_task.done():
                self._server_task.result()
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        self._kafka_task = asyncio.create_task(self._run_kafka(), name="ingest-kafka")
        _log.info("ingest started", host=self.settings.host, port=self.port)

    async def _run_kafka(self) -> None:
        settings = self.settings
        backoff = Backoff(settings.retry_backoff_max / SECOND)
        while not self._stopping.is_set():
            try:
                if settings.kafka_create_topics:
                    created = await ensure_ingest_topics(settings)
                    if created:
                        _log.info("created topics", topics=created)
                await self.publisher.start()
                self._kafka_error = None
                break
            except BusError as exc:
                self._kafka_error = str(exc)
                _log.warning("Kafka is not reachable yet; retrying", error=str(exc))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(backoff.next()):
                        await self._stopping.wait()
        if not self._stopping.is_set():
            await self.consumer.run()

    async def run_until(self, stop: asyncio.Event) -> None:
        """Start, wait for ``stop`` (or the HTTP server to end), then stop."""
        await self.start()
        assert self._server_task is not None
        waiter = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({waiter, self._server_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            await self.stop()

    async def stop(self) -> None:
        """Stop consuming, serving and publishing, in that order (idempotent)."""
        self._stopping.set()
        self.consumer.request_stop()
        if self._server is not None:
            self._server.should_exit = True
        for task in (self._kafka_task, self._server_task):
            if task is None:
                continue
            try:
                async with asyncio.timeout(_SHUTDOWN_SECONDS):
                    await asyncio.shield(task)
            except TimeoutError:
                _log.error("shutdown timed out; cancelling", task=task.get_name())
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            except Exception:
                _log.exception("a task failed", task=task.get_name())
        try:
            await self.publisher.stop()
        except Exception:
            _log.exception("closing the publisher failed")
        if self._socket is not None:
            self._socket.close()
        _log.info("ingest stopped")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


async def serve(settings: Settings) -> None:
    """Run the ingest service until SIGTERM or SIGINT, then shut down gracefully."""
    configure_logging(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await IngestService(settings).run_until(stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
