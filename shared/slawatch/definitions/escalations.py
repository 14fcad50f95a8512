"""Escalation chains, people, teams and channels (``definitions.md``, "Escalation chains"
and "People, teams and channels").

A step has exactly one of ``when:`` (an SLA event and optional filters) and ``after:``
(a positive duration), and the first step is a ``when:`` step. ``notify`` lists
``person:NAME``, ``team:NAME`` and ``role:assignee``. A person's or team's keys other
than a team's ``members`` are addresses keyed by a channel name defined in ``channels``.
A channel has a ``type`` and other settings kept as written, ``${VAR}`` unexpanded.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from slawatch.definitions.conditions import condition
from slawatch.definitions.context import Context, calendar_name
from slawatch.definitions.model import (
    Channel,
    Condition,
    EscalationChain,
    EscalationStep,
    Person,
    Team,
    Value,
)
from slawatch.definitions.problems import Report, at, describe, unknown_name
from slawatch.definitions.readers import (
    NAME,
    PERSON_NAME,
    Fields,
    choice,
    choices,
    decimal,
    duration,
    identifier,
    mapping,
    reference,
    require,
    string,
    string_list,
)

__all__ = ["CHANNEL_TYPES", "SLA_EVENTS", "STOP_EVENTS", "chain", "channel", "person", "team"]

SLA_EVENTS = (
    "sla.clock.started",
    "sla.clock.paused",
    "sla.clock.resumed",
    "sla.goal.changed",
    "sla.warning",
    "sla.breached",
    "sla.clock.stopped",
    "sla.clock.cancelled",
    "sla.availability.warning",
    "sla.availability.breached",
    "sla.availability.window_closed",
)
STOP_EVENTS = ("acknowledged", *SLA_EVENTS, "sla.retracted")
CHANNEL_TYPES = ("smtp", "slack", "teams", "mattermost", "webhook", "console")

_CHAIN_KEYS = frozenset({"steps", "stop_on"})
_STEP_KEYS = frozenset({"when", "after", "notify", "repeat", "during"})
_WHEN_KEYS = frozenset({"event", "at_least", "target", "outcome", "if"})
_WARNING_EVENTS = frozenset({"sla.warning", "sla.availability.warning"})
_OUTCOMES = {
    "sla.clock.stopped": ("met", "breached"),
    "sla.availability.window_closed": ("met", "breached", "no_data"),
}
_REPEAT_KEYS = ("every", "times")
_DEFAULT_STOP_ON = ("acknowledged", "sla.clock.stopped")


def chain(ctx: Context, path: str, name: str, value: object) -> EscalationChain | None:
    """One entry of ``escalations``, named ``name``."""
    errors_before = len(ctx.errors)
    identifier(ctx, path, name, "an escalation chain name", NAME)
    fields = Fields.of(ctx, path, value, "an escalation chain", _CHAIN_KEYS)
    if fields is None:
        return None
    steps = fields.required("steps", _steps) or ()
    stop_on = fields.optional("stop_on", _stop_on)
    if stop_on is None:
        stop_on = _DEFAULT_STOP_ON
    if len(ctx.errors) != errors_before:
        return None
    return EscalationChain(id=name, steps=steps, stop_on=stop_on)


def _steps(ctx: Context, path: str, value: object) -> tuple[EscalationStep, ...] | None:
    if not isinstance(value, list):
        ctx.error(path, f"a chain needs a list of steps, not {describe(value)}")
        return None
    if not value:
        ctx.warn(path, "no steps: this chain notifies no one")
        return ()
    steps = [
        _step(ctx, at(path, index), item, first=index == 0) for index, item in enumerate(value)
    ]
    valid = [step for step in steps if step is not None]
    return tuple(valid) if len(valid) == len(steps) else None


def _stop_on(report: Report, path: str, value: object) -> tuple[str, ...] | None:
    """The events that stop an instance; ``[]``: none (only a cancellation or a window's
    close stops it, rule 28)."""
    if value == []:
        return ()
    return choices(report, path, value, STOP_EVENTS, "a stop_on entry")


def _step(ctx: Context, path: str, value: object, *, first: bool) -> EscalationStep | None:
    fields = Fields.of(ctx, path, value, "an escalation step", _STEP_KEYS)
    if fields is None:
        return None
    if fields.has("when") == fields.has("after"):
        ctx.error(path, "a step needs exactly one of `when:` (an SLA event) and `after:` (a delay)")
    elif first and fields.has("after"):
        ctx.error(
            fields.at("after"),
            "the first step cannot be an `after:` step: there is no step before it to wait for",
        )
    trigger = fields.optional("when", _when) or EscalationStep(notify=())
    after = fields.optional("after", duration, "after")
    notify = fields.required("notify", _notify)
    repeat = fields.optional("repeat", _repeat)
    during = fields.optional("during", calendar_name)
    if notify is None or not fields.valid:
        return None
    return replace(
        trigger,
        notify=notify,
        after=after,
        repeat_every=repeat[0] if repeat else None,
        repeat_times=repeat[1] if repeat else 0,
        during=during,
    )


def _when(ctx: Context, path: str, value: object) -> EscalationStep | None:
    fields = Fields.of(ctx, path, value, "a step's when", _WHEN_KEYS)
    if fields is None:
        return None
    event = fields.required("event", choice, SLA_EVENTS, "event")
    at_least = fields.optional("at_least", _at_least)
    if at_least is not None and event is not None and event not in _WARNING_EVENTS:
        ctx.error(
            fields.at("at_least"),
            "at_least filters sla.warning and sla.availability.warning events only",
        )
    targets = fields.optional("target", string_list, "target")
    for name in targets or ():
        if name not in ctx.target_ids:
            ctx.warn(
                fields.at("target"),
                unknown_name("target id", name, ctx.target_ids) + ": this filter never matches",
            )
    outcome = None
    if fields.has("outcome") and event is not None:
        if event in _OUTCOMES:
            outcome = fields.optional("outcome", choice, _OUTCOMES[event], "outcome")
        else:
            ctx.error(
                fields.at("outcome"),
                "outcome filters sla.clock.stopped and sla.availability.window_closed events only",
            )
    cond: Condition | None = fields.optional("if", condition)
    if not fields.valid:
        return None
    return EscalationStep(
        notify=(),
        when_event=event,
        at_least=at_least,
        targets=targets,
        outcome=outcome,
        condition=cond,
    )


def _at_least(report: Report, path: str, value: object) -> Fraction | None:
    at_least = decimal(report, path, value, "at_least")
    if at_least is not None and not 0 < at_least < 1:
        report.error(path, f"at_least is a fraction between 0 and 1 (exclusive), not {value!r}")
        return None
    return at_least


def _notify(ctx: Context, path: str, value: object) -> tuple[str, ...] | None:
    entries = string_list(ctx, path, value, "notify")
    for index, entry in enumerate(entries or ()):
        entry_path = at(path, index) if isinstance(value, list) else path
        kind, _, name = entry.partition(":")
        if kind == "person":
            reference(ctx, entry_path, name, "person", ctx.people)
        elif kind == "team":
            reference(ctx, entry_path, name, "team", ctx.teams)
        elif kind == "role" and name != "assignee":
            ctx.error(entry_path, f"unknown role {name!r}: the only role is role:assignee")
        elif kind != "role":
            ctx.error(
                entry_path,
                f"a notify entry is person:NAME, team:NAME or role:assignee, not {entry!r}",
            )
    return entries


def _repeat(report: Report, path: str, value: object) -> tuple[int, int] | None:
    fields = Fields.of(report, path, value, "repeat", _REPEAT_KEYS)
    if fields is None:
        return None
    every = fields.required("every", duration, "repeat.every")
    times = fields.required("times", _times)
    return None if every is None or times is None else (every, times)


def _times(report: Report, path: str, value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        report.error(
            path, f"repeat.times must be a whole number of at least 1, not {describe(value)}"
        )
        return None
    return value


def _addresses(
    ctx: Context, path: str, body: dict[str, object], skip: str | None
) -> tuple[tuple[str, str], ...]:
    result: list[tuple[str, str]] = []
    for key, address in body.items():
        if key == skip:
            continue
        key_path = at(path, key)
        if key not in ctx.channels:
            ctx.error(
                key_path,
                "an address is keyed by a channel name: "
                + unknown_name("channel", key, ctx.channels),
            )
        text = string(ctx, key_path, address, "an address")
        if text is not None:
            result.append((key, text))
    if not result:
        ctx.warn(path, "has no addresses: notifications to it fail with no_address")
    return tuple(result)


def person(ctx: Context, path: str, name: str, value: object) -> Person | None:
    """One entry of ``people``: addresses keyed by channel name."""
    errors_before = len(ctx.errors)
    identifier(ctx, path, name, "a person's name", PERSON_NAME)
    body = {} if value is None else mapping(ctx, path, value, "a person")
    if body is None:
        return None
    addresses = _addresses(ctx, path, body, None)
    return Person(id=name, addresses=addresses) if len(ctx.errors) == errors_before else None


def team(ctx: Context, path: str, name: str, value: object) -> Team | None:
    """One entry of ``teams``: addresses keyed by channel name, and informational ``members``."""
    errors_before = len(ctx.errors)
    identifier(ctx, path, name, "a team name", NAME)
    body = {} if value is None else mapping(ctx, path, value, "a team")
    if body is None:
        return None
    addresses = _addresses(ctx, path, body, "members")
    members: tuple[str, ...] = ()
    if body.get("members") is not None:
        members = string_list(ctx, at(path, "members"), body["members"], "members") or ()
        for member in members:
            if member not in ctx.people:
                ctx.warn(at(path, "members"), unknown_name("person", member, ctx.people))
    if len(ctx.errors) != errors_before:
        return None
    return Team(id=name, addresses=addresses, members=members)


def channel(ctx: Context, path: str, name: str, value: object) -> Channel | None:
    """One entry of ``channels``: a ``type`` and its settings, kept as written."""
    errors_before = len(ctx.errors)
    identifier(ctx, path, name, "a channel name", NAME)
    body = mapping(ctx, path, value, "a channel")
    if body is None:
        return None
    kind = None
    if require(ctx, path, body, "type", "a channel"):
        kind = choice(ctx, at(path, "type"), body["type"], CHANNEL_TYPES, "a channel's type")
    settings: list[tuple[str, Value]] = []
    for key, setting in body.items():
        if key == "type":
            continue
        if setting is None or isinstance(setting, str | int | float | bool):
            settings.append((key, setting))
        else:
            ctx.error(
                at(path, key),
                "a channel setting must be a string, number, true, false or null, "
                f"not {describe(setting)}",
            )
    if kind is None or len(ctx.errors) != errors_before:
        return None
    return Channel(id=name, type=kind, settings=tuple(settings))
