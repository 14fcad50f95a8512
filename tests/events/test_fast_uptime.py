"""The fast path for ``uptime.status`` agrees with the full validation whenever it answers."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.events.fastpaths import assert_as_full_validation

from slawatch.events.parse import _parse_object, fast_uptime

values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=6),
    st.sampled_from(["up", "down", "degraded", "2026-03-02T09:00:00Z", "2026-03-02T09:00:00+01:00",
                     "2026-13-02T09:00:00Z", "2026-03-02T09:00:00.123456789Z",
                     "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]),
)  # fmt: skip
keys = st.sampled_from(["id", "time", "service", "status", "check", "source", "received_at",
                        "backfill", "extra"])  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(keys, values), st.data())
def test_fast_path_equals_full_validation(obj: dict[str, Any], data: st.DataObject) -> None:
    """Wherever the fast path builds an event, the full validation builds the same one."""
    obj = {**obj, "type": "uptime.status"}
    if data.draw(st.booleans()):
        obj.update(id="u1", service="api", time=data.draw(st.sampled_from(
                   ["2026-03-02T09:00:00Z", "0001-01-01T00:00:00+01:00"])),
                   status=data.draw(st.sampled_from(["up", "down", "degraded"])))  # fmt: skip
    assert_as_full_validation(fast_uptime(obj), obj)


def test_fast_path_takes_the_common_event() -> None:
    obj = {"id": "u1", "type": "uptime.status", "time": "2026-03-02T09:00:00Z",
           "service": "api", "status": "down", "check": "eu"}  # fmt: skip
    assert fast_uptime(obj) == _parse_object(obj)
