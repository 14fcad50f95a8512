"""Readers for the building blocks of a definitions document.

Each reader takes the :class:`~slawatch.definitions.problems.Report`, the path of the
value and the loaded value (then its own options); it returns the converted value, or
``None`` after reporting an error. :class:`Fields` applies readers to the keys of one
mapping. Numbers are read exactly from their written decimal form
(``Fraction(str(0.1)) == Fraction(1, 10)``); ``true``/``false`` are never numbers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from datetime import date
from fractions import Fraction
from typing import Concatenate, Final, Generic, ParamSpec, TypeVar

from slawatch.definitions.problems import Report, at, describe, unknown_name
from slawatch.timeutil import TimeFormatError, parse_duration

__all__ = [
    "NAME",
    "PERSON_NAME",
    "SLA_ID",
    "TARGET_ID",
    "Fields",
    "boolean",
    "check_keys",
    "choice",
    "choices",
    "decimal",
    "duration",
    "identifier",
    "mapping",
    "one_or_many",
    "reference",
    "require",
    "string",
    "string_list",
]

SLA_ID = re.compile(r"[a-z0-9-]+\Z")
TARGET_ID = re.compile(r"[a-z0-9_-]+\Z")
NAME = re.compile(r"[A-Za-z0-9_.-]+\Z")
PERSON_NAME = re.compile(r"[A-Za-z0-9_.@+-]+\Z")
"""A person's name may be an email address: help desks often record the assignee so,
and ``role:assignee`` looks the assignee up among ``people`` by name."""

_PATTERN_TEXT = {
    SLA_ID: "lower-case letters, digits and '-'",
    TARGET_ID: "lower-case letters, digits, '_' and '-'",
    NAME: "letters, digits, '_', '.' and '-'",
    PERSON_NAME: "letters, digits, '_', '.', '-', '@' and '+'",
}
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)\Z")

E = TypeVar("E")
T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R", bound=Report)


class Fields(Generic[R]):
    """The keys of one mapping of the document, each read at its own path.

    Creating it reports keys outside ``allowed``; :attr:`valid` tells whether any error
    was reported since, by this object or by the readers it ran.
    """

    def __init__(
        self, report: R, path: str, body: dict[str, object], what: str, allowed: Collection[str]
    ) -> None:
        self.report, self.path, self.body, self.what = report, path, body, what
        self._errors_before = len(report.errors)
        check_keys(report, path, body, allowed, what)

    @classmethod
    def of(
        cls, report: R, path: str, value: object, what: str, allowed: Collection[str]
    ) -> Fields[R] | None:
        """The fields of ``value``, or ``None`` after reporting that it is not a mapping."""
        body = mapping(report, path, value, what)
        return None if body is None else cls(report, path, body, what, allowed)

    @property
    def valid(self) -> bool:
        return len(self.report.errors) == self._errors_before

    def at(self, key: str) -> str:
        return at(self.path, key)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present and not null."""
        return self.body.get(key) is not None

    def required(
        self,
        key: str,
        read: Callable[Concatenate[R, str, object, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | None:
        """``read`` applied to ``key``, reported missing if absent or null."""
        if not require(self.report, self.path, self.body, key, self.what):
            return None
        return read(self.report, self.at(key), self.body[key], *args, **kwargs)

    def optional(
        self,
        key: str,
        read: Callable[Concatenate[R, str, object, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T | None:
        """``read`` applied to ``key``; ``None`` if absent or null."""
        if not self.has(key):
            return None
        return read(self.report, self.at(key), self.body[key], *args, **kwargs)


def mapping(report: Report, path: str, value: object, what: str) -> dict[str, object] | None:
    """A mapping with string keys; non-string keys are reported and dropped."""
    if not isinstance(value, dict):
        report.error(path, f"{what} must be a mapping, not {describe(value)}")
        return None
    result: dict[str, object] = {}
    for key, item in value.items():
        if isinstance(key, str):
            result[key] = item
        else:
            report.error(path, f"key {key!r} must be a string (quote it)")
    return result


def check_keys(
    report: Report, path: str, value: dict[str, object], allowed: Collection[str], what: str
) -> None:
    """Report every key of ``value`` that is not in ``allowed``."""
    for key in value:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            report.error(
                at(path, key),
                f"unknown key {key!r} in {what} ({hint}allowed: {', '.join(sorted(allowed))})",
            )


def require(report: Report, path: str, value: dict[str, object], key: str, what: str) -> bool:
    """Whether ``key`` is present (and not null); reports it missing otherwise."""
    if value.get(key) is None:
        report.error(at(path, key), f"{what} needs {key!r}")
        return False
    return True


def reference(report: Report, path: str, value: object, kind: str, known: set[str]) -> str | None:
    """A name that must be one of ``known``."""
    if not isinstance(value, str) or not value:
        report.error(path, f"must name a {kind}, not {describe(value)}")
        return None
    if value not in known:
        report.error(path, unknown_name(kind, value, known))
        return None
    return value


def boolean(report: Report, path: str, value: object, what: str) -> bool | None:
    """``true`` or ``false``."""
    if not isinstance(value, bool):
        report.error(path, f"{what} must be true or false, not {describe(value)}")
        return None
    return value


def string(report: Report, path: str, value: object, what: str) -> str | None:
    """A non-empty string."""
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str) or not value:
        report.error(path, f"{what} must be a non-empty string, not {describe(value)}")
        return None
    return value


def identifier(
    report: Report, path: str, value: object, what: str, pattern: re.Pattern[str]
) -> str | None:
    """A string id matching ``pattern`` (one of :data:`SLA_ID`, :data:`TARGET_ID`, :data:`NAME`)."""
    text = string(report, path, value, what)
    if text is not None and not pattern.match(text):
        report.error(path, f"{what} {text!r} is malformed: use only {_PATTERN_TEXT[pattern]}")
        return None
    return text


def one_or_many(path: str, value: object) -> list[tuple[str, object]]:
    """The items of "a value or a list of values", each with its path."""
    if isinstance(value, list):
        return [(at(path, index), item) for index, item in enumerate(value)]
    return [(path, value)]


def string_list(report: Report, path: str, value: object, what: str) -> tuple[str, ...] | None:
    """A string, or a non-empty list of strings."""
    items = one_or_many(path, value)
    if not items:
        report.error(path, f"{what} must not be an empty list")
        return None
    result = [string(report, item_path, item, what) for item_path, item in items]
    valid = [item for item in result if item is not None]
    return tuple(valid) if len(valid) == len(result) else None


def choice(report: Report, path: str, value: object, options: Iterable[E], what: str) -> E | None:
    """One of the string-valued enum members (or strings) in ``options``."""
    members = list(options)
    for member in members:
        if isinstance(value, str) and value == str(member):
            return member
    names = [str(member) for member in members]
    close = difflib.get_close_matches(value, names, n=1) if isinstance(value, str) else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    report.error(path, f"{what} must be one of {', '.join(names)}, not {describe(value)}{hint}")
    return None


def choices(
    report: Report, path: str, value: object, options: Iterable[E], what: str
) -> tuple[E, ...] | None:
    """One of ``options``, or a non-empty list of them."""
    members = list(options)
    items = one_or_many(path, value)
    if not items:
        report.error(path, f"{what} must not be an empty list")
        return None
    found = [choice(report, item_path, item, members, what) for item_path, item in items]
    valid = [item for item in found if item is not None]
    return tuple(valid) if len(valid) == len(found) else None


LONGEST_DURATION: Final = 3653 * 24 * 3600 * 1_000_000
"""Ten years: the longest duration a document may write (business time past it would
run beyond the calendars' holiday tables and the dates Python can hold)."""


def duration(
    report: Report, path: str, value: object, what: str, *, positive: bool = True
) -> int | None:
    """A written duration (``30s``, ``15m``, ``1h30m``, ``1d``) in microseconds."""
    if not isinstance(value, str):
        hint = " (write it with a unit, e.g. 30m)" if isinstance(value, int | float) else ""
        report.error(
            path,
            f"{what} must be a duration such as 30s, 15m, 2h or 1d, not {describe(value)}{hint}",
        )
        return None
    try:
        micros = parse_duration(value)
    except TimeFormatError as exc:
        report.error(path, f"{what}: {exc}")
        return None
    if positive and micros <= 0:
        report.error(path, f"{what} must be positive, not {value!r}")
        return None
    if micros > LONGEST_DURATION:
        report.error(path, f"{what} is longer than ten years ({value!r}): no calendar reaches it")
        return None
    return micros


def decimal(report: Report, path: str, value: object, what: str) -> Fraction | None:
    """A number read exactly from its written decimal form; a string like ``"99.95"`` too."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        report.error(path, f"{what} must be a number, not {describe(value)}")
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    if isinstance(value, str) and not _DECIMAL.match(text):
        report.error(path, f"{what} must be a decimal number, not {describe(value)}")
        return None
    try:
        return Fraction(text)
    except (ValueError, OverflowError):
        report.error(path, f"{what} must be a finite number, not {describe(value)}")
        return None
