"""``slawatch check``, ``apply`` and ``versions``: definitions documents and their versions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from slawatch.cli.app import (
    DatabaseUrl,
    env_settings,
    fail,
    on_database,
    reason,
    without_password,
)
from slawatch.timeutil import TimeFormatError, format_time, parse_time

if TYPE_CHECKING:
    from slawatch.definitions.model import Definitions

__all__ = ["apply", "check", "versions"]


def check(
    path: Annotated[Path, typer.Argument(help="The definitions document (YAML or JSON).")],
) -> None:
    """Validate a definitions document: every problem with its path (exit 2), warnings, holidays."""
    import os

    from slawatch.definitions import check_definitions, unset_env_references

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail([f"{path}: cannot read: {exc}"])
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
    database_url: DatabaseUrl = None,
) -> None:
    """Store a definitions document as the next version; running services take it up."""

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.definitions import DefinitionsError, check_definitions
    from slawatch.errors import ConfigurationError
    from slawatch.serving import apply_document, plan_document, wall_clock

    settings = env_settings()
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
        fail(problems)
    url = database_url or settings.database_url

    try:
        against, planned = on_database(url, lambda db: plan_document(db, text))
        if against is not None:
            counted = f"{len(planned)} change(s)" if planned else "no change in meaning"
            typer.echo(f"{path}: against version {against}: {counted}")
            for line in planned:
                typer.echo(f"  {line}")
        if dry_run:
            return
        version, stored = on_database(url, lambda db: apply_document(db, text, now, at))
    except DefinitionsError as exc:
        fail([f"{path}: {p.path}: {p.message}" for p in exc.problems])
        return
    except ConfigurationError as exc:
        fail([f"apply: {exc}"])
        return
    except (SQLAlchemyError, OSError) as exc:
        fail([f"apply: cannot store: {reason(exc)} (database {without_password(url)})"], 1)
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


def versions(
    document: Annotated[
        int | None,
        typer.Option(metavar="N", help="Print the stored document of version N instead."),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List the stored definitions versions: when each is in force, which one is now."""
    from datetime import UTC

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.serving import wall_clock
    from slawatch.store.versions import stored_versions

    url = database_url or env_settings().database_url

    try:
        stored = on_database(url, stored_versions)
    except (SQLAlchemyError, OSError) as exc:
        fail([f"versions: cannot read: {reason(exc)} (database {without_password(url)})"], 1)
        return
    if document is not None:
        found = [v for v in stored if v.number == document]
        if not found:
            fail([f"--document: no version {document} is stored"])
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
