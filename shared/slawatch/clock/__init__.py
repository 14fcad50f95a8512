"""The ticket clock engine (rules 1-18): pure, deterministic, driven by events and ``now``."""

from slawatch.clock.engine import Applied, Engine, Verdict

__all__ = ["Applied", "Engine", "Verdict"]
