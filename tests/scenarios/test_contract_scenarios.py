"""The product contract's worked scenarios (and our own), replayed in process."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.scenarios import run_scenario

HERE = Path(__file__).parent
SCENARIOS = sorted((HERE / "contract").glob("*.yaml")) + sorted((HERE / "own").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    run = run_scenario(path)
    assert run.problems == [], "\n".join(run.problems)
