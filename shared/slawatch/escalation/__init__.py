"""Escalation (rules 27-31a): which notifications SLA events lead to, to whom and when.

:class:`Planner` is pure: SLA events, acknowledgements and instants in, notification
decisions out. ``slawatch replay`` records them as ``simulated``; the notifier sends
them and marks them ``sent`` or ``failed``.
"""

from slawatch.escalation.instance import DueStep, EscalationView, SentStep, Stop
from slawatch.escalation.notifications import (
    NOTIFICATION_RANK,
    NOTIFICATION_TYPE,
    Notice,
    Notification,
    NotificationError,
    NotificationKey,
    NotificationStatus,
    Scope,
    notification_id,
)
from slawatch.escalation.planner import Planner, PlannerStateError, Stopped, TicketLookup

__all__ = [
    "NOTIFICATION_RANK",
    "NOTIFICATION_TYPE",
    "DueStep",
    "EscalationView",
    "Notice",
    "Notification",
    "NotificationError",
    "NotificationKey",
    "NotificationStatus",
    "Planner",
    "PlannerStateError",
    "Scope",
    "SentStep",
    "Stop",
    "Stopped",
    "TicketLookup",
    "notification_id",
]
