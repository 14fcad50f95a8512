"""``slawatch backtest`` as a user runs it: a process, files, standard input, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_replay_command import slawatch
from tests.replay.test_backtest import CANDIDATE, DAY_AT_THE_DESK, DESK

UNTIL = "2026-03-02T12:00:00Z"


def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    current, candidate = tmp_path / "current.yaml", tmp_path / "proposed.yaml"
    current.write_text(DESK)
    candidate.write_text(CANDIDATE)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in DAY_AT_THE_DESK))
    return current, candidate, events


def test_the_table_compares_the_candidate_with_the_current_terms(tmp_path: Path) -> None:
    current, candidate, events = files(tmp_path)
    done = slawatch("backtest", "--definitions", str(current), "--candidate", str(candidate),
                    "--events", str(events), "--until", UNTIL)  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = done.stdout.decode()
    row = next(line for line in table.splitlines() if line.startswith("gold/first_response"))
    assert "3 -> 3" in row and "50.0 % -> 100.0 %" in row and "2 -> 1" in row
    assert any(line.startswith("silver/first_response") for line in table.splitlines())


def test_json_from_standard_input_replays_it_under_both_terms(tmp_path: Path) -> None:
    current, candidate, events = files(tmp_path)
    bad = b"{not json\n"
    done = slawatch("backtest", "--definitions", str(current), "--candidate", str(candidate),
                    "--events", "-", "--until", UNTIL, "--format", "json", "--by", "priority",
                    "--per", "week", "--timezone", "Europe/Amsterdam",
                    stdin=bad + events.read_bytes())  # fmt: skip
    assert done.returncode == 0, done.stderr
    targets = json.loads(done.stdout)["targets"]
    assert {r["period"] for r in targets} == {"2026-W10"}
    rows = {(r["sla"], r["priority"]): r for r in targets}
    gold = rows["gold", "P3"]
    assert gold["current"]["met"] == 1 and gold["candidate"]["met"] == 2
    assert rows["silver", "P3"]["current"] is None
    (problem,) = [json.loads(line) for line in done.stderr.splitlines()]  # reported once
    assert problem["line"] == 1


def test_unusable_arguments_are_listed_and_exit_2(tmp_path: Path) -> None:
    current, _, events = files(tmp_path)
    done = slawatch("backtest", "--definitions", str(current), "--events", str(events),
                    "--candidate", str(tmp_path / "missing.yaml"), "--by", "ticket",
                    "--format", "csv", "--per", "year", "--timezone", "Mars/Olympus")  # fmt: skip
    assert done.returncode == 2
    errors = done.stderr.decode()
    assert "--format: 'csv' is not table or json" in errors
    assert "--by: 'ticket' is not one of priority" in errors
    assert "--per: 'year' is not one of day, week, month, quarter" in errors
    assert "--timezone: no such time zone: 'Mars/Olympus'" in errors
    assert "--candidate:" in errors and "missing.yaml" in errors
    assert done.stdout == b""
