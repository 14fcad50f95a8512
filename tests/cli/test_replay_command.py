"""``slawatch replay`` and ``slawatch check`` as a user runs them: a process, files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DEFINITIONS = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: first_response
        start: [{event: created}]
        stop: [{event: commented, author_role: agent, public: true}]
        goals: [{target: 1h, calendar: "24x7"}]
"""
GOOD = {
    "id": "e1",
    "type": "ticket.created",
    "time": "2026-03-02T09:00:00Z",
    "ticket": {"id": "T-1", "status": "open"},
}


def slawatch(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "slawatch", *args], input=stdin, capture_output=True, timeout=120
    )


@pytest.fixture
def definitions(tmp_path: Path) -> Path:
    path = tmp_path / "definitions.yaml"
    path.write_text(DEFINITIONS)
    return path


def write_events(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


BAD_LINES = {
    "not_json": b"{this is not json",
    "not_utf8": b'{"id": "\xff\xfe"}',
    "array": b"[1, 2]",
    "missing_id": json.dumps({**GOOD, "id": None}).encode(),
    "missing_ticket_id": json.dumps({**GOOD, "ticket": {"status": "open"}}).encode(),
    "bad_time": json.dumps({**GOOD, "time": "2026-13-02T09:00:00Z"}).encode(),
    "no_offset": json.dumps({**GOOD, "time": "2026-03-02T09:00:00"}).encode(),
    "unknown_type": json.dumps({**GOOD, "type": "ticket.exploded"}).encode(),
    "wrong_type": json.dumps({**GOOD, "id": 42}).encode(),
    "bad_role": json.dumps(
        {**GOOD, "type": "ticket.commented", "comment": {"author_role": "bot", "public": True}}
    ).encode(),
    "ten_megabytes": b'{"id": "big", "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}',
}


def test_every_kind_of_bad_line_is_reported_and_the_run_goes_on(
    tmp_path: Path, definitions: Path
) -> None:
    lines = [*BAD_LINES.values(), json.dumps(GOOD).encode()]
    events = write_events(tmp_path, lines)
    proc = slawatch("replay", "--definitions", str(definitions), "--events", str(events),
                    "--until", "2026-03-02T11:00:00Z")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    reports = [json.loads(line) for line in proc.stderr.decode().splitlines()]
    assert [r["line"] for r in reports] == list(range(1, len(BAD_LINES) + 1))
    for report in reports:
        assert report["error"]
        assert isinstance(report["raw"], str)
    assert "2026-13-02" in reports[5]["error"]
    assert "RFC 3339" in reports[6]["error"]
    assert "ticket.exploded" in reports[7]["error"]
    outputs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [o["type"] for o in outputs] == ["sla.clock.started", "sla.breached"]


def test_strict_exits_1_on_rejected_input(tmp_path: Path, definitions: Path) -> None:
    events = write_events(tmp_path, [json.dumps(GOOD).encode(), b"nope"])
    proc = slawatch(
        "replay", "--definitions", str(definitions), "--events", str(events), "--strict"
    )
    assert proc.returncode == 1
    assert json.loads(proc.stdout.decode().splitlines()[0])["type"] == "sla.clock.started"


def test_events_from_stdin_and_output_file(tmp_path: Path, definitions: Path) -> None:
    out = tmp_path / "out.jsonl"
    args = ("replay", "--definitions", str(definitions), "--events", "-", "--output", str(out))
    proc = slawatch(*args, stdin=json.dumps(GOOD).encode() + b"\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text().splitlines()[0])["subject"] == "ticket:T-1"


def test_output_is_byte_identical_across_runs(tmp_path: Path, definitions: Path) -> None:
    events = write_events(tmp_path, [json.dumps(GOOD).encode()])
    args = ("replay", "--definitions", str(definitions), "--events", str(events), "--until",
            "2026-03-02T12:00:00Z")  # fmt: skip
    assert slawatch(*args).stdout == slawatch(*args).stdout


def test_invalid_definitions_exit_2_with_every_error_listed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
calendars:
  office: {timezone: Mars/Olympus, week: {mon: ["17:00-09:00"]}}
slas:
  - id: Gold!
    kind: customer
    targets:
      - id: t
        start: [{event: opened}]
        stop: [{event: created}]
        goals: [{target: 1x, calendar: nowhere}]
        warn_at: [1.5]
"""
    )
    events = write_events(tmp_path, [json.dumps(GOOD).encode()])
    for proc in (
        slawatch("replay", "--definitions", str(bad), "--events", str(events)),
        slawatch("check", str(bad)),
    ):
        assert proc.returncode == 2
        err = proc.stderr.decode()
        for fragment in ("Mars/Olympus", "17:00-09:00", "Gold!", "opened", "1x", "nowhere", "1.5"):
            assert fragment in err, (fragment, err)
        assert proc.stdout == b""


def test_unusable_arguments_exit_2(tmp_path: Path, definitions: Path) -> None:
    events = write_events(tmp_path, [json.dumps(GOOD).encode()])
    proc = slawatch(
        "replay", "--definitions", str(definitions), "--events", str(events), "--until", "soon"
    )
    assert proc.returncode == 2
    assert b"--until" in proc.stderr
    proc = slawatch(
        "replay", "--definitions", str(definitions), "--events", str(tmp_path / "missing")
    )
    assert proc.returncode == 2


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("events", b"is the --events file"),
        ("missing/out.jsonl", b"no such directory"),
        (".", b"is a directory"),
    ],
)
def test_an_output_that_cannot_be_written_safely_exits_2_and_harms_nothing(
    tmp_path: Path, definitions: Path, where: str, said: bytes
) -> None:
    events = write_events(tmp_path, [json.dumps(GOOD).encode()])
    before = events.read_bytes()
    output = events if where == "events" else tmp_path / where
    proc = slawatch(
        "replay", "--definitions", str(definitions), "--events", str(events),
        "--output", str(output),
    )  # fmt: skip
    assert proc.returncode == 2
    assert said in proc.stderr and b"Traceback" not in proc.stderr
    assert events.read_bytes() == before


def test_help_shows_the_effective_from_syntax() -> None:
    proc = slawatch("replay", "--help")
    assert b"FILE[@EFFECTIVE_FROM]" in proc.stdout


def test_table_format_explains_each_clock(tmp_path: Path, definitions: Path) -> None:
    events = write_events(tmp_path, [json.dumps(GOOD).encode()])
    proc = slawatch("replay", "--definitions", str(definitions), "--events", str(events),
                    "--until", "2026-03-02T12:00:00Z", "--format", "table")  # fmt: skip
    text = proc.stdout.decode()
    assert "ticket:T-1" in text
    assert "BREACHED" in text and "timer" in text
    assert "line 1: ticket.created e1" in text
    assert text.startswith("(times in UTC)")


def test_check_lists_holidays_and_passes_a_valid_document(tmp_path: Path) -> None:
    doc = tmp_path / "ok.yaml"
    doc.write_text(
        """
calendars:
  nl: {timezone: Europe/Amsterdam, week: {mon-fri: ["09:00-17:00"]}, holidays: {country: NL}}
slas: []
"""
    )
    proc = slawatch("check", str(doc))
    assert proc.returncode == 0, proc.stderr
    assert b"valid" in proc.stdout
    assert b"-12-25" in proc.stdout


def test_definitions_versions_by_effective_time(tmp_path: Path, definitions: Path) -> None:
    later = tmp_path / "later.yaml"
    later.write_text(DEFINITIONS.replace("target: 1h", "target: 2h"))
    events = write_events(
        tmp_path,
        [json.dumps(GOOD).encode(), json.dumps({**GOOD, "id": "e2", "ticket": {"id": "T-2"},
                                                 "time": "2026-03-03T09:00:00Z"}).encode()],
    )  # fmt: skip
    proc = slawatch("replay", "--definitions", str(definitions),
                    "--definitions", f"{later}@2026-03-03T00:00:00Z", "--events", str(events),
                    "--until", "2026-03-04T00:00:00Z")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    breaches = [
        json.loads(x) for x in proc.stdout.decode().splitlines() if b"breached" in x.encode()
    ]
    assert [(b["subject"], b["goal_seconds"], b["definitions_version"]) for b in breaches] == [
        ("ticket:T-1", 3600, 1),
        ("ticket:T-2", 7200, 2),
    ]
