"""Availability objectives: the fold of a service's status and maintenance events (rules 19-26).

:func:`apply_event` and :func:`fire_before` drive a :class:`ServiceState` the way
:mod:`slawatch.clock.ticket` drives a ticket: events at their times, timers due before
an instant, outputs as :class:`~slawatch.outputs.Output`. :func:`state_to_record` and
:func:`state_from_record` turn a state into a JSON-ready record and back.
:func:`rolling_figures` gives the trailing figures of rolling objectives (rule 20a),
:func:`statuses_at` each objective's view of the service's status at an instant.

Errors: :class:`RecordError` (a ``ValueError``) for a record that does not fit the
catalog; :class:`TypeError` for an event that is not an ``uptime.status`` or
``maintenance.window``; :class:`RuntimeError` if a timer fails to make progress (an
internal fault).
"""

from slawatch.availability.record import RecordError, state_from_record, state_to_record
from slawatch.availability.service import (
    CLOSED_KEPT,
    ServiceState,
    apply_event,
    fire_before,
    has_open_window,
    next_due,
    rolling_figures,
    statuses_at,
)

__all__ = [
    "CLOSED_KEPT",
    "RecordError",
    "ServiceState",
    "apply_event",
    "fire_before",
    "has_open_window",
    "next_due",
    "rolling_figures",
    "state_from_record",
    "state_to_record",
    "statuses_at",
]
