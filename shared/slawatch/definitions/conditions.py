"""Conditions and triggers (``definitions.md``, "Conditions" and "Triggers").

A condition is a mapping from a ticket field (:data:`~slawatch.definitions.model.TICKET_FIELDS`
or ``attributes.NAME``) to a value or list of values, or ``not: {...}`` / ``any: [...]``.
One key gives that item alone; several keys an :class:`~slawatch.definitions.model.AllOf`
in document order. Values are kept as loaded (``1`` is not ``"1"``, ``null`` is ``None``);
a non-string value for a ticket field is a warning, since ticket fields hold strings.

A trigger is one of the four kinds of the "Triggers" table, each with only its own keys
and an optional ``if:`` condition. For ``from``/``to``/``status``, an absent key is stored
as ``None`` (any value) and ``null`` as ``(None,)`` (the field is null).
"""

from __future__ import annotations

from datetime import date

from slawatch.definitions.model import (
    TICKET_FIELDS,
    AllOf,
    AnyOf,
    Condition,
    FieldMatch,
    Not,
    Trigger,
    TriggerKind,
    Value,
)
from slawatch.definitions.problems import Report, at, describe
from slawatch.definitions.readers import (
    boolean,
    check_keys,
    choice,
    choices,
    mapping,
    one_or_many,
    require,
)

__all__ = ["condition", "field_name", "trigger", "triggers"]

_ATTRIBUTES = "attributes."
_AUTHOR_ROLES = ("agent", "customer", "system")
_TRIGGER_KEYS: dict[TriggerKind, frozenset[str]] = {
    TriggerKind.CREATED: frozenset({"event", "if"}),
    TriggerKind.STATUS_ENTERED: frozenset({"event", "status", "from", "if"}),
    TriggerKind.FIELD_CHANGED: frozenset({"event", "field", "from", "to", "if"}),
    TriggerKind.COMMENTED: frozenset({"event", "author_role", "public", "if"}),
}


def field_name(report: Report, path: str, name: str) -> bool:
    """Whether ``name`` is a ticket field or ``attributes.NAME``; reports it otherwise."""
    if name in TICKET_FIELDS or (name.startswith(_ATTRIBUTES) and len(name) > len(_ATTRIBUTES)):
        return True
    fields = ", ".join(sorted(TICKET_FIELDS))
    report.error(path, f"unknown ticket field {name!r} (fields: {fields}, or attributes.NAME)")
    return False


def _scalar(report: Report, path: str, value: object) -> tuple[bool, Value]:
    if isinstance(value, date):
        return True, value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return True, value
    report.error(
        path,
        f"a value to compare must be a string, number, true, false or null, not {describe(value)}",
    )
    return False, None


def values(
    report: Report, path: str, value: object, field: str | None, *, what: str = "values"
) -> tuple[Value, ...] | None:
    """A value or a non-empty list of values, kept as loaded."""
    items = one_or_many(path, value)
    if not items:
        report.error(path, f"an empty list of {what} matches nothing; give at least one value")
        return None
    result: list[Value] = []
    valid = True
    for item_path, item in items:
        ok, scalar = _scalar(report, item_path, item)
        valid = valid and ok
        result.append(scalar)
        if ok and field in TICKET_FIELDS and scalar is not None and not isinstance(scalar, str):
            report.warn(
                item_path,
                f"{field} is compared as loaded: {describe(scalar)} never equals a string; "
                f"quote it ('{scalar}') if the ticket holds it as text",
            )
    return tuple(result) if valid else None


def condition(report: Report, path: str, value: object) -> Condition | None:
    """A condition mapping; ``None`` after reporting its problems."""
    body = mapping(report, path, value, "a condition")
    if body is None:
        return None
    if not body:
        report.error(path, "an empty condition; leave it out (or write null) to match every ticket")
        return None
    items: list[Condition] = []
    valid = True
    for key, item in body.items():
        parsed = _condition_item(report, at(path, key), key, item)
        valid = valid and parsed is not None
        if parsed is not None:
            items.append(parsed)
    if not valid:
        return None
    return items[0] if len(items) == 1 else AllOf(tuple(items))


def _condition_item(report: Report, path: str, key: str, value: object) -> Condition | None:
    if key == "not":
        inner = condition(report, path, value)
        return None if inner is None else Not(inner)
    if key == "any":
        if not isinstance(value, list) or not value:
            report.error(
                path, f"'any' takes a non-empty list of condition mappings, not {describe(value)}"
            )
            return None
        parsed = [condition(report, at(path, index), item) for index, item in enumerate(value)]
        if any(item is None for item in parsed):
            return None
        return AnyOf(tuple(item for item in parsed if item is not None))
    if not field_name(report, path, key):
        return None
    matched = values(report, path, value, key)
    return None if matched is None else FieldMatch(key, matched)


def triggers(report: Report, path: str, value: object, what: str) -> tuple[Trigger, ...] | None:
    """A list of triggers (``start`` or ``stop``); an empty one is accepted with a warning
    (the contract does not list it among the reasons to reject a document)."""
    if not isinstance(value, list):
        report.error(path, f"{what} must be a list of triggers, not {describe(value)}")
        return None
    if not value:
        effect = "never starts" if what == "start" else "stops only when it is cancelled"
        report.warn(path, f"no {what} triggers: this target's clock {effect}")
        return ()
    parsed = [trigger(report, at(path, index), item) for index, item in enumerate(value)]
    if any(item is None for item in parsed):
        return None
    return tuple(item for item in parsed if item is not None)


def trigger(report: Report, path: str, value: object) -> Trigger | None:
    """One trigger of the "Triggers" table."""
    body = mapping(report, path, value, "a trigger")
    if body is None:
        return None
    if not require(report, path, body, "event", "a trigger"):
        return None
    kind = choice(report, at(path, "event"), body["event"], TriggerKind, "a trigger's event")
    if kind is None:
        return None
    errors_before = len(report.errors)
    check_keys(report, path, body, _TRIGGER_KEYS[kind], f"a {kind} trigger")
    cond = condition(report, at(path, "if"), body["if"]) if body.get("if") is not None else None
    built: Trigger | None
    if kind is TriggerKind.CREATED:
        built = Trigger(kind, condition=cond)
    elif kind is TriggerKind.STATUS_ENTERED:
        built = _status_entered(report, path, body, cond)
    elif kind is TriggerKind.FIELD_CHANGED:
        built = _field_changed(report, path, body, cond)
    else:
        built = _commented(report, path, body, cond)
    return built if len(report.errors) == errors_before else None


def _optional_values(
    report: Report, path: str, body: dict[str, object], key: str, field: str | None
) -> tuple[Value, ...] | None:
    if key not in body:
        return None
    if body[key] is None:
        return (None,)
    return values(report, at(path, key), body[key], field)


def _status_entered(
    report: Report, path: str, body: dict[str, object], cond: Condition | None
) -> Trigger | None:
    if not require(report, path, body, "status", "a status_entered trigger"):
        return None
    status = values(report, at(path, "status"), body["status"], "status")
    from_values = _optional_values(report, path, body, "from", "status")
    return Trigger(
        TriggerKind.STATUS_ENTERED,
        field="status",
        status=status,
        from_values=from_values,
        condition=cond,
    )


def _field_changed(
    report: Report, path: str, body: dict[str, object], cond: Condition | None
) -> Trigger | None:
    if not require(report, path, body, "field", "a field_changed trigger"):
        return None
    name = body["field"]
    if not isinstance(name, str):
        report.error(at(path, "field"), f"field must be a ticket field name, not {describe(name)}")
        return None
    if not field_name(report, at(path, "field"), name):
        return None
    return Trigger(
        TriggerKind.FIELD_CHANGED,
        field=name,
        from_values=_optional_values(report, path, body, "from", name),
        to_values=_optional_values(report, path, body, "to", name),
        condition=cond,
    )


def _commented(
    report: Report, path: str, body: dict[str, object], cond: Condition | None
) -> Trigger | None:
    roles = None
    if body.get("author_role") is not None:
        roles = choices(
            report, at(path, "author_role"), body["author_role"], _AUTHOR_ROLES, "author_role"
        )
    public = None
    if body.get("public") is not None:
        public = boolean(report, at(path, "public"), body["public"], "public")
    return Trigger(TriggerKind.COMMENTED, author_roles=roles, public=public, condition=cond)
