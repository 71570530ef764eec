"""The limiter alone, on a clock the test moves (seconds are the test's, not the machine's)."""

from __future__ import annotations

import pytest

from tempmail.security.rate_limits import RateLimiter, Refusal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_the_limit_then_a_refusal_for_a_window(clock: Clock) -> None:
    limiter = RateLimiter(3, 60, 3600, clock=clock)
    assert [limiter.record("a") for _ in range(3)] == [None, None, None]
    assert limiter.record("a") == Refusal(60, started=True)
    clock.now += 10
    assert limiter.refused("a") == 50
    assert limiter.record("a") == Refusal(50, started=False)
    assert limiter.refused("b") is None and limiter.record("b") is None
    clock.now += 50
    assert limiter.refused("a") is None


def test_events_older_than_the_window_are_forgotten(clock: Clock) -> None:
    limiter = RateLimiter(2, 60, 3600, clock=clock)
    for _ in range(10):
        assert limiter.record("a") is None
        clock.now += 31


def test_a_client_that_keeps_going_waits_twice_as_long_each_time(clock: Clock) -> None:
    limiter = RateLimiter(1, 60, 200, clock=clock)
    penalties = []
    for _ in range(4):
        limiter.record("a")
        refusal = limiter.record("a")
        assert refusal is not None and refusal.started
        penalties.append(refusal.retry_after)
        clock.now += refusal.retry_after
    assert penalties == [60, 120, 200, 200]


def test_a_quiet_window_after_a_refusal_starts_again_from_nothing(clock: Clock) -> None:
    limiter = RateLimiter(1, 60, 3600, clock=clock)
    limiter.record("a")
    assert limiter.record("a") == Refusal(60, started=True)
    clock.now += 60 + 61
    limiter.record("a")
    assert limiter.record("a") == Refusal(60, started=True)


def test_zero_is_no_limit(clock: Clock) -> None:
    limiter = RateLimiter(0, 60, 3600, clock=clock)
    assert all(limiter.record("a") is None for _ in range(1000))
