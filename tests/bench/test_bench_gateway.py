"""Through-the-daemon costs, as ratios against baselines measured in the same run.

1. ReadIdCard over gRPC against the same exchange done directly with the codec on
   the same simulated reader at 115200 baud. Target: median ratio <= 1.10.
2. GetDevice requests per second through the daemon against a bare grpc.aio
   server answering the same message. Target: >= 0.7 of the bare rate.
"""

import asyncio
import datetime as dt
import platform
import statistics
import sys
import time
from pathlib import Path

import grpc
import pytest
from support.hall import CHANNEL_OPTIONS, Hall, free_port
from support.perf import record

from hallgw_api.v1 import device_pb2, device_service_pb2, device_service_pb2_grpc, idcard_pb2
from hallgw_daemon.transports import open_link
from hallgw_protocols import NEED_DATA, Role
from hallgw_protocols.idcard_sam import Command, CommandCode, Response, SamConnection

pytestmark = pytest.mark.bench

READS = 40
RPS_SECONDS = 4.0
RPS_ROUNDS = 4
IN_FLIGHT = 32


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def direct_reads(path: str, n: int) -> list[float]:
    """Find, select and read with the codec on the reader's pty: no daemon, no gRPC."""
    link = await open_link(f"serial://{path}?baud=115200")
    conn = SamConnection(Role.HOST)

    async def exchange(code: CommandCode) -> Response:
        await link.write(conn.send(Command.of(code)))
        while True:
            event = conn.next_event()
            if event is NEED_DATA:
                conn.receive_data(await link.read())
                continue
            assert isinstance(event, Response) and event.ok, event
            return event

    times = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            for code in (CommandCode.FIND_CARD, CommandCode.SELECT_CARD, CommandCode.READ_TEXT_PHOTO):
                await exchange(code)
            times.append(time.perf_counter() - started)
    finally:
        await link.close()
    return times


async def grpc_reads(hall: Hall, device_id: str, n: int) -> list[float]:
    times = []
    req = idcard_pb2.ReadIdCardRequest(device=device_pb2.DeviceRef(device_id=device_id), request_id="bench")
    req.card_wait.FromTimedelta(dt.timedelta(seconds=1))
    for _ in range(n):
        started = time.perf_counter()
        await hall.idcard.ReadIdCard(req, timeout=10)
        times.append(time.perf_counter() - started)
    return times


async def rps(target: str, seconds: float) -> float:
    async with grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        stub = device_service_pb2_grpc.DeviceServiceStub(channel)
        req = device_service_pb2.GetDeviceRequest(device=device_pb2.DeviceRef(device_id="idr-01"))
        for _ in range(100):  # warm-up
            await stub.GetDevice(req, timeout=5)
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await stub.GetDevice(req, timeout=5)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return done / (time.perf_counter() - started)


async def test_bench_read_and_rps(tmp_path: Path) -> None:
    hall = Hall(tmp_path / "hall", baud=115200)
    hall.root.mkdir()
    echo = None
    try:
        # The reader alone first: the daemon must not hold its port yet.
        await hall.start_simulator()
        await hall.ctl.insert("idr-01", "resident-1")
        path = next(d["path"] for d in hall.ready["devices"] if d["id"] == "idr-01")
        direct = await direct_reads(path, READS)
        await hall.start_daemon()
        await hall.wait_all_online()
        via = await grpc_reads(hall, "idr-01", READS)
        direct_again = await direct_reads_after_stop(hall, path)
        direct += direct_again

        port = free_port()
        echo = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).with_name("echo_server.py")), str(port), stdout=asyncio.subprocess.PIPE
        )
        assert echo.stdout is not None
        assert (await echo.stdout.readline()).strip() == b"ready"
        await hall.start_daemon()
        await hall.wait_all_online()
        # Alternate short rounds so background load on the shared cores hits both alike.
        bare_rounds, daemon_rounds = [], []
        for _ in range(RPS_ROUNDS):
            bare_rounds.append(await rps(f"127.0.0.1:{port}", RPS_SECONDS / RPS_ROUNDS))
            daemon_rounds.append(await rps(hall.target, RPS_SECONDS / RPS_ROUNDS))
        bare_rps, daemon_rps = statistics.median(bare_rounds), statistics.median(daemon_rounds)
    finally:
        if echo is not None:
            echo.terminate()
            await asyncio.wait_for(echo.wait(), 10)
        await hall.stop()

    d_med, v_med = statistics.median(direct), statistics.median(via)
    read_ratio = v_med / d_med
    rps_ratio = daemon_rps / bare_rps
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, grpcio {grpc.__version__} (`make bench`).\n\n"
        "| measure | baseline | through hallgwd | ratio | target |\n|---|---|---|---|---|\n"
        f"| ReadIdCard at 115200 baud, median ({READS} reads) | {d_med * 1e3:.1f} ms (codec on the pty) | "
        f"{v_med * 1e3:.1f} ms (gRPC) | {read_ratio:.3f} | <= 1.10 |\n"
        f"| ReadIdCard, p99 | {pct(direct, 0.99) * 1e3:.1f} ms | {pct(via, 0.99) * 1e3:.1f} ms | "
        f"{pct(via, 0.99) / pct(direct, 0.99):.3f} | |\n"
        f"| GetDevice, {IN_FLIGHT} in flight, median of {RPS_ROUNDS} alternating rounds | "
        f"{bare_rps:.0f} req/s (bare grpc.aio) | "
        f"{daemon_rps:.0f} req/s | {rps_ratio:.3f} | >= 0.70 |\n"
    )
    print("\n" + text)
    record("gateway", text)
    assert read_ratio <= 1.10, f"ReadIdCard median ratio {read_ratio:.3f} > 1.10"
    assert rps_ratio >= 0.7, f"GetDevice rate ratio {rps_ratio:.3f} < 0.7"


async def direct_reads_after_stop(hall: Hall, path: str) -> list[float]:
    """A second baseline block after the daemon let go of the port, to even out drift."""
    assert await hall.stop_daemon() == 0
    return await direct_reads(path, READS)
