"""RetryPolicy arithmetic and deliver(): retryable failures are retried with backoff,
permanent ones end at once, and the server's Retry-After is honoured."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slawatch.definitions.model import Channel as ChannelDefinition
from slawatch.settings import Settings
from slawatch_notifier.channels import (
    ChannelError,
    FailureReason,
    RetryPolicy,
    build_channels,
    deliver,
)
from slawatch_notifier.messages import Message
from tests.notifier.channels.making import message
from tests.notifier.channels.servers import Reply, http_server


class Scripted:
    """A channel that fails with the scripted errors, then accepts."""

    name = "scripted"
    type = "console"

    def __init__(self, *errors: ChannelError) -> None:
        self.errors = list(errors)
        self.sent: list[Message] = []
        self.tries = 0

    async def send(self, msg: Message) -> None:
        self.tries += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(msg)

    async def close(self) -> None:
        pass


def temporary(retry_after: float | None = None) -> ChannelError:
    return ChannelError(FailureReason.SERVER_ERROR, "503", retryable=True, retry_after=retry_after)


def permanent() -> ChannelError:
    return ChannelError(FailureReason.REJECTED, "404", retryable=False)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_delays_grow_and_are_capped_without_jitter() -> None:
    policy = RetryPolicy(first=1.0, factor=2.0, maximum=10.0, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert policy.delay(10_000) == 10.0


def test_jitter_is_seeded_and_bounded() -> None:
    policy = RetryPolicy(first=4.0, jitter=0.25)
    a = [policy.delay(1, random.Random(3)) for _ in range(3)]
    b = [policy.delay(1, random.Random(3)) for _ in range(3)]
    assert a == b
    assert all(3.0 <= d <= 5.0 for d in a)


@given(
    attempt=st.integers(min_value=1, max_value=100_000),
    first=st.floats(min_value=0, max_value=100),
    factor=st.floats(min_value=1, max_value=10),
    jitter=st.floats(min_value=0, max_value=0.99),
    seed=st.integers(),
)
def test_a_delay_is_never_negative_nor_above_the_maximum(
    attempt: int, first: float, factor: float, jitter: float, seed: int
) -> None:
    """For any policy and attempt, 0 <= delay <= maximum."""
    policy = RetryPolicy(first=first, factor=factor, maximum=300.0, jitter=jitter)
    assert 0.0 <= policy.delay(attempt, random.Random(seed)) <= 300.0


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"first": -1.0}, {"factor": 0.5}, {"jitter": 1.0}, {"first": 500.0}],
)
def test_bad_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must be|need"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="count from 1"):
        RetryPolicy().delay(0)


async def test_retryable_failures_are_retried_until_accepted() -> None:
    channel = Scripted(temporary(), temporary())
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=5, first=1.0, jitter=0.0)
    retries: list[tuple[int, str, float]] = []
    outcome = await deliver(
        channel,
        message(),
        policy,
        sleep=sleeps,
        on_retry=lambda n, e, d: retries.append((n, e.reason, d)),
    )
    assert outcome.sent and outcome.attempts == 3 and outcome.error is None
    assert sleeps.waits == [1.0, 2.0]
    assert retries == [(1, "server_error", 1.0), (2, "server_error", 2.0)]
    assert len(channel.sent) == 1


async def test_a_permanent_failure_is_not_retried() -> None:
    channel = Scripted(permanent())
    sleeps = Sleeps()
    outcome = await deliver(channel, message(), RetryPolicy(), sleep=sleeps)
    assert not outcome.sent and outcome.attempts == 1
    assert outcome.error is not None and outcome.error.reason == "rejected"
    assert sleeps.waits == []


async def test_the_last_attempt_gives_up() -> None:
    channel = Scripted(*[temporary() for _ in range(10)])
    sleeps = Sleeps()
    outcome = await deliver(channel, message(), RetryPolicy(attempts=3, jitter=0), sleep=sleeps)
    assert not outcome.sent and outcome.attempts == 3 and channel.tries == 3
    assert len(sleeps.waits) == 2


async def test_retry_after_is_honoured_up_to_the_maximum() -> None:
    channel = Scripted(temporary(retry_after=30.0), temporary(retry_after=9999.0))
    sleeps = Sleeps()
    policy = RetryPolicy(first=1.0, maximum=60.0, jitter=0.0)
    await deliver(channel, message(), policy, sleep=sleeps)
    assert sleeps.waits == [30.0, 60.0]


async def test_deliver_over_a_real_server_that_recovers(settings: Settings) -> None:
    async with http_server() as server:
        server.script = [Reply(500), Reply(503)]
        definition = ChannelDefinition(
            id="chat", type="slack", settings=(("webhook_url", server.url + "/hook"),)
        )
        channel = build_channels({"chat": definition}, {}, settings=settings)["chat"]
        sleeps = Sleeps()
        outcome = await deliver(channel, message("slack"), RetryPolicy(jitter=0), sleep=sleeps)
        await channel.close()
    assert outcome.sent and outcome.attempts == 3
    assert len(server.requests) == 3
    assert len({r.body for r in server.requests}) == 1
