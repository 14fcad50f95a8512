"""The event bus: records, the publisher port, and its Kafka and in-memory adapters.

See :mod:`slawatch.bus.base` for the port and the errors, :mod:`slawatch.bus.kafka`
for the services' adapter and :mod:`slawatch.bus.memory` for the in-process one. The
Kafka adapter is not imported here, so the in-memory bus works without aiokafka loaded.
"""

from slawatch.bus.base import BusError, Message, Publisher, PublishError, Record, RecordRefused
from slawatch.bus.memory import MemoryBus, partition_for_key

__all__ = [
    "BusError",
    "MemoryBus",
    "Message",
    "PublishError",
    "Publisher",
    "Record",
    "RecordRefused",
    "partition_for_key",
]
