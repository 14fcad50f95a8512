"""The fast path for ``ticket.*`` events agrees with the full validation whenever it answers."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.events.fastpaths import assert_as_full_validation

from slawatch.events.parse import (
    _fast_instant,
    _fast_time,
    _instants,
    _parse_object,
    _second_start,
    _time,
    fast_ticket,
)
from slawatch.timeutil import parse_time

times = st.sampled_from([
    "2026-03-02T09:00:00Z", "2026-03-02T09:00:00.5+01:00", "2026-03-02T09:00:00.123456789Z",
    "2026-13-02T09:00:00Z", "2026-03-02 09:00:00Z", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999-00:01", "9999-12-31T23:59:59.999999Z", "2026-03-02T09:00:00",
])  # fmt: skip
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=4), times,
    st.sampled_from(["agent", "customer", "system", "ticket.created", "open", "T-1", ""]),
)  # fmt: skip
ABSENT = object()


def maybe(valid: Any, *others: Any) -> st.SearchStrategy[Any]:
    """Mostly ``valid``; sometimes absent, one of ``others`` or any scalar."""
    return st.integers(0, 9).flatmap(
        lambda n: st.just(valid) if n < 7 else
        st.just(ABSENT) if n == 7 else
        st.sampled_from([valid, *others]) if n == 8 else scalars
    )  # fmt: skip


def present(**items: Any) -> dict[str, Any]:
    """The items that are not ``ABSENT``."""
    return {key: value for key, value in items.items() if value is not ABSENT}


ticket_keys = st.sampled_from(["status", "priority", "assignee", "type", "channel", "tags", ""])
attributes = st.dictionaries(st.sampled_from(["channel", "vip", "status"]), scalars, max_size=2)


@st.composite
def ticket_events(draw: st.DrawFn) -> dict[str, Any]:
    """Ticket events that are mostly valid, with some keys wrong, null or absent."""
    ticket = draw(st.dictionaries(ticket_keys, scalars | st.lists(scalars, max_size=2)))
    ticket.update(present(
        id=draw(maybe("T-1", "T-2", "", None, 7)),
        attributes=draw(st.sampled_from([ABSENT, None, 3, "x"]) | attributes),
    ))  # fmt: skip
    comment = present(
        author_role=draw(maybe("agent", "customer", "system", "bot")),
        public=draw(maybe(True, False, 1)),
    )
    return present(
        id=draw(maybe("e1", "", 3)),
        type=draw(st.sampled_from(
            ["ticket.created", "ticket.updated", "ticket.commented", "ticket.deleted"])),
        time=draw(maybe("2026-03-02T09:00:00Z") | times),
        ticket=draw(maybe(ticket, None, [], "T-1")),
        comment=draw(maybe(comment, None, "hi")),
        source=draw(maybe(ABSENT, "desk")),
        received_at=draw(maybe(ABSENT, "2026-03-02T09:00:01Z") | times),
        backfill=draw(maybe(ABSENT, True, False)),
    )  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(ticket_events())
def test_fast_path_equals_full_validation(obj: dict[str, Any]) -> None:
    """Wherever the fast path builds an event, the full validation builds the same one."""
    assert_as_full_validation(fast_ticket(obj), obj)


def test_fast_path_takes_the_common_events() -> None:
    created = {"id": "e1", "type": "ticket.created", "time": "2026-03-02T09:00:00.25Z",
               "received_at": "2026-03-02T09:00:01Z", "source": "desk",
               "ticket": {"id": "T-1", "status": "open", "priority": "P2", "channel": "mail",
                          "attributes": {"channel": "web", "vip": True}}}  # fmt: skip
    commented = {"id": "e2", "type": "ticket.commented", "time": "2026-03-02T10:00:00+01:00",
                 "ticket": {"id": "T-1"},
                 "comment": {"author_role": "agent", "public": True}}  # fmt: skip
    deleted = {"id": "e3", "type": "ticket.deleted", "time": "2026-03-02T11:00:00Z",
               "ticket": {"id": "T-1", "attributes": 3}, "backfill": True}  # fmt: skip
    for obj in (created, commented, deleted):
        fast = fast_ticket(obj)
        assert fast is not None
        assert fast == _parse_object(obj)


digits = st.text("0123456789", min_size=1, max_size=2)


@settings(max_examples=500)
@given(
    st.integers(0, 9999), digits, digits, digits, digits, digits,
    st.sampled_from(["", ".5", ".123456", ".1234567891", "."]),
    st.sampled_from(["Z", "z", "+01:00", "-23:59", "+24:00", "+1:00", ""]),
)  # fmt: skip
def test_fast_time_equals_parse_time(
    year: int,
    month: str,
    day: str,
    hour: str,
    minute: str,
    second: str,
    fraction: str,
    offset: str,
) -> None:
    """Where the quick time reading answers (from its caches or not), ``parse_time`` agrees."""
    text = f"{year:04d}-{month}-{day}T{hour}:{minute}:{second}{fraction}{offset}"
    first = _fast_time(text)
    if first is not None:
        assert first == _fast_time(text) == parse_time(text)


@settings(max_examples=500)
@given(
    st.sampled_from(["2026-03-02T09:15:07", "1970-01-01T00:00:00", "9999-12-31T23:59:59"]),
    st.text(".Z0123456789٣+-:\n z", max_size=12),
)
def test_fast_time_of_a_remembered_second_equals_the_pattern(whole: str, rest: str) -> None:
    """A time whose whole second is remembered reads as it does with the caches empty."""
    _fast_time(whole + "Z")
    warm = _fast_time(whole + rest)
    _second_start.clear()
    assert warm == _fast_time(whole + rest)


@settings(max_examples=500)
@given(
    st.sampled_from(["2026-03-02T09:15:07", "0001-01-01T00:00:00", "9999-12-31T23:59:59"]),
    st.sampled_from(["", ".5", ".123456", ".1234567891"]),
    st.sampled_from(["Z", "z", "+01:00", "-00:01", "+24:00", ""]),
)
def test_fast_instant_remembered_or_not_equals_the_full_reading(
    whole: str, fraction: str, offset: str
) -> None:
    """Cold or from its cache, the quick instant is the full validation's, or ``None``."""
    text = whole + fraction + offset
    _instants.clear()
    cold = _fast_instant(text)
    warm = _fast_instant(text)
    assert cold == warm
    if cold is not None:
        assert cold == _time(text, "time")
