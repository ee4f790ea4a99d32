"""Capped, jittered exponential backoff as a pure function (tested without sleeping)."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, initial: float, cap: float, rng: random.Random) -> float:
    """Delay before reconnect attempt ``attempt`` (1-based).

    "Equal jitter": half of the exponential step is fixed, half random, so
    retries of many devices spread out but never collapse to zero.
    """
    if attempt < 1:
        raise ValueError("attempt is 1-based")
    step = min(cap, initial * 2.0 ** min(attempt - 1, 32))
    return step / 2 + rng.uniform(0, step / 2)
