"""``slawatch replay`` and ``slawatch backtest``: the pipeline over a file of events."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import orjson
import typer

from slawatch.cli.app import fail
from slawatch.replay.runner import Emitted, ReplayProblem
from slawatch.timeutil import TimeFormatError, parse_duration, parse_time

if TYPE_CHECKING:
    from slawatch.definitions.model import DefinitionsVersion

__all__ = ["backtest", "replay"]


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
        fail(problems)
    versions, until_at, durations = run_options.versions, run_options.until, run_options.durations

    out: BinaryIO = sys.stdout.buffer
    if output is not None:
        try:
            out = output.open("wb")
        except OSError as exc:
            fail([f"--output: cannot write {output}: {exc.strerror}"])
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
        fail(problems)
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
