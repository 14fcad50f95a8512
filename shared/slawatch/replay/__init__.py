"""``slawatch replay``: the whole pipeline over a file of events, in simulated time."""

from slawatch.replay.runner import Cause, ReplayProblem, ReplayStats, replay

__all__ = ["Cause", "ReplayProblem", "ReplayStats", "replay"]
