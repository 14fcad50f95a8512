"""``new_ticket_event`` builds what the ``TicketEvent`` constructor builds."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slawatch.events.model import CommentInfo, EventType, TicketEvent, _setters, new_ticket_event

values = st.dictionaries(st.text(max_size=3), st.one_of(st.none(), st.integers(), st.text()))


@given(
    st.tuples(
        st.text(), st.sampled_from(list(EventType)), st.integers(), st.text(), values, values,
        st.none() | st.builds(CommentInfo, st.text(), st.booleans()),
        st.none() | st.text(), st.none() | st.integers(), st.booleans(),
    )
)  # fmt: skip
def test_equals_the_constructor(args: tuple[Any, ...]) -> None:
    """Same fields, same equality and hash behaviour, and frozen all the same."""
    fast, slow = new_ticket_event(*args), TicketEvent(*args)
    assert fast == slow
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)
    assert repr(fast) == repr(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.id = "other"  # type: ignore[misc]


def test_setters_refuse_a_wrong_field_list() -> None:
    """A field list out of step with the dataclass fails at import, not on use."""
    with pytest.raises(TypeError):
        _setters(TicketEvent, "id", "time")
