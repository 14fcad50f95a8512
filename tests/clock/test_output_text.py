"""The written parts of outputs: ids and times equal their reference definitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slawatch.outputs import uuid5_text, written
from slawatch.timeutil import format_time, from_datetime, parse_time, to_datetime

MIN_INSTANT = from_datetime(datetime.min.replace(tzinfo=UTC))
MAX_INSTANT = from_datetime(datetime.max.replace(tzinfo=UTC))
instants = (
    st.integers(MIN_INSTANT, MAX_INSTANT)
    | st.integers(1_700_000_000_000_000, 1_800_000_000_000_000)
    | st.sampled_from([MIN_INSTANT, MAX_INSTANT, 0, -1, 59_999_999, 60_000_000])
)


def reference_time(instant: int) -> str:
    d = to_datetime(instant)
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    return text + (f".{d.microsecond:06d}Z" if d.microsecond else "Z")


@settings(max_examples=500)
@given(st.text())
def test_uuid5_text_is_the_uuid5_of_the_name(name: str) -> None:
    assert uuid5_text(name) == str(uuid.uuid5(uuid.NAMESPACE_URL, "slawatch:" + name))


@settings(max_examples=500)
@given(instants)
def test_format_time_is_rfc3339_utc(instant: int) -> None:
    """Written the same on the first call and from the cache, and read back exactly."""
    first = format_time(instant)
    assert first == reference_time(instant) == format_time(instant)
    assert parse_time(first) == instant


@given(st.integers() | st.floats() | st.booleans() | st.none() | st.text())
def test_written_is_the_json_of_a_value(value: object) -> None:
    """A key field as written: ``None`` as empty, text as itself, others as orjson writes them."""
    try:
        expected = "" if value is None else value if isinstance(value, str) else json_of(value)
    except TypeError:
        with pytest.raises(TypeError):
            written(value)
        return
    assert written(value) == expected


def json_of(value: object) -> str:
    return orjson.dumps(value).decode()
