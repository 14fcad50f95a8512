"""The definitions versions in force, indexed for the engine (rule 18).

A :class:`Catalog` answers which version is in force at an instant, gives every
(SLA, target) pair a stable document order for sorting outputs, and caches what the
hot path needs per version: business calendars and warning thresholds per goal.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slawatch.calendar import BusinessCalendar, calendar_for
from slawatch.clock.match import condition_fields
from slawatch.definitions.model import (
    Definitions,
    DefinitionsVersion,
    Goal,
    Sla,
    Target,
    Trigger,
    TriggerKind,
    in_force_from,
)
from slawatch.outputs import Output, OutputType
from slawatch.timeutil import ceil_micros, format_seconds, parse_time

__all__ = ["Catalog", "OutputHead", "Threshold", "VersionView", "Watch"]

_FILLED_PER_OUTPUT = ("elapsed_seconds", "deadline", "labels")

Threshold = tuple[int, int, bool]
"""A warning point for one goal: (elapsed microseconds, index in ``warn_at``, is a fraction)."""


@dataclass(frozen=True, slots=True)
class OutputHead:
    """What every output of one type for one target and goal of a version shares.

    ``body`` is the output's JSON object with its constant keys (the goal's included)
    filled and the others in their written order, to be copied and completed; ``pair``
    is ``|SLA|TARGET|``, the middle of the id's name; ``goal`` is the goal it was made
    for (kept so the id the cache is keyed by stays that goal's).
    """

    body: dict[str, Any]
    pair: str
    goal: Goal


@dataclass(frozen=True, slots=True)
class Watch:
    """What an event needs to concern a target: without it, stepping the target does nothing.

    A ticket's first creation (``created``), a comment (``commented``) or a change of
    one of ``fields`` (names as in an event's changes).
    """

    created: bool
    commented: bool
    fields: frozenset[str]

    @classmethod
    def of(cls, triggers: tuple[Trigger, ...], also: frozenset[str] = frozenset()) -> Watch:
        """What any of ``triggers`` needs to match, or a change of a field in ``also``."""
        kinds = {tr.kind for tr in triggers}
        fields = {
            "status" if tr.kind is TriggerKind.STATUS_ENTERED else tr.field
            for tr in triggers
            if tr.kind in (TriggerKind.STATUS_ENTERED, TriggerKind.FIELD_CHANGED)
        }
        return cls(
            TriggerKind.CREATED in kinds,
            TriggerKind.COMMENTED in kinds,
            also.union(name for name in fields if name is not None),
        )

    def concerns(self, first_created: bool, commented: bool, changes: Mapping[str, object]) -> bool:
        """Whether an event (creating, commenting, with these changes) has what is watched."""
        return (
            (self.created and first_created)
            or (self.commented and commented)
            or not self.fields.isdisjoint(changes)
        )


@dataclass(slots=True)
class VersionView:
    """One definitions version with the lookups the engine needs."""

    number: int
    effective_from: int | None
    definitions: Definitions
    slas: tuple[tuple[Sla, tuple[tuple[int, Target], ...]], ...]
    calendars: dict[str, BusinessCalendar]
    entries: tuple[tuple[int, tuple[VersionView, Sla, Target]], ...] = ()
    retroactive: frozenset[str] = frozenset()
    watched: dict[int, frozenset[str]] = field(default_factory=dict)
    start_watches: dict[int, Watch] = field(default_factory=dict)
    open_watches: dict[int, Watch] = field(default_factory=dict)
    _thresholds: dict[tuple[int, int], tuple[Threshold, ...]] = field(default_factory=dict)
    _heads: dict[tuple[OutputType, int, int], OutputHead] = field(default_factory=dict)

    def touched(self, watched_by: object, changes: Mapping[str, object]) -> bool:
        """Whether an event's changes touch a field that a condition of this version reads."""
        if not changes:
            return False
        watched = self.watched.get(id(watched_by))
        return watched is None or not watched.isdisjoint(changes)

    def calendar(self, goal: Goal) -> BusinessCalendar:
        """The business calendar of a goal."""
        return self.calendars[goal.calendar]

    def sla(self, sla_id: str) -> Sla | None:
        """The SLA of that id in this version."""
        for sla, _ in self.slas:
            if sla.id == sla_id:
                return sla
        return None

    def target(self, sla_id: str, target_id: str) -> tuple[Sla, Target] | None:
        """The SLA and target of those ids in this version."""
        for sla, targets in self.slas:
            if sla.id == sla_id:
                for _, target in targets:
                    if target.id == target_id:
                        return sla, target
        return None

    def head(self, kind: OutputType, sla: Sla, target: Target, goal: Goal) -> OutputHead:
        """The shared part of ``kind`` outputs for one target of this version under ``goal``."""
        key = (kind, id(target), id(goal))
        cached = self._heads.get(key)
        if cached is not None:
            return cached
        body: dict[str, Any] = {
            "id": None,
            "type": kind.value,
            "time": None,
            "sla": sla.id,
            "target": target.id,
            "kind": sla.kind.value,
        }
        if sla.underpins is not None:
            body["underpins"] = sla.underpins
        body["subject"] = None
        body["cycle"] = None
        body["goal_seconds"] = format_seconds(goal.target)
        body["calendar"] = goal.calendar
        body.update(dict.fromkeys(_FILLED_PER_OUTPUT))
        body["definitions_version"] = self.number
        head = self._heads[key] = OutputHead(body, f"|{sla.id}|{target.id}|", goal)
        return head

    def thresholds(self, target: Target, goal: int) -> tuple[Threshold, ...]:
        """The target's warning points for a goal, ascending; points at or below zero dropped.

        Among equal thresholds the fraction comes last: of the points crossed at one
        instant, the last is the one rule 15 emits.
        """
        key = (id(target), goal)
        cached = self._thresholds.get(key)
        if cached is not None:
            return cached
        points: list[Threshold] = []
        for index, point in enumerate(target.warn_at):
            if point.fraction is not None:
                at = ceil_micros(point.fraction * goal)
                points.append((at, index, True))
            elif point.before is not None:
                points.append((goal - point.before, index, False))
        result = tuple(sorted((p for p in points if p[0] > 0), key=lambda p: (p[0], p[2])))
        self._thresholds[key] = result
        return result


class Catalog:
    """All definitions versions, ordered by ``effective_from``."""

    def __init__(self, versions: Sequence[DefinitionsVersion]) -> None:
        self._build(versions)

    def add(self, versions: Sequence[DefinitionsVersion]) -> list[int]:
        """Take the versions not held yet (stored after this catalog was built); their
        numbers. Views of the versions held keep their definitions objects."""
        new = [v for v in versions if v.number not in self._by_number]
        if new:
            held = [
                DefinitionsVersion(v.number, v.effective_from, v.definitions) for v in self.versions
            ]
            self._build([*held, *new])
        return [v.number for v in new]

    def has(self, number: int) -> bool:
        """Whether the catalog holds version ``number``."""
        return number in self._by_number

    def output(
        self,
        body: dict[str, Any],
        *,
        backfill: bool = False,
        ticket: tuple[dict[str, Any], dict[str, Any]] | None = None,
    ) -> Output:
        """An output back from its JSON body (and the ticket at its time, if known)."""
        return Output(
            OutputType(body["type"]),
            parse_time(body["time"]),
            body["subject"],
            self.order.get((body["sla"], body["target"]), 0),
            int(body.get("cycle") or 0),
            body,
            backfill,
            ticket,
        )

    def _build(self, versions: Sequence[DefinitionsVersion]) -> None:
        ordered = sorted(versions, key=lambda v: in_force_from(v.effective_from))
        self.order: dict[tuple[str, str], int] = {}
        for version in reversed(ordered):
            for sla in version.definitions.slas:
                for target in sla.targets:
                    self.order.setdefault((sla.id, target.id), len(self.order))
        for index, version in enumerate(reversed(ordered)):
            for objective in version.definitions.availability:
                self.order.setdefault((objective.id, "availability"), 1_000_000 + index)
        self.versions = [self._view(v) for v in ordered]
        self._by_number = {v.number: v for v in self.versions}
        self._starts = [in_force_from(v.effective_from) for v in self.versions]

    def _view(self, version: DefinitionsVersion) -> VersionView:
        defs = version.definitions
        slas = tuple(
            (sla, tuple((self.order[(sla.id, t.id)], t) for t in sla.targets)) for sla in defs.slas
        )
        calendars = {cid: calendar_for(cdef) for cid, cdef in defs.calendars.items()}
        view = VersionView(version.number, version.effective_from, defs, slas, calendars)
        view.entries = tuple(
            (order, (view, sla, target)) for sla, targets in slas for order, target in targets
        )
        view.retroactive = frozenset(
            sla.id for sla in defs.slas if any(t.retroactive for t in sla.targets)
        )
        for sla, targets in slas:
            applies = view.watched[id(sla)] = condition_fields(sla.applies_to)
            for order, target in targets:
                pauses = view.watched[id(target.pause_while)] = condition_fields(target.pause_while)
                goals = view.watched[id(target.goals)] = frozenset().union(
                    *(condition_fields(g.when) for g in target.goals)
                )
                view.start_watches[order] = Watch.of(target.start)
                view.open_watches[order] = Watch.of(target.stop, applies | pauses | goals)
        return view

    def at(self, instant: int) -> VersionView | None:
        """The version in force at an instant: the latest ``effective_from`` at or before it."""
        i = bisect.bisect_right(self._starts, instant)
        return self.versions[i - 1] if i else None

    def by_number(self, number: int) -> VersionView:
        """A version by its number."""
        return self._by_number[number]

    @property
    def latest(self) -> VersionView:
        """The newest version."""
        return self.versions[-1]
