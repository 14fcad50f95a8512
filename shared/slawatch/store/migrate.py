"""``slawatch migrate``: apply the Alembic migrations to a database, as an explicit step.

The services never migrate on start; they check that the schema is at the head
revision and refuse to start otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from slawatch.errors import ConfigurationError

__all__ = [
    "alembic_config",
    "downgrade",
    "ensure_sqlite_directory",
    "head_revision",
    "holding_sqlite_store",
    "sqlite_file",
    "upgrade",
]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for the project's migrations on ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL's database; ``None`` for another database or memory."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and ":memory:" not in url:
        return Path(url.removeprefix(prefix))
    return None


def ensure_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite file URL's database, if missing."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def holding_sqlite_store(url: str) -> Iterator[None]:
    """Hold a SQLite store for this process while in the block (a lock file beside it).

    Two processes on one SQLite store would take its partitions from each other, so a
    second one raises :class:`~slawatch.errors.ConfigurationError` naming the first.
    Other databases are shared by design (claims with epochs fence a stale owner).
    """
    path = sqlite_file(url)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise ConfigurationError(
                f"{holder} is using the store {path}; stop it, or set "
                "SLAWATCH_DATABASE_URL to another file"
            ) from None
        lock.truncate(0)
        lock.write(f"slawatch process {os.getpid()}")
        lock.flush()
        yield


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
