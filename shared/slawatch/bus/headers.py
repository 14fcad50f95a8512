"""The record headers the evaluator writes on ``sla-events`` for the notifier.

The body of an SLA event is exactly the contract's (``events.md``); what the notifier
needs besides travels in headers:

- ``slawatch-ticket``: the ticket's fields and attributes as the evaluator knows them
  when it commits the event, which ``role:assignee`` reads (rule 29);
- ``slawatch-ticket-at-event``: the ticket as it was at the event's time, which a
  step's ``if:`` reads (rule 27), present only where the event's chain has such a step
  and the ticket differs from the first (it changed later in the same batch, or the
  event is a recomputed past one);
- ``slawatch-backfill``: the event of a backfilled input, which fires no step (rule 27).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

__all__ = [
    "BACKFILL_HEADER",
    "TICKET_AT_EVENT_HEADER",
    "TICKET_HEADER",
    "Ticket",
    "decode_ticket",
    "encode_ticket",
    "tickets_of",
]

TICKET_HEADER = "slawatch-ticket"
TICKET_AT_EVENT_HEADER = "slawatch-ticket-at-event"
BACKFILL_HEADER = "slawatch-backfill"

Ticket = tuple[dict[str, Any], dict[str, Any]]
"""A ticket's ``(fields, attributes)``."""


def encode_ticket(ticket: Ticket) -> bytes:
    """A ticket as a header value."""
    return orjson.dumps({"fields": ticket[0], "attributes": ticket[1]})


def decode_ticket(value: bytes) -> Ticket:
    """A header value's ticket."""
    snapshot = orjson.loads(value)
    return snapshot["fields"], snapshot["attributes"]


def tickets_of(headers: Mapping[str, bytes]) -> tuple[Ticket | None, Ticket | None]:
    """The ticket now and at the event's time, from an SLA event's headers (``None``: none)."""
    found = headers.get(TICKET_HEADER)
    now = decode_ticket(found) if found is not None else None
    found = headers.get(TICKET_AT_EVENT_HEADER)
    return now, decode_ticket(found) if found is not None else now
