"""The fold's caches (output heads, a ticket's labels) change no output (hypothesis)."""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.clock.test_watch import replay, streams

from slawatch.clock.catalog import OutputHead, VersionView
from slawatch.clock.ticket import LABEL_FIELDS, TicketState
from slawatch.definitions.model import Goal, Sla, Target
from slawatch.outputs import OutputType
from slawatch.timeutil import MINUTE

_cached_head = VersionView.head


def uncached_head(
    self: VersionView, kind: OutputType, sla: Sla, target: Target, goal: Goal
) -> OutputHead:
    """The head as made afresh for every output."""
    self._heads.clear()
    return _cached_head(self, kind, sla, target, goal)


def uncached_labels(self: TicketState) -> dict[str, Any]:
    """The labels as read from the fields for every output."""
    return {name: self.fields.get(name) for name in LABEL_FIELDS}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.sampled_from([0, 20 * MINUTE]))
def test_cached_heads_and_labels_change_nothing(lines: list[bytes], lateness: int) -> None:
    """The same output bytes as making every head and labels dict afresh."""
    cached = replay(lines, lateness)
    with (
        mock.patch.object(VersionView, "head", uncached_head),
        mock.patch.object(TicketState, "labels", uncached_labels),
    ):
        fresh = replay(lines, lateness)
    assert cached == fresh
