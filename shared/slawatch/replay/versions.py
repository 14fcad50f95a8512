"""Reading ``--definitions FILE[@EFFECTIVE_FROM]`` arguments into numbered versions (rule 18).

Versions are numbered 1, 2, ... in ``effective_from`` order; at most one may leave out
``@EFFECTIVE_FROM`` (it is in force from the start).

Errors: :class:`VersionsError` lists every problem (unreadable file, invalid document,
bad effective time, two versions with the same start).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from slawatch.definitions import DefinitionsError, load_definitions
from slawatch.definitions.model import Definitions, DefinitionsVersion
from slawatch.timeutil import TimeFormatError, parse_time

__all__ = ["VersionsError", "load_versions", "split_argument"]


class VersionsError(ValueError):
    """One or more ``--definitions`` arguments are unusable; ``problems`` lists them all."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def split_argument(argument: str) -> tuple[str, int | None]:
    """``FILE@TIME`` split at the last ``@``; a suffix that is not a time belongs to the path."""
    head, sep, tail = argument.rpartition("@")
    if sep and head:
        try:
            return head, parse_time(tail)
        except TimeFormatError:
            if not Path(argument).exists():
                raise
    return argument, None


def load_versions(arguments: Sequence[str]) -> list[DefinitionsVersion]:
    """Load every ``--definitions`` argument; raise :class:`VersionsError` listing all problems."""
    problems: list[str] = []
    loaded: list[tuple[int | None, str, Definitions]] = []
    for argument in arguments:
        try:
            path, since = split_argument(argument)
        except TimeFormatError as exc:
            problems.append(f"{argument}: effective time: {exc}")
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            continue
        try:
            loaded.append((since, path, load_definitions(text)))
        except DefinitionsError as exc:
            problems.extend(f"{path}: {p.path}: {p.message}" for p in exc.problems)
    if not arguments:
        problems.append("at least one --definitions FILE is required")
    if sum(1 for since, _, _ in loaded if since is None) > 1:
        problems.append("only one --definitions may leave out @EFFECTIVE_FROM")
    starts = [since for since, _, _ in loaded if since is not None]
    if len(starts) != len(set(starts)):
        problems.append("two --definitions have the same @EFFECTIVE_FROM")
    if problems:
        raise VersionsError(problems)
    loaded.sort(key=lambda item: (item[0] is not None, item[0] or 0))
    return [DefinitionsVersion(n, since, defs) for n, (since, _, defs) in enumerate(loaded, 1)]
