"""Telemetry costs, against baselines measured in the same run.

1. Delay from a device state change to the MQTT message at a subscriber (p50,
   p99), against a raw publish-to-receive on the same broker.
2. The daemon's CPU share with 1,000 devices, telemetry on against off.
"""

import asyncio
import datetime as dt
import json
import os
import statistics
import time
from pathlib import Path

import pytest
from support.broker import client, count, mosquitto_broker, subscriber
from support.hall import Hall
from support.perf import record

from hallgw_api.v1 import device_pb2, device_service_pb2

pytestmark = pytest.mark.bench

CHANGES = 60
DEVICES = 1000
CPU_WINDOW = 20.0
METRICS_INTERVAL = 10.0
"""The default: every device reports every 10 s, so 100 device reports a second at 1,000 devices."""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def telemetry_section(url: str, metrics_interval: float) -> str:
    return f'[telemetry]\nbroker = "{url}"\nmetrics_interval = {metrics_interval}\nbuffer_limit = 100000\n'


async def raw_delays(url: str, n: int) -> list[float]:
    """Publish a timestamp, receive it: the broker's own share of the delay."""
    delays = []
    async with subscriber(url, "bench/raw") as sub, client(url) as pub:
        for i in range(n):
            await pub.publish("bench/raw", json.dumps({"t": time.time(), "i": i}).encode(), qos=1)
            got = await sub.collect(until=count(i + 1), timeout=5)
            delays.append(time.time() - json.loads(got[i].payload)["t"])
    return delays


async def state_delays(hall: Hall, url: str, n: int) -> list[float]:
    """Toggle a device's admin state; the delay from the change (its event time) to arrival."""
    topic = "hallgw/v1/demo-hall/gw-01/device/idr-01/state"
    delays = []
    async with subscriber(url, topic) as sub:
        await sub.collect(until=lambda ms: len(ms) >= 1, timeout=10)  # the retained state
        states = [device_pb2.ADMIN_STATE_MAINTENANCE, device_pb2.ADMIN_STATE_ENABLED]
        for i in range(n):
            seen = len(sub.messages)
            await hall.devices.SetAdminState(
                device_service_pb2.SetAdminStateRequest(
                    device=device_pb2.DeviceRef(device_id="idr-01"), admin_state=states[i % 2], reason="bench"
                ),
                timeout=5,
            )
            got = await sub.collect(until=count(seen + 1), timeout=5)
            arrived = time.time()
            delays.append(arrived - parse_time(json.loads(got[seen].payload)["time"]))
    return delays


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def cpu_share(hall: Hall, window: float) -> float:
    assert hall.gw is not None
    start_cpu, start = cpu_seconds(hall.gw.pid), time.monotonic()
    await asyncio.sleep(window)
    return 100 * (cpu_seconds(hall.gw.pid) - start_cpu) / (time.monotonic() - start)


def big_scenario(path: Path) -> Path:
    lines = ['[hall]\nname = "demo-hall"\nseed = 3\nbaud = 0\n']
    for i in range(DEVICES):
        lines.append(f'[[stations]]\nid = "area-{i:04d}"\nkind = "area24"\n')
        lines.append(
            f'[[devices]]\nid = "idr-{i:04d}"\nkind = "idcard_reader"\nstation = "area-{i:04d}"\ntransport = "tcp"\n'
        )
    path.write_text("\n".join(lines))
    return path


async def test_bench_telemetry(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path / "broker") as broker:
        # 1. Latency, on the demo hall.
        hall = Hall(tmp_path / "hall", baud=0, extra_config=telemetry_section(broker.url, 10.0))
        hall.root.mkdir()
        try:
            await hall.start()
            await hall.wait_all_online()
            raw = await raw_delays(broker.url, CHANGES)
            via = await state_delays(hall, broker.url, CHANGES)
        finally:
            await hall.stop()

        # 2. CPU at 1,000 devices: the same simulated hall, the daemon with telemetry off, then on.
        big = Hall(tmp_path / "big", scenario=big_scenario(tmp_path / "big.toml"), baud=0)
        big.root.mkdir()
        try:
            await big.start_simulator()
            base = big.config.read_text().replace("probe_interval = 1.0", "probe_interval = 10.0")
            shares = {}
            for mode in ("off", "on", "off2", "on2"):
                extra = telemetry_section(broker.url, METRICS_INTERVAL) if mode.startswith("on") else ""
                big.config.write_text(base + "\n" + extra)
                await big.start_daemon()
                await big.wait_all_online(timeout=120)
                await asyncio.sleep(2)  # let the start-up burst pass
                shares[mode] = await cpu_share(big, CPU_WINDOW)
                assert await big.stop_daemon() == 0
        finally:
            await big.stop()
    off = statistics.mean([shares["off"], shares["off2"]])
    on = statistics.mean([shares["on"], shares["on2"]])
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC (`make bench`), Mosquitto on 127.0.0.1.\n\n"
        "| measure | baseline | with hallgwd | ratio |\n|---|---|---|---|\n"
        f"| state change to subscriber, p50 ({CHANGES} changes) | "
        f"{pct(raw, 0.5) * 1e3:.2f} ms (raw publish to receive) | "
        f"{pct(via, 0.5) * 1e3:.2f} ms (admin state change to device_state) | {pct(via, 0.5) / pct(raw, 0.5):.1f} |\n"
        f"| state change to subscriber, p99 | {pct(raw, 0.99) * 1e3:.2f} ms | {pct(via, 0.99) * 1e3:.2f} ms | "
        f"{pct(via, 0.99) / pct(raw, 0.99):.1f} |\n"
        f"| daemon CPU, {DEVICES} devices (probes every 10 s), mean of 2 windows of {CPU_WINDOW:.0f} s | "
        f"{off:.1f}% (telemetry off) | {on:.1f}% (telemetry on, metrics every {METRICS_INTERVAL:.0f} s: "
        f"{DEVICES / METRICS_INTERVAL:.0f} device reports/s) | "
        f"{on / max(off, 0.1):.2f} |\n"
    )
    print("\n" + text)
    record("telemetry", text)
    assert pct(via, 0.5) < 0.05, "a state change should reach monitoring within tens of milliseconds"
