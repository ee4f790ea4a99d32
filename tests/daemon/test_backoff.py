"""The reconnect backoff is a pure function: checked without sleeping."""

import random

import pytest

from hallgw_daemon.supervisor.backoff import backoff_delay


def test_grows_exponentially_then_caps() -> None:
    rng = random.Random(1)
    steps = [backoff_delay(a, initial=0.1, cap=2.0, rng=rng) for a in range(1, 12)]
    # Equal jitter: each delay lies within [step/2, step].
    for attempt, delay in enumerate(steps, start=1):
        step = min(2.0, 0.1 * 2 ** (attempt - 1))
        assert step / 2 <= delay <= step
    assert max(steps) <= 2.0
    assert steps[-1] >= 1.0  # capped, never collapsing to zero


def test_jitter_spreads_devices() -> None:
    delays = {backoff_delay(5, initial=0.1, cap=10.0, rng=random.Random(seed)) for seed in range(20)}
    assert len(delays) == 20


def test_huge_attempts_do_not_overflow() -> None:
    assert backoff_delay(10_000, initial=0.05, cap=1.0, rng=random.Random(0)) <= 1.0


def test_attempt_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        backoff_delay(0, initial=0.1, cap=1.0, rng=random.Random(0))
