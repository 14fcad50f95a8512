"""The escalation planner: SLA events, acknowledgements and time in, notifications out.

:class:`Planner` applies rules 27-31a. It is pure: it reads no clock, does no I/O and
sends nothing; the caller passes every instant. At a processing instant ``T`` the
caller first calls :meth:`Planner.due` with limit ``T`` (work due strictly before
``T``), then feeds the SLA events emitted at ``T`` (:meth:`~Planner.on_output`, or
:meth:`~Planner.on_outputs` for one input event's batch) and acknowledgements read at
``T`` (:meth:`~Planner.on_ack`); so an event stops a step due at the same instant
(rule 31). The same calls give the same notifications, in replay and live, and
:meth:`~Planner.to_record` / :meth:`~Planner.from_record` carry the state across a
restart without changing them.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from slawatch.clock.catalog import Catalog
from slawatch.definitions.model import EscalationChain
from slawatch.escalation.chains import (
    ACKNOWLEDGED,
    StopReason,
    chain_for,
    scope_of,
    step_matches,
    stops,
)
from slawatch.escalation.instance import (
    EscalationView,
    Instance,
    Item,
    Phase,
    Reached,
    SentStep,
    StepState,
    Stop,
)
from slawatch.escalation.notifications import (
    Notice,
    Notification,
    NotificationKey,
    NotificationStatus,
    Scope,
    make_notification,
)
from slawatch.escalation.recipients import addresses, assignee_of, needs_assignee
from slawatch.events.model import Acknowledgement
from slawatch.outputs import Output, OutputType

__all__ = ["FORMAT", "Planner", "PlannerStateError", "TicketLookup"]

FORMAT = 1
"""The version of :meth:`Planner.to_record`'s layout."""

Ticket = tuple[dict[str, Any], dict[str, Any]]
TicketLookup = Callable[[str], Ticket | None]
"""A subject's current ticket ``(fields, attributes)``, or ``None`` when there is none."""

GroupKey = tuple[str, str, str, int | None, str | None]
_ChainKey = tuple[int, str, str, bool]
_Entry = tuple[int, int, int, int, int]
"""A queue entry: (time, instance seq, -step, repeat, item token)."""


class PlannerStateError(ValueError):
    """A record that :meth:`Planner.from_record` cannot restore."""


def _no_ticket(subject: str) -> Ticket | None:
    return None


@dataclass(slots=True)
class _Group:
    """Every instance one cycle or window has had, and the notification keys it produced."""

    instances: list[Instance] = field(default_factory=list)
    seen: set[NotificationKey] = field(default_factory=set)

    def current(self) -> Instance | None:
        last = self.instances[-1] if self.instances else None
        return last if last is not None and last.stop is None else None

    def accepts_new(self) -> bool:
        """A new instance may start only while every earlier one was retracted (rule 28)."""
        return all(i.retracted for i in self.instances)


class Stopped(NamedTuple):
    """An instance that stopped: its cycle or window, chain, start, and why and when."""

    scope: Scope
    chain: str
    started: int
    stop: Stop


class Planner:
    """Escalation instances of every cycle and window, and their scheduled work.

    An ``if:`` condition sees the ticket at the SLA event's time (``Output.ticket``;
    for an event that came without it, the ticket ``ticket(subject)`` gives, with the
    event's ``labels`` laid over it). ``ticket(subject)`` gives the ticket's current
    fields and attributes: ``role:assignee`` reads ``assignee`` when its step fires.
    ``status`` is the status of every notification that has an address (``simulated``
    in replay).
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        ticket: TicketLookup = _no_ticket,
        status: str = NotificationStatus.SIMULATED.value,
    ) -> None:
        self.catalog = catalog
        self._ticket = ticket
        self._status = status
        self._groups: dict[GroupKey, _Group] = {}
        self._stops: list[Stopped] = []
        self._running: dict[int, Instance] = {}
        self._by_subject: dict[str, set[int]] = {}
        self._heap: list[_Entry] = []
        self._seq = 0
        self._token = 0
        self._chains: dict[_ChainKey, tuple[int, EscalationChain] | None] = {}

    # --- input ---------------------------------------------------------------------

    def on_output(self, out: Output, at: int) -> list[Notification]:
        """Apply an SLA event emitted at processing instant ``at``; the notifications due now.

        A ``backfill`` event fires no step but still stops instances. Notifications held
        by ``during:`` come later from :meth:`due`.
        """
        if out.type is OutputType.RETRACTED:
            return self._retract(out, at)
        scope = scope_of(out)
        group = self._groups.get(scope.group)
        inst = group.current() if group is not None else None
        notes: list[Notification] = []
        if inst is None:
            if out.backfill or (group is not None and not group.accepts_new()):
                return notes
            resolved = self._chain(out)
            if resolved is None:
                return notes
            hits = self._matching(resolved[1], None, out)
            if not hits:
                return notes
            inst = self._start(scope, resolved[0], resolved[1], at)
        else:
            hits = [] if out.backfill else self._matching(inst.chain, inst.states, out)
        for k in hits:
            if inst.states[k] is StepState.PENDING:
                self._fire_first(inst, k, out.id, at, notes)
        if stops(inst.chain, out.type):
            self._stop(inst, Stop(out.type.value, at, out.id))
        notes.sort(key=Notification.sort_key)
        return notes

    def on_outputs(self, outs: Iterable[Output], at: int) -> list[Notification]:
        """Apply the SLA events of one input event, all emitted at ``at``.

        Retractions go first, so a recomputation's new warning or breach can start a
        new instance (rule 28); the rest follow in replay's order.
        """
        ordered = sorted(outs, key=lambda o: (o.type is not OutputType.RETRACTED, o.sort_key()))
        notes = [n for out in ordered for n in self.on_output(out, at)]
        notes.sort(key=Notification.sort_key)
        return notes

    def on_ack(self, ack: Acknowledgement, at: int) -> None:
        """Stop the running instances an acknowledgement matches (rule 28a), at ``at``."""
        for seq in sorted(self._by_subject.get(ack.subject, ())):
            inst = self._running[seq]
            s = inst.scope
            if (
                (ack.sla is None or ack.sla == s.sla)
                and (ack.target is None or ack.target == s.target)
                and (ack.cycle is None or ack.cycle == s.cycle)
                and ACKNOWLEDGED in inst.chain.stop_on
            ):
                self._stop(inst, Stop(StopReason.ACKNOWLEDGED.value, at, ack.id, ack.by, ack.note))

    # --- time ----------------------------------------------------------------------

    def due(self, limit: int) -> list[Notification]:
        """Fire the ``after:`` steps, repeats and held notifications due before ``limit``."""
        notes: list[Notification] = []
        heap = self._heap
        while heap and heap[0][0] < limit:
            inst, item = self._item(heapq.heappop(heap))
            if inst is not None and item is not None:
                del inst.items[item.token]
                self._run(inst, item, notes)
        notes.sort(key=Notification.sort_key)
        return notes

    def due_subjects(self, limit: int) -> set[str]:
        """The subjects :meth:`due` would fire a step of before ``limit`` (it fires nothing).

        A caller that looks tickets up elsewhere refreshes these first, so that
        ``role:assignee`` resolves the ticket as it is when the step fires (rule 29).
        """
        found: set[str] = set()
        for entry in self._heap:
            if entry[0] < limit:
                inst, item = self._item(entry)
                if inst is not None and item is not None:
                    found.add(inst.scope.subject)
        return found

    def next_wakeup(self) -> int | None:
        """The earliest instant with scheduled work; :meth:`due` fires it with a later limit."""
        heap = self._heap
        while heap:
            if self._item(heap[0])[1] is not None:
                return heap[0][0]
            heapq.heappop(heap)
        return None

    # --- views and state -----------------------------------------------------------

    def running(self) -> list[EscalationView]:
        """The running instances, by subject, target order, cycle or window."""
        ordered = sorted(
            self._running.values(),
            key=lambda i: (
                i.scope.subject,
                i.scope.order,
                i.scope.sort_cycle,
                i.scope.window_start or "",
                i.seq,
            ),
        )
        return [inst.view() for inst in ordered]

    def running_chains(self) -> Counter[str]:
        """How many instances of each chain run (for gauges; no views are built)."""
        return Counter(inst.chain.id for inst in self._running.values())

    def running_subjects(self) -> set[str]:
        """The subjects with a running instance."""
        return set(self._by_subject)

    def forget(self, before: int) -> int:
        """Drop cycles and windows whose instances all stopped before ``before``.

        A forgotten cycle is as if never escalated: call this only for cycles no SLA
        event can reach any more (retention, rule 6a). Returns how many were dropped.
        """
        done = [
            key
            for key, group in self._groups.items()
            if all(i.stop is not None and i.stop.at < before for i in group.instances)
        ]
        for key in done:
            del self._groups[key]
        return len(done)

    def subjects(self) -> set[str]:
        """The subjects of every cycle and window kept (running or not yet forgotten)."""
        return {i.scope.subject for group in self._groups.values() for i in group.instances}

    def to_record(self) -> dict[str, Any]:
        """The whole state as a JSON-ready record."""
        return {
            "format": FORMAT,
            "seq": self._seq,
            "token": self._token,
            "groups": [
                {
                    "instances": [inst.to_record() for inst in group.instances],
                    "seen": [list(k) for k in sorted(group.seen)],
                }
                for group in self._groups.values()
            ],
        }

    @classmethod
    def from_record(
        cls,
        record: dict[str, Any],
        catalog: Catalog,
        *,
        ticket: TicketLookup = _no_ticket,
        status: str = NotificationStatus.SIMULATED.value,
    ) -> Planner:
        """A planner in the state :meth:`to_record` recorded."""
        if record.get("format") != FORMAT:
            raise PlannerStateError(f"unknown planner record format {record.get('format')!r}")
        planner = cls(catalog, ticket=ticket, status=status)
        planner._seq = record["seq"]
        planner._token = record["token"]
        for entry in record["groups"]:
            try:
                instances = [Instance.from_record(r, catalog) for r in entry["instances"]]
            except KeyError as exc:
                raise PlannerStateError(
                    f"a chain or version of the record is unknown: {exc}"
                ) from None
            seen = {(c, s, r, n, ch, rc) for c, s, r, n, ch, rc in entry["seen"]}
            group = _Group(instances, seen)
            planner._groups[instances[0].scope.group] = group
            for inst in instances:
                if inst.stop is None:
                    planner._run_instance(inst)
                    for item in inst.items.values():
                        planner._schedule(inst, item)
        return planner

    # --- steps ---------------------------------------------------------------------

    def _chain(self, out: Output) -> tuple[int, EscalationChain] | None:
        body = out.body
        key = (int(body["definitions_version"]), str(body["sla"]), str(body["target"]))
        ckey = (*key, "cycle" in body)
        if ckey not in self._chains:
            self._chains[ckey] = chain_for(self.catalog, out)
        return self._chains[ckey]

    def _ticket_at_event(self, out: Output) -> Ticket:
        if out.ticket is not None:
            return out.ticket
        found = self._ticket(out.subject)
        fields = dict(found[0]) if found is not None else {}
        labels = out.body.get("labels")
        if isinstance(labels, dict):
            fields.update(labels)
        return fields, (found[1] if found is not None else {})

    def _matching(
        self, chain: EscalationChain, states: list[StepState] | None, out: Output
    ) -> list[int]:
        kind = out.type.value
        seen: Ticket | None = None
        hits: list[int] = []
        for k, step in enumerate(chain.steps):
            if step.when_event != kind:
                continue
            if states is not None and states[k] is not StepState.PENDING:
                continue
            if step.condition is not None and seen is None:
                seen = self._ticket_at_event(out)
            fields, attributes = seen if seen is not None else ({}, {})
            if step_matches(step, out, fields, attributes):
                hits.append(k)
        return hits

    def _start(self, scope: Scope, version: int, chain: EscalationChain, at: int) -> Instance:
        self._seq += 1
        inst = Instance(self._seq, scope, version, chain, at)
        self._groups.setdefault(scope.group, _Group()).instances.append(inst)
        self._run_instance(inst)
        return inst

    def _run_instance(self, inst: Instance) -> None:
        self._running[inst.seq] = inst
        self._by_subject.setdefault(inst.scope.subject, set()).add(inst.seq)

    def take_stops(self) -> list[Stopped]:
        """The instances stopped since the last call, with why and when (for a caller that
        withdraws the notifications it has not delivered yet, or measures time to ack)."""
        stops, self._stops = self._stops, []
        return stops

    def _stop(self, inst: Instance, stop: Stop) -> None:
        inst.stop = stop
        self._stops.append(Stopped(inst.scope, inst.chain.id, inst.started, stop))
        inst.items.clear()
        if self._running.pop(inst.seq, None) is not None:
            seqs = self._by_subject[inst.scope.subject]
            seqs.discard(inst.seq)
            if not seqs:
                del self._by_subject[inst.scope.subject]

    def _fire_first(
        self, inst: Instance, k: int, cause: str, t: int, notes: list[Notification]
    ) -> None:
        """Step ``k`` fires: earlier unfired steps are skipped, earlier repeats end (rule 27)."""
        inst.states[k] = StepState.FIRED
        inst.fired_by.add(cause)
        for j in range(k):
            if inst.states[j] is StepState.PENDING:
                inst.states[j] = StepState.SKIPPED
        inst.highest = max(inst.highest, k)
        for token in [
            token
            for token, item in inst.items.items()
            if item.step < k and item.phase is Phase.TIMER
        ]:
            del inst.items[token]
        self._deliver(inst, k, 0, cause, t, notes)

    def _deliver(
        self, inst: Instance, k: int, repeat: int, cause: str, t: int, notes: list[Notification]
    ) -> None:
        """A firing falls due at ``t``: sent now, or held until its calendar opens (rule 31a)."""
        step = inst.chain.steps[k]
        assignee = (
            assignee_of(self._ticket(inst.scope.subject)) if needs_assignee(step.notify) else None
        )
        if step.during is not None:
            calendar = self.catalog.by_number(inst.version).calendars[step.during]
            if not calendar.is_open(t):
                opening = calendar.next_opening(t)
                self._push(inst, k, repeat, cause, opening, Phase.HELD, t, assignee)
                return
        self._send(inst, k, repeat, cause, t, assignee, notes)

    def _send(
        self,
        inst: Instance,
        k: int,
        repeat: int,
        cause: str,
        t: int,
        assignee: str | None,
        notes: list[Notification],
    ) -> None:
        """Notify each target on each address (rule 29), then schedule what follows."""
        group = self._groups[inst.scope.group]
        definitions = self.catalog.latest.definitions
        steps = inst.chain.steps
        step = steps[k]
        unresolved: list[tuple[int, str]] = []
        for index, entry in enumerate(step.notify):
            pairs = addresses(entry, definitions, assignee)
            if not pairs:
                unresolved.append((index, entry))
            for channel, recipient in pairs:
                note = make_notification(
                    time=t,
                    escalation=inst.chain.id,
                    scope=inst.scope,
                    step=k + 1,
                    repeat=repeat,
                    notice=Notice.STEP,
                    notify_index=index,
                    channel=channel,
                    recipient=recipient,
                    cause=cause,
                    status=self._status,
                )
                if self._emit(group, note, notes) and recipient:
                    inst.reached[(channel, recipient)] = Reached(cause, k + 1, repeat, index)
        if unresolved:
            # One record for every entry without an address: the rule-30 key (null
            # channel and recipient) is theirs in common, so it names them all.
            failed = make_notification(
                time=t,
                escalation=inst.chain.id,
                scope=inst.scope,
                step=k + 1,
                repeat=repeat,
                notice=Notice.STEP,
                notify_index=unresolved[0][0],
                channel=None,
                recipient=None,
                cause=cause,
                status=self._status,
                unresolved=tuple(entry for _, entry in unresolved),
            )
            self._emit(group, failed, notes)
        inst.sent.append(SentStep(k + 1, repeat, t, cause))
        following = k + 1
        if (
            repeat == 0
            and following < len(steps)
            and steps[following].after is not None
            and inst.states[following] is StepState.PENDING
        ):
            after = steps[following].after
            assert after is not None
            self._push(inst, following, 0, cause, t + after, Phase.TIMER, t + after)
        every = step.repeat_every
        if every is not None and repeat < step.repeat_times and inst.highest <= k:
            self._push(inst, k, repeat + 1, cause, t + every, Phase.TIMER, t + every)

    def _run(self, inst: Instance, item: Item, notes: list[Notification]) -> None:
        if item.phase is Phase.HELD:
            self._send(inst, item.step, item.repeat, item.cause, item.time, item.assignee, notes)
        elif item.repeat == 0:
            if inst.states[item.step] is StepState.PENDING:
                self._fire_first(inst, item.step, item.cause, item.time, notes)
        elif inst.highest <= item.step:
            self._deliver(inst, item.step, item.repeat, item.cause, item.time, notes)

    def _retract(self, out: Output, at: int) -> list[Notification]:
        """Stop the instances a retracted event fired a step of; tell everyone they reached."""
        notes: list[Notification] = []
        group = self._groups.get(scope_of(out).group)
        retracted = out.body.get("retracts")
        if group is None or not isinstance(retracted, str):
            return notes
        for inst in group.instances:
            if inst.retracted or retracted not in inst.fired_by:
                continue
            if inst.stop is None:
                self._stop(inst, Stop(StopReason.RETRACTED.value, at, out.id))
            inst.retracted = True
            for (channel, recipient), last in inst.reached.items():
                note = make_notification(
                    time=at,
                    escalation=inst.chain.id,
                    scope=inst.scope,
                    step=last.step,
                    repeat=last.repeat,
                    notice=Notice.RETRACTION,
                    notify_index=last.notify_index,
                    channel=channel,
                    recipient=recipient,
                    cause=last.cause,
                    status=self._status,
                )
                self._emit(group, note, notes)
        notes.sort(key=Notification.sort_key)
        return notes

    # --- bookkeeping ---------------------------------------------------------------

    @staticmethod
    def _emit(group: _Group, note: Notification, notes: list[Notification]) -> bool:
        """Add a notification unless its rule-30 key was produced before."""
        key = note.key
        if key in group.seen:
            return False
        group.seen.add(key)
        notes.append(note)
        return True

    def _push(
        self,
        inst: Instance,
        k: int,
        repeat: int,
        cause: str,
        time: int,
        phase: Phase,
        due: int,
        assignee: str | None = None,
    ) -> None:
        self._token += 1
        item = Item(self._token, k, repeat, cause, time, phase, due, assignee)
        inst.items[item.token] = item
        self._schedule(inst, item)

    def _schedule(self, inst: Instance, item: Item) -> None:
        """Queue an item; at one instant a later step goes before an earlier step's repeat."""
        heapq.heappush(self._heap, (item.time, inst.seq, -item.step, item.repeat, item.token))

    def _item(self, entry: _Entry) -> tuple[Instance | None, Item | None]:
        """The running instance and item a queue entry stands for, if both still exist."""
        inst = self._running.get(entry[1])
        return (inst, inst.items.get(entry[4])) if inst is not None else (None, None)
