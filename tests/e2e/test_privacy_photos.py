"""Faces reach only the caller: never telemetry, traces, logs, hallctl's output or the gateway's disk.

A photo hall runs with telemetry to a real Mosquitto. Photos are taken (a
camera on HTTP with its DMX lights, a camera on a video file), one capture
fails, an upload is checked with its analysis picture, and hallctl takes and
checks photos. Then everything that came out is searched for the photos'
bytes and pixels, and every file the gateway left (its state and logs) for any
image at all. The simulated camera's own video file is the only image on disk
besides the caller's own outputs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from support.broker import Broker, mosquitto_broker, subscriber
from support.hall import PHOTO_HALL, by_device, hallctl, running_hall
from support.privacy import Traces, device_metrics_after_reads

from hallgw_api.v1 import photo_pb2
from hallgw_simulators.photo_scene import OFF_CENTRE_LEFT, compose

pytestmark = pytest.mark.timeout(180)
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


def telemetry(broker: Broker) -> str:
    return f'[telemetry]\nbroker = "{broker.url}"\nkeepalive = 2\nmetrics_interval = 0.3\n'


def fingerprints_of(jpeg: bytes) -> list[bytes]:
    """Pieces of a photo that would show it leaked: file bytes, and pixel rows of its face."""
    pixels = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert pixels is not None
    rows = [pixels[y, 120:160].tobytes() for y in (150, 200, 250)]
    return [jpeg[len(jpeg) // 2 : len(jpeg) // 2 + 64], *rows]


async def test_photos_stay_out_of_telemetry_traces_logs_and_disk(tmp_path: Path, broker: Broker) -> None:
    root = tmp_path / "hall"
    outputs = tmp_path / "mine"
    outputs.mkdir()
    async with (
        running_hall(root, scenario=PHOTO_HALL, extra_config=telemetry(broker)) as hall,
        subscriber(broker.url, "#") as monitor,
    ):
        traces = Traces(hall, ("cam-b1", "lights-b1"))
        await asyncio.sleep(0.3)
        photos: list[bytes] = []
        await hall.ctl.fault("cam-b1", "restart")
        booth = photo_pb2.PhotoServiceCaptureRequest(device=by_device("cam-b1"), request_id="priv-1")
        photos.append((await hall.photos.Capture(booth, timeout=30)).photo.jpeg)
        window = photo_pb2.PhotoServiceCaptureRequest(device=by_device("cam-w1"), request_id="priv-2")
        photos.append((await hall.photos.Capture(window, timeout=30)).photo.jpeg)
        await hall.ctl.fault("cam-b1", "two_faces", "on")
        with pytest.raises(grpc.aio.AioRpcError):
            await hall.photos.Capture(
                photo_pb2.PhotoServiceCaptureRequest(device=by_device("cam-b1"), request_id="priv-3",
                                                     wait={"seconds": 2}), timeout=30)  # fmt: skip
        await hall.ctl.fault("cam-b1", "two_faces", "off")
        upload = cv2.imencode(".jpg", compose(OFF_CENTRE_LEFT, size=(1280, 720), seed=9))[1].tobytes()
        checked = await hall.photos.Check(photo_pb2.PhotoServiceCheckRequest(image=upload, overlay=True), timeout=20)
        photos.append(checked.corrected.jpeg)
        mine = outputs / "p.jpg"
        code, out, err = await hallctl(hall, "photo", "capture", "cam-w1", "--out", str(mine))
        assert code == 0, err
        photos.append(mine.read_bytes())
        (outputs / "up.jpg").write_bytes(upload)
        code2, out2, err2 = await hallctl(hall, "photo", "check", str(outputs / "up.jpg"), "--json")
        assert code2 == 0, err2
        got = await monitor.collect(until=device_metrics_after_reads(("cam-b1", "cam-w1")), timeout=10)
        await traces.stopped()
        blobs = {
            "telemetry": b"".join(m.payload for m in got),
            "a trace": traces.text(),
            "hallctl output": (out + err + out2 + err2).encode(),
        }
        for jpeg in photos:
            for piece in fingerprints_of(jpeg):
                for where, blob in blobs.items():
                    assert piece not in blob, f"photo bytes or pixels in {where}"
        for where, blob in blobs.items():
            assert not any(sig in blob for sig in IMAGE_SIGNATURES), f"an image in {where}"
        daemon_files = [p for p in root.rglob("*") if p.is_file() and p.suffix != ".avi"]

    # The hall has stopped: its logs are complete. Nothing the gateway or hallsim wrote holds an
    # image, except the simulated camera's own video (the scene, played to the gateway).
    assert daemon_files
    for path in root.rglob("*"):
        if not path.is_file() or path.parent.name == "cameras":
            continue
        data = path.read_bytes()
        assert not any(sig in data for sig in IMAGE_SIGNATURES), f"an image in {path.relative_to(root)}"
        for jpeg in photos:
            assert not any(piece in data for piece in fingerprints_of(jpeg)), f"photo data in {path.name}"
