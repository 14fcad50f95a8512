"""Loading and checking a definitions document (``definitions.md``).

* :func:`load_yaml` reads YAML 1.2 (core schema) or JSON text into plain mappings,
  lists and scalars: a bare ``on``/``off``/``yes``/``no``/``NO`` is a string, and so is
  an unquoted date such as ``2026-12-24`` (YAML 1.2 has no timestamp type). A document
  declaring ``%YAML 1.1`` is refused rather than read with 1.1's booleans.
* :func:`load_definitions` and :func:`definitions_from_data` return the validated model
  or raise :class:`~slawatch.definitions.problems.DefinitionsError` listing every error.
* :func:`check_definitions` is ``slawatch check``: errors, warnings (which never reject
  a document), the holidays each calendar closes in chosen years, and optionally the
  ``${VAR}`` references unset in an environment.

Nothing here reads the environment, the clock or files unless asked through arguments
(:func:`check_definitions` defaults its years to this year and the next).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slawatch.definitions.model import CalendarDef, Definitions
from slawatch.definitions.problems import DOCUMENT, DefinitionsError, Problem, at
from slawatch.definitions.validate import build

__all__ = [
    "CheckReport",
    "check_definitions",
    "definitions_from_data",
    "holidays_by_calendar",
    "load_definitions",
    "load_yaml",
    "unset_env_references",
]

_DIRECTIVE = re.compile(r"^%YAML[ \t]+(\S+)", re.MULTILINE)
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Core12Constructor(SafeConstructor):
    """ruamel's safe constructor with timestamps left as the strings they are in YAML 1.2."""


_Core12Constructor.add_constructor(
    "tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str
)


class _DuplicateJsonKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateJsonKey(key)
        result[key] = value
    return result


def load_yaml(text: str) -> object:
    """Parse YAML 1.2 or JSON text; raises :class:`DefinitionsError` if it does not parse,
    or if a mapping repeats a key (each repeat listed)."""
    data, duplicates = _read(text)
    if duplicates:
        raise DefinitionsError(duplicates)
    return data


def _read(text: str) -> tuple[object, list[Problem]]:
    """The document's data (the first of repeated keys kept) and a problem per repeated key.

    Raises :class:`DefinitionsError` if the text does not parse.
    """
    if text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text, object_pairs_hook=_unique_pairs), []
        except ValueError:
            pass
    directive = _DIRECTIVE.search(text)
    if directive is not None and directive.group(1) != "1.2":
        raise DefinitionsError(
            [
                Problem(
                    DOCUMENT,
                    f"the document declares %YAML {directive.group(1)}: definitions are read as "
                    "YAML 1.2 (remove the directive)",
                )
            ]
        )
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _Core12Constructor
    yaml.allow_duplicate_keys = True
    try:
        duplicates: list[Problem] = []
        _find_duplicates(yaml.compose(text), DOCUMENT, duplicates)
        return yaml.load(text), duplicates
    except MarkedYAMLError as exc:
        raise DefinitionsError([Problem(DOCUMENT, _syntax_message(exc))]) from None
    except YAMLError as exc:
        raise DefinitionsError([Problem(DOCUMENT, f"not valid YAML: {exc}")]) from None


def _find_duplicates(node: Node | None, path: str, found: list[Problem]) -> None:
    """Add a problem for each key a mapping at or below ``node`` repeats."""
    if isinstance(node, MappingNode):
        first: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or key.value == "<<":
                _find_duplicates(value, path, found)
                continue
            line = key.start_mark.line + 1
            seen = first.get((str(key.tag), key.value))
            if seen is None:
                first[(str(key.tag), key.value)] = line
            else:
                found.append(
                    Problem(
                        at(path, key.value),
                        f"duplicate key {key.value!r} at line {line} (first at line {seen}):"
                        " a key may appear once",
                    )
                )
            _find_duplicates(value, at(path, key.value), found)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, at(path, index), found)


def _syntax_message(exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = exc.problem or exc.context or "syntax error"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return f"not valid YAML{where}: {problem}{context}"


def definitions_from_data(data: object) -> Definitions:
    """Validate an already loaded document; raises :class:`DefinitionsError` listing every error."""
    built = build(data)
    if built.definitions is None:
        raise DefinitionsError(built.report.errors)
    return built.definitions


def load_definitions(text: str) -> Definitions:
    """Parse and validate a YAML or JSON document; :class:`DefinitionsError` lists every error."""
    data, duplicates = _read(text)
    built = build(data)
    if duplicates or built.definitions is None:
        raise DefinitionsError([*duplicates, *built.report.errors])
    return built.definitions


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``slawatch check`` shows: the model if valid, errors, warnings, closed days.

    ``holidays`` maps each valid calendar other than ``24x7`` to the sorted whole days it
    is closed in the years asked for (public holidays and explicit ``dates``).
    """

    definitions: Definitions | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    holidays: dict[str, list[date]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the document would be accepted."""
        return not self.errors


def check_definitions(
    text: str,
    *,
    years: Iterable[int] | None = None,
    environ: Mapping[str, str] | None = None,
) -> CheckReport:
    """Check a document without raising.

    ``years`` selects the holidays listed (default: this year and the next). With
    ``environ``, each ``${VAR}`` unset in it is added to the warnings.
    """
    wanted = list(years) if years is not None else [date.today().year, date.today().year + 1]
    try:
        data, duplicates = _read(text)
    except DefinitionsError as exc:
        return CheckReport(None, errors=exc.problems)
    built = build(data)
    warnings = list(built.report.warnings)
    if environ is not None and built.definitions is not None:
        warnings.extend(unset_env_references(built.definitions, environ))
    return CheckReport(
        None if duplicates else built.definitions,
        errors=[*duplicates, *built.report.errors],
        warnings=warnings,
        holidays=holidays_by_calendar(built.calendars.values(), wanted),
    )


def holidays_by_calendar(
    calendars: Iterable[CalendarDef], years: Iterable[int]
) -> dict[str, list[date]]:
    """The closed days of each calendar in ``years``, sorted; ``24x7`` is left out."""
    wanted = set(years)
    return {
        cal.id: sorted(day for day in cal.holidays if day.year in wanted)
        for cal in calendars
        if not cal.always_open
    }


def unset_env_references(
    defs: Definitions, environ: Mapping[str, str], *, channels: bool = True
) -> list[Problem]:
    """Each ``${VAR}`` in channel settings (unless ``channels`` is false) and in people's
    and teams' addresses that ``environ`` does not set."""
    found: list[Problem] = []

    def scan(path: str, value: object) -> None:
        if isinstance(value, str):
            for name in _ENV_REFERENCE.findall(value):
                if name not in environ:
                    found.append(Problem(path, f"environment variable {name} is not set"))

    for channel in defs.channels.values() if channels else ():
        for key, value in channel.settings:
            scan(at(at("channels", channel.id), key), value)
    for section, entries in (("people", defs.people), ("teams", defs.teams)):
        for entry in entries.values():
            for key, address in entry.addresses:
                scan(at(at(section, entry.id), key), address)
    return found
