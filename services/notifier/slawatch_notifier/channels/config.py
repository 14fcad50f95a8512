"""Reading one channel's settings: ``${VAR}`` expansion and typed values.

A :class:`SettingsReader` wraps the ``(key, value)`` pairs of one
:class:`slawatch.definitions.model.Channel`. Each string has its ``${VAR}`` references
replaced from the ``environ`` given (never from ``os.environ``); each unset variable is
a problem. The typed readers (:meth:`~SettingsReader.text`,
:meth:`~SettingsReader.integer`, ...) record a problem for a missing or bad value and
return a placeholder, so one pass over every channel lists every problem at once;
:meth:`~SettingsReader.finish` adds the keys nobody read (a typo such as ``starttsl``
would otherwise be ignored). A ``null`` value is the same as an absent key.

Problems name the setting as ``channels.NAME.KEY``. Values of secret-bearing keys
(:data:`SENSITIVE_KEYS`, ``header_*``) are never quoted in a problem.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TextIO
from urllib.parse import urlsplit

from slawatch.settings import Settings

__all__ = ["SENSITIVE_KEYS", "BuildContext", "SettingsReader", "expand"]

SENSITIVE_KEYS = frozenset({"password", "secret", "webhook_url", "url", "proxy"})
"""Keys whose values are secrets or may carry credentials (a Slack webhook URL is one)."""

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})

Scalar = str | int | float | bool | None


class _Unset:
    """A value that referenced an unset variable: already reported, never read."""


_UNSET = _Unset()


@dataclass(frozen=True)
class BuildContext:
    """What channel factories get besides their settings.

    ``clock`` gives Unix seconds (the webhook signature's timestamp); ``stream`` is
    where the console channel writes (``None``: standard output at the time of writing).
    """

    settings: Settings
    clock: Callable[[], float] = time.time
    stream: TextIO | None = None


def expand(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with each ``${VAR}`` replaced from ``environ``, and the unset names."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    return _REFERENCE.sub(value, text), missing


def _shown(key: str, value: Scalar) -> str:
    if key in SENSITIVE_KEYS or key.startswith("header_"):
        return "a hidden value"
    if isinstance(value, str):
        return f"{value!r}" if len(value) <= 40 else f"{value[:37]!r}..."
    return repr(value)


@dataclass
class SettingsReader:
    """The settings of one channel, expanded, read once each with its type checked."""

    channel: str
    pairs: Iterable[tuple[str, Scalar]]
    environ: Mapping[str, str]
    problems: list[str]
    unset_is_problem: bool = True
    _values: dict[str, Scalar | _Unset] = field(init=False, default_factory=dict)
    _read: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        for key, raw in self.pairs:
            if raw is None:
                continue
            if isinstance(raw, str):
                text, missing = expand(raw, self.environ)
                for name in missing if self.unset_is_problem else ():
                    self.problem(key, f"environment variable {name} is not set")
                self._values[key] = _UNSET if missing else text
            else:
                self._values[key] = raw

    def problem(self, key: str, message: str) -> None:
        """Record a problem with one setting."""
        self.problems.append(f"channels.{self.channel}.{key}: {message}")

    def _take(self, key: str) -> Scalar | _Unset:
        self._read.add(key)
        return self._values.get(key)

    def text(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        """A string setting; numbers are accepted and written as they are."""
        value = self._take(key)
        if isinstance(value, _Unset):
            return default
        if value is None:
            if required:
                self.problem(key, "is required")
            return default
        if isinstance(value, bool):
            self.problem(key, f"must be a string, not {value!r}")
            return default
        text = str(value)
        if required and not text.strip():
            self.problem(key, "is empty")
            return default
        return text

    def required(self, key: str) -> str:
        """A required, non-empty string (``""`` when it is not, with the problem recorded)."""
        return self.text(key, required=True) or ""

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        """A whole number in ``[low, high]``; a string of digits is accepted."""
        value = self._take(key)
        if value is None or isinstance(value, _Unset):
            return default
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None or not low <= number <= high:
            shown = _shown(key, value)
            self.problem(key, f"must be a whole number from {low} to {high}, not {shown}")
            return default
        return number

    def seconds(self, key: str, default: float) -> float:
        """A positive number of seconds; a numeric string is accepted."""
        value = self._take(key)
        if value is None or isinstance(value, _Unset):
            return default
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        if number is None or not 0 < number < float("inf"):
            self.problem(key, f"must be a positive number of seconds, not {_shown(key, value)}")
            return default
        return number

    def flag(self, key: str, default: bool) -> bool:
        """``true`` or ``false``; the strings true/false/yes/no/on/off/1/0 are accepted."""
        value = self._take(key)
        if value is None or isinstance(value, _Unset):
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        self.problem(key, f"must be true or false, not {_shown(key, value)}")
        return default

    def url(self, key: str, *, required: bool = True) -> str:
        """An ``http://`` or ``https://`` URL with a host."""
        text = self.text(key, required=required)
        if text is None:
            return ""
        parts = urlsplit(text.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.problem(key, "must be an http:// or https:// URL with a host")
            return ""
        return text.strip()

    def prefixed(self, prefix: str) -> dict[str, str]:
        """Every ``PREFIX...`` setting as a string, keyed by what follows the prefix."""
        found: dict[str, str] = {}
        for key in [k for k in self._values if k.startswith(prefix)]:
            value = self.text(key)
            if value is not None and key != prefix:
                found[key[len(prefix) :]] = value
            elif key == prefix:
                self.problem(key, f"needs a name after {prefix!r}")
        return found

    def finish(self) -> None:
        """Record each key that was set but never read; the keys read are the known ones."""
        choices = sorted({"type", *self._read})
        for key in self._values:
            if key in self._read:
                continue
            close = difflib.get_close_matches(key, choices, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.problem(key, f"unknown setting{hint}; known: {', '.join(choices)}")
