"""Rules 7-9: which SLAs apply, cancellation, SLAs that start applying later."""

from __future__ import annotations

from tests.support.replaying import created, run, ticket, versions

TWO_SLAS = """
slas:
  - id: gold
    kind: customer
    applies_to: {customer_tier: gold}
    targets:
      - id: resolution
        start: [{event: created}, {event: field_changed, field: customer_tier, to: gold}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 4h, calendar: "24x7"}]
  - id: l2-ola
    kind: ola
    underpins: gold
    applies_to: {assignee_group: l2}
    targets:
      - id: acknowledge
        start: [{event: field_changed, field: assignee_group, to: l2}]
        stop: [{event: field_changed, field: assignee, from: null}]
        goals: [{target: 1h, calendar: "24x7"}]
"""


def test_several_slas_run_their_own_clocks() -> None:
    r = run(
        TWO_SLAS,
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="gold"),
            ticket("e2", "2026-03-02T09:10:00Z", assignee_group="l2"),
            ticket("e3", "2026-03-02T09:40:00Z", assignee="ann"),
        ],
        until="2026-03-02T14:00:00Z",
    )
    started = r.of("sla.clock.started")
    assert [(o["sla"], o["kind"], o.get("underpins")) for o in started] == [
        ("gold", "customer", None),
        ("l2-ola", "ola", "gold"),
    ]
    assert r.of("sla.clock.stopped")[0]["sla"] == "l2-ola"
    assert r.of("sla.breached")[0]["sla"] == "gold"


def test_ola_runs_whether_or_not_the_sla_it_underpins_applies() -> None:
    r = run(
        TWO_SLAS,
        [created("e1", "2026-03-02T09:00:00Z", customer_tier="silver", assignee_group="l2")],
        until="2026-03-02T14:00:00Z",
    )
    assert [o["sla"] for o in r.of("sla.breached")] == ["l2-ola"]


def test_stop_matching_cancels_and_deleted_cancels() -> None:
    r = run(
        TWO_SLAS,
        [
            created("e1", "2026-03-02T09:00:00Z", "T-1", customer_tier="gold"),
            created("e2", "2026-03-02T09:00:00Z", "T-2", customer_tier="gold"),
            ticket("e3", "2026-03-02T10:00:00Z", "T-1", customer_tier="silver"),
            ticket("e4", "2026-03-02T10:30:00Z", "T-2", kind="ticket.deleted"),
            ticket("e5", "2026-03-02T10:40:00Z", "T-2", customer_tier="gold", status="open"),
        ],
        until="2026-03-02T20:00:00Z",
    )
    cancelled = r.of("sla.clock.cancelled")
    assert [(o["subject"], o["reason"], o["breached"]) for o in cancelled] == [
        ("ticket:T-1", "no_longer_applies", False),
        ("ticket:T-2", "deleted", False),
    ]
    assert cancelled[0]["deadline"] is None
    assert r.of("sla.breached") == []
    assert r.stats is not None and r.stats.ignored == 1


def test_cancelled_after_breach_says_so() -> None:
    r = run(
        TWO_SLAS,
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="gold"),
            ticket("e2", "2026-03-02T14:00:00Z", customer_tier="silver"),
        ],
    )
    (cancel,) = r.of("sla.clock.cancelled")
    assert cancel["breached"] is True
    assert cancel["deadline"] == "2026-03-02T13:00:00Z"


def test_sla_that_starts_applying_later_watches_from_the_event_that_made_it_match() -> None:
    r = run(
        TWO_SLAS,
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="silver"),
            ticket("e2", "2026-03-02T10:00:00Z", customer_tier="gold"),
        ],
        until="2026-03-02T20:00:00Z",
    )
    (start,) = r.of("sla.clock.started", sla="gold")
    assert start["time"] == "2026-03-02T10:00:00Z"
    assert r.of("sla.breached", sla="gold")[0]["time"] == "2026-03-02T14:00:00Z"


RETRO = """
slas:
  - id: gold
    kind: customer
    applies_to: {customer_tier: gold}
    targets:
      - id: resolution
        retroactive: true
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        pause_while: {status: waiting}
        goals:
          - {when: {priority: P1}, target: 1h, calendar: "24x7"}
          - {target: 4h, calendar: "24x7"}
        warn_at: [0.5]
      - id: plain
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 4h, calendar: "24x7"}]
"""


def test_retroactive_target_is_computed_from_the_first_event() -> None:
    r = run(
        RETRO,
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="silver", priority="P3"),
            ticket("e2", "2026-03-02T09:30:00Z", status="waiting"),
            ticket("e3", "2026-03-02T10:00:00Z", status="open"),
            ticket("e4", "2026-03-02T12:00:00Z", customer_tier="gold"),
        ],
        until="2026-03-02T20:00:00Z",
    )
    started = r.of("sla.clock.started", target="resolution")
    assert [o["time"] for o in started] == ["2026-03-02T09:00:00Z"]
    assert [o["time"] for o in r.of("sla.clock.paused")] == ["2026-03-02T09:30:00Z"]
    assert [o["time"] for o in r.of("sla.clock.resumed")] == ["2026-03-02T10:00:00Z"]
    (warning,) = r.of("sla.warning")
    assert warning["time"] == "2026-03-02T11:30:00Z"
    assert r.of("sla.breached", target="resolution")[0]["time"] == "2026-03-02T13:30:00Z"
    assert r.of("sla.clock.started", target="plain") == []
    past = next(
        outs for cause, outs in r.steps if cause.event is not None and cause.event.id == "e4"
    )
    assert [o["type"] for o in past] == [
        "sla.clock.started",
        "sla.clock.paused",
        "sla.clock.resumed",
        "sla.warning",
    ]


def test_retroactive_applies_only_the_first_time() -> None:
    r = run(
        RETRO,
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="gold"),
            ticket("e2", "2026-03-02T09:30:00Z", customer_tier="silver"),
            ticket("e3", "2026-03-02T10:00:00Z", customer_tier="gold"),
        ],
        until="2026-03-02T20:00:00Z",
    )
    assert [o["cycle"] for o in r.of("sla.clock.started", target="resolution")] == [1]
    assert len(r.of("sla.clock.cancelled", target="resolution")) == 1


def test_a_first_application_under_a_version_without_retroactive_counts_as_the_first() -> None:
    """Rule 9's "only the first time the SLA applies": a version that makes the target
    retroactive later does not recompute it (nor reuse cycle 1, rule 10)."""
    plain = RETRO.replace("        retroactive: true\n", "")
    r = run(
        versions((plain, None), (RETRO, "2026-03-02T10:00:00Z")),
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="gold"),
            ticket("e2", "2026-03-02T09:30:00Z", customer_tier="silver"),
            ticket("e3", "2026-03-02T10:30:00Z", customer_tier="gold"),
        ],
        until="2026-03-02T20:00:00Z",
    )
    resolution = r.of(target="resolution")
    assert [(o["type"], o["cycle"]) for o in resolution] == [
        ("sla.clock.started", 1),
        ("sla.clock.cancelled", 1),
    ]


def test_the_retraction_of_an_ola_output_says_what_it_underpins() -> None:
    r = run(
        TWO_SLAS,
        [
            created("e1", "2026-03-02T09:00:00Z", customer_tier="gold"),
            ticket("e2", "2026-03-02T09:10:00Z", assignee_group="l2"),
            ticket("x", "2026-03-02T10:30:00Z", "T-9", status="open"),
            ticket("e3", "2026-03-02T09:40:00Z", assignee="ann"),
        ],
        until="2026-03-02T14:00:00Z",
    )
    (retraction,) = r.of("sla.retracted", sla="l2-ola")
    assert list(retraction)[:7] == ["id", "type", "time", "sla", "target", "kind", "underpins"]
    assert (retraction["kind"], retraction["underpins"]) == ("ola", "gold")
    assert "underpins" not in r.of("sla.clock.started", sla="gold")[0]


def test_a_target_without_stop_triggers_runs_until_cancelled_and_one_without_start_never_runs() -> (
    None
):
    defs = """
slas:
  - id: gold
    kind: customer
    targets:
      - id: open_ended
        start: [{event: created}]
        stop: []
        goals: [{target: 1h, calendar: "24x7"}]
      - id: never
        start: []
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 1h, calendar: "24x7"}]
  - id: empty
    kind: customer
    targets: []
"""
    r = run(
        defs,
        [
            created("e1", "2026-03-02T09:00:00Z"),
            ticket("e2", "2026-03-02T09:30:00Z", status="resolved"),
            ticket("e3", "2026-03-02T11:00:00Z", kind="ticket.deleted"),
        ],
        until="2026-03-02T12:00:00Z",
    )
    assert [(o["type"], o["target"]) for o in r.of()] == [
        ("sla.clock.started", "open_ended"),
        ("sla.breached", "open_ended"),
        ("sla.clock.cancelled", "open_ended"),
    ]
