"""Rule 18: a cycle runs under the definitions version in force when it started."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.replaying import created, run, ticket, versions

from slawatch.clock.catalog import Catalog
from slawatch.definitions.model import DefinitionsVersion, in_force

V1 = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: resolution
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 1h, calendar: "24x7"}]
"""
V2 = V1.replace("target: 1h", "target: 2h").replace(
    "    targets:", "    applies_to: {customer_tier: gold}\n    targets:"
)


def test_cycles_keep_the_version_they_started_under() -> None:
    vs = versions((V1, None), (V2, "2026-03-02T09:30:00Z"))
    r = run(
        vs,
        [
            created("e1", "2026-03-02T09:00:00Z", "T-1"),
            created("e2", "2026-03-02T09:45:00Z", "T-2", customer_tier="gold"),
            created("e3", "2026-03-02T09:50:00Z", "T-3", customer_tier="silver"),
        ],
        until="2026-03-02T13:00:00Z",
    )
    breaches = {o["subject"]: o for o in r.of("sla.breached")}
    assert set(breaches) == {"ticket:T-1", "ticket:T-2"}
    assert breaches["ticket:T-1"]["time"] == "2026-03-02T10:00:00Z"
    assert breaches["ticket:T-1"]["definitions_version"] == 1
    assert breaches["ticket:T-2"]["time"] == "2026-03-02T11:45:00Z"
    assert breaches["ticket:T-2"]["definitions_version"] == 2


def test_an_open_cycle_is_cancelled_by_its_own_versions_applies_to_only() -> None:
    vs = versions((V1, None), (V2, "2026-03-02T09:30:00Z"))
    r = run(
        vs,
        [
            created("e1", "2026-03-02T09:00:00Z", "T-1"),
            ticket("e2", "2026-03-02T09:40:00Z", "T-1", priority="P1"),
        ],
        until="2026-03-02T11:00:00Z",
    )
    assert r.of("sla.clock.cancelled") == []
    assert len(r.of("sla.breached", subject="ticket:T-1")) == 1


@settings(max_examples=60, deadline=None)
@given(
    starts=st.lists(st.none() | st.integers(0, 100), min_size=1, max_size=5),
    instants=st.lists(st.integers(-10, 110), min_size=1, max_size=10),
)
def test_the_version_in_force_is_the_one_the_engine_uses(
    starts: list[int | None], instants: list[int]
) -> None:
    definitions = versions((V1, None))[0].definitions
    vs = [DefinitionsVersion(n, start, definitions) for n, start in enumerate(starts, 1)]
    engine_view = Catalog(vs)
    for t in instants:
        view = engine_view.at(t)
        version = in_force(vs, t)
        assert (version and version.number) == (view and view.number)
