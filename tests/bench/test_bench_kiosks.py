"""Kiosk costs, against baselines measured in the same run on the same broker.

1. A command's round trip through the daemon (PrintTravelRecord over gRPC, the
   ledger, MQTT to a simulated record query kiosk and back, the answer over
   gRPC) against the same ``print_travel_record`` sent straight to the same
   kiosk by a bare aiomqtt client (MQTT v5, TCP_NODELAY, Response Topic and
   Correlation Data) that waits for the kiosk's ``completion``.

   Why this baseline: both sides make the kiosk do the very same work (admit
   the id into its command window, ``accepted``, four ``progress`` messages,
   the ``completion``, with ``step_delay = 0``), so the ratio is what the
   gateway adds: gRPC in and out, the ledger's three fsync'd transactions per
   issuance (begin, mark sent, finish: durable by design, see
   hallgw_daemon.ledger) and its own routing of the replies. A ``ping``
   round trip (one message each way) is also measured as the floor of any
   exchange over the broker, and reported without a target: a ratio against
   it would mostly count the kiosk's own messages, not the gateway.
   Rounds alternate between the two sides so load on the shared cores hits
   both alike. Target: median ratio <= 2.0.

2. The daemon's CPU share (of one core) and resident memory at steady state
   with 350 and 1,000 simulated kiosks, each heartbeating every 5 s (200
   heartbeats a second at 1,000), once every kiosk is online. Targets at
   1,000 kiosks: under 10% of a core, under 200 MB resident.
"""

import asyncio
import datetime as dt
import itertools
import os
import platform
import resource
import statistics
import time
from pathlib import Path

import grpc
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from support.broker import client, mosquitto_broker
from support.hall import Hall, by_device
from support.perf import record

from hallgw_api.v1 import device_pb2, device_service_pb2, kiosk_pb2
from hallgw_protocols.kiosk import (
    COMMAND_EXPIRY_S,
    Completion,
    Done,
    GatewayTopics,
    Ping,
    Pong,
    PrintTravelRecord,
    parse_reply,
)

pytestmark = [pytest.mark.bench, pytest.mark.timeout(300)]

HALL = "bench-hall"
GATEWAY = "gw-01"
RAW_GATEWAY = "bench-raw"
"""The bare client's gateway id: its replies go to a topic the daemon does not read."""
RECORDS = "kiosk-q-001"
ROUNDS = 10
PER_ROUND = 20
WARMUP = 5
FLEETS = (350, 1000)
HEARTBEAT_S = 5
CPU_WINDOW = 15.0
CPU_WINDOWS = 2
SETTLE_S = 5.0
ONLINE_TIMEOUT = 120.0
CPU_TARGET = 10.0
RSS_TARGET_MB = 200.0
RATIO_TARGET = 2.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def scenario(root: Path, groups: list[tuple[str, int, str]], step_delay: float) -> Path:
    """Write ``root``/hall.toml: a hall of kiosks only, ``groups`` of (kind, count, prefix) in areas of 100.

    Also makes ``root``/hall, the hall's state directory.
    """
    (root / "hall").mkdir(parents=True)
    path = root / "hall.toml"
    lines = [
        f'[hall]\nname = "{HALL}"\ngateway = "{GATEWAY}"\nseed = 5\nbaud = 0\ncontrol_port = 0\n',
        f"[kiosks]\nheartbeat_interval = {HEARTBEAT_S}\nstep_delay = {step_delay}\npickup_timeout = 0\n",
    ]
    area = itertools.count(1)
    for kind, total, prefix in groups:
        first = 1
        while first <= total:
            count = min(100, total - first + 1)
            station = f"area24-{next(area):02d}"
            lines.append(f'[[stations]]\nid = "{station}"\nkind = "area24"\n')
            lines.append(
                f'[[kiosk_groups]]\nstation = "{station}"\nkind = "{kind}"\ncount = {count}\n'
                f'prefix = "{prefix}"\nfirst = {first}\n'
            )
            first += count
    path.write_text("\n".join(lines))
    return path


def raise_open_files_limit() -> None:
    """Mosquitto inherits this process's limit and holds one socket per kiosk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard)
        )


# --- 1. round trip -----------------------------------------------------------------------


class RawGateway:
    """A bare MQTT v5 request/response client on one kiosk's cmd topic."""

    def __init__(self, url: str, kiosk_id: str) -> None:
        self.topics = GatewayTopics(HALL, RAW_GATEWAY).kiosk(kiosk_id)
        self.mqtt = client(url, identifier=RAW_GATEWAY)
        self.serial = itertools.count(1)

    async def __aenter__(self) -> "RawGateway":
        await self.mqtt.__aenter__()
        await self.mqtt.subscribe(self.topics.reply(RAW_GATEWAY), qos=1)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.mqtt.__aexit__(None, None, None)

    async def request(self, payload: bytes, final: type[Completion] | type[Pong]) -> Completion | Pong:
        """Publish on cmd as the gateway does; the first reply of type ``final`` with our Correlation Data."""
        correlation = f"c-{next(self.serial)}".encode()
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = self.topics.reply(RAW_GATEWAY)
        props.CorrelationData = correlation
        props.MessageExpiryInterval = COMMAND_EXPIRY_S
        await self.mqtt.publish(self.topics.cmd, payload, qos=1, properties=props)
        async with asyncio.timeout(10):
            async for message in self.mqtt.messages:
                if getattr(message.properties, "CorrelationData", None) != correlation:
                    continue
                assert isinstance(message.payload, bytes)
                reply = parse_reply(message.payload)
                if isinstance(reply, final):
                    return reply
        raise AssertionError("the reply stream ended")  # pragma: no cover

    async def print_record(self, command_id: str) -> float:
        command = PrintTravelRecord(
            time=now_utc(), command_id=command_id, business_ref=f"q-{command_id}", record_ref="rec-1", copies=1
        )
        started = time.perf_counter()
        reply = await self.request(command.to_bytes(), Completion)
        elapsed = time.perf_counter() - started
        assert isinstance(reply, Completion) and isinstance(reply.outcome, Done), reply
        return elapsed

    async def ping(self) -> float:
        started = time.perf_counter()
        await self.request(Ping(time=now_utc()).to_bytes(), Pong)
        return time.perf_counter() - started


async def daemon_print(hall: Hall, request_id: str) -> float:
    req = kiosk_pb2.PrintTravelRecordRequest(
        device=by_device(RECORDS), request_id=request_id, business_ref=f"q-{request_id}", record_ref="rec-1", copies=1
    )
    started = time.perf_counter()
    resp = await hall.kiosks.PrintTravelRecord(req, timeout=10)
    elapsed = time.perf_counter() - started
    assert resp.issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE, resp.issuance
    return elapsed


async def round_trip(root: Path, url: str) -> tuple[list[float], list[float], list[float]]:
    """(raw, via the daemon, ping) times in seconds, rounds alternating."""
    path = scenario(root, [("record_query", 2, "kiosk-q"), ("endorsement", 1, "kiosk-e")], step_delay=0)
    raw: list[float] = []
    via: list[float] = []
    pings: list[float] = []
    hall = Hall(root / "hall", scenario=path, broker=url)
    try:
        await hall.start()
        await hall.wait_all_online(timeout=20)
        async with RawGateway(url, RECORDS) as bare:
            for i in range(WARMUP):
                await bare.print_record(f"warm-raw-{i}")
                await daemon_print(hall, f"warm-gw-{i}")
                await bare.ping()
            for r in range(ROUNDS):
                for i in range(PER_ROUND):
                    raw.append(await bare.print_record(f"raw-{r}-{i}"))
                for i in range(PER_ROUND):
                    via.append(await daemon_print(hall, f"gw-{r}-{i}"))
                for _ in range(PER_ROUND):
                    pings.append(await bare.ping())
    finally:
        await hall.stop()
    return raw, via, pings


# --- 2. a fleet at rest ------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


async def wait_fleet_online(hall: Hall, total: int) -> float:
    """Poll ListDevices until ``total`` kiosks are online; the seconds it took."""
    started = time.monotonic()
    request = device_service_pb2.ListDevicesRequest(kinds=[device_pb2.DEVICE_KIND_KIOSK])
    online = 0
    while time.monotonic() - started < ONLINE_TIMEOUT:
        resp = await hall.devices.ListDevices(request, timeout=10)
        online = sum(d.oper_state == device_pb2.OPER_STATE_ONLINE for d in resp.devices)
        if online == total:
            return time.monotonic() - started
        await asyncio.sleep(1)
    raise AssertionError(f"{online} of {total} kiosks online after {ONLINE_TIMEOUT:.0f} s")


async def fleet_at_rest(root: Path, url: str, total: int) -> dict[str, float]:
    third = total // 3
    groups = [
        ("endorsement", total - 2 * third, "kiosk-e"),
        ("collection", third, "kiosk-c"),
        ("record_query", third, "kiosk-q"),
    ]
    hall = Hall(root / "hall", scenario=scenario(root, groups, step_delay=0.01), broker=url)
    try:
        await hall.start()
        up = await wait_fleet_online(hall, total)
        await asyncio.sleep(SETTLE_S)  # let the start-up burst pass
        assert hall.gw is not None and hall.sim is not None
        shares, sim_shares = [], []
        for _ in range(CPU_WINDOWS):
            gw0, sim0, t0 = cpu_seconds(hall.gw.pid), cpu_seconds(hall.sim.pid), time.monotonic()
            await asyncio.sleep(CPU_WINDOW)
            elapsed = time.monotonic() - t0
            shares.append(100 * (cpu_seconds(hall.gw.pid) - gw0) / elapsed)
            sim_shares.append(100 * (cpu_seconds(hall.sim.pid) - sim0) / elapsed)
        rss = rss_mb(hall.gw.pid)
        resp = await hall.devices.ListDevices(device_service_pb2.ListDevicesRequest(), timeout=10)
        still = sum(d.oper_state == device_pb2.OPER_STATE_ONLINE for d in resp.devices)
        assert still == total, f"only {still} of {total} kiosks online after the windows"
    finally:
        await hall.stop()
    return {"up": up, "cpu": statistics.mean(shares), "cpu_max": max(shares), "rss": rss,
            "sim": statistics.mean(sim_shares)}  # fmt: skip


async def test_bench_kiosks(tmp_path: Path) -> None:
    raise_open_files_limit()
    fleets = {}
    async with mosquitto_broker(tmp_path / "broker") as broker:
        raw, via, pings = await round_trip(tmp_path / "round-trip", broker.url)
        for total in FLEETS:
            fleets[total] = await fleet_at_rest(tmp_path / f"fleet-{total}", broker.url, total)

    n = ROUNDS * PER_ROUND
    r_med, v_med, p_med = statistics.median(raw), statistics.median(via), statistics.median(pings)
    ratio = v_med / r_med
    rows = "".join(
        f"| {total} kiosks, heartbeat every {HEARTBEAT_S} s ({total / HEARTBEAT_S:.0f}/s), "
        f"mean of {CPU_WINDOWS} windows of {CPU_WINDOW:.0f} s | {f['cpu']:.1f}% (max {f['cpu_max']:.1f}%) | "
        f"{f['rss']:.0f} MB | {f['up']:.0f} s | {f['sim']:.0f}% | "
        f"{f'< {CPU_TARGET:.0f}%, < {RSS_TARGET_MB:.0f} MB' if total == max(FLEETS) else ''} |\n"
        for total, f in fleets.items()
    )
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, grpcio {grpc.__version__}, Mosquitto on 127.0.0.1 (`make bench`).\n\n"
        "| measure | baseline | through hallgwd | ratio | target |\n|---|---|---|---|---|\n"
        f"| print a travel record, kiosk step_delay 0, median ({n} each, {ROUNDS} alternating rounds) | "
        f"{r_med * 1e3:.2f} ms (print_travel_record straight to the kiosk, until its completion) | "
        f"{v_med * 1e3:.2f} ms (PrintTravelRecord over gRPC, ledger with 3 fsyncs: "
        f"+{(v_med - r_med) * 1e3:.1f} ms) | {ratio:.2f} | <= {RATIO_TARGET} |\n"
        f"| same, p99 | {pct(raw, 0.99) * 1e3:.2f} ms | {pct(via, 0.99) * 1e3:.2f} ms | "
        f"{pct(via, 0.99) / pct(raw, 0.99):.2f} | |\n"
        f"| ping to pong straight to the kiosk, median ({n}; p99) | "
        f"{p_med * 1e3:.2f} ms ({pct(pings, 0.99) * 1e3:.2f} ms) | | | reported |\n\n"
        "| daemon at steady state | CPU (of one core) | resident memory | all online, after it serves | "
        "hallsim CPU (context) | target |\n|---|---|---|---|---|---|\n" + rows
    )
    print("\n" + text)
    record("kiosks", text)
    assert ratio <= RATIO_TARGET, f"round trip median ratio {ratio:.2f} > {RATIO_TARGET}"
    top = fleets[max(FLEETS)]
    assert top["cpu"] < CPU_TARGET, f"daemon CPU {top['cpu']:.1f}% >= {CPU_TARGET}% of a core"
    assert top["rss"] < RSS_TARGET_MB, f"daemon RSS {top['rss']:.0f} MB >= {RSS_TARGET_MB} MB"
