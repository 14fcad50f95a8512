"""Retrying a send with exponential backoff and jitter (rule 30: "retried with backoff").

:class:`RetryPolicy` is arithmetic only: :meth:`RetryPolicy.delay` is the wait before a
retry, a pure function of the attempt number and the random source it is given.
:func:`deliver` runs a channel's :meth:`~slawatch_notifier.channels.base.Channel.send`
under a policy: a retryable :class:`~slawatch_notifier.channels.base.ChannelError` is
tried again after the policy's delay (or the server's ``Retry-After``, if longer, capped
at ``maximum``), a permanent one ends at once. It returns a :class:`Delivery` value and
raises nothing of its own; the caller records ``sent`` or ``failed`` with its reason.

Errors::

    ValueError    a RetryPolicy with attempts < 1, negative delays, factor < 1,
                  jitter outside [0, 1), or delay() of an attempt below 1
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slawatch_notifier.channels.base import Channel, ChannelError

if TYPE_CHECKING:
    from slawatch_notifier.messages import Message

__all__ = ["Delivery", "RetryPolicy", "deliver"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try one send.

    ``attempts`` counts every try, the first included (5: one send and up to four
    retries). Retry ``n`` (1 for the first retry) waits ``first * factor ** (n - 1)``
    seconds, capped at ``maximum``, then scaled by a random factor in
    ``[1 - jitter, 1 + jitter]`` and capped at ``maximum`` again.
    """

    attempts: int = 5
    first: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {self.attempts}")
        if not 0 <= self.first <= self.maximum:
            raise ValueError(f"need 0 <= first <= maximum, not {self.first} and {self.maximum}")
        if self.factor < 1:
            raise ValueError(f"factor must be at least 1, not {self.factor}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), not {self.jitter}")

    def wait(
        self, attempt: int, retry_after: float | None, rnd: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry ``attempt``: :meth:`delay`, or the server's
        ``Retry-After`` if that is longer, but never more than ``maximum``."""
        wait = self.delay(attempt, rnd)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.maximum))
        return wait

    def delay(self, attempt: int, rnd: random.Random | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1 = the first retry)."""
        if attempt < 1:
            raise ValueError(f"retries count from 1, not {attempt}")
        if self.first == 0:
            return 0.0
        exponent = attempt - 1
        growth = exponent * math.log(self.factor)
        if growth >= math.log(self.maximum) - math.log(self.first):
            base = self.maximum
        else:
            try:
                base = self.first * self.factor**exponent
            except OverflowError:
                base = math.exp(math.log(self.first) + growth)
        if self.jitter:
            base *= 1 + (rnd or random).uniform(-self.jitter, self.jitter)
        return min(base, self.maximum)


@dataclass(frozen=True)
class Delivery:
    """The outcome of :func:`deliver`: sent or not, after how many tries, the last error."""

    sent: bool
    attempts: int
    error: ChannelError | None = None


async def deliver(
    channel: Channel,
    message: Message,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rnd: random.Random | None = None,
    on_retry: Callable[[int, ChannelError, float], None] | None = None,
) -> Delivery:
    """Send ``message`` through ``channel``, retrying retryable failures under ``policy``.

    ``on_retry(retry, error, delay)`` is called before each wait (for logs and metrics).
    Exceptions other than :class:`ChannelError` (bugs) propagate.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            await channel.send(message)
        except ChannelError as error:
            if not error.retryable or attempt >= policy.attempts:
                return Delivery(sent=False, attempts=attempt, error=error)
            wait = policy.wait(attempt, error.retry_after, rnd)
            if on_retry is not None:
                on_retry(attempt, error, wait)
            await sleep(wait)
        else:
            return Delivery(sent=True, attempts=attempt)
