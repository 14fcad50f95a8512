"""Settings of CPython's cyclic garbage collector for long-running slawatch processes.

An evaluator holds hundreds of thousands of long-lived objects (clocks, histories).
With the default thresholds the collector walks all of them every few thousand
allocations' worth of young collections, which measured at half of the engine's time
(``docs/benchmarks.md``). Reference counting frees almost everything slawatch
discards; the cyclic collector is only needed for the rare cycle, so the oldest
generation is collected a hundred times less often.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["THRESHOLDS", "paused", "tune"]

THRESHOLDS = (10_000, 100, 1_000)
"""``gc.set_threshold`` arguments: young, middle and oldest generation."""


def tune() -> None:
    """Apply :data:`THRESHOLDS` to this process."""
    gc.set_threshold(*THRESHOLDS)


_pausers = 0
_pausers_lock = threading.Lock()


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Pause the collector (process-wide, across threads) until every pauser is done.

    For bulk loads, which allocate only live objects: collections over a growing heap
    would double their time.
    """
    global _pausers
    with _pausers_lock:
        _pausers += 1
        gc.disable()
    try:
        yield
    finally:
        with _pausers_lock:
            _pausers -= 1
            if _pausers == 0:
                gc.enable()
