"""Business calendars: working time per local weekday in a time zone, minus holidays.

:class:`BusinessCalendar` measures and projects business time between instants
(``semantics.md`` rules 13-15); :func:`resolve_local` turns a local wall time into an
instant by rule 13's DST rules. Public holidays are resolved separately, in
:mod:`slawatch.calendar.holidays`.
"""

from slawatch.calendar.business import BusinessCalendar, calendar_for
from slawatch.calendar.localtime import resolve_local

__all__ = ["BusinessCalendar", "calendar_for", "resolve_local"]
