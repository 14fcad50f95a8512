"""Every rule of ``definitions.md`` "Validation": a failing document names the path and reason."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from slawatch.definitions import DefinitionsError, Problem, check_definitions, load_definitions

BASE: dict[str, Any] = {
    "version": 1,
    "calendars": {
        "office": {"timezone": "Europe/Amsterdam", "week": {"mon-fri": ["09:00-17:00"]}},
    },
    "slas": [
        {
            "id": "gold",
            "kind": "customer",
            "applies_to": {"customer_tier": "gold"},
            "escalation": "chain",
            "targets": [
                {
                    "id": "first_response",
                    "start": [{"event": "created"}],
                    "stop": [{"event": "commented", "author_role": "agent", "public": True}],
                    "goals": [
                        {"when": {"priority": "P1"}, "target": "1h", "calendar": "24x7"},
                        {"target": "4h", "calendar": "office"},
                    ],
                    "warn_at": [0.5, "15m"],
                }
            ],
        }
    ],
    "availability": [
        {
            "id": "api-uptime",
            "service": "api",
            "objective": 99.9,
            "window": "month",
            "warn_at_budget": [0.5],
            "credits": [{"below": 99.9, "percent": 10}],
            "maintenance": [{"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", "duration": "1h"}],
            "escalation": "chain",
        }
    ],
    "escalations": {
        "chain": {
            "steps": [
                {"when": {"event": "sla.breached"}, "notify": ["person:lead", "team:ops"]},
                {
                    "after": "30m",
                    "notify": ["role:assignee"],
                    "repeat": {"every": "1h", "times": 1},
                },
            ]
        }
    },
    "people": {"lead": {"email": "lead@example.com"}},
    "teams": {"ops": {"email": "ops@example.com"}},
    "channels": {"email": {"type": "smtp", "host": "smtp.example.com"}},
}

DELETE = object()
_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def patched(changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of BASE with each ``path: value`` set (``DELETE`` removes the key)."""
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        tokens: list[str | int] = [
            int(index) if index else key for key, index in _TOKEN.findall(path)
        ]
        parent: Any = doc
        for token in tokens[:-1]:
            parent = parent[token]
        if value is DELETE:
            del parent[tokens[-1]]
        elif isinstance(parent, list) and tokens[-1] == len(parent):
            parent.append(value)
        else:
            parent[tokens[-1]] = value
    return doc


def errors_of(doc: object) -> list[Problem]:
    report = check_definitions(json.dumps(doc), years=[2026])
    assert (report.definitions is None) == bool(report.errors)
    return report.errors


def test_the_base_document_is_valid() -> None:
    report = check_definitions(json.dumps(BASE), years=[2026])
    assert report.errors == []
    assert report.warnings == []


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    # ids duplicated or malformed
    ("duplicate SLA id", {"slas[1]": {**BASE["slas"][0]}}, "slas[1].id", "duplicate id 'gold'"),
    (
        "SLA and availability ids share a namespace",
        {"availability[0].id": "gold"},
        "availability[0].id",
        "share one namespace",
    ),
    (
        "duplicate availability id",
        {"availability[1]": {**BASE["availability"][0]}},
        "availability[1].id",
        "duplicate id 'api-uptime'",
    ),
    (
        "duplicate target id",
        {"slas[0].targets[1]": {**BASE["slas"][0]["targets"][0]}},
        "slas[0].targets[1].id",
        "duplicate target id 'first_response'",
    ),
    ("malformed SLA id", {"slas[0].id": "Gold_Support"}, "slas[0].id", "malformed"),
    ("SLA id not a string", {"slas[0].id": 7}, "slas[0].id", "non-empty string"),
    (
        "malformed target id",
        {"slas[0].targets[0].id": "First Response"},
        "slas[0].targets[0].id",
        "malformed",
    ),
    ("malformed person name", {"people.a b": {}}, 'people["a b"]', "malformed"),
    ("missing SLA id", {"slas[0].id": DELETE}, "slas[0].id", "an SLA needs 'id'"),
    # references
    (
        "goal calendar",
        {"slas[0].targets[0].goals[1].calendar": "ofice"},
        "slas[0].targets[0].goals[1].calendar",
        "unknown calendar 'ofice' (did you mean 'office'?",
    ),
    (
        "during calendar",
        {"escalations.chain.steps[0].during": "night"},
        "escalations.chain.steps[0].during",
        "unknown calendar 'night'",
    ),
    (
        "availability calendar",
        {"availability[0].calendar": "nowhere"},
        "availability[0].calendar",
        "unknown calendar",
    ),
    ("SLA escalation", {"slas[0].escalation": "gold"}, "slas[0].escalation", "unknown escalation"),
    (
        "target escalation",
        {"slas[0].targets[0].escalation": "l2"},
        "slas[0].targets[0].escalation",
        "unknown escalation chain 'l2'",
    ),
    (
        "availability escalation",
        {"availability[0].escalation": "sre"},
        "availability[0].escalation",
        "unknown escalation",
    ),
    (
        "underpins an unknown SLA",
        {"slas[0].underpins": "silver"},
        "slas[0].underpins",
        "unknown SLA id 'silver'",
    ),
    (
        "underpins an availability id",
        {"slas[0].underpins": "api-uptime"},
        "slas[0].underpins",
        "unknown SLA id",
    ),
    (
        "unknown person",
        {"escalations.chain.steps[0].notify[0]": "person:boss"},
        "escalations.chain.steps[0].notify[0]",
        "unknown person 'boss'",
    ),
    (
        "unknown team",
        {"escalations.chain.steps[0].notify[1]": "team:sre"},
        "escalations.chain.steps[0].notify[1]",
        "unknown team 'sre'",
    ),
    (
        "unknown role",
        {"escalations.chain.steps[1].notify[0]": "role:manager"},
        "escalations.chain.steps[1].notify[0]",
        "the only role is role:assignee",
    ),
    (
        "notify entry without a kind",
        {"escalations.chain.steps[1].notify[0]": "lead"},
        "escalations.chain.steps[1].notify[0]",
        "person:NAME, team:NAME or role:assignee",
    ),
    (
        "address keyed by an unknown channel",
        {"people.lead.mail": "lead@example.com"},
        "people.lead.mail",
        "unknown channel 'mail'",
    ),
    (
        "team address keyed by an unknown channel",
        {"teams.ops.chat": "#ops"},
        "teams.ops.chat",
        "unknown channel 'chat'",
    ),
    # durations, times, timezones, rrules
    (
        "goal duration",
        {"slas[0].targets[0].goals[1].target": "4 hours"},
        "slas[0].targets[0].goals[1].target",
        "not a duration",
    ),
    (
        "goal duration as a bare number",
        {"slas[0].targets[0].goals[1].target": 30},
        "slas[0].targets[0].goals[1].target",
        "with a unit",
    ),
    (
        "after duration",
        {"escalations.chain.steps[1].after": "soon"},
        "escalations.chain.steps[1].after",
        "not a duration",
    ),
    (
        "working time",
        {"calendars.office.week.mon-fri": ["9-17"]},
        "calendars.office.week.mon-fri[0]",
        "must look like",
    ),
    (
        "working time out of range",
        {"calendars.office.week.mon-fri": ["09:00-24:30"]},
        "calendars.office.week.mon-fri[0]",
        "not a valid time range",
    ),
    (
        "24:00 as a start",
        {"calendars.office.week.sat": ["24:00-24:00"]},
        "calendars.office.week.sat[0]",
        "24:00 only as an end",
    ),
    (
        "calendar timezone",
        {"calendars.office.timezone": "Europe/Amsterdamm"},
        "calendars.office.timezone",
        "unknown timezone 'Europe/Amsterdamm'",
    ),
    (
        "availability timezone",
        {"availability[0].timezone": "CET+1"},
        "availability[0].timezone",
        "unknown timezone",
    ),
    (
        "rrule",
        {"availability[0].maintenance[0].rrule": "FREQ=SOMETIMES"},
        "availability[0].maintenance[0].rrule",
        "does not parse",
    ),
    (
        "rrule UNTIL in UTC",
        {"availability[0].maintenance[0].rrule": "FREQ=WEEKLY;BYDAY=SU;UNTIL=20261231T235959Z"},
        "availability[0].maintenance[0].rrule",
        "write UNTIL in local time without a Z",
    ),
    (
        "rrule out of range",
        {"availability[0].maintenance[0].rrule": "FREQ=DAILY;BYHOUR=25"},
        "availability[0].maintenance[0].rrule",
        "does not parse",
    ),
    (
        "holiday date",
        {"calendars.office.holidays": {"dates": ["2026-02-30"]}},
        "calendars.office.holidays.dates[0]",
        "YYYY-MM-DD",
    ),
    (
        "holiday date format",
        {"calendars.office.holidays": {"dates": ["24-12-2026"]}},
        "calendars.office.holidays.dates[0]",
        "YYYY-MM-DD",
    ),
    # working intervals
    (
        "empty interval",
        {"calendars.office.week.sat": ["10:00-10:00"]},
        "calendars.office.week.sat[0]",
        "is empty",
    ),
    (
        "reversed interval",
        {"calendars.office.week.sat": ["22:00-06:00"]},
        "calendars.office.week.sat[0]",
        "ends before it starts",
    ),
    (
        "overlap within a day",
        {"calendars.office.week.mon-fri": ["09:00-13:00", "12:00-17:00"]},
        "calendars.office.week.mon-fri[1]",
        "overlaps calendars.office.week.mon-fri[0] on mon, tue, wed, thu, fri",
    ),
    (
        "overlap across keys naming the same day",
        {"calendars.office.week.wed": ["16:00-18:00"]},
        "calendars.office.week.wed[0]",
        "overlaps calendars.office.week.mon-fri[0] on wed",
    ),
    (
        "no working time",
        {"calendars.office.week": {"mon-fri": [], "sat": []}},
        "calendars.office.week",
        "no working time",
    ),
    (
        "unknown weekday",
        {"calendars.office.week.Sat": ["10:00-12:00"]},
        "calendars.office.week.Sat",
        "unknown weekday",
    ),
    (
        "weekday range wrapping past Sunday",
        {"calendars.office.week": {"fri-mon": ["10:00-12:00"]}},
        "calendars.office.week.fri-mon",
        "write fri-sun and mon",
    ),
    (
        "defining 24x7",
        {"calendars.24x7": {"timezone": "UTC", "week": {"mon-sun": ["00:00-24:00"]}}},
        "calendars.24x7",
        "built in",
    ),
    (
        "calendar without timezone",
        {"calendars.office.timezone": DELETE},
        "calendars.office.timezone",
        "needs 'timezone'",
    ),
    # goals
    (
        "goal without calendar",
        {"slas[0].targets[0].goals[1].calendar": DELETE},
        "slas[0].targets[0].goals[1].calendar",
        "a goal needs 'calendar'",
    ),
    (
        "goal without target",
        {"slas[0].targets[0].goals[1].target": DELETE},
        "slas[0].targets[0].goals[1].target",
        "a goal needs 'target'",
    ),
    (
        "zero goal",
        {"slas[0].targets[0].goals[1].target": "0m"},
        "slas[0].targets[0].goals[1].target",
        "must be positive",
    ),
    (
        "goal of over ten years",
        {"slas[0].targets[0].goals[1].target": "600w"},
        "slas[0].targets[0].goals[1].target",
        "longer than ten years",
    ),
    (
        "catch-all goal before the end",
        {"slas[0].targets[0].goals[0].when": DELETE},
        "slas[0].targets[0].goals[0]",
        "only the last goal may leave out `when`",
    ),
    (
        "last goal with when",
        {"slas[0].targets[0].goals[1].when": {"priority": "P2"}},
        "slas[0].targets[0].goals[1].when",
        "the last goal must have no `when`",
    ),
    ("no goals", {"slas[0].targets[0].goals": []}, "slas[0].targets[0].goals", "non-empty list"),
    # warn_at, warn_at_budget
    (
        "warn_at fraction of 1",
        {"slas[0].targets[0].warn_at": [1]},
        "slas[0].targets[0].warn_at[0]",
        "between 0 and 1",
    ),
    (
        "warn_at fraction of 0",
        {"slas[0].targets[0].warn_at": [0.0]},
        "slas[0].targets[0].warn_at[0]",
        "between 0 and 1",
    ),
    (
        "warn_at zero duration",
        {"slas[0].targets[0].warn_at": ["0s"]},
        "slas[0].targets[0].warn_at[0]",
        "must be positive",
    ),
    (
        "warn_at neither fraction nor duration",
        {"slas[0].targets[0].warn_at": ["half"]},
        "slas[0].targets[0].warn_at[0]",
        "a fraction in (0, 1) or a duration",
    ),
    (
        "warn_at repeated fraction",
        {"slas[0].targets[0].warn_at": [0.5, 0.75, 0.50]},
        "slas[0].targets[0].warn_at[2]",
        "repeats slas[0].targets[0].warn_at[0]",
    ),
    (
        "warn_at repeated duration",
        {"slas[0].targets[0].warn_at": ["15m", "900s"]},
        "slas[0].targets[0].warn_at[1]",
        "repeats",
    ),
    (
        "warn_at_budget out of range",
        {"availability[0].warn_at_budget": [0.5, 1.5]},
        "availability[0].warn_at_budget[1]",
        "between 0 and 1",
    ),
    (
        "warn_at_budget repeated",
        {"availability[0].warn_at_budget": [0.5, 0.5]},
        "availability[0].warn_at_budget[1]",
        "repeats",
    ),
    (
        "warn_at_budget as a duration",
        {"availability[0].warn_at_budget": ["1h"]},
        "availability[0].warn_at_budget[0]",
        "fraction in (0, 1)",
    ),
    # conditions and triggers
    (
        "condition with an unknown field",
        {"slas[0].applies_to": {"tier": "gold"}},
        "slas[0].applies_to.tier",
        "unknown ticket field 'tier'",
    ),
    (
        "condition with attributes. and no name",
        {"slas[0].applies_to": {"attributes.": "x"}},
        'slas[0].applies_to["attributes."]',
        "unknown ticket field",
    ),
    (
        "not with a list",
        {"slas[0].applies_to": {"not": [{"priority": "P1"}]}},
        "slas[0].applies_to.not",
        "must be a mapping",
    ),
    (
        "any with a mapping",
        {"slas[0].applies_to": {"any": {"priority": "P1"}}},
        "slas[0].applies_to.any",
        "non-empty list of condition mappings",
    ),
    (
        "nested condition error",
        {"slas[0].targets[0].pause_while": {"any": [{"status": "x"}, {"stauts": "y"}]}},
        "slas[0].targets[0].pause_while.any[1].stauts",
        "unknown ticket field",
    ),
    (
        "condition value that is a mapping",
        {"slas[0].applies_to": {"priority": {"in": ["P1"]}}},
        "slas[0].applies_to.priority",
        "string, number, true, false or null",
    ),
    (
        "empty value list",
        {"slas[0].applies_to": {"priority": []}},
        "slas[0].applies_to.priority",
        "matches nothing",
    ),
    (
        "unknown trigger",
        {"slas[0].targets[0].start": [{"event": "ticket.created"}]},
        "slas[0].targets[0].start[0].event",
        "did you mean 'created'?",
    ),
    (
        "trigger without event",
        {"slas[0].targets[0].start": [{"status": "open"}]},
        "slas[0].targets[0].start[0].event",
        "a trigger needs 'event'",
    ),
    (
        "trigger with another kind's key",
        {"slas[0].targets[0].start": [{"event": "created", "status": "open"}]},
        "slas[0].targets[0].start[0].status",
        "unknown key 'status' in a created trigger",
    ),
    (
        "status_entered without status",
        {"slas[0].targets[0].stop": [{"event": "status_entered", "from": "open"}]},
        "slas[0].targets[0].stop[0].status",
        "needs 'status'",
    ),
    (
        "field_changed without field",
        {"slas[0].targets[0].stop": [{"event": "field_changed", "to": "x"}]},
        "slas[0].targets[0].stop[0].field",
        "needs 'field'",
    ),
    (
        "field_changed on an unknown field",
        {"slas[0].targets[0].stop": [{"event": "field_changed", "field": "owner"}]},
        "slas[0].targets[0].stop[0].field",
        "unknown ticket field 'owner'",
    ),
    (
        "commented with an unknown role",
        {"slas[0].targets[0].stop[0].author_role": "bot"},
        "slas[0].targets[0].stop[0].author_role",
        "agent, customer, system",
    ),
    (
        "commented with public not a boolean",
        {"slas[0].targets[0].stop[0].public": "yes"},
        "slas[0].targets[0].stop[0].public",
        "true or false",
    ),
    (
        "trigger condition",
        {"slas[0].targets[0].start[0].if": {"prio": "P1"}},
        "slas[0].targets[0].start[0].if.prio",
        "unknown ticket field",
    ),
    (
        "stop not a list",
        {"slas[0].targets[0].stop": "resolved"},
        "slas[0].targets[0].stop",
        "must be a list of triggers",
    ),
    # availability objective
    (
        "objective of 100",
        {"availability[0].objective": 100},
        "availability[0].objective",
        "between 0 and 100",
    ),
    (
        "objective of 0",
        {"availability[0].objective": 0},
        "availability[0].objective",
        "between 0 and 100",
    ),
    (
        "objective as text",
        {"availability[0].objective": "high"},
        "availability[0].objective",
        "decimal number",
    ),
    (
        "objective as a boolean",
        {"availability[0].objective": True},
        "availability[0].objective",
        "must be a number",
    ),
    (
        "degraded_weight above 1",
        {"availability[0].degraded_weight": 1.5},
        "availability[0].degraded_weight",
        "between 0.0 and 1.0",
    ),
    (
        "degraded_weight below 0",
        {"availability[0].degraded_weight": -0.1},
        "availability[0].degraded_weight",
        "between 0.0 and 1.0",
    ),
    (
        "stale_after zero",
        {"availability[0].stale_after": "0s"},
        "availability[0].stale_after",
        "must be positive",
    ),
    (
        "credit tiers not decreasing",
        {
            "availability[0].credits": [
                {"below": 99.9, "percent": 10},
                {"below": 99.9, "percent": 25},
            ]
        },
        "availability[0].credits[1].below",
        "strictly decreasing",
    ),
    (
        "credit tiers increasing",
        {"availability[0].credits": [{"below": 99, "percent": 25}, {"below": 99.5, "percent": 10}]},
        "availability[0].credits[1].below",
        "strictly decreasing",
    ),
    (
        "credits with a rolling window",
        {"availability[0].window": {"rolling": "30d"}},
        "availability[0].credits",
        "rolling window is for metrics only",
    ),
    (
        "window without length",
        {"availability[0].window": "rolling"},
        "availability[0].window",
        "{rolling: 30d}",
    ),
    (
        "unknown window",
        {"availability[0].window": "year"},
        "availability[0].window",
        "month, week, quarter",
    ),
    (
        "unknown_counts_as",
        {"availability[0].unknown_counts_as": "ignored"},
        "availability[0].unknown_counts_as",
        "excluded, down, up",
    ),
    (
        "missing window",
        {"availability[0].window": DELETE},
        "availability[0].window",
        "needs 'window'",
    ),
    # escalation steps
    (
        "step with when and after",
        {"escalations.chain.steps[1].when": {"event": "sla.warning"}},
        "escalations.chain.steps[1]",
        "exactly one of `when:`",
    ),
    (
        "step with neither when nor after",
        {"escalations.chain.steps[1].after": DELETE},
        "escalations.chain.steps[1]",
        "exactly one of `when:`",
    ),
    (
        "first step is an after step",
        {"escalations.chain.steps": [{"after": "5m", "notify": ["role:assignee"]}]},
        "escalations.chain.steps[0].after",
        "first step cannot be an `after:` step",
    ),
    (
        "repeat times below 1",
        {"escalations.chain.steps[1].repeat.times": 0},
        "escalations.chain.steps[1].repeat.times",
        "at least 1",
    ),
    (
        "repeat every not positive",
        {"escalations.chain.steps[1].repeat.every": "0m"},
        "escalations.chain.steps[1].repeat.every",
        "must be positive",
    ),
    (
        "repeat without times",
        {"escalations.chain.steps[1].repeat.times": DELETE},
        "escalations.chain.steps[1].repeat.times",
        "repeat needs 'times'",
    ),
    (
        "unknown SLA event",
        {"escalations.chain.steps[0].when.event": "sla.breach"},
        "escalations.chain.steps[0].when.event",
        "did you mean 'sla.breached'?",
    ),
    (
        "at_least on a breach",
        {"escalations.chain.steps[0].when.at_least": 0.5},
        "escalations.chain.steps[0].when.at_least",
        "sla.warning and sla.availability.warning events only",
    ),
    (
        "outcome on a breach",
        {"escalations.chain.steps[0].when.outcome": "met"},
        "escalations.chain.steps[0].when.outcome",
        "sla.clock.stopped",
    ),
    (
        "unknown stop_on event",
        {"escalations.chain.stop_on": ["acknowledged", "resolved"]},
        "escalations.chain.stop_on[1]",
        "a stop_on entry must be one of",
    ),
    (
        "steps not a list",
        {"escalations.chain.steps": "page the lead"},
        "escalations.chain.steps",
        "a chain needs a list of steps",
    ),
    # channels
    ("unknown channel type", {"channels.email.type": "fax"}, "channels.email.type", "smtp, slack"),
    (
        "channel without type",
        {"channels.email.type": DELETE},
        "channels.email.type",
        "needs 'type'",
    ),
    # format version
    ("format version 2", {"version": 2}, "version", "reads version 1"),
    ("format version true", {"version": True}, "version", "reads version 1"),
]


@pytest.mark.parametrize(
    ("changes", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_broken_document_names_the_path_and_the_reason(
    changes: dict[str, Any], path: str, fragment: str
) -> None:
    problems = errors_of(patched(changes))
    matching = [p for p in problems if p.path == path]
    assert matching, f"no problem at {path}; got {[str(p) for p in problems]}"
    assert any(fragment in p.message for p in matching), [str(p) for p in matching]


UNKNOWN_KEYS = [
    ("", "slass"),
    ("calendars.office", "timezon"),
    ("calendars.office.holidays", "country_code"),
    ("slas[0]", "applies"),
    ("slas[0].targets[0]", "warn"),
    ("slas[0].targets[0].goals[1]", "calender"),
    ("slas[0].targets[0].start[0]", "author"),
    ("escalations.chain", "stop"),
    ("escalations.chain.steps[0]", "notfy"),
    ("escalations.chain.steps[0].when", "atleast"),
    ("escalations.chain.steps[1].repeat", "count"),
    ("availability[0]", "objectve"),
    ("availability[0].credits[0]", "credit"),
    ("availability[0].maintenance[0]", "length"),
]


def test_a_chain_without_steps_is_accepted_with_a_warning() -> None:
    report = check_definitions(json.dumps(patched({"escalations.chain.steps": []})), years=[2026])
    assert report.errors == []
    assert [(p.path, p.message) for p in report.warnings] == [
        ("escalations.chain.steps", "no steps: this chain notifies no one")
    ]


@pytest.mark.parametrize(("where", "key"), UNKNOWN_KEYS)
def test_an_unknown_key_is_an_error_naming_it(where: str, key: str) -> None:
    changes: dict[str, Any] = {f"{where}.{key}" if where else key: 1}
    if where == "calendars.office.holidays":
        changes = {"calendars.office.holidays": {key: "NL"}}
    path = f"{where}.{key}" if where else key
    problems = errors_of(patched(changes))
    assert [p.path for p in problems] == [path], [str(p) for p in problems]
    assert f"unknown key {key!r}" in problems[0].message


def test_a_typo_in_a_key_suggests_the_key_meant() -> None:
    (problem,) = errors_of(patched({"slas[0].targets[0].goals[1].tagret": "2h"}))
    assert "did you mean 'target'?" in problem.message


def test_every_problem_is_listed_not_only_the_first() -> None:
    doc = patched(
        {
            "version": 3,
            "calendars.office.timezone": "Mars/Olympus",
            "calendars.office.week.sat": ["12:00-11:00"],
            "slas[0].id": "Gold",
            "slas[0].targets[0].goals[1].calendar": "nowhere",
            "slas[0].targets[0].warn_at": [0.5, 0.5],
            "availability[0].objective": 120,
            "escalations.chain.steps[1].repeat.times": 0,
            "people.lead.pager": "123",
        }
    )
    with pytest.raises(DefinitionsError) as raised:
        load_definitions(json.dumps(doc))
    paths = [p.path for p in raised.value.problems]
    assert paths == [
        "version",
        "calendars.office.timezone",
        "calendars.office.week.sat[0]",
        "slas[0].id",
        "slas[0].targets[0].goals[1].calendar",
        "slas[0].targets[0].warn_at[1]",
        "availability[0].objective",
        "escalations.chain.steps[1].repeat.times",
        "people.lead.pager",
    ]
    text = str(raised.value)
    assert text.startswith("the definitions document has 9 problems:")
    assert "  availability[0].objective: objective is a percentage" in text


def test_an_invalid_part_does_not_also_break_its_references() -> None:
    problems = errors_of(patched({"calendars.office.timezone": "Nowhere/City"}))
    assert [p.path for p in problems] == ["calendars.office.timezone"]


def test_a_night_shift_split_at_midnight_is_valid() -> None:
    defs = load_definitions(
        json.dumps(
            patched({"calendars.office.week": {"mon": ["22:00-24:00"], "tue": ["00:00-06:00"]}})
        )
    )
    assert defs.calendars["office"].week[0] == ((79200, 86400),)
    assert defs.calendars["office"].week[1] == ((0, 21600),)


def test_a_weekday_named_twice_merges_and_touching_intervals_join() -> None:
    week = {
        "mon-fri": ["09:00-12:00"],
        "mon": ["12:00-13:00", "14:00-15:30:30"],
        "sat-sun": ["10:00-11:00"],
    }
    defs = load_definitions(json.dumps(patched({"calendars.office.week": week})))
    cal = defs.calendars["office"]
    assert cal.week[0] == ((32400, 46800), (50400, 55830))
    assert cal.week[1] == ((32400, 43200),)
    assert cal.week[5] == cal.week[6] == ((36000, 39600),)


def test_unknown_holiday_country_and_subdivision_are_reported_at_their_paths() -> None:
    problems = errors_of(patched({"calendars.office.holidays": {"country": "XX"}}))
    assert [p.path for p in problems] == ["calendars.office.holidays.country"]
    assert "does not know this region" in problems[0].message
    problems = errors_of(
        patched({"calendars.office.holidays": {"country": "NL", "subdivision": "ZZ"}})
    )
    assert [p.path for p in problems] == ["calendars.office.holidays.subdivision"]
    problems = errors_of(patched({"calendars.office.holidays": {"country": "nl"}}))
    assert "upper case" in problems[0].message
    problems = errors_of(patched({"calendars.office.holidays": {"subdivision": "NY"}}))
    assert [p.message for p in problems] == ["a subdivision needs a country"]


def test_a_document_that_is_not_a_mapping_is_rejected() -> None:
    for text in ("", "- 1\n- 2\n", "just text"):
        report = check_definitions(text)
        assert report.definitions is None
        assert [p.path for p in report.errors] == ["(document)"], text


def test_sections_of_the_wrong_shape_are_rejected() -> None:
    problems = errors_of({"slas": {"id": "gold"}, "calendars": ["office"]})
    assert {p.path: p.message for p in problems} == {
        "calendars": "calendars must be a mapping, not a list",
        "slas": "slas must be a list, not a mapping",
    }


def test_a_when_on_the_availability_target_is_known_where_objectives_are() -> None:
    with_objective = (
        "availability: [{id: up, service: api, objective: 99.9, window: month, escalation: sre}]\n"
        "escalations: {sre: {steps: [{when: {event: sla.availability.breached,"
        " target: availability}, notify: [team:sre]}]}}\n"
        "teams: {sre: {chat: '#sre'}}\nchannels: {chat: {type: console}}\n"
    )
    assert check_definitions(with_objective).warnings == []
    without = with_objective.replace("availability: [{id: up, service: api, objective: 99.9,"
                                     " window: month, escalation: sre}]\n", "")  # fmt: skip
    assert "escalations.sre.steps[0].when.target" in [
        p.path for p in check_definitions(without).warnings
    ]


def test_unknown_counts_as_without_stale_after_is_accepted_with_a_warning() -> None:
    objective = "availability: [{id: up, service: api, objective: 99.9, window: month%s}]\n"
    lonely = check_definitions(objective % ", unknown_counts_as: down")
    assert lonely.errors == []
    assert [(p.path, p.message) for p in lonely.warnings] == [
        ("availability[0].unknown_counts_as", "has no effect without stale_after: a status "
         "holds until the next, so once measured the service is never unknown")
    ]  # fmt: skip
    assert (
        check_definitions(objective % ", unknown_counts_as: down, stale_after: 5m").warnings == []
    )
    assert check_definitions(objective % "").warnings == []
    broken = check_definitions(objective % ", unknown_counts_as: down, stale_after: soon")
    assert broken.warnings == [] and [p.path for p in broken.errors] == [
        "availability[0].stale_after"
    ]
