"""What a user sees when a command cannot run: every problem on standard error, an exit
status (2: fix the arguments, settings or definitions; 1: the database could not be
reached), and never a Python traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.live import REPO

DEMO = REPO / "examples/live-demo.yaml"
UNREACHABLE = "postgresql+asyncpg://u:secret@127.0.0.1:1/x"


def slawatch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slawatch", *args],
        env={**os.environ, "SLAWATCH_LOG_LEVEL": "error", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_bad_settings_name_each_variable(tmp_path: Path) -> None:
    proc = slawatch("migrate", SLAWATCH_PORT="abc", SLAWATCH_LATENESS="5x")
    assert proc.returncode == 2
    assert "SLAWATCH_PORT" in proc.stderr and "SLAWATCH_LATENESS" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("url", "said"),
    [("notaurl", "Could not parse"), (UNREACHABLE, "ConnectionRefusedError")],
)
def test_migrate_says_why_the_database_cannot_be_upgraded(url: str, said: str) -> None:
    proc = slawatch("migrate", "--database-url", url)
    assert proc.returncode == 1
    assert said in proc.stderr and "Traceback" not in proc.stderr
    assert "secret" not in proc.stderr


def test_migrate_creates_the_directory_of_a_sqlite_store(tmp_path: Path) -> None:
    store = tmp_path / "new" / "dir" / "s.db"
    proc = slawatch("migrate", "--database-url", f"sqlite+aiosqlite:///{store}")
    assert proc.returncode == 0, proc.stderr
    assert store.exists()


def test_a_service_without_its_database_exits_1_saying_so() -> None:
    proc = slawatch(
        "serve", "evaluator", SLAWATCH_DATABASE_URL=UNREACHABLE, SLAWATCH_DEFINITIONS=str(DEMO)
    )
    assert proc.returncode == 1
    assert "evaluator: cannot start" in proc.stderr and "Traceback" not in proc.stderr
    assert "secret" not in proc.stderr


@pytest.mark.parametrize(
    ("document", "said"),
    [("slas: [\n", "not valid YAML"), (None, "cannot read")],
)
def test_standalone_lists_what_is_wrong_with_the_definitions(
    tmp_path: Path, document: str | None, said: str
) -> None:
    path = tmp_path / "definitions.yaml"
    if document is not None:
        path.write_text(document)
    proc = slawatch("standalone", "--definitions", str(path))
    assert proc.returncode == 2
    assert said in proc.stderr and "Traceback" not in proc.stderr


def test_standalone_on_a_port_in_use_says_so_before_starting(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = slawatch("standalone", "--definitions", str(DEMO), SLAWATCH_PORT=str(port),
                        SLAWATCH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/s.db")  # fmt: skip
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "slawatch standalone on" not in proc.stdout


def test_version_is_printed() -> None:
    proc = slawatch("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("slawatch ")


def test_check_says_that_an_unset_variable_stops_the_notifier(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SMTP_HOST"}
    proc = subprocess.run(
        [sys.executable, "-m", "slawatch", "check", str(REPO / "examples/definitions.yaml")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0
    assert proc.stderr.count("environment variable SMTP_HOST is not set") == 1
    assert "refuses to start while one is unset" in proc.stderr
    assert "channels.email.host: is required" not in proc.stderr


def test_check_lists_the_channel_settings_the_notifier_would_refuse(tmp_path: Path) -> None:
    document = tmp_path / "defs.yaml"
    document.write_text(
        "channels: {email: {type: smtp, hostname: smtp.example.com, from: a@b.c}}\n"
    )
    proc = slawatch("check", str(document))
    assert proc.returncode == 0
    assert "warning: channels.email.host: is required (the notifier will not start so)" in (
        proc.stderr
    )
    assert "channels.email.hostname: unknown setting (did you mean 'host'?)" in proc.stderr


@pytest.mark.parametrize("command", ["replay", "standalone", "check", "migrate", "serve"])
def test_help_names_values_not_python_types(command: str) -> None:
    proc = slawatch(command, "--help", COLUMNS="120")
    assert proc.returncode == 0
    assert "<bool>" not in proc.stdout
    assert "list[str]" not in proc.stdout
    if command == "replay":
        assert "DURATION" in proc.stdout
