"""The fingerprint driver against the simulated AS608 module on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from hallgw_daemon.core.errors import NoFingerError, QualityTooLowError
from hallgw_daemon.drivers import DriverContext, TraceRecord
from hallgw_daemon.drivers.fingerprint import Capture, FingerprintScannerDriver
from hallgw_daemon.transports import open_transport, parse_link_url
from hallgw_simulators.fingerprint_device import FingerprintModuleDevice
from hallgw_simulators.links import PtyEndpoint

pytestmark = pytest.mark.timeout(60)
Progress = list[tuple[str, str]]


@pytest.fixture
async def module(tmp_path: Path) -> AsyncIterator[FingerprintModuleDevice]:
    device = FingerprintModuleDevice(
        device_id="fp-t", seed=3, baud=0, endpoint=PtyEndpoint("fp-t", tmp_path / "fp.tty")
    )
    await device.start()
    yield device
    await device.stop()


@pytest.fixture
async def driver(module: FingerprintModuleDevice) -> AsyncIterator[FingerprintScannerDriver]:
    drv = FingerprintScannerDriver(DriverContext(device_id="fp-t", command_timeout=2.0))
    drv.attach(await open_transport(parse_link_url(module.link_url)))
    yield drv
    await drv.detach()


async def capture(
    driver: FingerprintScannerDriver, *, wait: float = 3.0, minimum: int = 70, attempts: int = 3
) -> tuple[Capture, Progress]:
    events: Progress = []
    loop = asyncio.get_running_loop()
    result = await driver.capture(
        min_quality=minimum,
        attempts=attempts,
        finger_wait=wait,
        deadline=loop.time() + 30,
        progress=lambda s, m: events.append((s, m)),
    )
    return result, events


async def test_identify_reports_the_system_parameters(driver: FingerprintScannerDriver) -> None:
    identity = await driver.identify(timeout=2.0)
    assert identity["capacity"].isdigit() and int(identity["capacity"]) > 0
    assert identity["packet_size"] in {"32", "64", "128", "256"}
    assert identity["baud"] == "57600"
    assert set(identity) >= {"security_level", "address"}


async def test_clean_finger_is_captured_as_png(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    await driver.identify(timeout=2.0)
    await module.apply_fault("place", ["ana/right-index"])
    result, events = await capture(driver)

    assert result.attempt == 1 and result.quality.overall >= 70
    assert (result.width, result.height, result.resolution_dpi) == (256, 288, 500)
    decoded = cv2.imdecode(np.frombuffer(result.png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None and decoded.shape == (288, 256) and decoded.dtype == np.uint8
    phys = result.png.index(b"pHYs")
    assert struct.unpack(">IIB", result.png[phys + 4 : phys + 13]) == (19685, 19685, 1)
    assert [s for s, _ in events] == ["PLACE_FINGER", "HOLD_STILL", "CAPTURED"]
    assert "ana" not in repr(result)


async def test_no_finger_until_the_deadline(driver: FingerprintScannerDriver) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(NoFingerError):
        await capture(driver, wait=0.5)
    assert 0.45 < loop.time() - started < 1.5


async def test_dry_finger_falls_short_with_its_hints(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    await module.apply_fault("place", ["ana/right-index", "dry"])
    with pytest.raises(QualityTooLowError) as info:
        await capture(driver, attempts=2, wait=4.0)
    details = info.value.details
    assert int(details["best_quality"]) < 70 and details["best_attempt"] in {"1", "2"}
    assert "too_dry" in details["hints"].split(",")


async def test_second_attempt_after_a_better_press(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    await module.apply_fault("place", ["ana/right-index", "wet"])
    loop = asyncio.get_running_loop()
    events: Progress = []
    moves: set[asyncio.Task[None]] = set()

    def act(delay: float, fault: str, *args: str) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            await module.apply_fault(fault, list(args))

        moves.add(loop.create_task(later()))

    def progress(stage: str, message: str) -> None:
        events.append((stage, message))
        if stage == "LIFT_FINGER":
            act(0, "lift")  # the applicant lifts the finger, wipes it ...
        if stage == "PLACE_AGAIN":
            act(0.3, "place", "ana/right-index")  # ... and puts it back

    result = await driver.capture(
        min_quality=70, attempts=3, finger_wait=3, deadline=loop.time() + 8, progress=progress
    )
    stages = [s for s, _ in events]
    assert result.attempt == 2
    assert "TOO_WET" in stages and stages.index("LIFT_FINGER") < stages.index("PLACE_AGAIN")


async def test_corrupt_packet_mid_upload_is_asked_again(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    await driver.identify(timeout=2.0)
    await module.apply_fault("place", ["ana/right-index"])
    await module.apply_fault("corrupt_upload", [40])
    result, _ = await capture(driver)
    assert result.quality.overall >= 70


async def test_images_never_reach_a_trace(driver: FingerprintScannerDriver, module: FingerprintModuleDevice) -> None:
    records: list[TraceRecord] = []
    driver.ctx.taps.add(records.append)
    await module.apply_fault("place", ["ana/right-index"])
    await capture(driver)
    data = [r for r in records if "image bytes masked" in r.summary]
    assert len(data) == 36864 // 128
    assert all(r.masked and not r.data for r in data)


async def test_each_attempt_waits_for_the_finger_on_its_own(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    """A refused attempt, then no finger: the second attempt waits its own finger wait, not what is left."""
    await module.apply_fault("place", ["ana/right-index", "dry"])
    loop = asyncio.get_running_loop()
    events: Progress = []
    moves: set[asyncio.Task[None]] = set()

    def progress(stage: str, message: str) -> None:
        events.append((stage, message))
        if stage == "LIFT_FINGER":
            moves.add(loop.create_task(module.apply_fault("lift")))

    started = loop.time()
    with pytest.raises(QualityTooLowError):
        await driver.capture(min_quality=70, attempts=2, finger_wait=1.0, deadline=started + 30, progress=progress)
    assert [s for s, _ in events].count("PLACE_AGAIN") == 1
    assert loop.time() - started >= 1.0  # the second attempt's own wait ran in full


async def test_a_low_minimum_accepts_what_only_needs_another_try(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    await module.apply_fault("place", ["ana/right-index", "good", "0.6"])  # partial: scores below 70
    result, _ = await capture(driver, minimum=1, attempts=1)
    assert result.quality.overall >= 1 and result.attempt == 1


async def test_a_second_broken_upload_fails_the_attempt_not_the_call(
    driver: FingerprintScannerDriver, module: FingerprintModuleDevice
) -> None:
    await driver.identify(timeout=2.0)
    await module.apply_fault("place", ["ana/right-index"])
    uploads = 0

    def stall_the_first_two(record: TraceRecord) -> None:
        nonlocal uploads
        if record.summary == "UploadImage":
            uploads += 1
            if uploads <= 2:  # the upload and its second request both stop after 10 packets
                module.upload.stall_after = 10

    driver.ctx.taps.add(stall_the_first_two)
    loop = asyncio.get_running_loop()
    events: Progress = []
    moves: set[asyncio.Task[None]] = set()

    def progress(stage: str, message: str) -> None:
        events.append((stage, message))
        if stage == "LIFT_FINGER":
            moves.add(loop.create_task(module.apply_fault("lift")))
        if stage == "PLACE_AGAIN":
            moves.add(loop.create_task(module.apply_fault("place", ["ana/right-index"])))

    result = await driver.capture(
        min_quality=70, attempts=2, finger_wait=3, deadline=loop.time() + 30, progress=progress
    )
    stages = [s for s, _ in events]
    assert result.attempt == 2 and "LIFT_AND_RETRY" in stages
