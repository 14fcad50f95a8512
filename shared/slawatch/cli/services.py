"""``slawatch migrate``, ``serve`` and ``standalone``: the database and the services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slawatch.cli.app import (
    DatabaseUrl,
    env_settings,
    fail,
    reason,
    without_password,
)

__all__ = ["migrate", "serve", "standalone"]


def migrate(
    database_url: DatabaseUrl = None,
) -> None:
    """Apply the database migrations (run before the services start)."""
    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.store.migrate import ensure_sqlite_directory, head_revision, upgrade

    url = database_url or env_settings().database_url
    try:
        ensure_sqlite_directory(url)
        upgrade(url)
    except (SQLAlchemyError, OSError, ValueError) as exc:
        fail([f"migrate: cannot upgrade {without_password(url)}: {reason(exc)}"], 1)
    typer.echo(f"database at revision {head_revision()}")


def serve(
    service: Annotated[str, typer.Argument(help="ingest, evaluator or notifier.")],
) -> None:
    """Run one service, configured from SLAWATCH_* environment variables."""
    import asyncio
    import importlib

    from sqlalchemy.exc import SQLAlchemyError

    from slawatch.errors import ConfigurationError
    from slawatch.observability.logs import configure_logging

    settings = env_settings()
    configure_logging(settings)
    runners = {
        "evaluator": "slawatch_evaluator.service",
        "ingest": "slawatch_ingest.service",
        "notifier": "slawatch_notifier.service",
    }
    if service not in runners:
        fail([f"unknown service {service!r}: one of {', '.join(runners)}"])
        return
    run = importlib.import_module(runners[service]).serve
    try:
        asyncio.run(run(settings))
    except ConfigurationError as exc:
        fail([f"{service}: {exc}"])
    except (SQLAlchemyError, OSError) as exc:
        where = without_password(settings.database_url)
        fail([f"{service}: cannot start: {reason(exc)} (database {where})"], 1)


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

    settings = env_settings()
    path = definitions or settings.definitions
    if path is None:
        fail(["give --definitions FILE or set SLAWATCH_DEFINITIONS"])
        return
    try:
        load_versions([str(path)])
    except VersionsError as exc:
        fail(exc.problems)
    busy = port_problem(settings.host, settings.port)
    if busy is not None:
        fail([f"standalone: {busy}; set SLAWATCH_PORT to another port"])
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
        fail([f"standalone: {exc}"])
    except DefinitionsError as exc:
        fail([f"standalone: {p.path}: {p.message}" for p in exc.problems])
    except (SQLAlchemyError, OSError) as exc:
        where = without_password(settings.database_url)
        fail([f"standalone: cannot start: {reason(exc)} (store {where})"], 1)
