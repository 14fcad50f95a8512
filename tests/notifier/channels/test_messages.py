"""What the default templates say for each kind of SLA event, that nothing missing makes
them fail, HTML escaping, and overriding templates from a user directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from slawatch.clock.catalog import Catalog
from slawatch.errors import ConfigurationError
from slawatch_notifier.messages import Style, check_templates, compose, local_zone, render
from slawatch_notifier.templates.context import duration, percent, view, when
from tests.notifier.channels.making import ACK, CLOCK, breach_event, notification
from tests.support.replaying import versions

ZONED = """
calendars:
  office:
    timezone: Europe/Amsterdam
    week: {mon-fri: ["09:00-17:00"]}
slas:
  - id: gold-support
    kind: customer
    targets:
      - id: time_to_resolution
        start: [{event: created}]
        stop: [{event: status_entered, status: resolved}]
        goals: [{target: 8h, calendar: office}]
availability:
  - {id: api-uptime, service: api, objective: 99.9, window: month,
     timezone: America/New_York}
"""


def texts(
    record: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    style: Style = Style.EMAIL,
    **kw: Any,
) -> tuple[str, str, str | None]:
    kw.setdefault("ack_url", ACK)
    kw.setdefault("clock_url", CLOCK)
    return render(record or notification(), event, style=style, **kw)


def service_record() -> dict[str, Any]:
    record = notification(subject="service:api", sla="api-uptime", target="availability")
    del record["cycle"]
    record["window_start"] = "2026-03-01T00:00:00Z"
    return record


def service_event(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "e-9",
        "type": kind,
        "time": "2026-03-20T10:00:00Z",
        "sla": "api-uptime",
        "target": "availability",
        "kind": "customer",
        "subject": "service:api",
        "window_start": "2026-03-01T00:00:00Z",
        "window_end": "2026-04-01T00:00:00Z",
        "labels": {"service": "api"},
        "definitions_version": 1,
        **extra,
    }


def test_a_breach_says_what_where_which_sla_and_links() -> None:
    subject, text, html = texts(event=breach_event())
    assert subject == "[slawatch] SLA breached: ticket:T-1 gold-support/time_to_resolution #1"
    for expected in (
        "Ticket: T-1 (priority=P2, customer=acme, region=eu)",
        "SLA: gold-support (customer)",
        "Target: time_to_resolution, cycle 1",
        "Goal: 8h of nl-office time",
        "Deadline: 2026-03-02 17:00 UTC (missed, 40m ago)",
        "Escalation: step 2 of escalation gold-chain",
        f"Clock: {CLOCK}",
        f"Acknowledge (stops this escalation): {ACK}",
    ):
        assert expected in text, expected
    assert html is not None
    assert f'href="{CLOCK}"' in html and f'href="{ACK}"' in html
    assert "40m ago" in html


def test_a_breach_after_a_goal_change_says_how_late() -> None:
    _, text, _ = texts(event=breach_event(elapsed_seconds=30600))
    assert "Late by: 30m of business time beyond the goal" in text


def test_a_warning_says_how_much_is_left() -> None:
    event = breach_event(
        type="sla.warning",
        threshold=0.75,
        remaining_seconds=7200,
        elapsed_seconds=21600,
        deadline="2026-03-02T17:00:00Z",
        time="2026-03-02T15:00:00Z",
    )
    subject, text, _ = texts(event=event)
    assert subject.startswith("[slawatch] SLA warning:")
    assert "SLA warning (75% of the goal used)" in text
    assert "Deadline: 2026-03-02 17:00 UTC (2h left)" in text
    _, chat, _ = texts(
        event=breach_event(type="sla.warning", threshold="1h", remaining_seconds=3600),
        style=Style.CHAT,
    )
    assert "1h before the deadline: 1h left of 8h (nl-office)" in chat


def test_a_held_or_later_notification_says_when_its_facts_are_from() -> None:
    """A warning held by ``during:`` overnight still says 15m left: it says as of when."""
    event = breach_event(type="sla.warning", threshold="15m", remaining_seconds=900,
                         time="2026-03-02T19:45:00Z", deadline="2026-03-02T20:00:00Z")  # fmt: skip
    held = notification(time="2026-03-03T08:00:00Z")
    _, text, html = texts(held, event)
    assert "As of: 2026-03-02 19:45 UTC, 12h15m before this notification" in text
    assert html is not None and "12h15m before this notification" in html
    _, chat, _ = texts(held, event, style=Style.CHAT)
    assert "(as of 2026-03-02 19:45 UTC, 12h15m ago)" in chat
    _, fresh, _ = texts(notification(time="2026-03-02T19:45:30Z"), event)
    assert "As of" not in fresh


@pytest.mark.parametrize(
    ("zone", "shown"),
    [("Europe/Amsterdam", "2026-03-02 17:00 UTC, 18:00 Europe/Amsterdam"),
     ("Asia/Tokyo", "2026-03-02 17:00 UTC, 2026-03-03 02:00 Asia/Tokyo"),
     ("UTC", "2026-03-02 17:00 UTC"), ("Nowhere/Atlantis", "2026-03-02 17:00 UTC"),
     (None, "2026-03-02 17:00 UTC")],
)  # fmt: skip
def test_times_are_also_shown_in_the_calendars_zone(zone: str | None, shown: str) -> None:
    assert when("2026-03-02T17:00:00Z", zone) == shown
    _, text, _ = texts(event=breach_event(), zone=zone)
    assert f"Deadline: {shown} (missed, 40m ago)" in text


def test_the_zone_is_the_calendars_or_the_objectives() -> None:
    catalog = Catalog(versions((ZONED, None)))
    ticket = breach_event(calendar="office", definitions_version=1)
    assert local_zone(catalog, ticket) == "Europe/Amsterdam"
    assert local_zone(catalog, {**ticket, "calendar": "24x7"}) == "UTC"
    window = {"target": "availability", "sla": "api-uptime", "definitions_version": 1}
    assert local_zone(catalog, window) == "America/New_York"
    assert local_zone(catalog, {**ticket, "definitions_version": 7}) is None
    assert local_zone(catalog, None) is None


def test_a_stop_after_a_breach_says_by_how_much() -> None:
    event = breach_event(
        type="sla.clock.stopped",
        outcome="breached",
        time="2026-03-03T10:00:00Z",
        elapsed_seconds=30600,
    )
    subject, text, _ = texts(event=event)
    assert "Finished after the SLA breach" in subject
    assert (
        "Finished: 2026-03-03 10:00 UTC, after the deadline of 2026-03-02 17:00 UTC (17h later)"
        in text
    )
    assert "Late by: 30m (8h30m taken against a goal of 8h)" in text


def test_a_stop_within_the_goal() -> None:
    event = breach_event(
        type="sla.clock.stopped",
        outcome="met",
        elapsed_seconds=3600,
        time="2026-03-02T10:00:00Z",
        deadline=None,
    )
    _, text, _ = texts(event=event)
    assert "Finished within the SLA" in text
    assert "Finished: 2026-03-02 10:00 UTC, in 1h of 8h" in text


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            service_event(
                "sla.availability.warning", budget_consumed=0.5, threshold=0.5, availability=0.99951
            ),
            [
                "Error budget warning (50% of the error budget used)",
                "Availability so far: 99.951%",
                "Window: 2026-03-01 00:00 UTC to 2026-04-01 00:00 UTC",
                "Service: api",
            ],
        ),
        (
            service_event(
                "sla.availability.breached",
                availability=0.998,
                budget_seconds=2678.4,
                downtime_seconds=2700,
            ),
            ["Availability objective breached", "Downtime: 45m, over the error budget of 44m38.4s"],
        ),
        (
            service_event(
                "sla.availability.window_closed",
                availability=0.995,
                outcome="breached",
                credit_percent=10,
                downtime_seconds=13392,
                measured_seconds=2678400,
            ),
            [
                "Availability window closed: breached",
                "Service credit: 10%",
                "Availability: 99.5% over 31d measured",
            ],
        ),
        (
            service_event(
                "sla.availability.window_closed",
                availability=None,
                outcome="no_data",
                credit_percent=0,
                downtime_seconds=0,
                measured_seconds=0,
            ),
            ["closed: no data", "Availability: no data"],
        ),
    ],
)
def test_availability_events(event: dict[str, Any], expected: list[str]) -> None:
    subject, text, _ = texts(service_record(), event)
    assert "service:api api-uptime/availability" in subject
    for line in expected:
        assert line in text, (line, text)


def test_a_retraction_says_the_earlier_notification_is_withdrawn() -> None:
    record = notification(notice="retraction")
    subject, text, html = texts(record, breach_event())
    assert subject.startswith("[slawatch] Withdrawn: SLA breached:")
    assert "is withdrawn: an input event that arrived late changed the clock's history" in text
    assert "step 2 of escalation gold-chain" in text
    assert ACK not in text
    assert html is not None and "withdrawn" in html
    _, chat, _ = texts(record, breach_event(), style=Style.CHAT)
    assert chat.startswith("Withdrawn: the earlier notification for ticket:T-1")


def test_a_retraction_with_the_retraction_event() -> None:
    record = notification(notice="retraction")
    event = {"id": "r-1", "type": "sla.retracted", "retracts": "x", "reason": "late_event"}
    subject, text, _ = texts(record, event)
    assert subject.startswith("[slawatch] Withdrawn: an earlier notification")
    assert "arrived late" in text


@pytest.mark.parametrize("style", list(Style))
@pytest.mark.parametrize(
    ("record", "event"),
    [
        ({}, None),
        ({"notice": "retraction"}, {}),
        (notification(), {"type": "sla.breached"}),
        (notification(), {"type": "sla.clock.stopped", "labels": None, "deadline": 5}),
        (notification(), {"type": "sla.warning", "threshold": None, "time": "not a time"}),
        (notification(), {"type": "sla.goal.changed"}),
    ],
)
def test_missing_or_odd_keys_never_fail(
    style: Style, record: dict[str, Any], event: dict[str, Any] | None
) -> None:
    subject, text, html = render(record, event, ack_url=None, clock_url=None, style=style)
    assert subject.startswith("[slawatch]")
    assert "None" not in subject + text + (html or "")
    assert (html is None) is (style is Style.CHAT)


def test_html_is_escaped_and_text_is_not() -> None:
    record = notification(subject="ticket:<b>T&1</b>")
    subject, text, html = texts(record, breach_event(subject="ticket:<b>T&1</b>"))
    assert "<b>T&1</b>" in subject and "<b>T&1</b>" in text
    assert html is not None and "&lt;b&gt;T&amp;1&lt;/b&gt;" in html and "<b>T&1" not in html


def test_subject_is_one_line() -> None:
    subject, _, _ = texts(notification(sla="two\nlines"), breach_event())
    assert "\n" not in subject and "two lines" in subject


def test_a_user_template_replaces_one_default(tmp_path: Path) -> None:
    (tmp_path / "email_subject.txt").write_text(
        "SLA {{ sla }}: {{ headline }} on {{ subject_name }} ({{ event.labels.nothing.deeper }})"
    )
    subject, text, _ = texts(event=breach_event(), templates_dir=tmp_path)
    assert subject == "SLA gold-support: SLA breached on T-1 ()"
    assert "Deadline: 2026-03-02 17:00 UTC" in text
    (tmp_path / "chat_text.txt").write_text(
        "{{ goal }} late {{ late_by or 'no' }} {{ record.step }}"
    )
    _, chat, _ = texts(event=breach_event(), templates_dir=tmp_path, style=Style.CHAT)
    assert chat == "8h late no 2\n"


def test_a_failing_user_template_falls_back_to_the_default(tmp_path: Path) -> None:
    (tmp_path / "email_text.txt").write_text("{{ 1 // 0 }}")
    _, text, _ = texts(event=breach_event(), templates_dir=tmp_path)
    assert "SLA breached" in text


def test_check_templates(tmp_path: Path) -> None:
    check_templates(None)
    check_templates(tmp_path)
    (tmp_path / "email_html.html").write_text("{% if %}")
    with pytest.raises(ConfigurationError, match=r"email_html\.html"):
        check_templates(tmp_path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        check_templates(tmp_path / "missing")


def test_compose_picks_the_style_of_the_channel_type() -> None:
    email = compose(
        notification(), breach_event(), channel_type="smtp", ack_url=ACK, clock_url=CLOCK
    )
    chat = compose(
        notification(channel="chat", recipient="#x"),
        breach_event(),
        channel_type="mattermost",
        ack_url=ACK,
        clock_url=CLOCK,
    )
    assert email.html is not None and chat.html is None
    assert email.notification_id == notification()["id"]
    assert (chat.channel, chat.recipient) == ("chat", "#x")
    assert "missed" in chat.text and len(chat.text) < len(email.text)


def test_filters() -> None:
    assert duration(5400) == "1h30m" and duration(0.5) == "0.5s" and duration(None) == ""
    assert duration(-60) == "-1m"
    assert when("2026-03-02T10:00:00+01:00") == "2026-03-02 09:00 UTC"
    assert when("2026-03-02T09:00:05.25Z") == "2026-03-02 09:00:05 UTC"
    assert when("soon") == "soon" and when(None) == ""
    assert percent(0.99871) == "99.871%" and percent(1) == "100%" and percent("x") == ""


def test_view_fields() -> None:
    fields = view(notification(repeat=1), breach_event(), ack_url=None, clock_url=None)
    assert fields["what"] == "breach"
    assert fields["subject_kind"] == "ticket" and fields["subject_name"] == "T-1"
    assert fields["step_text"] == "step 2 of escalation gold-chain, repeat 1"
    assert fields["past_deadline"] == "40m" and fields["late_by"] is None
