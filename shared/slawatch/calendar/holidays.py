"""Public holidays from the ``holidays`` package, resolved once per accepted document.

A document's public holidays are resolved when it is accepted, for the years
:data:`HOLIDAY_YEARS`, and stored with its version, so upgrading the package never
changes an accepted version (``definitions.md``, "Holidays"). Outside those years only
explicit ``dates`` close a calendar.
"""

from __future__ import annotations

from datetime import date
from importlib.metadata import version

import holidays as holidays_package

__all__ = ["HOLIDAY_YEARS", "UnknownHolidayRegion", "package_version", "resolve_public_holidays"]

HOLIDAY_YEARS = range(1990, 2071)


class UnknownHolidayRegion(ValueError):
    """The ``holidays`` package has no such country or subdivision."""


def resolve_public_holidays(
    country: str, subdivision: str | None, years: range = HOLIDAY_YEARS
) -> frozenset[date]:
    """The public holidays of a country (and subdivision) in ``years``."""
    try:
        table = holidays_package.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError as exc:
        raise UnknownHolidayRegion(str(exc)) from None
    return frozenset(table.keys())


def package_version() -> str:
    """The version of the ``holidays`` package used to resolve."""
    return version("holidays")
