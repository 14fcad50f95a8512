"""Settings of CPython's cyclic garbage collector for long-running slawatch processes.

An evaluator holds hundreds of thousands of long-lived objects (clocks, histories).
With the default thresholds the collector walks all of them every few thousand
allocations' worth of young collections, which measured at half of the engine's time
(``docs/benchmarks.md``). Reference counting frees almost everything slawatch
discards; the cyclic collector is only needed for the rare cycle, so the oldest
generation is collected a hundred times less often.
"""

from __future__ import annotations

import gc

__all__ = ["THRESHOLDS", "tune"]

THRESHOLDS = (10_000, 100, 1_000)
"""``gc.set_threshold`` arguments: young, middle and oldest generation."""


def tune() -> None:
    """Apply :data:`THRESHOLDS` to this process."""
    gc.set_threshold(*THRESHOLDS)
