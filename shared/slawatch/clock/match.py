"""Conditions and triggers evaluated against a ticket (``definitions.md``).

Values compare as loaded, without conversion: ``1`` is not ``"1"`` and ``True`` is
not ``1``. A list-valued ticket field matches a value it contains; ``None`` among a
condition's values matches an absent or null field.
"""

from __future__ import annotations

from typing import Any, Final

from slawatch.definitions.model import (
    AllOf,
    AnyOf,
    Condition,
    FieldMatch,
    Not,
    Trigger,
    TriggerKind,
    Value,
)
from slawatch.events.model import CommentInfo

__all__ = ["Change", "condition_fields", "field_value", "matches", "same_value", "trigger_matches"]

Change = tuple[Any, Any]
"""A field's (old, new) values."""

_ATTR = "attributes."

# Read on every trigger check: module globals rather than members read off their class,
# which costs several times a global's look-up under Python 3.11.
_CREATED: Final = TriggerKind.CREATED
_COMMENTED: Final = TriggerKind.COMMENTED
_STATUS_ENTERED: Final = TriggerKind.STATUS_ENTERED


def same_value(a: Any, b: Any) -> bool:
    """Equality without conversion between JSON types (bool is not a number)."""
    if a is b:
        return True
    ta, tb = type(a), type(b)
    if ta is tb:
        return bool(a == b)
    if ta is bool or tb is bool:
        return False
    if ta in (int, float) and tb in (int, float):
        return bool(a == b)
    return False


def field_value(fields: dict[str, Any], attributes: dict[str, Any], name: str) -> Any:
    """The ticket's value of a field or ``attributes.NAME``; ``None`` when absent."""
    if name.startswith(_ATTR):
        return attributes.get(name[len(_ATTR) :])
    return fields.get(name)


def _value_matches(candidates: tuple[Value, ...], actual: Any) -> bool:
    if type(actual) is str:
        return actual in candidates
    for c in candidates:
        if c is None:
            if actual is None:
                return True
        elif type(actual) is list:
            if any(same_value(c, item) for item in actual):
                return True
        elif same_value(c, actual):
            return True
    return False


def matches(cond: Condition, fields: dict[str, Any], attributes: dict[str, Any]) -> bool:
    """Whether the ticket with these fields and attributes satisfies ``cond``."""
    if type(cond) is FieldMatch:
        name = cond.field
        actual = attributes.get(name[11:]) if name.startswith(_ATTR) else fields.get(name)
        return _value_matches(cond.values, actual)
    if type(cond) is AllOf:
        return all(matches(c, fields, attributes) for c in cond.items)
    if type(cond) is AnyOf:
        return any(matches(c, fields, attributes) for c in cond.items)
    if type(cond) is Not:
        return not matches(cond.item, fields, attributes)
    raise TypeError(f"not a condition: {cond!r}")


def condition_fields(cond: Condition | None) -> frozenset[str]:
    """The fields (and ``attributes.NAME``) a condition reads: it can change only when they do."""
    if cond is None:
        return frozenset()
    if type(cond) is FieldMatch:
        return frozenset((cond.field,))
    if type(cond) is Not:
        return condition_fields(cond.item)
    if type(cond) is AllOf or type(cond) is AnyOf:
        return frozenset().union(*(condition_fields(c) for c in cond.items))
    raise TypeError(f"not a condition: {cond!r}")


def trigger_matches(
    trigger: Trigger,
    *,
    first_created: bool,
    comment: CommentInfo | None,
    changes: dict[str, Change],
    fields: dict[str, Any],
    attributes: dict[str, Any],
) -> bool:
    """Whether an event (its kind, comment and field changes) matches a trigger.

    ``fields`` and ``attributes`` are the ticket after the event; ``if:`` is checked on them.
    """
    kind = trigger.kind
    if kind is _CREATED:
        hit = first_created
    elif kind is _COMMENTED:
        hit = comment is not None and (
            (trigger.author_roles is None or comment.author_role in trigger.author_roles)
            and (trigger.public is None or comment.public is trigger.public)
        )
    else:
        name = "status" if kind is _STATUS_ENTERED else trigger.field
        change = changes.get(name) if name is not None else None
        if change is None:
            return False
        old, new = change
        to_values = trigger.status if kind is _STATUS_ENTERED else trigger.to_values
        hit = (to_values is None or _value_matches(to_values, new)) and (
            trigger.from_values is None or _value_matches(trigger.from_values, old)
        )
    if not hit:
        return False
    return trigger.condition is None or matches(trigger.condition, fields, attributes)
