"""The SLA definitions document: loading, validation and the immutable model.

``load_definitions(text)`` turns a YAML 1.2 or JSON document into
:class:`~slawatch.definitions.model.Definitions`, or raises :class:`DefinitionsError`
with every problem found (a path such as ``slas[0].targets[1].goals[2].calendar`` and
a message). ``check_definitions(text)`` reports errors, warnings and the holidays
each calendar closes, for ``slawatch check``, without raising.
"""

from slawatch.definitions.calendars import ALWAYS_OPEN
from slawatch.definitions.escalations import CHANNEL_TYPES, SLA_EVENTS, STOP_EVENTS
from slawatch.definitions.loader import (
    CheckReport,
    check_definitions,
    definitions_from_data,
    holidays_by_calendar,
    load_definitions,
    load_yaml,
    unset_env_references,
)
from slawatch.definitions.problems import DefinitionsError, Problem

__all__ = [
    "ALWAYS_OPEN",
    "CHANNEL_TYPES",
    "SLA_EVENTS",
    "STOP_EVENTS",
    "CheckReport",
    "DefinitionsError",
    "Problem",
    "check_definitions",
    "definitions_from_data",
    "holidays_by_calendar",
    "load_definitions",
    "load_yaml",
    "unset_env_references",
]
