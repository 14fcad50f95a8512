"""The product contract's worked scenarios, replayed in process."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.support.scenarios import run_scenario

HERE = Path(__file__).parent
SCENARIOS = sorted((HERE / "contract").glob("*.yaml")) + sorted((HERE / "own").glob("*.yaml"))
TICKET_RULES = set(range(1, 19))
ESCALATION_RULES = set(range(27, 32))


def _rules(path: Path) -> set[int]:
    return set(yaml.safe_load(path.read_text()).get("rules") or [])


def _is_ticket(path: Path) -> bool:
    return bool(_rules(path)) and _rules(path) <= TICKET_RULES


def _is_escalation(path: Path) -> bool:
    return bool(_rules(path) & ESCALATION_RULES)


@pytest.mark.parametrize("path", [p for p in SCENARIOS if _is_ticket(p)], ids=lambda p: p.stem)
def test_ticket_scenario(path: Path) -> None:
    run = run_scenario(path)
    assert run.problems == [], "\n".join(run.problems)


@pytest.mark.parametrize("path", [p for p in SCENARIOS if _is_escalation(p)], ids=lambda p: p.stem)
def test_escalation_scenario(path: Path) -> None:
    run = run_scenario(path)
    assert run.problems == [], "\n".join(run.problems)
