"""The fold of one ticket's events into its clocks (rules 7-17).

:func:`apply_event` applies one event to a :class:`TicketState` in the order of rule
10a and returns the outputs it causes; :func:`fire_before` fires the warning and breach
timers due before an instant. Both are pure functions of their arguments (the state is
mutated in place and is the only thing they touch), so a live evaluator, replay and a
recomputation from history all produce the same outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from sys import intern
from typing import Any, Final

from slawatch.clock.catalog import Catalog, VersionView
from slawatch.clock.cycle import Cycle, CycleState
from slawatch.clock.match import Change, matches, same_value, trigger_matches
from slawatch.definitions.model import Goal, Sla, Target, Trigger, TriggerKind
from slawatch.events.model import EventType, TicketEvent
from slawatch.outputs import Output, OutputType, uuid5_text, written
from slawatch.timeutil import format_seconds, format_time

__all__ = [
    "CancelReason",
    "TicketState",
    "apply_event",
    "fire_before",
    "next_due",
    "soonest_deadline",
]

LABEL_FIELDS = ("priority", "customer", "service", "region", "assignee_group")
_LABEL_NAMES = frozenset(LABEL_FIELDS)

# The enum members the per-event paths read, as module globals: under Python 3.11 a
# member read off its class costs several times a global's look-up.
_DELETED: Final = EventType.TICKET_DELETED
_CREATED: Final = EventType.TICKET_CREATED
_WARNING: Final = OutputType.WARNING
_BREACHED: Final = OutputType.BREACHED
_STOPPED: Final = OutputType.STOPPED
_CANCELLED: Final = OutputType.CANCELLED
_STARTED: Final = OutputType.STARTED
_OUTPUT_PAUSED: Final = OutputType.PAUSED
_RESUMED: Final = OutputType.RESUMED
_GOAL_CHANGED: Final = OutputType.GOAL_CHANGED
_ON_CREATED: Final = TriggerKind.CREATED
_ON_COMMENTED: Final = TriggerKind.COMMENTED
_ON_FIELD_CHANGED: Final = TriggerKind.FIELD_CHANGED
_RUNNING: Final = CycleState.RUNNING
_PAUSED: Final = CycleState.PAUSED


class CancelReason:
    """The ``reason`` of ``sla.clock.cancelled`` (rule 8)."""

    NO_LONGER_APPLIES = "no_longer_applies"
    DELETED = "deleted"


NO_COUNTS: Final[dict[int, int]] = {}
"""The cycle counters of a ticket none of whose clocks has closed yet, shared (a ticket
gets a dict of its own when one closes, :func:`_count_closed`)."""

NO_VALUES: Final[dict[str, Any]] = {}
"""The fields or attributes of a ticket that has none, shared: the fold replaces a
ticket's dicts and never changes one in place (:func:`_merge`)."""


_APPLIED: dict[tuple[str, ...], tuple[str, ...]] = {}


def shared_applied(applied: tuple[str, ...]) -> tuple[str, ...]:
    """The one tuple of these SLA ids every ticket with them shares
    (``TicketState.applied``): tickets repeat few combinations, bounded by the
    definitions."""
    return _APPLIED.setdefault(applied, applied)


class TicketState:
    """What the engine knows about one ticket: its fields, cycle counters and open clocks.

    ``counters`` holds, per target, the number of its last closed cycle.
    """

    __slots__ = (
        "_labels",
        "applied",
        "attributes",
        "counters",
        "created",
        "deleted",
        "events",
        "fields",
        "open",
    )

    def __init__(self) -> None:
        self.fields: dict[str, Any] = NO_VALUES
        self.attributes: dict[str, Any] = NO_VALUES
        self.created = False
        self.deleted = False
        self.counters: dict[int, int] = NO_COUNTS
        self.open: dict[int, Cycle] = {}
        self.applied: tuple[str, ...] = ()
        self.events = 0
        self._labels: dict[str, Any] | None = None

    def labels(self) -> dict[str, Any]:
        """The ticket fields every output carries, in ``LABEL_FIELDS`` order.

        The dict is shared by the outputs of one event or one firing of timers, and let
        go after it, so that a ticket between events does not hold it (the fold changes
        ``fields`` only through :func:`_merge`, which drops it too): read it, never
        mutate it.
        """
        labels = self._labels
        if labels is None:
            get = self.fields.get
            labels = self._labels = {
                "priority": get("priority"),
                "customer": get("customer"),
                "service": get("service"),
                "region": get("region"),
                "assignee_group": get("assignee_group"),
            }
        return labels


class _Ctx:
    """One event's inputs to the per-target steps."""

    __slots__ = (
        "applying",
        "changes",
        "comment",
        "deleted",
        "first_created",
        "outs",
        "subject",
        "time",
        "version",
    )

    def __init__(
        self, subject: str, ev: TicketEvent, first_created: bool, changes: dict[str, Change]
    ):
        self.subject = subject
        self.time = ev.time
        self.comment = ev.comment
        self.first_created = first_created
        self.changes = changes
        self.deleted = ev.type is _DELETED
        self.outs: list[Output] = []
        self.version: VersionView | None = None
        self.applying: dict[str, bool] = {}

    def applies(self, sla: Sla, state: TicketState) -> bool:
        """Whether ``sla`` applies to the ticket after this event (evaluated once per event)."""
        known = self.applying.get(sla.id)
        if known is None:
            known = self.applying[sla.id] = _applies(sla, state)
        return known


# --- outputs --------------------------------------------------------------------


def _emit(
    outs: list[Output],
    state: TicketState,
    subject: str,
    kind: OutputType,
    cycle: Cycle,
    t: int,
    elapsed: int,
    extras: dict[str, Any] | None = None,
    discriminator: tuple[Any, ...] = (),
) -> None:
    head = cycle.version.head(kind, cycle.sla, cycle.target, cycle.goal)
    time_text = format_time(t)
    body = head.body.copy()
    key = f"{body['type']}|{subject}{head.pair}{cycle.number}|{time_text}"
    if discriminator:
        key += "|" + "|".join(map(written, discriminator))
    body["id"] = uuid5_text(key)
    body["time"] = time_text
    body["subject"] = subject
    body["cycle"] = cycle.number
    body["elapsed_seconds"] = format_seconds(elapsed)
    body["deadline"] = cycle.deadline_written()
    body["labels"] = state.labels()
    if extras:
        body.update(extras)
    ticket = (state.fields, state.attributes)
    outs.append(Output(kind, t, subject, cycle.order, cycle.number, body, False, ticket))


def _warning(
    outs: list[Output],
    state: TicketState,
    subject: str,
    cycle: Cycle,
    index: int,
    t: int,
    elapsed: int,
) -> None:
    threshold = cycle.target.warn_at[index].written
    _emit(
        outs,
        state,
        subject,
        _WARNING,
        cycle,
        t,
        elapsed,
        {"threshold": threshold, "remaining_seconds": format_seconds(cycle.goal.target - elapsed)},
        (threshold,),
    )


# --- timers ---------------------------------------------------------------------


def next_due(state: TicketState) -> int | None:
    """The earliest instant a timer of an open clock falls due."""
    best: int | None = None
    for cycle in state.open.values():
        due = cycle.next_due()
        if due is not None and (best is None or due < best):
            best = due
    return best


def soonest_deadline(state: TicketState) -> int | None:
    """The earliest ``deadline`` of an open clock that has one (running, or breached):
    a ticket with none is in no "breaching soon" queue."""
    best: int | None = None
    for cycle in state.open.values():
        deadline = cycle.deadline_field()
        if deadline is not None and (best is None or deadline < best):
            best = deadline
    return best


def _fire(outs: list[Output], state: TicketState, subject: str, cycle: Cycle, t: int) -> None:
    elapsed = cycle.elapsed_at(t)
    if elapsed >= cycle.goal.target:
        cycle.breach(t)
        _emit(outs, state, subject, _BREACHED, cycle, t, elapsed)
        return
    crossed = [p for p in cycle.thresholds() if p[0] <= elapsed and not cycle.is_marked(p[1])]
    for _, index, _ in crossed:
        cycle.mark(index)
    if crossed:
        _warning(outs, state, subject, cycle, crossed[-1][1], t, elapsed)


def fire_before(state: TicketState, subject: str, limit: int) -> list[Output]:
    """Fire, in time order per clock, every timer due strictly before ``limit``."""
    outs: list[Output] = []
    for cycle in list(state.open.values()):
        due = cycle.next_due()
        while due is not None and due < limit:
            _fire(outs, state, subject, cycle, due)
            due = cycle.next_due()
    state._labels = None
    return outs


# --- one event ------------------------------------------------------------------


def _merge(state: TicketState, ev: TicketEvent) -> dict[str, Change]:
    """Merge an event into the ticket; the changes, keyed by field name or ``attributes.NAME``.

    A changed ``fields`` or ``attributes`` is a new dict, never the old one changed in
    place: outputs made before keep the ticket as it was at their time.
    """
    changes: dict[str, Change] = {}
    fields = _merge_into(state.fields, ev.fields, "", changes)
    if fields is not None:
        state.fields = fields
        if state._labels is not None and not _LABEL_NAMES.isdisjoint(changes):
            state._labels = None
    attributes = _merge_into(state.attributes, ev.attributes, "attributes.", changes)
    if attributes is not None:
        state.attributes = attributes
    return changes


def _merge_into(
    known: dict[str, Any], updates: dict[str, Any], prefix: str, changes: dict[str, Change]
) -> dict[str, Any] | None:
    """``known`` with ``updates`` applied (``None`` clears), as a new dict; ``None`` if
    nothing changed. Changes are noted as ``prefix + name``.

    New names and string values are interned: tickets repeat few distinct ones.
    """
    merged: dict[str, Any] | None = None
    for name, new in updates.items():
        old = known.get(name)
        if new is None:
            if old is None:
                continue
            if merged is None:
                merged = known.copy()
            del merged[name]
        elif old is None or not same_value(old, new):
            if type(new) is str:
                new = intern(new)
            if old is None:
                name = intern(name)
            if merged is None:
                merged = known.copy()
            merged[name] = new
        else:
            continue
        changes[prefix + name] = (old, new)
    return merged


def _any_trigger(triggers: tuple[Trigger, ...], ctx: _Ctx, state: TicketState) -> bool:
    changes = ctx.changes
    for tr in triggers:
        kind = tr.kind
        if kind is _ON_CREATED:
            if not ctx.first_created:
                continue
        elif kind is _ON_COMMENTED:
            if ctx.comment is None:
                continue
        elif (tr.field if kind is _ON_FIELD_CHANGED else "status") not in changes:
            continue
        if trigger_matches(
            tr,
            first_created=ctx.first_created,
            comment=ctx.comment,
            changes=changes,
            fields=state.fields,
            attributes=state.attributes,
        ):
            return True
    return False


def pick_goal(target: Target, state: TicketState) -> Goal:
    """The first goal whose ``when`` matches (the last goal has none)."""
    for goal in target.goals:
        if goal.when is None or matches(goal.when, state.fields, state.attributes):
            return goal
    return target.goals[-1]


def _applies(sla: Sla, state: TicketState) -> bool:
    return sla.applies_to is None or matches(sla.applies_to, state.fields, state.attributes)


def _pauses(target: Target, state: TicketState) -> bool:
    return target.pause_while is not None and matches(
        target.pause_while, state.fields, state.attributes
    )


def _step(
    state: TicketState,
    ctx: _Ctx,
    order: int,
    start: tuple[VersionView, Sla, Target] | None,
    applies: bool,
    *,
    retro: bool = False,
) -> None:
    """Rule 10a's steps (1)-(5) for one target on one event."""
    t = ctx.time
    outs = ctx.outs
    subject = ctx.subject
    cycle = state.open.get(order)
    if cycle is not None and _any_trigger(cycle.target.stop, ctx, state):
        elapsed = cycle.close(t)
        del state.open[order]
        _count_closed(state, order, cycle.number)
        outcome = "breached" if cycle.breached else "met"
        _emit(
            outs, state, subject, _STOPPED, cycle, t, elapsed,
            {"outcome": outcome}, (outcome, format_seconds(elapsed)),
        )  # fmt: skip
        cycle = None
    if cycle is not None and (
        ctx.deleted
        or (
            not retro
            and cycle.version.touched(cycle.sla, ctx.changes)
            and not _applies(cycle.sla, state)
        )
    ):
        reason = CancelReason.DELETED if ctx.deleted else CancelReason.NO_LONGER_APPLIES
        elapsed = cycle.close(t)
        del state.open[order]
        _count_closed(state, order, cycle.number)
        _emit(
            outs, state, subject, _CANCELLED, cycle, t, elapsed,
            {"reason": reason, "breached": cycle.breached}, (reason,),
        )  # fmt: skip
        cycle = None
    started = False
    if cycle is None and start is not None and not ctx.deleted:
        version, sla, target = start
        if _any_trigger(target.start, ctx, state) and (applies or ctx.applies(sla, state)):
            number = state.counters.get(order, 0) + 1
            cycle = Cycle(version, sla, target, order, number, t, pick_goal(target, state))
            state.open[order] = cycle
            if sla.id not in state.applied:
                # rule 9: never computed retroactively after this
                state.applied = shared_applied((*state.applied, sla.id))
            _emit(outs, state, subject, _STARTED, cycle, t, 0)
            started = True
    if cycle is None:
        return
    target = cycle.target
    if not started and not cycle.version.touched(target.pause_while, ctx.changes):
        if cycle.version.touched(target.goals, ctx.changes):
            _repick_goal(state, ctx, cycle)
        return
    pausing = _pauses(target, state)
    if pausing and cycle.state is _RUNNING:
        cycle.pause(t)
        _emit(outs, state, subject, _OUTPUT_PAUSED, cycle, t, cycle.acc)
    elif not pausing and cycle.state is _PAUSED:
        cycle.resume(t)
        _emit(outs, state, subject, _RESUMED, cycle, t, cycle.acc)
    if not started and cycle.version.touched(target.goals, ctx.changes):
        _repick_goal(state, ctx, cycle)


def _count_closed(state: TicketState, order: int, number: int) -> None:
    """Note that cycle ``number`` of a target closed: the next one is ``number + 1``.
    An open cycle is counted by its own number, so a ticket whose clocks are all in
    their first cycle shares :data:`NO_COUNTS`."""
    if state.counters is NO_COUNTS:
        state.counters = {order: number}
    else:
        state.counters[order] = number


def _repick_goal(state: TicketState, ctx: _Ctx, cycle: Cycle) -> None:
    goal = pick_goal(cycle.target, state)
    previous = cycle.goal
    if goal.target == previous.target and goal.calendar == previous.calendar:
        if goal is not previous:
            cycle.goal = goal
        return
    t = ctx.time
    was_breached = cycle.breached
    elapsed, reached = cycle.change_goal(goal, t)
    breaches = reached is not None and not was_breached
    if reached is not None and breaches:
        # Before the goal change is written, so that its deadline is the past instant
        # the new goal was reached (events.md), as the breach's is.
        cycle.breach(reached)
    prev_s, goal_s = format_seconds(previous.target), format_seconds(goal.target)
    _emit(
        ctx.outs, state, ctx.subject, _GOAL_CHANGED, cycle, t, elapsed,
        {"previous_goal_seconds": prev_s, "previous_calendar": previous.calendar},
        (prev_s, goal_s, previous.calendar, goal.calendar),
    )  # fmt: skip
    if breaches:
        _emit(ctx.outs, state, ctx.subject, _BREACHED, cycle, t, elapsed)
        return
    crossed = [p for p in cycle.thresholds() if p[0] <= elapsed and not cycle.is_marked(p[1])]
    for _, index, _ in crossed:
        cycle.mark(index)
    if crossed and not was_breached:
        _warning(ctx.outs, state, ctx.subject, cycle, crossed[-1][1], t, elapsed)


def _entries(
    state: TicketState, version: VersionView | None
) -> Sequence[tuple[int, tuple[VersionView, Sla, Target] | None]]:
    """The targets to step through, in document order: the version's and open clocks' own."""
    listed = version.entries if version is not None else ()
    for cycle in state.open.values():
        if cycle.version is not version:
            break
    else:
        return listed
    entries: dict[int, tuple[VersionView, Sla, Target] | None] = dict(listed)
    for order in state.open:
        entries.setdefault(order, None)
    return sorted(entries.items(), key=lambda item: item[0])


def apply_event(
    state: TicketState,
    subject: str,
    ev: TicketEvent,
    catalog: Catalog,
    history: Callable[[], Sequence[TicketEvent]] | None = None,
) -> list[Output]:
    """Apply one ticket event (rule 10a); ``history()`` gives the earlier events, for rule 9.

    A target the event cannot concern (:class:`~slawatch.clock.catalog.Watch`) is skipped.
    """
    if state.deleted:
        return []
    first_created = ev.type is _CREATED and not state.created
    if ev.type is _CREATED:
        state.created = True
    changes = _merge(state, ev)
    ctx = _Ctx(subject, ev, first_created, changes)
    version = catalog.at(ev.time)
    ctx.version = version
    newly: set[str] = set()
    if version is not None and version.retroactive:
        for sla, _ in version.slas:
            if (
                sla.id in version.retroactive
                and sla.id not in state.applied
                and ctx.applies(sla, state)
            ):
                state.applied = shared_applied((*state.applied, sla.id))
                if state.events > 0:
                    newly.add(sla.id)
    commented = ev.comment is not None
    for order, start in _entries(state, version):
        if start is not None and start[2].retroactive and start[1].id in newly and history:
            _retroactive(state, ctx, order, start, catalog, [*history(), ev])
            continue
        cycle = state.open.get(order)
        if ctx.deleted:
            if cycle is None:
                continue
        elif cycle is not None:
            if not cycle.version.open_watches[order].concerns(first_created, commented, changes):
                continue
        elif start is None or not start[0].start_watches[order].concerns(
            first_created, commented, changes
        ):
            continue
        _step(state, ctx, order, start, False)
    if ctx.deleted:
        state.deleted = True
    state.events += 1
    state._labels = None
    return ctx.outs


def _retroactive(
    state: TicketState,
    ctx: _Ctx,
    order: int,
    start: tuple[VersionView, Sla, Target],
    catalog: Catalog,
    events: list[TicketEvent],
) -> None:
    """Rule 9: compute a target from the ticket's first event as if its SLA had always applied."""
    _, sla, target = start
    shadow = TicketState()
    for ev in events:
        for cycle in list(shadow.open.values()):
            due = cycle.next_due()
            while due is not None and due < ev.time:
                _fire(ctx.outs, shadow, ctx.subject, cycle, due)
                due = cycle.next_due()
        first_created = ev.type is _CREATED and not shadow.created
        if ev.type is _CREATED:
            shadow.created = True
        sub = _Ctx(ctx.subject, ev, first_created, _merge(shadow, ev))
        sub.outs = ctx.outs
        version = catalog.at(ev.time)
        found = version.target(sla.id, target.id) if version is not None else None
        begin = (version, found[0], found[1]) if version is not None and found else start
        _step(shadow, sub, order, begin, True, retro=True)
    if order in shadow.open:
        state.open[order] = shadow.open[order]
    if order in shadow.counters:
        _count_closed(state, order, shadow.counters[order])
