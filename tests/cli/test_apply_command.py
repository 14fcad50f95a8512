"""``slawatch apply`` as an operator runs it: a document stored as the next version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.cli.test_errors import UNREACHABLE
from tests.support.streams import DESK

from slawatch.serving import wall_clock
from slawatch.timeutil import SECOND, parse_time


def slawatch(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLAWATCH_DATABASE_URL": url, "SLAWATCH_LOG_LEVEL": "error"}
    return subprocess.run([sys.executable, "-m", "slawatch", *args], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_apply_stores_each_changed_document_as_the_next_version(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    assert slawatch("migrate", url=url).returncode == 0
    document = tmp_path / "definitions.yaml"
    document.write_text(DESK)
    first = slawatch("apply", str(document), url=url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{document}: stored as version 1, in force from the start"
    again = slawatch("apply", str(document), url=url)
    assert f"{document}: against version 1: no change in meaning" in again.stdout
    assert "unchanged: it is version 1" in again.stdout
    document.write_text(DESK.replace("8h", "9h", 1))
    planned = slawatch("apply", str(document), "--dry-run", url=url)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines() == [
        f"{document}: against version 1: 1 change(s)",
        "  ~ target gold/resolution: goals",
    ]
    began = wall_clock()
    second = slawatch("apply", str(document), url=url)
    assert second.returncode == 0, second.stderr
    said = second.stdout.strip().splitlines()[-1]
    assert said.startswith(f"{document}: stored as version 2, in force from ")
    since = parse_time(said.rsplit(" ", 1)[1])
    assert began + 20 * SECOND <= since <= wall_clock() + 20 * SECOND  # two 10 s polls on
    document.write_text(DESK)  # back to the first terms: a rollback is a new version
    third = slawatch("apply", str(document), "--effective-from", "2099-01-01T00:00:00Z", url=url)
    assert third.stdout.splitlines() == [
        f"{document}: against version 2: 1 change(s)",
        "  ~ target gold/resolution: goals",
        f"{document}: stored as version 3, in force from 2099-01-01T00:00:00Z",
    ]
    listed = slawatch("versions", url=url).stdout.splitlines()
    assert listed[0].split() == ["version", "in", "force", "from", "accepted", "digest"]
    assert [line.split()[0] for line in listed[1:]] == ["1", "2", "3"]
    assert listed[1].split()[1:3] == ["the", "start"]
    assert listed[1].endswith("in force")  # version 2 only 20 s after it was applied
    assert listed[2].endswith("pending") and listed[3].endswith("pending")
    assert slawatch("versions", "--document", "1", url=url).stdout == DESK
    missing = slawatch("versions", "--document", "9", url=url)
    assert missing.returncode == 2 and "no version 9 is stored" in missing.stderr


def test_what_apply_refuses(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    document = tmp_path / "definitions.yaml"
    document.write_text(DESK)
    unmigrated = slawatch("apply", str(document), url=url)
    assert unmigrated.returncode == 2 and "run `slawatch migrate` first" in unmigrated.stderr
    assert slawatch("migrate", url=url).returncode == 0
    assert slawatch("apply", str(document), url=url).returncode == 0
    document.write_text(DESK.replace("8h", "9h", 1))
    past = slawatch("apply", str(document), "--effective-from", "2020-01-01T00:00:00Z", url=url)
    assert past.returncode == 2 and "a version may not apply to the past" in past.stderr
    document.write_text("slas: [{id: 1}]")
    invalid = slawatch("apply", str(document), "--effective-from", "soon", url=url)
    assert invalid.returncode == 2
    assert "slas[0].id" in invalid.stderr and "--effective-from" in invalid.stderr
    document.write_text(DESK + "escalations:\n  quiet: {steps: []}\n")
    warned = slawatch("apply", str(document), url=url)
    assert warned.returncode == 0 and "stored as version 2" in warned.stdout
    assert "warning: " in warned.stderr and "escalations.quiet" in warned.stderr
    document.write_text(DESK.replace("8h", "10h", 1))
    down = slawatch("apply", str(document), url=UNREACHABLE)
    assert down.returncode == 1 and "cannot store" in down.stderr
    assert "secret" not in down.stderr
    assert "Traceback" not in unmigrated.stderr + past.stderr + invalid.stderr + down.stderr
