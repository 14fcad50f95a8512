"""Problems found in a definitions document, and where they are.

A :class:`Problem` names the place in the document (``slas[0].targets[1].goals[2].calendar``;
a key that is not a plain word is quoted: ``calendars["a b"]``; the whole document, for
a syntax error say, is :data:`DOCUMENT`) and says what is wrong in words a person
editing the document can act on.
Validation collects every problem in a :class:`Report` instead of stopping at the first;
:class:`DefinitionsError` carries all the errors of a rejected document.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["DOCUMENT", "DefinitionsError", "Problem", "Report", "at", "describe", "unknown_name"]

DOCUMENT = "(document)"

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning: where in the document, and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DefinitionsError(ValueError):
    """A definitions document was rejected; ``problems`` lists every error found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        count = len(self.problems)
        lines = [f"the definitions document has {count} problem{'s' if count != 1 else ''}:"]
        lines.extend(f"  {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))


@dataclass(slots=True)
class Report:
    """Collects errors (the document is rejected) and warnings (it is not)."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))


def at(path: str, key: str | int) -> str:
    """The path of a list item (``key`` an index) or of a mapping key below ``path``."""
    if path == DOCUMENT:
        path = ""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _PLAIN_KEY.match(key):
        return f"{path}[{json.dumps(key)}]"
    return f"{path}.{key}" if path else key


def describe(value: object) -> str:
    """A short description of a loaded value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown calendar 'nl-ofice' (did you mean 'nl-office'?; defined: ...)``."""
    choices = sorted(set(known))
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    listed = ", ".join(choices) if choices else "none"
    return f"unknown {kind} {name!r} ({hint}defined: {listed})"
