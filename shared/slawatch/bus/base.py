"""The event bus port: records, publishing, and the errors adapters raise.

Two adapters implement it: :mod:`slawatch.bus.kafka` (aiokafka, for the services)
and :mod:`slawatch.bus.memory` (in-process, for standalone and tests). Consumers are
adapter-specific, since a service's consumption (groups, offsets stored in the
database, rebalance callbacks) is part of its own delivery guarantees.

Errors::

    BusError                 any failure of the bus
    └── PublishError         a record was not acknowledged
        └── RecordRefused    and never will be as it is (too large for its topic)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

__all__ = ["BusError", "Message", "PublishError", "Publisher", "Record", "RecordRefused"]


class BusError(RuntimeError):
    """A failure of the event bus."""


class PublishError(BusError):
    """A record was not acknowledged by the bus."""


class RecordRefused(PublishError):
    """A record the bus will not take however often it is retried: it is larger than
    its topic or the producer accepts.

    Every message of the call but ``candidates`` was acknowledged; the refused ones are
    among the candidates (a broker refuses a whole batch).
    """

    def __init__(self, message: str, *, candidates: Sequence[Message]) -> None:
        super().__init__(message)
        self.candidates = list(candidates)


class Record(NamedTuple):
    """A consumed record and where it came from (a tuple: one is built per record read)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


class Message(NamedTuple):
    """A record to publish; ``headers`` carry metadata that is not part of the contract's body."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


class Publisher(Protocol):
    """Publishes records; returns once the bus has acknowledged every one of them."""

    async def publish(self, messages: Sequence[Message]) -> None:
        """Publish in order (per key); raise :class:`PublishError` if any was not acknowledged."""
        ...
