"""to_record / from_record: a planner restored mid-stream behaves identically."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml

from slawatch.escalation import Notification, Planner, PlannerStateError
from slawatch.outputs import Output
from slawatch.timeutil import parse_time
from tests.escalation.driving import Driver
from tests.escalation.making import (
    ack,
    at,
    breached,
    catalog,
    doc,
    retraction,
    stopped,
    warning,
)
from tests.support.scenarios import scenario_versions

CONTRACT = Path(__file__).parent.parent / "scenarios" / "contract"


def _roundtrip(planner: Planner, **kw: object) -> Planner:
    record = orjson.loads(orjson.dumps(planner.to_record()))
    restored = Planner.from_record(record, planner.catalog, **kw)  # type: ignore[arg-type]
    assert restored.to_record() == planner.to_record()
    return restored


CHAIN = """
steps:
  - when: {event: sla.warning}
    notify: ["team:support", "person:ghost"]
    during: office
    repeat: {every: 20m, times: 2}
  - when: {event: sla.breached}
    notify: ["person:lead"]
  - after: 30m
    notify: ["person:manager"]
    repeat: {every: 15m, times: 3}
"""


def _script() -> list[tuple[str, int, object]]:
    warn = warning(at("16:50"), 0.5)
    warn2 = warning(at("16:55"), 0.5, subject="ticket:T-2")
    breach = breached(at("17:10"))
    breach2 = breached(at("17:15"), subject="ticket:T-2")
    held = warning(at("16:40"), 0.5, subject="ticket:T-3")
    return [
        ("out", at("16:40"), held),
        ("out", at("16:50"), warn),
        ("out", at("16:55"), warn2),
        ("out", at("17:10"), breach),
        ("out", at("17:15"), breach2),
        ("due", at("17:50"), None),
        ("ack", at("17:50"), ack(at("17:50"), "ticket:T-2")),
        ("out", at("18:00"), retraction(warn, at("18:00"))),
        ("out", at("18:05"), breached(at("18:04"))),
        ("due", at("2026-03-03T10:00:00Z"), None),
        ("out", at("2026-03-03T10:00:00Z"), stopped(at("2026-03-03T10:00:00Z"))),
        ("due", at("2026-03-04T00:00:00Z"), None),
    ]


def _play(planner: Planner, script: list[tuple[str, int, object]], cut: int | None) -> list[bytes]:
    notes: list[Notification] = []
    for i, (kind, t, arg) in enumerate(script):
        if i == cut:
            planner = _roundtrip(planner)
        notes += planner.due(t)
        if kind == "out":
            assert isinstance(arg, Output)
            notes += planner.on_output(arg, t)
        elif kind == "ack":
            planner.on_ack(arg, t)  # type: ignore[arg-type]
    return [n.to_json() for n in notes]


def test_a_planner_restored_at_any_point_gives_identical_notifications() -> None:
    c = catalog(doc(CHAIN))
    script = _script()
    straight = _play(Planner(c), script, None)
    assert len(straight) > 10
    assert b'"time":"2026-03-03T09:20:00Z","escalation":"main","step":1,"repeat":2' in b"".join(
        straight
    )
    for cut in range(len(script)):
        assert _play(Planner(c), script, cut) == straight, cut


def test_the_running_view_survives_a_restore() -> None:
    p = Planner(catalog(doc(CHAIN)))
    p.on_output(warning(at("16:50"), 0.5), at("16:50"))
    p.on_output(breached(at("17:10")), at("17:10"))
    assert _roundtrip(p).running() == p.running()
    assert p.running()[0].to_dict()["due"][0]["time"] == "2026-03-02T17:40:00Z"


@pytest.mark.parametrize("name", ["15-escalation-chain-basic", "17-quiet-hours-hold"])
def test_replay_with_the_planner_restored_after_every_line_is_unchanged(name: str) -> None:
    sc = yaml.safe_load((CONTRACT / f"{name}.yaml").read_text())
    lines = [orjson.dumps(e) for e in sc["events"]]
    until = parse_time(sc["until"])

    def run(restore: bool) -> list[dict[str, object]]:
        driver = Driver(scenario_versions(sc), until=until)
        for line in lines:
            driver.feed(line)
            if restore:
                driver.planner = _roundtrip(driver.planner, ticket=driver.ticket)
        driver.finish()
        return driver.emitted

    assert run(True) == run(False)


def test_a_record_of_another_format_or_unknown_chain_is_refused() -> None:
    p = Planner(catalog(doc(CHAIN)))
    p.on_output(breached(at("17:10")), at("17:10"))
    record = p.to_record()
    with pytest.raises(PlannerStateError):
        Planner.from_record({**record, "format": 99}, p.catalog)
    renamed = doc(CHAIN).replace("  main:", "  renamed:")
    other = catalog(renamed.replace("escalation: main", "escalation: renamed"))
    with pytest.raises(PlannerStateError):
        Planner.from_record(record, other)
