"""What ``slawatch apply`` says a document changes against the newest stored version."""

from __future__ import annotations

from tests.support.streams import DESK

from slawatch.definitions import load_definitions
from slawatch.definitions.diff import changes

EDITED = (
    DESK.replace("target: 4h, calendar: office", "target: 6h, calendar: office")
    .replace("applies_to: {assignee_group: l2}", "applies_to: {assignee_group: [l2, l3]}")
    .replace('holidays: {dates: ["2026-03-04"]}', 'holidays: {dates: ["2026-03-05"]}')
    .replace(
        "  - id: l2\n",
        "  - id: silver\n    kind: customer\n    targets:\n      - id: first_response\n"
        "        start: [{event: created}]\n        stop: [{event: commented}]\n"
        "        goals: [{target: 8h, calendar: office}]\n  - id: l2\n",
    )
)


def test_each_change_is_named_with_the_fields_that_differ() -> None:
    old, new = load_definitions(DESK), load_definitions(EDITED)
    assert changes(old, new) == [
        "~ calendar office: holidays, explicit_dates",
        "~ target gold/first_response: goals",
        "+ sla silver",
        "~ sla l2: applies_to",
    ]
    assert [line[0] for line in changes(new, old)].count("-") == 1  # silver goes again


def test_the_same_terms_written_differently_change_nothing() -> None:
    reformatted = "# the desk\n\n" + DESK.replace("calendar: office}", 'calendar: "office"}')
    assert changes(load_definitions(DESK), load_definitions(reformatted)) == []


def test_a_first_document_adds_everything() -> None:
    added = changes(None, load_definitions(DESK))
    assert all(line.startswith("+ ") for line in added)
    assert "+ sla gold" in added and "+ sla l2" in added and "+ calendar office" in added
