"""Interval metrics for telemetry: per device (commands, latency, link health) and for the gateway.

Counts are for the interval since the previous report (``interval_s`` says how
long), so a monitoring system can sum or rate them without knowing restarts.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import time
from typing import Final

from hallgw_daemon.core.model import OperState
from hallgw_daemon.supervisor import DeviceRegistry, ManagedDevice
from hallgw_protocols.telemetry import DeviceMetrics, GatewayMetrics

LATENCY_SAMPLES: Final = 2048
"""Latencies kept per device per interval (the newest); plenty for p99 at hall rates."""
LAG_PERIOD: Final = 0.1
"""How often the event loop's lag is sampled (seconds)."""


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max of ``values`` (nearest rank), rounded to 0.01; zeros when empty."""
    if not values:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": round(ordered[-1], 2)}


@dataclasses.dataclass(slots=True)
class _Window:
    ok: int = 0
    failed: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    latencies_ms: collections.deque[float] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=LATENCY_SAMPLES)
    )
    counters: tuple[int, int, int] = (0, 0, 0)
    """link_errors, reconnects, probe_failures at the start of the window (cumulative values)."""


class MetricsCollector:
    """Accumulates what happens between two reports."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry
        self._windows: dict[str, _Window] = {d.id: _Window(counters=self._counters(d)) for d in registry.list()}
        self._lag_ms: list[float] = []
        self._cpu = time.process_time()
        self._wall = time.monotonic()

    @staticmethod
    def _counters(dev: ManagedDevice) -> tuple[int, int, int]:
        c = dev.snapshot().counters
        return c.link_errors, c.reconnects, c.probe_failures

    def command_finished(self, device_id: str, *, ok: bool, reason: str, seconds: float) -> None:
        window = self._windows.get(device_id)
        if window is None:
            return
        if ok:
            window.ok += 1
        else:
            window.failed[reason or "UNKNOWN"] += 1
        window.latencies_ms.append(seconds * 1000)

    def device_report(self, dev: ManagedDevice, interval: float) -> DeviceMetrics:
        """This device's metrics since the last report; starts a new window."""
        window = self._windows[dev.id]
        now = self._counters(dev)
        link, reconnects, probes = (a - b for a, b in zip(now, window.counters, strict=True))
        latency = percentiles(list(window.latencies_ms)) | {"count": float(len(window.latencies_ms))}
        report = DeviceMetrics(
            device_id=dev.id,
            interval_s=round(interval, 3),
            commands_ok=window.ok,
            commands_failed=dict(window.failed),
            latency_ms=latency,
            link_errors=link,
            reconnects=reconnects,
            probe_failures=probes,
            queue_depth=dev.lane.depth,
            consumables=dict(dev.driver.consumables()),
        )
        self._windows[dev.id] = _Window(counters=now)
        return report

    def gateway_report(self, interval: float, queues: dict[str, int]) -> GatewayMetrics:
        """The gateway's own health since the last report."""
        cpu, wall = time.process_time(), time.monotonic()
        cpu_percent = 100.0 * (cpu - self._cpu) / max(wall - self._wall, 1e-6)
        self._cpu, self._wall = cpu, wall
        lag = percentiles(self._lag_ms)
        self._lag_ms = []
        devices = self.registry.list()
        online = sum(d.oper_state in (OperState.ONLINE, OperState.BUSY) for d in devices)
        return GatewayMetrics(
            interval_s=round(interval, 3),
            cpu_percent=round(cpu_percent, 2),
            rss_bytes=_rss_bytes(),
            loop_lag_ms={"p50": lag["p50"], "p99": lag["p99"], "max": lag["max"]},
            queue_depths=queues | {"device_commands": sum(d.lane.depth for d in devices)},
            devices_total=len(devices),
            devices_online=online,
        )

    async def sample_loop_lag(self) -> None:
        """Measure how late the event loop wakes a sleeper: the lag every task suffers."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(LAG_PERIOD)
            self._lag_ms.append(max(0.0, (loop.time() - started - LAG_PERIOD) * 1000))
            if len(self._lag_ms) > 10 * LATENCY_SAMPLES:
                del self._lag_ms[: len(self._lag_ms) // 2]


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
