"""``slawatch replay``: the whole pipeline over a file of events, in simulated time."""

from slawatch.replay.runner import Cause, Emitted, Replayer, ReplayProblem, ReplayStats, replay

__all__ = ["Cause", "Emitted", "ReplayProblem", "ReplayStats", "Replayer", "replay"]
