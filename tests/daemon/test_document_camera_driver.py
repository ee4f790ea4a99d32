"""The document camera driver against the simulated document camera, over HTTP, through the real camera transport.

The camera plays a desk script (:data:`hallgw_simulators.document_scene.SCRIPTS`) from its start when a capture
begins; the capture judges only frames grabbed after that, so the guidance follows the script.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import cv2
import numpy as np
import pytest

from hallgw_daemon.core.errors import InvalidRequestError, LinkLostError, NoPageError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import DriverContext, driver_for
from hallgw_daemon.drivers.document_camera import DocumentCameraDriver
from hallgw_daemon.drivers.page_detect import a4_size
from hallgw_daemon.transports import CameraSource, open_camera, parse_camera_url
from hallgw_simulators.camera_device import CameraDevice
from hallgw_simulators.document_scene import document_camera

SIZE = (1280, 720)
FPS = 8.0
SETTLE = 0.3
"""Seconds after the script restarts before frames count: frames already on the way show the old scene."""


class Recorder:
    """The progress events of one capture."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.texts: list[str] = []

    def __call__(self, code: str, text: str) -> None:
        self.codes.append(code)
        self.texts.append(text)


async def start(script: str) -> tuple[CameraDevice, DocumentCameraDriver]:
    device = document_camera("doc-1", script=script, fps=FPS, size=SIZE, seed=2)
    await device.start()
    camera = await open_camera(parse_camera_url(device.url), timeout=5.0)
    driver = DocumentCameraDriver(DriverContext(device_id="doc-1", command_timeout=10.0))
    driver.attach(camera)
    return device, driver


@pytest.fixture
async def two_pages() -> AsyncIterator[tuple[CameraDevice, DocumentCameraDriver]]:
    device, driver = await start("two_pages")
    yield device, driver
    await driver.detach()
    await device.stop()


def restart(device: CameraDevice) -> float:
    """Play the script from its start; the ``settle_until`` for a capture beginning now."""
    device.restart()
    return time.monotonic() + SETTLE


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, np.uint8)


def test_registered_for_its_kind() -> None:
    assert driver_for(DeviceKind.DOCUMENT_CAMERA) is DocumentCameraDriver


async def test_one_page_with_guidance_in_script_order(two_pages: tuple[CameraDevice, DocumentCameraDriver]) -> None:
    device, driver = two_pages
    identity = await driver.identify(timeout=2.0)
    assert identity["frame_size"] == "1280x720"
    progress = Recorder()
    loop = asyncio.get_running_loop()
    settle = restart(device)
    result = await driver.capture_document(until=loop.time() + 10.0, dpi=100, settle_until=settle, progress=progress)
    assert progress.codes == ["PLACE_PAGE", "PAGE_CUT_OFF", "HOLD_STILL", "CAPTURED"]
    assert all(progress.texts)
    # taken while the first page lies well (1.5 s empty, 1.5 s cut off, then 3 s placed)
    assert 3.0 <= device.script_time() < 6.5
    assert (result.fmt, result.pages, result.dpi, (result.width, result.height)) == ("jpeg", 1, 100, a4_size(100))
    page = decode(result.data)
    assert page.shape == (1169, 827, 3)
    assert float(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY).mean()) > 150  # paper, not desk
    assert "bytes" in repr(result) and str(result.data[:8]) not in repr(result)


async def test_two_pages_wait_for_the_page_to_change(two_pages: tuple[CameraDevice, DocumentCameraDriver]) -> None:
    device, driver = two_pages
    progress = Recorder()
    loop = asyncio.get_running_loop()
    settle = restart(device)
    result = await driver.capture_document(
        until=loop.time() + 15.0, dpi=75, pages=2, fmt="pdf", settle_until=settle, progress=progress
    )
    assert progress.codes == [
        "PLACE_PAGE",
        "PAGE_CUT_OFF",
        "HOLD_STILL",
        "NEXT_PAGE",
        "PLACE_PAGE",
        "HOLD_STILL",
        "CAPTURED",
    ]
    assert "2 of 2" in progress.texts[4]
    assert device.script_time() >= 7.5  # the second page appears 7.5 s into the script
    assert result.pages == 2 and result.fmt == "pdf"
    assert result.data.startswith(b"%PDF-") and result.data.count(b"/Type /Page ") == 2
    # two different pages: the household register, then the certificate
    jpegs = [result.data[m.end() :] for m in _streams(result.data)]
    first, second = (decode(j) for j in jpegs)
    assert float(np.abs(first.astype(np.int16) - second.astype(np.int16)).mean()) > 5


def _streams(data: bytes) -> list[re.Match[bytes]]:
    return list(re.finditer(rb"/DCTDecode /Length \d+ >>\nstream\n", data))


async def test_deadline_without_a_page_is_no_page_with_hints() -> None:
    device, driver = await start("empty")
    try:
        progress = Recorder()
        loop = asyncio.get_running_loop()
        with pytest.raises(NoPageError) as info:
            await driver.capture_document(until=loop.time() + 1.5, progress=progress)
        assert info.value.reason == "NO_PAGE"
        assert info.value.details["hints"] == "PAGE_NOT_FOUND"
        assert info.value.details["pages"] == "0"
        assert int(info.value.details["judged"]) >= 3
        assert progress.codes == ["PLACE_PAGE"]  # PAGE_NOT_FOUND says the same: not repeated
    finally:
        await driver.detach()
        await device.stop()


async def test_dark_desk_reports_too_dark() -> None:
    device, driver = await start("dark")
    try:
        progress = Recorder()
        loop = asyncio.get_running_loop()
        settle = restart(device)
        with pytest.raises(NoPageError) as info:
            await driver.capture_document(until=loop.time() + 3.0, settle_until=settle, progress=progress)
        assert info.value.details["hints"] == "TOO_DARK"
        assert progress.codes == ["PLACE_PAGE", "TOO_DARK"]
    finally:
        await driver.detach()
        await device.stop()


async def test_camera_gone_is_link_lost(two_pages: tuple[CameraDevice, DocumentCameraDriver]) -> None:
    device, driver = two_pages
    loop = asyncio.get_running_loop()
    capture = asyncio.create_task(driver.capture_document(until=loop.time() + 20.0, progress=Recorder()))
    await asyncio.sleep(0.3)  # the capture is judging frames of the empty desk
    await device.apply_fault("gone")
    with pytest.raises(LinkLostError):
        await asyncio.wait_for(capture, 15.0)
    with pytest.raises(LinkLostError):
        await driver.probe(timeout=1.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fmt": "png"}, "format"),
        ({"dpi": 20}, "dpi"),
        ({"pages": 0}, "pages"),
        ({"pages": 2}, "PDF"),
    ],
)
async def test_bad_requests(kwargs: dict[str, object], match: str) -> None:
    driver = DocumentCameraDriver(DriverContext(device_id="doc-1", command_timeout=1.0))
    source = CameraSource("http://127.0.0.1:9/video.mjpg")  # never opened: the request fails first
    driver.attach(source)
    try:
        with pytest.raises(InvalidRequestError, match=match):
            await driver.capture_document(until=0.0, progress=Recorder(), **kwargs)  # type: ignore[arg-type]
    finally:
        await driver.detach()
