"""What the tests of the parser's fast paths share."""

from __future__ import annotations

from typing import Any

from slawatch.events import InputEvent, encode_event
from slawatch.events.parse import _Invalid, _parse_object


def assert_as_full_validation(fast: InputEvent | None, obj: dict[str, Any]) -> None:
    """A fast path's answer for ``obj``, when it gave one, is what full validation builds."""
    if fast is None:
        return
    try:
        full = _parse_object(obj)
    except _Invalid as exc:
        raise AssertionError(f"the fast path took what the full one rejects: {exc}") from None
    assert fast == full
    assert encode_event(fast) == encode_event(full)
