"""Telemetry is strict JSON: values JSON cannot carry are refused when encoding."""

import math

import pytest

from hallgw_protocols.telemetry import GatewayMetrics, encode


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(bad: float) -> None:
    metrics = GatewayMetrics(
        interval_s=10.0, cpu_percent=bad, rss_bytes=1, loop_lag_ms={"p50": 0.0, "p99": 0.0, "max": 0.0},
        queue_depths={}, devices_total=0, devices_online=0,
    )  # fmt: skip
    with pytest.raises(ValueError, match="JSON"):
        encode(metrics, session=1, seq=0, time="2026-11-26T00:00:00Z")
