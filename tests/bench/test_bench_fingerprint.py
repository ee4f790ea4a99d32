"""A fingerprint capture through the daemon against the same upload done directly with the codec.

Both run against the same simulated AS608 module on the same pseudo-terminal,
paced at 57600 baud as the modules ship, so the wire time of the 36,864-byte
image (about 6.4 s) dominates both. The direct capture is what any program
must do for the image: GenImg until a finger is there, then UpImage and the
data packets. The daemon adds gRPC, the lane, the 8-bit expansion, the
quality score and the PNG. Target: median ratio <= 1.05.
"""

from __future__ import annotations

import datetime as dt
import platform
import statistics
import time
from pathlib import Path
from typing import Final

import grpc
import pytest
from support.hall import FINGERPRINT_HALL, Hall, by_device
from support.perf import record

from hallgw_api.v1 import fingerprint_pb2
from hallgw_daemon.transports import open_link
from hallgw_protocols import NEED_DATA, Role
from hallgw_protocols.fingerprint.as608 import (
    Acknowledgement,
    As608Connection,
    DataPacket,
    GetImage,
    ImageAssembler,
    UploadImage,
)

pytestmark = pytest.mark.bench

BAUD: Final = 57600
RUNS: Final = 3
DEVICE: Final = "fp-01"


async def direct_captures(path: str, n: int) -> list[float]:
    """GenImg then UpImage with the codec on the module's pty: no daemon, no gRPC."""
    link = await open_link(f"serial://{path}?baud={BAUD}")
    conn = As608Connection(Role.HOST)

    async def next_event() -> object:
        while True:
            event = conn.next_event()
            if event is not NEED_DATA:
                return event
            conn.receive_data(await link.read())

    times = []
    try:
        for _ in range(n):
            started = time.perf_counter()
            await link.write(conn.send(GetImage()))
            ack = await next_event()
            assert isinstance(ack, Acknowledgement) and ack.ok, ack
            await link.write(conn.send(UploadImage()))
            ack = await next_event()
            assert isinstance(ack, Acknowledgement) and ack.ok, ack
            assembler = ImageAssembler()
            while not assembler.done:
                packet = await next_event()
                assert isinstance(packet, DataPacket)
                assembler.add(packet)
            assembler.image()
            times.append(time.perf_counter() - started)
    finally:
        await link.close()
    return times


async def daemon_captures(hall: Hall, n: int) -> list[float]:
    request = fingerprint_pb2.CaptureRequest(device=by_device(DEVICE), request_id="bench", min_quality=1)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        resp = await hall.fingerprints.Capture(request, timeout=60)
        times.append(time.perf_counter() - started)
        assert resp.attempt == 1
    return times


async def test_bench_fingerprint_capture(tmp_path: Path) -> None:
    hall = Hall(tmp_path / "hall", scenario=FINGERPRINT_HALL, baud=BAUD)
    hall.root.mkdir()
    try:
        # The module alone first: the daemon must not hold its port yet.
        await hall.start_simulator()
        await hall.ctl.fault(DEVICE, "place", "bench/right-index")
        path = next(d["path"] for d in hall.ready["devices"] if d["id"] == DEVICE)
        direct = await direct_captures(path, RUNS)
        await hall.start_daemon()
        await hall.wait_all_online(timeout=20)
        via = await daemon_captures(hall, RUNS)
        assert await hall.stop_daemon() == 0
        direct += await direct_captures(path, RUNS)
    finally:
        await hall.stop()

    d_med, v_med = statistics.median(direct), statistics.median(via)
    ratio = v_med / d_med
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, grpcio {grpc.__version__} (`make bench`).\n\n"
        "| measure | baseline | through hallgwd | ratio | target |\n|---|---|---|---|---|\n"
        f"| Capture at {BAUD} baud (GenImg, UpImage of 36,864 bytes), median ({len(direct)} direct, {len(via)} via) | "
        f"{d_med:.2f} s (codec on the pty) | {v_med:.2f} s (Capture: + score and PNG) | {ratio:.3f} | <= 1.05 |\n"
    )
    print("\n" + text)
    record("fingerprint", text)
    assert ratio <= 1.05, f"capture median ratio {ratio:.3f} > 1.05"
