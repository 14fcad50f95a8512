"""The ``slawatch`` command line: the only place the CLI reads files, streams and the wall clock.

Exit status: 0 done; 1 rejected input under ``replay --strict``, or a service or
migration that could not reach its database; 2 unusable arguments, settings or
definitions (every error listed on standard error, never a traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar

import orjson
import typer
from typer.core import TyperCommand, TyperGroup

from slawatch import collector
from slawatch.replay.runner import Emitted, ReplayProblem
from slawatch.timeutil import TimeFormatError, format_time, parse_duration, parse_time

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from slawatch.definitions.model import Definitions, DefinitionsVersion
    from slawatch.settings import Settings

_T = TypeVar("_T")

__all__ = ["app", "main"]


class _PlainHelp:
    """Lists ``--help`` without the ``<bool>`` type typer 0.29 gives it."""

    def get_help_option(self, ctx: Any) -> typer.core.TyperOption | None:
        option: typer.core.TyperOption | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class _Command(_PlainHelp, TyperCommand):
    pass


class _Group(_PlainHelp, TyperGroup):
    pass


app = typer.Typer(
    cls=_Group,
    name="slawatch",
    help="Event-driven SLA compliance monitor.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(given: bool) -> None:
    if given:
        from importlib.metadata import version

        typer.echo(f"slawatch {version('slawatch')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            metavar="",
            help="Print the version.",
        ),
    ] = False,
) -> None:
    """Event-driven SLA compliance monitor."""


def _fail(lines: Sequence[str], code: int = 2) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def _settings() -> Settings:
    """The settings from the environment; a bad ``SLAWATCH_*`` value exits 2 saying which."""
    from pydantic import ValidationError

    from slawatch.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"SLAWATCH_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            f" (got {e.get('input')!r})"
            for e in exc.errors()
        ]
        _fail(problems)
        raise


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    for raw in stream:
        yield raw.rstrip(b"\r\n")


def _report_problem(problem: ReplayProblem) -> None:
    """An input line replay did not apply, on standard error as ``replay.md`` says."""
    record = {"line": problem.line, "error": problem.error, "raw": problem.raw}
    sys.stderr.buffer.write(orjson.dumps(record) + b"\n")


def _output_problems(output: Path, events: Path | None) -> list[str]:
    """Why ``output`` cannot be written to without harm, if it cannot."""
    if output.is_dir():
        return [f"--output: {output} is a directory"]
    if not output.parent.is_dir():
        return [f"--output: no such directory: {output.parent}"]
    if events is not None and output.exists() and output.samefile(events):
        return [f"--output: {output} is the --events file; it would be overwritten"]
    return []


_Events = Annotated[
    str, typer.Option("--events", metavar="FILE", help="Input events, JSONL; - for stdin.")
]
_Until = Annotated[
    str | None, typer.Option(metavar="TIME", help="Advance processing time to this instant.")
]
_Lateness = Annotated[str, typer.Option(metavar="DURATION", help="Timer lateness, e.g. 30s.")]
_Retention = Annotated[
    str, typer.Option(metavar="DURATION", help="History kept after the last clock closed.")
]
_DatabaseUrl = Annotated[
    str | None, typer.Option(metavar="URL", help="SQLAlchemy URL; default SLAWATCH_DATABASE_URL.")
]


def _on_database(url: str, work: Callable[[AsyncEngine], Awaitable[_T]]) -> _T:
    """Run ``work`` on an engine for ``url``, disposed of after."""
    import asyncio

    from slawatch.store.common import create_engine

    async def run() -> _T:
        db = create_engine(url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())


@dataclass(frozen=True, slots=True)
class _RunOptions:
    """What ``replay`` and ``backtest`` both take: definitions versions, ``--until`` and
    the two durations, checked together so that every problem is listed at once."""

    versions: list[DefinitionsVersion]
    until: int | None
    durations: dict[str, int]

    @classmethod
    def parse(
        cls,
        definitions: Sequence[str],
        events: str,
        until: str | None,
        lateness: str,
        retention: str,
        problems: list[str],
    ) -> _RunOptions:
        """The options, with what is wrong with them added to ``problems``."""
        from slawatch.replay.versions import VersionsError, load_versions

        until_at: int | None = None
        try:
            until_at = parse_time(until) if until is not None else None
        except TimeFormatError as exc:
            problems.append(f"--until: {exc}")
        durations: dict[str, int] = {}
        for name, text in (("lateness", lateness), ("retention", retention)):
            try:
                durations[name] = parse_duration(text) if text != "0" else 0
            except TimeFormatError as exc:
                problems.append(f"--{name}: {exc}")
        versions: list[DefinitionsVersion] = []
        try:
            versions = load_versions(definitions)
        except VersionsError as exc:
            problems.extend(exc.problems)
        if events != "-" and not Path(events).is_file():
            problems.append(f"--events: no such file: {events}")
        return cls(versions, until_at, durations)


@app.command(cls=_Command)
def replay(
    definitions: Annotated[
        list[str],
        typer.Option(
            "--definitions",
            metavar="FILE",
            help="FILE\\[@EFFECTIVE_FROM]: a definitions document, in force from "
            "EFFECTIVE_FROM (an RFC 3339 time) or always; once per definitions version.",
        ),
    ],
    events: _Events,
    until: _Until = None,
    lateness: _Lateness = "0s",
    retention: _Retention = "7d",
    strict: Annotated[
        bool, typer.Option(metavar="", help="Exit 1 if any input is rejected.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write here instead of stdout.")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", metavar="jsonl|table", help="How outputs are written.")
    ] = "jsonl",
) -> None:
    """Run the whole pipeline over a file of events in simulated time."""
    from slawatch.replay.runner import Cause
    from slawatch.replay.runner import replay as run
    from slawatch.replay.table import Timeline

    problems: list[str] = []
    if fmt not in ("jsonl", "table"):
        problems.append(f"--format: {fmt!r} is not jsonl or table")
    run_options = _RunOptions.parse(definitions, events, until, lateness, retention, problems)
    if output is not None and (events == "-" or Path(events).is_file()):
        problems += _output_problems(output, None if events == "-" else Path(events))
    if problems:
        _fail(problems)
    versions, until_at, durations = run_options.versions, run_options.until, run_options.durations

    out: BinaryIO = sys.stdout.buffer
    if output is not None:
        try:
            out = output.open("wb")
        except OSError as exc:
            _fail([f"--output: cannot write {output}: {exc.strerror}"])
    timeline = Timeline()

    def emit(outputs: Sequence[Emitted], cause: Cause) -> None:
        if fmt == "table":
            timeline.add(outputs, cause)
        else:
            out.write(b"".join(o.to_json() + b"\n" for o in outputs))

    with ExitStack() as stack:
        stream = sys.stdin.buffer if events == "-" else stack.enter_context(Path(events).open("rb"))
        stats = run(
            versions,
            _lines(stream),
            emit=emit,
            until=until_at,
            lateness=durations["lateness"],
            retention=durations["retention"],
            on_problem=_report_problem,
        )
    if fmt == "table":
        out.write(timeline.render().encode())
    out.flush()
    if output is not None:
        out.close()
    if stats.after_until:
        typer.echo(f"{stats.after_until} events after --until were not applied", err=True)
    if strict and (stats.rejected or stats.too_late):
        raise typer.Exit(1)


@app.command(cls=_Command)
def backtest(
    definitions: Annotated[
        list[str],
        typer.Option(
            "--definitions",
            metavar="FILE",
            help="FILE\\[@EFFECTIVE_FROM]: the current terms, as for replay; once per "
            "definitions version.",
        ),
    ],
    events: _Events,
    candidate: Annotated[
        list[str] | None,
        typer.Option(
            "--candidate",
            metavar="FILE",
            help="FILE\\[@EFFECTIVE_FROM]: the proposed terms to compare with the current "
            "ones over the same events; once per definitions version.",
        ),
    ] = None,
    until: _Until = None,
    lateness: _Lateness = "0s",
    retention: _Retention = "7d",
    by: Annotated[
        str | None,
        typer.Option(
            metavar="LABEL",
            help="Break ticket figures down by a label: priority, customer, service, "
            "region or assignee_group.",
        ),
    ] = None,
    per: Annotated[
        str | None,
        typer.Option(
            metavar="PERIOD",
            help="Split the figures by day, week, month or quarter: a clock counts in the "
            "period it stopped in, a window in the one it started in.",
        ),
    ] = None,
    timezone: Annotated[
        str, typer.Option(metavar="ZONE", help="The time zone of --per's periods.")
    ] = "UTC",
    fmt: Annotated[
        str, typer.Option("--format", metavar="table|json", help="How the figures are written.")
    ] = "table",
) -> None:
    """Replay past events under SLA terms (and a candidate's): compliance, breaches, credits."""
    from zoneinfo import ZoneInfoNotFoundError

    from slawatch.calendar.localtime import zone
    from slawatch.replay.backtest import as_json, compare, render_table
    from slawatch.replay.report import GROUP_LABELS, PERIODS, Report
    from slawatch.replay.runner import replay as run

    problems: list[str] = []
    if fmt not in ("table", "json"):
        problems.append(f"--format: {fmt!r} is not table or json")
    if by is not None and by not in GROUP_LABELS:
        problems.append(f"--by: {by!r} is not one of {', '.join(GROUP_LABELS)}")
    if per is not None and per not in PERIODS:
        problems.append(f"--per: {per!r} is not one of {', '.join(PERIODS)}")
    try:
        zone(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        problems.append(f"--timezone: no such time zone: {timezone!r}")
    current = _RunOptions.parse(definitions, events, until, lateness, retention, problems)
    proposed = None
    if candidate:
        try:
            from slawatch.replay.versions import VersionsError, load_versions

            proposed = load_versions(candidate)
        except VersionsError as exc:
            problems += [f"--candidate: {p}" for p in exc.problems]
    if problems:
        _fail(problems)
    stdin: Iterable[bytes] | None = None
    if events == "-":  # read once; kept for the candidate's replay only when there is one
        stdin = _lines(sys.stdin.buffer) if proposed is None else list(_lines(sys.stdin.buffer))

    def figures(versions: Sequence[DefinitionsVersion], first: bool) -> Report:
        report = Report(by, per, timezone)
        with ExitStack() as stack:
            lines = (
                stdin if stdin is not None else _lines(stack.enter_context(Path(events).open("rb")))
            )
            run(
                versions,
                lines,
                emit=lambda outputs, _: report.add(outputs),
                until=current.until,
                lateness=current.durations["lateness"],
                retention=current.durations["retention"],
                on_problem=_report_problem if first else None,
            )
        return report

    mine = figures(current.versions, first=True)
    theirs = figures(proposed, first=False) if proposed is not None else None
    comparison = compare(mine, theirs)
    if fmt == "json":
        sys.stdout.buffer.write(orjson.dumps(as_json(comparison), option=orjson.OPT_INDENT_2))
        sys.stdout.buffer.write(b"\n")
    else:
        typer.echo(render_table(comparison), nl=False)


@app.command(cls=_Command)
def check(
    path: Annotated[Path, typer.Argument(help="The definitions document (YAML or JSON).")],
) -> None:
    """Validate a definitions document: every problem with its path (exit 2), warnings, holidays."""
    import os

    from slawatch.definitions import check_definitions, unset_env_references

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail([f"{path}: cannot read: {exc}"])
        return
    report = check_definitions(text)
    for problem in report.errors:
        typer.echo(f"error: {problem.path}: {problem.message}", err=True)
    for warning in report.warnings:
        typer.echo(f"warning: {warning.path}: {warning.message}", err=True)
    if report.definitions is not None:
        unset = unset_env_references(report.definitions, os.environ)
        for problem in unset:
            typer.echo(f"warning: {problem.path}: {problem.message}", err=True)
        if unset:
            typer.echo(
                "warning: set these where the notifier (or standalone) runs: it refuses to "
                "start while one is unset",
                err=True,
            )
        for refused in _channel_problems(report.definitions, os.environ):
            typer.echo(f"warning: {refused} (the notifier will not start so)", err=True)
    if report.errors:
        typer.echo(f"{path}: {len(report.errors)} error(s)", err=True)
        raise typer.Exit(2)
    for calendar, dates in sorted(report.holidays.items()):
        if dates:
            typer.echo(f"calendar {calendar}: holidays " + ", ".join(d.isoformat() for d in dates))
    typer.echo(f"{path}: valid")


def _channel_problems(definitions: Definitions, environ: Mapping[str, str]) -> list[str]:
    """What the notifier would refuse in the channels' settings, unset variables aside
    (``check`` lists those already)."""
    from slawatch.settings import Settings
    from slawatch_notifier.channels import ChannelSettingsError, build_channels

    try:
        build_channels(definitions.channels, environ, settings=Settings(), unset_is_problem=False)
    except ChannelSettingsError as exc:
        return exc.problems
    return []


@app.command(cls=_Command)
def apply(
    path: Annotated[Path, typer.Argument(help="The definitions document (YAML or JSON).")],
    effective_from: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="When it comes into force (RFC 3339, not in the past); default: after two "
            "SLAWATCH_DEFINITIONS_POLL intervals, once every running service has it.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", metavar="", help="Only list what it changes against the newest version."
        ),
    ] = False,
    database_url: _DatabaseUrl = None,
) -> None:
    """Store a definitions document as the next version; running services take it up."""

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.definitions import DefinitionsError, check_definitions
    from slawatch.errors import ConfigurationError
    from slawatch.serving import apply_document, plan_document, wall_clock

    settings = _settings()
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        text = ""
    else:
        checked = check_definitions(text)
        problems += [f"{path}: {p.path}: {p.message}" for p in checked.errors]
        for warning in checked.warnings:
            typer.echo(f"warning: {path}: {warning.path}: {warning.message}", err=True)
    now = wall_clock()
    at = now + 2 * settings.definitions_poll
    try:
        at = parse_time(effective_from) if effective_from is not None else at
    except TimeFormatError as exc:
        problems.append(f"--effective-from: {exc}")
    if problems:
        _fail(problems)
    url = database_url or settings.database_url

    try:
        against, planned = _on_database(url, lambda db: plan_document(db, text))
        if against is not None:
            counted = f"{len(planned)} change(s)" if planned else "no change in meaning"
            typer.echo(f"{path}: against version {against}: {counted}")
            for line in planned:
                typer.echo(f"  {line}")
        if dry_run:
            return
        version, stored = _on_database(url, lambda db: apply_document(db, text, now, at))
    except DefinitionsError as exc:
        _fail([f"{path}: {p.path}: {p.message}" for p in exc.problems])
        return
    except ConfigurationError as exc:
        _fail([f"apply: {exc}"])
        return
    except (SQLAlchemyError, OSError) as exc:
        _fail([f"apply: cannot store: {_reason(exc)} (database {_without_password(url)})"], 1)
        return
    since = (
        "from the start"
        if version.effective_from is None
        else f"from {format_time(version.effective_from)}"
    )
    if stored:
        typer.echo(f"{path}: stored as version {version.number}, in force {since}")
    else:
        typer.echo(f"{path}: unchanged: it is version {version.number}, in force {since}")


@app.command(cls=_Command)
def versions(
    document: Annotated[
        int | None,
        typer.Option(metavar="N", help="Print the stored document of version N instead."),
    ] = None,
    database_url: _DatabaseUrl = None,
) -> None:
    """List the stored definitions versions: when each is in force, which one is now."""
    from datetime import UTC

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.serving import wall_clock
    from slawatch.store.versions import stored_versions

    url = database_url or _settings().database_url

    try:
        stored = _on_database(url, stored_versions)
    except (SQLAlchemyError, OSError) as exc:
        _fail([f"versions: cannot read: {_reason(exc)} (database {_without_password(url)})"], 1)
        return
    if document is not None:
        found = [v for v in stored if v.number == document]
        if not found:
            _fail([f"--document: no version {document} is stored"])
        typer.echo(found[0].document, nl=not found[0].document.endswith("\n"))
        return
    if not stored:
        typer.echo("no definitions version is stored")
        return
    now = wall_clock()
    current = max((v.number for v in stored if (v.effective_from or 0) <= now), default=None)
    rows = [("version", "in force from", "accepted", "digest", "")]
    for v in stored:
        since = "the start" if v.effective_from is None else format_time(v.effective_from)
        state = (
            "in force" if v.number == current else "pending" if v.number > (current or 0) else ""
        )
        at = v.accepted_at
        accepted = (at.astimezone(UTC) if at.tzinfo else at).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append((str(v.number), since, accepted, v.digest[:12], state))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@app.command(cls=_Command)
def migrate(
    database_url: _DatabaseUrl = None,
) -> None:
    """Apply the database migrations (run before the services start)."""
    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.store.migrate import ensure_sqlite_directory, head_revision, upgrade

    url = database_url or _settings().database_url
    try:
        ensure_sqlite_directory(url)
        upgrade(url)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        _fail([f"migrate: cannot upgrade {_without_password(url)}: {_reason(exc)}"], 1)
    typer.echo(f"database at revision {head_revision()}")


@app.command(cls=_Command)
def serve(
    service: Annotated[str, typer.Argument(help="ingest, evaluator or notifier.")],
) -> None:
    """Run one service, configured from SLAWATCH_* environment variables."""
    import asyncio
    import importlib

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.errors import ConfigurationError
    from slawatch.observability.logs import configure_logging

    settings = _settings()
    configure_logging(settings)
    runners = {
        "evaluator": "slawatch_evaluator.service",
        "ingest": "slawatch_ingest.service",
        "notifier": "slawatch_notifier.service",
    }
    if service not in runners:
        _fail([f"unknown service {service!r}: one of {', '.join(runners)}"])
        return
    run = importlib.import_module(runners[service]).serve
    try:
        asyncio.run(run(settings))
    except ConfigurationError as exc:
        _fail([f"{service}: {exc}"])
    except (SQLAlchemyError, OSError) as exc:
        where = _without_password(settings.database_url)
        _fail([f"{service}: cannot start: {_reason(exc)} (database {where})"], 1)


@app.command(cls=_Command)
def standalone(
    definitions: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE", help="The definitions document; default SLAWATCH_DEFINITIONS."
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option(metavar="", help="Feed a demo help desk over HTTP.")
    ] = False,
    kafka: Annotated[
        str | None,
        typer.Option(
            metavar="HOST:PORT", help="Also consume the raw topics from this Kafka bootstrap."
        ),
    ] = None,
    exit_after: Annotated[
        float | None,
        typer.Option(metavar="SECONDS", help="Stop after this many seconds (for scripts)."),
    ] = None,
) -> None:
    """Ingest, evaluator and notifier in one process, on SQLite and an in-process bus."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.definitions import DefinitionsError
    from slawatch.errors import ConfigurationError
    from slawatch.observability.logs import configure_logging
    from slawatch.replay.versions import VersionsError, load_versions
    from slawatch.serving import port_problem, wall_clock
    from slawatch.standalone import run_standalone
    from slawatch.store.migrate import holding_sqlite_store

    settings = _settings()
    path = definitions or settings.definitions
    if path is None:
        _fail(["give --definitions FILE or set SLAWATCH_DEFINITIONS"])
        return
    try:
        load_versions([str(path)])
    except VersionsError as exc:
        _fail(exc.problems)
    busy = port_problem(settings.host, settings.port)
    if busy is not None:
        _fail([f"standalone: {busy}; set SLAWATCH_PORT to another port"])
    configure_logging(settings)
    try:
        with holding_sqlite_store(settings.database_url):
            asyncio.run(
                run_standalone(
                    settings, definitions=path, demo=demo, kafka=kafka, exit_after=exit_after,
                    clock=wall_clock,
                )
            )  # fmt: skip
    except ConfigurationError as exc:
        _fail([f"standalone: {exc}"])
    except DefinitionsError as exc:
        _fail([f"standalone: {p.path}: {p.message}" for p in exc.problems])
    except (SQLAlchemyError, OSError) as exc:
        where = _without_password(settings.database_url)
        _fail([f"standalone: cannot start: {_reason(exc)} (store {where})"], 1)


def _reason(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's statement and background link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).split("\n")[0]
    return f"{type(orig or exc).__name__}: {text}" if text else type(orig or exc).__name__


def main() -> None:
    """Entry point of the ``slawatch`` console script."""
    import prometheus_client

    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    collector.tune()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl+C before a command set up its own handling: no traceback
