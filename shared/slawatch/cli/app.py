"""The ``slawatch`` command's typer application and what its commands share.

Errors reach the user through :func:`fail`: every line on standard error, then the
exit status (2 for unusable input unless told otherwise), never a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from slawatch.settings import Settings

_T = TypeVar("_T")

__all__ = [
    "Command",
    "DatabaseUrl",
    "app",
    "env_settings",
    "fail",
    "on_database",
    "reason",
    "without_password",
]


class PlainHelp:
    """Lists ``--help`` without the ``<bool>`` type typer 0.29 gives it."""

    def get_help_option(self, ctx: Any) -> typer.core.TyperOption | None:
        option: typer.core.TyperOption | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.metavar = ""
        return option


class Command(PlainHelp, TyperCommand):
    pass


class Group(PlainHelp, TyperGroup):
    pass


app = typer.Typer(
    cls=Group,
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


def fail(lines: Sequence[str], code: int = 2) -> None:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def env_settings() -> Settings:
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
        fail(problems)
        raise


def without_password(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


DatabaseUrl = Annotated[
    str | None, typer.Option(metavar="URL", help="SQLAlchemy URL; default SLAWATCH_DATABASE_URL.")
]


def on_database(url: str, work: Callable[[AsyncEngine], Awaitable[_T]]) -> _T:
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


def reason(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's statement and background link."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).split("\n")[0]
    return f"{type(orig or exc).__name__}: {text}" if text else type(orig or exc).__name__
