"""Loading documents: the spec's example, YAML 1.2 pitfalls, JSON, scenarios, ``check``."""

from __future__ import annotations

import json
import re
import textwrap
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from slawatch.definitions import (
    ALWAYS_OPEN,
    DefinitionsError,
    Problem,
    check_definitions,
    definitions_from_data,
    load_definitions,
    load_yaml,
    unset_env_references,
)
from slawatch.definitions.model import (
    AllOf,
    AnyOf,
    FieldMatch,
    Not,
    SlaKind,
    Trigger,
    TriggerKind,
    UnknownPolicy,
    WarnPoint,
    WindowKind,
)
from slawatch.timeutil import HOUR, MINUTE

HERE = Path(__file__).parent
EXAMPLE = (HERE / "example.yaml").read_text(encoding="utf-8")
SCENARIO_FILES = sorted((HERE.parent / "scenarios").rglob("*.yaml"))


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip()


MINIMAL = doc(
    """
    slas:
      - id: gold
        targets:
          - id: first_response
            start: [{event: created}]
            stop: [{event: commented, author_role: agent}]
            goals: [{target: 1h, calendar: 24x7}]
    """
)


def test_the_example_of_the_spec_loads() -> None:
    defs = load_definitions(EXAMPLE)
    assert [s.id for s in defs.slas] == ["gold-support", "l2-network-ola"]
    assert set(defs.calendars) == {"24x7", "nl-office", "us-support"}
    assert defs.calendars["24x7"] == ALWAYS_OPEN
    assert set(defs.escalations) == {"gold-chain", "l2-chain", "sre-chain"}
    assert defs.format_version == 1

    office = defs.calendars["nl-office"]
    assert office.timezone == "Europe/Amsterdam"
    assert office.week[:5] == (((8 * 3600, 12 * 3600), (13 * 3600, 17 * 3600)),) * 5
    assert office.week[5] == ((10 * 3600, 14 * 3600),)
    assert office.week[6] == ()
    assert office.country == "NL" and office.subdivision is None
    assert office.explicit_dates == {date(2026, 12, 24), date(2026, 12, 31)}
    assert {date(2026, 4, 27), date(2026, 12, 25), date(2026, 12, 24)} <= office.holidays
    assert office.holidays_package_version
    assert defs.calendars["us-support"].holidays == frozenset()

    gold = defs.slas[0]
    assert gold.kind is SlaKind.CUSTOMER
    assert gold.applies_to == FieldMatch("customer_tier", ("gold",))
    assert gold.escalation == "gold-chain" and gold.underpins is None
    first, resolution = gold.targets
    assert first.start == (Trigger(TriggerKind.CREATED),)
    assert first.stop == (
        Trigger(TriggerKind.COMMENTED, author_roles=("agent",), public=True),
        Trigger(TriggerKind.STATUS_ENTERED, field="status", status=("resolved", "closed")),
    )
    assert [(g.target, g.calendar) for g in first.goals] == [
        (30 * MINUTE, "24x7"),
        (2 * HOUR, "nl-office"),
        (24 * HOUR, "nl-office"),
    ]
    assert first.goals[0].when == FieldMatch("priority", ("P1",)) and first.goals[2].when is None
    assert first.warn_at == (
        WarnPoint(0.5, fraction=Fraction(1, 2)),
        WarnPoint(0.75, fraction=Fraction(3, 4)),
        WarnPoint(0.9, fraction=Fraction(9, 10)),
    )
    assert resolution.start[0].condition == Not(FieldMatch("status", ("resolved", "closed")))
    assert resolution.start[1] == Trigger(
        TriggerKind.STATUS_ENTERED,
        field="status",
        status=("open",),
        from_values=("resolved", "closed"),
    )
    assert resolution.pause_while == FieldMatch("status", ("waiting_on_customer", "on_hold"))
    assert resolution.warn_at[2] == WarnPoint("1h", before=HOUR)

    ola = defs.slas[1]
    assert ola.kind is SlaKind.OLA and ola.underpins == "gold-support" and ola.escalation is None
    (ack,) = ola.targets
    assert ack.escalation == "l2-chain"
    assert ack.start == (
        Trigger(TriggerKind.FIELD_CHANGED, field="assignee_group", to_values=("network-l2",)),
    )
    assert ack.stop == (Trigger(TriggerKind.FIELD_CHANGED, field="assignee", from_values=(None,)),)

    (uptime,) = defs.availability
    assert uptime.objective == Fraction(999, 10)
    assert uptime.window is WindowKind.MONTH and uptime.rolling is None
    assert uptime.degraded_weight == 0 and uptime.stale_after == 5 * MINUTE
    assert uptime.unknown_counts_as is UnknownPolicy.EXCLUDED
    assert uptime.maintenance[0].rrule == "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0"
    assert uptime.maintenance[0].duration == 2 * HOUR
    assert uptime.warn_at_budget == (Fraction(1, 2), Fraction(3, 4), Fraction(9, 10))
    assert uptime.warn_at_budget_written == (0.5, 0.75, 0.9)
    assert [(c.below, c.percent) for c in uptime.credits] == [
        (Fraction(999, 10), 10),
        (Fraction(99), 25),
        (Fraction(95), 100),
    ]

    gold_chain = defs.escalations["gold-chain"]
    assert gold_chain.stop_on == ("acknowledged", "sla.clock.stopped")
    warning, breach, after, finally_solved = gold_chain.steps
    assert warning.when_event == "sla.warning" and warning.at_least == Fraction(3, 4)
    assert warning.during == "nl-office" and warning.notify == ("team:support-gold",)
    assert breach.notify == ("role:assignee", "team:support-leads")
    assert after.when_event is None and after.after == 30 * MINUTE
    assert (after.repeat_every, after.repeat_times) == (HOUR, 2)
    assert finally_solved.outcome == "breached"
    assert finally_solved.targets == ("time_to_resolution",)
    assert finally_solved.condition == FieldMatch("priority", ("P1", "P2"))

    assert defs.people["duty-manager"].addresses == (
        ("email", "duty@example.com"),
        ("chat", "@duty"),
    )
    assert defs.teams["support-gold"].members == ("duty-manager",)
    assert defs.channels["email"].type == "smtp"
    assert dict(defs.channels["email"].settings) == {
        "host": "${SMTP_HOST}",
        "port": 587,
        "starttls": True,
        "from": "slawatch@example.com",
    }
    assert defs.channels["chat"].settings == (("webhook_url", "${SLACK_WEBHOOK_URL}"),)


def test_the_example_as_json_gives_the_same_model() -> None:
    data = load_yaml(EXAMPLE)
    text = json.dumps(data, indent=2)
    assert text.lstrip().startswith("{")
    assert load_definitions(text) == load_definitions(EXAMPLE)


def test_json_with_a_duplicate_key_is_rejected() -> None:
    with pytest.raises(DefinitionsError) as raised:
        load_yaml('{"slas": [], "slas": []}')
    assert "duplicate key" in raised.value.problems[0].message


def test_yaml_1_2_keeps_bare_words_and_country_codes_as_strings() -> None:
    text = doc(
        """
        calendars:
          oslo:
            timezone: Europe/Oslo
            week: {mon-fri: ["08:00-16:00"]}
            holidays: {country: NO}
        slas:
          - id: gold
            applies_to: {attributes.flag: [on, off], attributes.ok: yes, status: no}
            targets:
              - id: first_response
                start: [{event: created}]
                stop: [{event: commented}]
                goals: [{target: 4h, calendar: oslo}]
        """
    )
    defs = load_definitions(text)
    oslo = defs.calendars["oslo"]
    assert oslo.country == "NO"
    assert date(2026, 5, 17) in oslo.holidays
    assert defs.slas[0].applies_to == AllOf(
        (
            FieldMatch("attributes.flag", ("on", "off")),
            FieldMatch("attributes.ok", ("yes",)),
            FieldMatch("status", ("no",)),
        )
    )


def test_values_compare_as_loaded() -> None:
    text = MINIMAL.replace(
        "  - id: gold\n",
        "  - id: gold\n    applies_to: {attributes.level: 1, attributes.vip: true, region: null, "
        "attributes.score: 1.5}\n",
    )
    applies_to = load_definitions(text).slas[0].applies_to
    assert applies_to == AllOf(
        (
            FieldMatch("attributes.level", (1,)),
            FieldMatch("attributes.vip", (True,)),
            FieldMatch("region", (None,)),
            FieldMatch("attributes.score", (1.5,)),
        )
    )


def test_a_yaml_1_1_directive_is_refused() -> None:
    with pytest.raises(DefinitionsError) as raised:
        load_yaml("%YAML 1.1\n---\ncountry: NO\n")
    assert "YAML 1.2" in raised.value.problems[0].message
    assert load_yaml("%YAML 1.2\n---\ncountry: NO\n") == {"country": "NO"}


def test_unquoted_and_quoted_dates_and_date_objects_are_holidays() -> None:
    text = doc(
        """
        calendars:
          office:
            timezone: UTC
            week: {mon-fri: ["09:00-17:00"]}
            holidays: {dates: [2026-12-24, "2026-12-31"]}
        """
    )
    assert load_yaml(text) == {
        "calendars": {
            "office": {
                "timezone": "UTC",
                "week": {"mon-fri": ["09:00-17:00"]},
                "holidays": {"dates": ["2026-12-24", "2026-12-31"]},
            }
        }
    }
    expected = {date(2026, 12, 24), date(2026, 12, 31)}
    assert load_definitions(text).calendars["office"].holidays == expected
    from_pyyaml = definitions_from_data(yaml.safe_load(text))
    assert from_pyyaml.calendars["office"].explicit_dates == expected


def test_a_syntax_error_names_line_and_column() -> None:
    report = check_definitions("slas:\n  - id: gold\n    targets: [\n")
    assert report.definitions is None
    (problem,) = report.errors
    assert problem.path == "(document)"
    assert "not valid YAML at line" in problem.message


def test_a_duplicate_yaml_key_is_rejected() -> None:
    with pytest.raises(DefinitionsError) as raised:
        load_definitions("slas: []\nslas: []\n")
    assert "duplicate key" in raised.value.problems[0].message


def test_every_repeated_key_is_listed_with_its_place_beside_the_other_problems() -> None:
    text = """\
slas:
  - id: gold
    kind: customer
    escalation: nope
    targets: []
people:
  lead: {email: a@example.com}
  lead: {email: b@example.com}
teams:
  ops: {email: x@example.com, email: y@example.com}
channels:
  email: {type: smtp, host: smtp.example.com, port: 587, from: s@example.com}
"""
    with pytest.raises(DefinitionsError) as raised:
        load_definitions(text)
    problems = [(p.path, p.message) for p in raised.value.problems]
    assert problems[:2] == [
        ("people.lead", "duplicate key 'lead' at line 8 (first at line 7): a key may appear once"),
        (
            "teams.ops.email",
            "duplicate key 'email' at line 10 (first at line 10): a key may appear once",
        ),
    ]
    assert any(path == "slas[0].escalation" for path, _ in problems[2:])
    report = check_definitions(text)
    assert report.definitions is None
    assert [p.path for p in report.errors][:2] == ["people.lead", "teams.ops.email"]


def test_equal_looking_keys_of_other_types_are_not_repeats() -> None:
    assert load_yaml('a:\n  1: x\n  "1": y\n') == {"a": {1: "x", "1": "y"}}


def test_kind_defaults_to_customer_and_optional_fields_to_their_defaults() -> None:
    defs = load_definitions(MINIMAL)
    (sla,) = defs.slas
    assert sla.kind is SlaKind.CUSTOMER and sla.applies_to is None and sla.escalation is None
    (target,) = sla.targets
    assert target.warn_at == () and target.pause_while is None and target.retroactive is False
    assert defs.calendars == {"24x7": ALWAYS_OPEN}


def test_retroactive_is_read() -> None:
    text = MINIMAL.replace("goals: [", "retroactive: true\n        goals: [")
    assert load_definitions(text).slas[0].targets[0].retroactive is True


def test_conditions_build_not_any_and_allof_in_document_order() -> None:
    text = MINIMAL.replace(
        "  - id: gold\n",
        "  - id: gold\n    applies_to: {any: [{priority: P1}, {not: {status: closed}}], "
        "service: [api, web]}\n",
    )
    assert load_definitions(text).slas[0].applies_to == AllOf(
        (
            AnyOf((FieldMatch("priority", ("P1",)), Not(FieldMatch("status", ("closed",))))),
            FieldMatch("service", ("api", "web")),
        )
    )


def test_field_changed_from_and_to() -> None:
    text = MINIMAL.replace(
        "stop: [{event: commented, author_role: agent}]",
        "stop: [{event: field_changed, field: attributes.owner, from: null, to: [a, b]},"
        " {event: field_changed, field: priority}]",
    )
    first, second = load_definitions(text).slas[0].targets[0].stop
    assert first == Trigger(
        TriggerKind.FIELD_CHANGED,
        field="attributes.owner",
        from_values=(None,),
        to_values=("a", "b"),
    )
    assert second == Trigger(TriggerKind.FIELD_CHANGED, field="priority")


def test_availability_reads_decimals_exactly_and_rolling_windows() -> None:
    text = doc(
        """
        availability:
          - id: api
            service: api
            objective: "99.95"
            window: {rolling: 30d}
            degraded_weight: 0.1
            kind: uc
        """
    )
    (objective,) = load_definitions(text).availability
    assert objective.objective == Fraction(9995, 100)
    assert objective.window is WindowKind.ROLLING and objective.rolling == 30 * 24 * HOUR
    assert objective.degraded_weight == Fraction(1, 10)
    assert objective.kind is SlaKind.UC
    assert objective.calendar == "24x7" and objective.timezone == "UTC"


def test_stop_on_accepts_sla_retracted() -> None:
    text = MINIMAL.replace("  - id: gold\n", "  - id: gold\n    escalation: c\n") + doc(
        """
        escalations:
          c:
            steps: [{when: {event: sla.breached}, notify: [role:assignee]}]
            stop_on: [acknowledged, sla.clock.stopped, sla.retracted]
        """
    )
    chain = load_definitions(text).escalations["c"]
    assert chain.stop_on == ("acknowledged", "sla.clock.stopped", "sla.retracted")


def test_an_empty_stop_on_is_no_stop_event_not_the_default() -> None:
    text = MINIMAL.replace("  - id: gold\n", "  - id: gold\n    escalation: c\n") + doc(
        """
        escalations:
          c:
            steps: [{when: {event: sla.breached}, notify: [role:assignee]}]
            stop_on: []
        """
    )
    assert load_definitions(text).escalations["c"].stop_on == ()


def test_check_reports_warnings_holidays_and_unset_variables() -> None:
    report = check_definitions(EXAMPLE, years=[2026], environ={"SMTP_HOST": "mail"})
    assert report.ok and report.definitions is not None
    assert report.holidays["us-support"] == []
    office = report.holidays["nl-office"]
    assert office == sorted(office)
    assert {date(2026, 4, 27), date(2026, 12, 24), date(2026, 12, 31)} <= set(office)
    assert all(day.year == 2026 for day in office)
    assert "24x7" not in report.holidays
    assert (
        Problem("channels.chat.webhook_url", "environment variable SLACK_WEBHOOK_URL is not set")
        in report.warnings
    )
    assert not any("SMTP_HOST" in w.message for w in report.warnings)


def test_check_lists_this_year_and_the_next_by_default() -> None:
    report = check_definitions(EXAMPLE)
    years = {day.year for day in report.holidays["nl-office"]}
    assert years == {date.today().year, date.today().year + 1}


def test_unset_env_references_scans_settings_and_addresses() -> None:
    text = EXAMPLE.replace("{email: leads@example.com}", '{email: "${LEADS}@example.com"}')
    defs = load_definitions(text)
    problems = unset_env_references(defs, {})
    assert [p.path for p in problems] == [
        "channels.email.host",
        "channels.chat.webhook_url",
        "teams.support-leads.email",
    ]
    assert (
        unset_env_references(defs, {"SMTP_HOST": "", "SLACK_WEBHOOK_URL": "x", "LEADS": "l"}) == []
    )


def test_a_day_unit_on_a_business_calendar_is_a_warning() -> None:
    text = doc(
        """
        calendars:
          office: {timezone: UTC, week: {mon-fri: ["09:00-17:00"]}}
        slas:
          - id: gold
            targets:
              - id: resolution
                start: [{event: created}]
                stop: [{event: status_entered, status: resolved}]
                goals:
                  - {when: {priority: P1}, target: 1d, calendar: 24x7}
                  - {target: 1d, calendar: office}
                warn_at: [0.5, 2h, 1w]
        """
    )
    report = check_definitions(text)
    assert report.ok
    day_notes = [(w.path, w.message) for w in report.warnings if "working hours" in w.message]
    assert [path for path, _ in day_notes] == [
        "slas[0].targets[0].goals[1].target",
        "slas[0].targets[0].warn_at[2]",
    ]
    assert day_notes[0][1].startswith("1d here is 24 working hours, 3 days of this calendar")
    assert day_notes[1][1].startswith("1w here is 168 working hours, 21 days of this calendar")


def test_the_day_note_averages_the_working_days_of_the_calendar() -> None:
    report = check_definitions(EXAMPLE)
    (note, _) = [w.message for w in report.warnings if w.message.startswith(("1d", "5d"))]
    assert note.startswith("1d here is 24 working hours, about 3.3 days of this calendar")


def test_a_warning_duration_longer_than_its_goal_is_a_warning() -> None:
    text = MINIMAL.replace("goals: [", "warn_at: [2h]\n        goals: [")
    report = check_definitions(text)
    assert report.ok
    assert [w.path for w in report.warnings] == ["slas[0].targets[0].warn_at[0]"]
    assert "never fires" in report.warnings[0].message


def test_a_non_string_value_for_a_ticket_field_is_a_warning() -> None:
    text = MINIMAL.replace("  - id: gold\n", "  - id: gold\n    applies_to: {priority: [1, P2]}\n")
    report = check_definitions(text)
    assert report.ok
    assert [w.path for w in report.warnings] == ["slas[0].applies_to.priority[0]"]
    assert "compared as loaded" in report.warnings[0].message


def test_empty_trigger_and_target_lists_are_accepted_with_a_warning() -> None:
    """The contract's list of reasons to reject a document does not name them."""
    for key, message in (("stop", "stops only when it is cancelled"),
                         ("start", "never starts")):  # fmt: skip
        text = re.sub(rf"{key}: \[[^\n]*\]", f"{key}: []", MINIMAL, count=1)
        report = check_definitions(text)
        assert report.ok, report.errors
        assert any(message in w.message for w in report.warnings), report.warnings
    text = re.sub(r"targets:\n(?:      .*\n)+", "targets: []\n", MINIMAL, count=1)
    report = check_definitions(text)
    assert report.ok, (report.errors, text)
    assert any("measures nothing" in w.message for w in report.warnings)


def test_other_warnings_of_check() -> None:
    text = MINIMAL + doc(
        """
        escalations:
          unused:
            steps: [{when: {event: sla.clock.stopped, target: first_respons}, notify: [team:ops]}]
        teams:
          ops: {members: [nobody]}
        """
    )
    report = check_definitions(text)
    assert report.ok
    assert {w.path for w in report.warnings} == {
        "escalations.unused",
        "escalations.unused.steps[0].when.target",
        "teams.ops",
        "teams.ops.members",
    }


@pytest.mark.skipif(not SCENARIO_FILES, reason="no scenario files under tests/scenarios")
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_scenario_definitions_load(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(scenario, dict) or "definitions" not in scenario:
        pytest.skip(f"{path.name} is not a scenario file")
    documents = [scenario["definitions"]]
    documents += [entry["definitions"] for entry in scenario.get("definitions_versions") or []]
    for document in documents:
        for text in (yaml.safe_dump(document, sort_keys=False), json.dumps(document, default=str)):
            report = check_definitions(text)
            assert report.errors == [], [str(p) for p in report.errors]
