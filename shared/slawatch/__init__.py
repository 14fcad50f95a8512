"""slawatch: an event-driven SLA compliance monitor.

The pure core (``definitions``, ``calendar``, ``events``, ``clock``, ``availability``,
``escalation``) takes time and events as inputs and returns decisions; ``replay`` runs
it in simulated time, and the services in ``slawatch_ingest``, ``slawatch_evaluator`` and
``slawatch_notifier`` run it live.
"""

__version__ = "0.1.0"
