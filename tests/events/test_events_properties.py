"""Properties: valid events round-trip through encode/parse; no input makes the parser raise."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from slawatch.definitions.model import TICKET_FIELDS
from slawatch.events import (
    AUTHOR_ROLES,
    UPTIME_STATUSES,
    Acknowledgement,
    CommentInfo,
    EventType,
    InputEvent,
    MaintenanceWindow,
    Rejection,
    TicketEvent,
    UptimeStatus,
    encode_event,
    parse_event,
)
from slawatch.timeutil import TimeFormatError, from_datetime, parse_time

MIN_INSTANT = from_datetime(datetime.min.replace(tzinfo=UTC))
MAX_INSTANT = from_datetime(datetime.max.replace(tzinfo=UTC))
INT64 = 2**63 - 1

EDGE_INSTANTS = [
    MIN_INSTANT,
    MAX_INSTANT,
    0,
    -1,
    parse_time("0999-12-31T23:59:59.999999Z"),
    parse_time("1000-01-01T00:00:00Z"),
]
instants = st.integers(MIN_INSTANT, MAX_INSTANT) | st.sampled_from(EDGE_INSTANTS)
names = st.text(min_size=1, max_size=20)
optional_names = st.none() | names

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-INT64 - 1, INT64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def common(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(names),
        "time": draw(instants),
        "source": draw(optional_names),
        "received_at": draw(st.none() | instants),
        "backfill": draw(st.booleans()),
    }


@st.composite
def ticket_events(draw: st.DrawFn) -> TicketEvent:
    event_type = draw(
        st.sampled_from(
            [
                EventType.TICKET_CREATED,
                EventType.TICKET_UPDATED,
                EventType.TICKET_COMMENTED,
                EventType.TICKET_DELETED,
            ]
        )
    )
    deleted = event_type is EventType.TICKET_DELETED
    comment = None
    if event_type is EventType.TICKET_COMMENTED:
        comment = CommentInfo(
            author_role=draw(st.sampled_from(AUTHOR_ROLES)), public=draw(st.booleans())
        )
    return TicketEvent(
        type=event_type,
        ticket_id=draw(names),
        fields={}
        if deleted
        else draw(st.dictionaries(st.sampled_from(sorted(TICKET_FIELDS)), json_values)),
        attributes={}
        if deleted
        else draw(st.dictionaries(st.text(max_size=12), json_values, max_size=5)),
        comment=comment,
        **draw(common()),
    )


@st.composite
def uptime_events(draw: st.DrawFn) -> UptimeStatus:
    return UptimeStatus(
        service=draw(names),
        status=draw(st.sampled_from(UPTIME_STATUSES)),
        check=draw(st.none() | st.text(max_size=10)),
        **draw(common()),
    )


@st.composite
def maintenance_events(draw: st.DrawFn) -> MaintenanceWindow:
    start = draw(st.integers(MIN_INSTANT, MAX_INSTANT - 1))
    end = draw(st.integers(start + 1, MAX_INSTANT))
    return MaintenanceWindow(
        service=draw(names),
        window_id=draw(names),
        start=start,
        end=end,
        cancelled=draw(st.booleans()),
        **draw(common()),
    )


@st.composite
def acknowledgements(draw: st.DrawFn) -> Acknowledgement:
    return Acknowledgement(
        subject=draw(st.sampled_from(["ticket:", "service:"])) + draw(names),
        by=draw(st.text(min_size=1, max_size=20)),
        sla=draw(st.none() | st.text(max_size=10)),
        target=draw(st.none() | st.text(max_size=10)),
        cycle=draw(st.none() | st.integers(1, INT64)),
        note=draw(st.none() | st.text(max_size=30)),
        **draw(common()),
    )


valid_events = ticket_events() | uptime_events() | maintenance_events() | acknowledgements()

RESULT_TYPES = (TicketEvent, UptimeStatus, MaintenanceWindow, Acknowledgement, Rejection)

KNOWN_KEYS = [
    "id",
    "type",
    "time",
    "source",
    "received_at",
    "backfill",
    "service",
    "status",
    "check",
    "start",
    "end",
    "window_id",
    "cancelled",
    "subject",
    "by",
    "sla",
    "target",
    "cycle",
    "note",
]
PATHS = {
    *KNOWN_KEYS,
    "ticket",
    "ticket.id",
    "ticket.attributes",
    "comment",
    "comment.author_role",
    "comment.public",
}
plausible_scalars = (
    json_scalars
    | st.sampled_from([e.value for e in EventType])
    | st.sampled_from([*AUTHOR_ROLES, *UPTIME_STATUSES, "ticket:T-1", "service:api", ""])
    | st.sampled_from(["2026-03-02T09:00:00Z", "2026-03-02T10:00:00.123456789+01:00", "2026-13-01"])
    | st.integers(-2, 2)
)
plausible_objects = st.dictionaries(
    st.sampled_from([*KNOWN_KEYS, *sorted(TICKET_FIELDS), "attributes", "author_role", "public"]),
    plausible_scalars | st.dictionaries(st.text(max_size=5), plausible_scalars, max_size=3),
    max_size=8,
)
event_shaped = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(KNOWN_KEYS, plausible_scalars),
        "ticket": plausible_objects | json_values,
        "comment": plausible_objects | json_values,
    },
)


def check_result(result: InputEvent | Rejection) -> None:
    assert isinstance(result, RESULT_TYPES)
    if isinstance(result, Rejection):
        assert result.message
    else:
        assert parse_event(encode_event(result)) == result


@given(valid_events)
def test_round_trip(event: InputEvent) -> None:
    assert parse_event(encode_event(event)) == event


@given(valid_events)
def test_encoding_is_stable(event: InputEvent) -> None:
    raw = encode_event(event)
    reparsed = parse_event(raw)
    assert not isinstance(reparsed, Rejection)
    assert encode_event(reparsed) == raw


@given(st.binary())
def test_never_raises_on_bytes(raw: bytes) -> None:
    check_result(parse_event(raw))


@given(st.text())
def test_never_raises_on_text(raw: str) -> None:
    check_result(parse_event(raw))


@given(json_values)
def test_never_raises_on_json_values(value: Any) -> None:
    result = parse_event(orjson.dumps(value))
    check_result(result)
    if not isinstance(value, dict):
        assert isinstance(result, Rejection)


@given(event_shaped)
def test_never_raises_on_event_shaped_objects(value: dict[str, Any]) -> None:
    result = parse_event(orjson.dumps(value))
    check_result(result)
    if isinstance(result, Rejection):
        assert result.field is None or result.field in PATHS


@given(st.binary(max_size=40), st.integers(0, 40))
def test_never_raises_with_small_limits(raw: bytes, max_bytes: int) -> None:
    check_result(parse_event(raw, max_bytes=max_bytes))


def two_digits(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


offsets = st.builds(
    lambda sign, h, m: f"{sign}{h}:{m}",
    st.sampled_from("+-"),
    two_digits(0, 24),
    two_digits(0, 60),
)
time_texts = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, off: f"{y:04d}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{off}",
    st.integers(0, 9999),
    two_digits(0, 13),
    two_digits(0, 32),
    st.sampled_from(["T", "t", " "]),
    two_digits(0, 24),
    two_digits(0, 60),
    two_digits(0, 60),
    st.just("") | st.text("0123456789", min_size=1, max_size=10).map(lambda digits: "." + digits),
    st.sampled_from(["Z", "z", ""]) | offsets,
)


@given(time_texts)
def test_times_agree_with_timeutil(text: str) -> None:
    try:
        expected: int | None = parse_time(text)
    except TimeFormatError:
        expected = None
    if expected is not None and not MIN_INSTANT <= expected <= MAX_INSTANT:
        expected = None
    raw = orjson.dumps(
        {"id": "u", "type": "uptime.status", "time": text, "service": "s", "status": "up"}
    )
    result = parse_event(raw)
    if expected is None:
        assert isinstance(result, Rejection)
        assert result.field == "time"
    else:
        assert isinstance(result, UptimeStatus)
        assert result.time == expected
