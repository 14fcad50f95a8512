"""The ``slawatch`` command line: the only place the CLI reads files, streams and the wall clock.

The commands live in one module per group (:mod:`~slawatch.cli.replaying`,
:mod:`~slawatch.cli.definitions`, :mod:`~slawatch.cli.services`) and are registered
here, on the typer application of :mod:`~slawatch.cli.app`, in the order ``--help``
lists them.

Exit status: 0 done; 1 rejected input under ``replay --strict``, or a service or
migration that could not reach its database; 2 unusable arguments, settings or
definitions (every error listed on standard error, never a traceback).
"""

from __future__ import annotations

import sys

from slawatch import collector
from slawatch.cli import definitions, replaying, services
from slawatch.cli.app import Command, app

__all__ = ["app", "main"]

for _command in (
    replaying.replay,
    replaying.backtest,
    definitions.check,
    definitions.apply,
    definitions.versions,
    services.migrate,
    services.serve,
    services.standalone,
):
    app.command(cls=Command)(_command)


def main() -> None:
    """Entry point of the ``slawatch`` console script."""
    import prometheus_client

    prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
    collector.tune()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)  # Ctrl+C before a command set up its own handling: no traceback
