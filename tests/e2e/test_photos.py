"""Document photos through the real daemon: hallsim's scripted booth camera (MJPEG over HTTP), its DMX
studio lights on a pty, and a window camera read from an MJPG video file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import duration_pb2
from support.hall import PHOTO_HALL, Hall, by_device, error_info, hallctl, running_hall

from hallgw_api.v1 import device_pb2, device_service_pb2, photo_pb2
from hallgw_simulators.photo_scene import OFF_CENTRE_LEFT, compose

pytestmark = pytest.mark.timeout(120)
BOOTH = "cam-b1"
LIGHTS = "lights-b1"
WINDOW = "cam-w1"
LIT = {1: 255, 2: 255, 3: 180}  # the simulated hall's capture levels (hallsim's daemon config)


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    async with running_hall(tmp_path / "hall", scenario=PHOTO_HALL) as h:
        await h.wait_oper(LIGHTS, device_pb2.OPER_STATE_ONLINE, timeout=15)
        yield h


def seconds(value: float) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=int(value), nanos=int(value % 1 * 1e9))


def capture(device: str, request_id: str, *, wait: float = 20.0) -> photo_pb2.PhotoServiceCaptureRequest:
    return photo_pb2.PhotoServiceCaptureRequest(device=by_device(device), request_id=request_id, wait=seconds(wait))


def assert_standard_photo(photo: photo_pb2.Photo, report: photo_pb2.ComplianceReport) -> None:
    assert (photo.width, photo.height) == (354, 472)
    pixels = cv2.imdecode(np.frombuffer(photo.jpeg, np.uint8), cv2.IMREAD_UNCHANGED)
    assert pixels is not None and pixels.shape == (472, 354, 3)
    assert 20 * 1024 <= len(photo.jpeg) <= 80 * 1024
    assert report.passed and not report.hints
    checks = {c.name: c for c in report.checks}
    assert {"face_count", "head_height", "centre", "roll", "exposure", "file_size"} <= set(checks)
    assert all(c.passed for c in checks.values())
    assert checks["file_size"].value == len(photo.jpeg)
    assert checks["head_height"].HasField("low") and checks["head_height"].HasField("high")


async def lights_levels(hall: Hall) -> list[int]:
    state = (await hall.ctl.request("list"))["devices"]
    lights = next(d for d in state if d["id"] == LIGHTS)
    lit = {int(c): int(v) for c, v in lights["lit"].items()} if isinstance(lights["lit"], dict) else {}
    return [lit.get(c, 0) for c in (1, 2, 3)]


async def test_a_scripted_applicant_is_guided_to_a_compliant_photo(hall: Hall) -> None:
    events = hall.devices.WatchEvents(
        device_service_pb2.WatchEventsRequest(device_ids=[BOOTH], include_current_state=True)
    )
    stream = aiter(events)
    await anext(stream)  # subscribed: the capture's first event cannot be missed
    ref = device_pb2.DeviceRef(station=device_pb2.StationRef(station_id="booth-01", kind=device_pb2.DEVICE_KIND_CAMERA))
    await hall.ctl.fault(BOOTH, "restart")  # the applicant walks in as the capture starts
    loop = asyncio.get_running_loop()
    started = loop.time()
    request = photo_pb2.PhotoServiceCaptureRequest(device=ref, request_id="visit-7/photo", wait=seconds(20))
    call = asyncio.ensure_future(hall.photos.Capture(request, timeout=30))
    stages: list[str] = []
    lit_during: list[int] = []
    async with asyncio.timeout(30):
        async for item in stream:
            if item.event.request_id != "visit-7/photo":
                continue
            kind = item.event.WhichOneof("payload")
            if kind == "progress":
                stages.append(item.event.progress.stage)
                if item.event.progress.stage == "HOLD_STILL" and not lit_during:
                    lit_during = await lights_levels(hall)
            if kind == "finished":
                assert item.event.finished.ok, (item.event.finished.reason, stages)
                break
    events.cancel()
    resp = await call
    elapsed = loop.time() - started
    assert resp.device_id == BOOTH and resp.frames_judged >= 3
    assert_standard_photo(resp.photo, resp.report)
    # The script: walks in small and far left, sits too far left, corrects, holds still (about 5 s in).
    assert stages[0] == "LOOK_AT_CAMERA" and stages[-2:] == ["HOLD_STILL", "CAPTURED"], stages
    assert "MOVE_CLOSER" in stages and "MOVE_LEFT" in stages, stages
    assert stages.index("MOVE_CLOSER") < stages.index("MOVE_LEFT") < stages.index("HOLD_STILL"), stages
    assert 2.0 < elapsed < 15.0, elapsed  # not before the applicant corrected; well before the wait ended
    assert lit_during == [LIT[1], LIT[2], LIT[3]]  # the studio lights were up during the capture...
    async with asyncio.timeout(5):
        while await lights_levels(hall) != [0, 0, 0]:  # ...and dimmed after it  # noqa: ASYNC110 - polls hallsim
            await asyncio.sleep(0.05)


async def test_a_window_camera_reads_a_video_file(hall: Hall) -> None:
    identity = dict((await hall.device(WINDOW)).identity)
    assert identity["source"].endswith("cam-w1.avi") and identity["frame_size"] == "1280x720"
    resp = await hall.photos.Capture(capture(WINDOW, "win-1"), timeout=30)
    assert resp.device_id == WINDOW
    assert_standard_photo(resp.photo, resp.report)


async def test_without_lights_the_applicant_is_told_more_light(hall: Hall) -> None:
    await hall.ctl.fault(LIGHTS, "unplug")
    await hall.wait_oper(LIGHTS, device_pb2.OPER_STATE_OFFLINE, timeout=10)
    await hall.ctl.fault(BOOTH, "restart")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.photos.Capture(capture(BOOTH, "dark-1", wait=8), timeout=30)
    code, reason, details = error_info(info.value)
    assert (code, reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "PHOTO_NOT_COMPLIANT")
    assert "exposure" in details["failed"].split(",") and details["hints"].split(",")[0] == "MORE_LIGHT", details
    assert "studio lights not set" in hall.logs()
    await hall.ctl.fault(LIGHTS, "replug")
    await hall.wait_oper(LIGHTS, device_pb2.OPER_STATE_ONLINE, timeout=10)
    await hall.ctl.fault(BOOTH, "restart")
    assert (await hall.photos.Capture(capture(BOOTH, "lit-1"), timeout=30)).report.passed


async def test_two_faces_are_refused_until_the_deadline(hall: Hall) -> None:
    await hall.ctl.fault(BOOTH, "two_faces", "on")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.photos.Capture(capture(BOOTH, "two-1", wait=4), timeout=30)
    _, reason, details = error_info(info.value)
    assert reason == "PHOTO_NOT_COMPLIANT" and "face_count" in details["failed"].split(","), details
    assert details["hints"].split(",")[0] == "ONE_PERSON_ONLY"


async def test_black_frames_ask_for_light(hall: Hall) -> None:
    await hall.ctl.fault(BOOTH, "black", "on")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.photos.Capture(capture(BOOTH, "black-1", wait=3), timeout=30)
    _, reason, details = error_info(info.value)
    assert reason == "PHOTO_NOT_COMPLIANT" and details["hints"].split(",")[0] == "MORE_LIGHT", details


async def test_a_camera_that_goes_away_is_offline_and_comes_back(hall: Hall) -> None:
    await hall.ctl.fault(BOOTH, "restart")
    call = asyncio.ensure_future(hall.photos.Capture(capture(BOOTH, "gone-1"), timeout=30))
    await asyncio.sleep(1.0)
    await hall.ctl.fault(BOOTH, "gone")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert error_info(info.value)[1] in {"DEVICE_OFFLINE", "DEVICE_TIMEOUT"}, error_info(info.value)
    await hall.wait_oper(BOOTH, device_pb2.OPER_STATE_OFFLINE, timeout=10)
    await hall.ctl.fault(BOOTH, "back")
    await hall.wait_oper(BOOTH, device_pb2.OPER_STATE_ONLINE, timeout=15)


async def test_check_reports_and_corrects_an_uploaded_photo(hall: Hall) -> None:
    ok, jpeg = cv2.imencode(".jpg", compose(OFF_CENTRE_LEFT, size=(1280, 720), seed=3))
    assert ok
    resp = await hall.photos.Check(photo_pb2.PhotoServiceCheckRequest(image=jpeg.tobytes(), overlay=True), timeout=20)
    checks = {c.name: c for c in resp.report.checks}
    assert not resp.report.passed and not checks["centre"].passed and checks["centre"].hint == "MOVE_LEFT"
    assert resp.report.hints[0] == "MOVE_LEFT" and resp.report.hint_texts[0]
    assert (resp.report.image_width, resp.report.image_height) == (1280, 720) and resp.report.faces == 1
    assert (resp.corrected.width, resp.corrected.height) == (354, 472)
    assert resp.corrected_report.passed  # the crop centres the head: what the applicant brought can be fixed
    overlay = cv2.imdecode(np.frombuffer(resp.overlay_png, np.uint8), cv2.IMREAD_COLOR)
    assert overlay is not None and overlay.shape == (720, 1280, 3)


async def test_check_refuses_what_is_not_an_image(hall: Hall) -> None:
    for data, reason in ((b"", "INVALID_REQUEST"), (b"not an image at all", "IMAGE_INVALID")):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await hall.photos.Check(photo_pb2.PhotoServiceCheckRequest(image=data), timeout=10)
        code, got, _ = error_info(info.value)
        assert (code, got) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    tiny = cv2.imencode(".png", np.zeros((20, 20, 3), np.uint8))[1].tobytes()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.photos.Check(photo_pb2.PhotoServiceCheckRequest(image=tiny), timeout=10)
    assert error_info(info.value)[1] == "IMAGE_INVALID"


async def test_capture_refuses_bad_requests(hall: Hall) -> None:
    for request, words in (
        (photo_pb2.PhotoServiceCaptureRequest(device=by_device(LIGHTS), request_id="x"), "not a camera"),
        (photo_pb2.PhotoServiceCaptureRequest(device=by_device(BOOTH), request_id="x", hold_frames=31), "hold_frames"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await hall.photos.Capture(request, timeout=10)
        assert error_info(info.value)[1] == "INVALID_REQUEST" and words in (info.value.details() or "")


async def test_hallctl_checks_a_photo_and_takes_one(hall: Hall, tmp_path: Path) -> None:
    face = tmp_path / "face.jpg"
    face.write_bytes(cv2.imencode(".jpg", compose(OFF_CENTRE_LEFT, size=(1280, 720), seed=5))[1].tobytes())
    overlay, fixed, taken = tmp_path / "out.png", tmp_path / "fixed.jpg", tmp_path / "p.jpg"
    args = ("photo", "check", str(face), "--overlay", str(overlay), "--corrected", str(fixed))
    code, out, err = await hallctl(hall, *args)
    assert code == 0, err
    assert "not compliant" in out and "centre" in out and "MOVE_LEFT" in out, out
    picture = cv2.imread(str(overlay))
    assert picture is not None and picture.shape == (720, 1280, 3)
    assert oct(overlay.stat().st_mode & 0o777) == "0o600" and oct(fixed.stat().st_mode & 0o777) == "0o600"
    fixed_photo = cv2.imread(str(fixed))
    assert fixed_photo is not None and fixed_photo.shape == (472, 354, 3)

    code, out, err = await hallctl(hall, "photo", "check", str(face), "--json")
    view = json.loads(out)
    assert code == 0 and view["report"]["passed"] is False and view["corrected"]["report"]["passed"] is True

    code, out, err = await hallctl(hall, "photo", "capture", WINDOW, "--out", str(taken), "--json")
    assert code == 0, err
    view = json.loads(out)
    assert view["device_id"] == WINDOW and view["report"]["passed"] and view["photo"]["size"] == taken.stat().st_size
    taken_photo = cv2.imread(str(taken))
    assert taken_photo is not None and taken_photo.shape == (472, 354, 3)

    code, _, err = await hallctl(hall, "photo", "check", str(tmp_path / "missing.jpg"))
    assert code != 0 and "missing.jpg" in err
