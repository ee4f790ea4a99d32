"""Capturing fingerprints through the real daemon: hallsim's AS608 modules on a pty and over USB/IP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import duration_pb2
from support.hall import FINGERPRINT_HALL, Hall, by_device, error_info, running_hall

from hallgw_api.v1 import device_pb2, device_service_pb2, fingerprint_pb2

pytestmark = pytest.mark.timeout(120)
SCANNERS = ("fp-01", "fp-02")  # serial (pty), USB (USB/IP)


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    async with running_hall(tmp_path / "hall", scenario=FINGERPRINT_HALL, baud=0) as h:
        yield h


def capture_request(
    device: str, *, wait: float = 5.0, finger: int = fingerprint_pb2.FINGER_POSITION_RIGHT_INDEX, **fields: int
) -> fingerprint_pb2.CaptureRequest:
    return fingerprint_pb2.CaptureRequest(
        device=by_device(device),
        request_id=f"cap-{device}",
        finger=finger,  # type: ignore[arg-type]
        finger_wait=duration_pb2.Duration(seconds=int(wait), nanos=int(wait % 1 * 1e9)),
        **fields,
    )


async def failure(hall: Hall, request: fingerprint_pb2.CaptureRequest) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.fingerprints.Capture(request, timeout=30)
    return error_info(info.value)


@pytest.mark.parametrize("device", SCANNERS)
async def test_capture_returns_a_scored_png(hall: Hall, device: str) -> None:
    await hall.ctl.fault(device, "place", "hana/right-index")
    resp = await hall.fingerprints.Capture(capture_request(device), timeout=30)
    assert resp.device_id == device and resp.attempt == 1
    assert resp.finger == fingerprint_pb2.FINGER_POSITION_RIGHT_INDEX
    image = resp.image
    assert (image.width, image.height, image.resolution_dpi) == (256, 288, 500)
    pixels = cv2.imdecode(np.frombuffer(image.png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert pixels is not None and pixels.shape == (288, 256) and pixels.dtype == np.uint8
    q = resp.quality
    assert q.score >= 70 and not q.hints
    assert all(0 <= c.value <= 1 for c in (q.foreground, q.contrast, q.coherence, q.moisture))


async def test_show_reports_the_system_parameters(hall: Hall) -> None:
    for device in SCANNERS:
        identity = dict((await hall.device(device)).identity)
        assert identity["baud"] == "57600" and int(identity["capacity"]) > 0, identity
        assert identity["packet_size"] in {"32", "64", "128", "256"}


async def test_capture_by_station_with_progress(hall: Hall) -> None:
    events = hall.devices.WatchEvents(
        device_service_pb2.WatchEventsRequest(device_ids=["fp-02"], include_current_state=True)
    )
    stream = aiter(events)
    await anext(stream)  # subscribed: the capture's first event cannot be missed
    ref = device_pb2.DeviceRef(
        station=device_pb2.StationRef(station_id="window-02", kind=device_pb2.DEVICE_KIND_FINGERPRINT_SCANNER)
    )
    request = fingerprint_pb2.CaptureRequest(device=ref, request_id="visit-9/fp")
    call = asyncio.ensure_future(hall.fingerprints.Capture(request, timeout=30))
    stages: list[str] = []
    async with asyncio.timeout(20):
        async for item in stream:
            if item.event.request_id != "visit-9/fp":
                continue
            if item.event.WhichOneof("payload") == "progress":
                stages.append(item.event.progress.stage)
                if item.event.progress.stage == "PLACE_FINGER":
                    # The applicant puts a finger down a little later, holds it, lifts it.
                    await hall.ctl.fault("fp-02", "touch", "hana/left-thumb", "good", "1.0", 300, 3000)
            if item.event.WhichOneof("payload") == "finished":
                assert item.event.finished.ok, (item.event.finished.reason, stages)
                break
    events.cancel()
    resp = await call
    assert resp.device_id == "fp-02" and resp.finger == fingerprint_pb2.FINGER_POSITION_UNSPECIFIED
    assert stages == ["PLACE_FINGER", "HOLD_STILL", "CAPTURED"]


async def test_no_finger_until_the_deadline(hall: Hall) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    code, reason, meta = await failure(hall, capture_request("fp-01", wait=0.8))
    assert (code, reason, meta["action"]) == (grpc.StatusCode.DEADLINE_EXCEEDED, "NO_FINGER", "RETRY")
    assert 0.7 < loop.time() - started < 3


async def test_quality_too_low_carries_the_best_score(hall: Hall) -> None:
    await hall.ctl.fault("fp-02", "place", "hana/right-index", "dry")
    code, reason, meta = await failure(hall, capture_request("fp-02", wait=3, max_attempts=2))
    assert (code, reason, meta["action"]) == (grpc.StatusCode.FAILED_PRECONDITION, "QUALITY_TOO_LOW", "RETRY")
    assert int(meta["best_quality"]) < 70 and meta["best_attempt"] in {"1", "2"}
    assert "too_dry" in meta["hints"].split(",")


@pytest.mark.parametrize("device", SCANNERS)
async def test_corrupt_packet_mid_upload_is_asked_again(hall: Hall, device: str) -> None:
    await hall.ctl.fault(device, "place", "hana/right-index")
    await hall.ctl.fault(device, "corrupt_upload", 100)
    resp = await hall.fingerprints.Capture(capture_request(device), timeout=30)
    assert resp.quality.score >= 70


@pytest.mark.parametrize("device", SCANNERS)
async def test_unplugged_offline_fast_back_fast_and_capture_in_flight_fails(hall: Hall, device: str) -> None:
    capture = asyncio.ensure_future(hall.fingerprints.Capture(capture_request(device, wait=10), timeout=30))
    await asyncio.sleep(0.5)  # the capture is polling for a finger
    loop = asyncio.get_running_loop()
    unplugged = loop.time()
    await hall.ctl.fault(device, "unplug")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await capture
    code, reason, _ = error_info(info.value)
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE")
    await hall.wait_oper(device, device_pb2.OPER_STATE_OFFLINE, timeout=2)
    assert loop.time() - unplugged < 1.0
    await asyncio.sleep(1.5)  # unplugged for a while: the reconnect backoff has grown
    replugged = loop.time()
    await hall.ctl.fault(device, "replug")
    await hall.wait_oper(device, device_pb2.OPER_STATE_ONLINE, timeout=3)
    assert loop.time() - replugged < 2.0
    await hall.ctl.fault(device, "place", "hana/right-index")
    resp = await hall.fingerprints.Capture(capture_request(device), timeout=30)
    assert resp.quality.score >= 70


async def test_images_never_reach_logs_or_disk(hall: Hall) -> None:
    images = []
    for device in SCANNERS:
        await hall.ctl.fault(device, "place", "hana/right-middle")
        images.append((await hall.fingerprints.Capture(capture_request(device), timeout=30)).image)
    await hall.stop_daemon()
    for path in hall.root.rglob("*"):
        if not path.is_file():
            continue
        data = await asyncio.to_thread(path.read_bytes)
        assert b"\x89PNG" not in data, path.name
        for image in images:
            pixels = cv2.imdecode(np.frombuffer(image.png, np.uint8), cv2.IMREAD_UNCHANGED)
            assert pixels is not None
            row = pixels[144].tobytes()  # a row through the middle of the print
            assert row[64:128] not in data, path.name
            assert image.png[100:164] not in data, path.name
