"""``slawatch migrate``: apply the Alembic migrations to a database, as an explicit step.

The services never migrate on start; they check that the schema is at the head
revision and refuse to start otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

__all__ = ["alembic_config", "downgrade", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the project's migrations on ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def ensure_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite file URL's database, if missing."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        Path(url.removeprefix(prefix)).parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``.

    Alembic runs in a thread of its own, so this works inside a running event loop too.
    """
    _in_thread(lambda: command.upgrade(alembic_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision`` (in a thread, as :func:`upgrade`)."""
    _in_thread(lambda: command.downgrade(alembic_config(url), revision))


def _in_thread(migration: Callable[[], None]) -> None:
    failure: list[BaseException] = []

    def run() -> None:
        try:
            migration()
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=run, name="alembic")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head
