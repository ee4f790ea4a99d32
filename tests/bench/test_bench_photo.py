"""Photo compliance analysis against the bare face detector it is built on, measured in the same run.

The baseline is ``detectMultiScale`` alone, with the settings :func:`analyse` uses, on the detector input
:func:`analyse` would make of the same 1920x1080 composite (grey, scaled to 360 rows). The measure is the whole
:func:`analyse` on the BGR frame: grey conversion, scaling, face and eye detection, head estimate, crop and every
check. Both run alternately, one of each per round, so load on the shared cores hits them alike. Target: a ratio
of medians of at most 1.5. Frames per second of analyse at 1920x1080 and 1280x720, and the simulator's compose
time, are reported; so is the rate of the real capture loop (camera transport, analysis off the loop, guidance)
on a camera faster than it can follow.
"""

import asyncio
import datetime as dt
import platform
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.perf import record

from hallgw_daemon.core.errors import PhotoNotCompliantError
from hallgw_daemon.drivers.base import DriverContext
from hallgw_daemon.drivers.photo import CameraDriver
from hallgw_daemon.drivers.photo_compliance import (
    MAX_FACE,
    MIN_FACE,
    MIN_NEIGHBORS,
    SCALE_FACTOR,
    analyse,
    detector_input,
    face_cascade,
)
from hallgw_daemon.transports import open_camera, parse_camera_url
from hallgw_simulators.camera_device import write_video
from hallgw_simulators.photo_scene import COMPLIANT, OFF_CENTRE_LEFT, compose

pytestmark = pytest.mark.bench

ROUNDS = 40
FPS_FRAMES = 20
RATIO_TARGET = 1.5


def test_bench_analyse_against_bare_detector() -> None:
    frame = compose(COMPLIANT, (1920, 1080), seed=1)
    small, _ = detector_input(frame)
    height = small.shape[0]
    low, high = round(MIN_FACE * height), round(MAX_FACE * height)
    cascade = face_cascade()

    def bare() -> None:
        cascade.detectMultiScale(
            small, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, minSize=(low, low), maxSize=(high, high)
        )

    assert analyse(frame).passed  # warm-up, and the frame is the realistic case: every check runs
    bare()
    bare_times, analyse_times = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        bare()
        bare_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        analyse(frame)
        analyse_times.append(time.perf_counter() - started)

    fps: dict[tuple[int, int], float] = {}
    compose_ms: dict[tuple[int, int], float] = {}
    for size in ((1920, 1080), (1280, 720)):
        frames = [compose(COMPLIANT, size, seed=n) for n in range(4)]
        started = time.perf_counter()
        for n in range(FPS_FRAMES):
            analyse(frames[n % len(frames)])
        fps[size] = FPS_FRAMES / (time.perf_counter() - started)
        times = []
        for n in range(10):
            started = time.perf_counter()
            compose(COMPLIANT, size, seed=n)
            times.append(time.perf_counter() - started)
        compose_ms[size] = statistics.median(times) * 1e3

    base, measured = statistics.median(bare_times), statistics.median(analyse_times)
    ratio = measured / base
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"Python {platform.python_version()}, numpy {np.__version__}, OpenCV {cv2.__version__} (`make bench`).\n\n"
        "| measure | baseline | measured | ratio | target |\n|---|---|---|---|---|\n"
        f"| analyse a 1920x1080 frame, median of {ROUNDS} alternating rounds | {base * 1e3:.1f} ms (bare "
        f"detectMultiScale, same settings, on the {small.shape[1]}x{height} detector input) | "
        f"{measured * 1e3:.1f} ms (analyse) | {ratio:.2f} | <= {RATIO_TARGET} |\n"
        f"| analyse throughput | | {fps[(1920, 1080)]:.1f} frames/s at 1920x1080, "
        f"{fps[(1280, 720)]:.1f} frames/s at 1280x720 | | reported |\n"
        f"| simulator compose, median of 10 | | {compose_ms[(1920, 1080)]:.1f} ms at 1920x1080, "
        f"{compose_ms[(1280, 720)]:.1f} ms at 1280x720 | | reported |\n"
    )
    print("\n" + text)
    record("photo-compliance", text)
    assert ratio <= RATIO_TARGET, f"analyse costs {ratio:.2f}x the bare detector, more than {RATIO_TARGET}x"


LOOP_SECONDS = 4.0


async def _capture_loop_fps(tmp_path: Path, size: tuple[int, int]) -> tuple[float, float]:
    """Frames judged per second by the real capture loop on a camera faster than the analysis can follow.

    The camera is a 60 fps video file (through the camera transport, OpenCV's FFmpeg reader on its own
    thread); the scene is off-centre, so no frame passes and the loop judges for the whole wait. Returns
    (judged per second, the camera's frames per second over the same time).
    """
    frames = [compose(OFF_CENTRE_LEFT, size, seed=n) for n in range(10)]
    video = tmp_path / f"loop-{size[0]}.avi"
    write_video(video, frames, fps=60)
    camera = await open_camera(parse_camera_url(f"camera://{video}?loop=1&fps=60"), timeout=5.0)
    driver = CameraDriver(DriverContext(device_id="bench-cam", command_timeout=10.0))
    driver.attach(camera)
    try:
        first = camera.latest()
        assert first is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(PhotoNotCompliantError) as info:
            await driver.capture(until=started + LOOP_SECONDS, progress=lambda _code, _text: None)
        elapsed = loop.time() - started
        last = camera.latest()
        assert last is not None
        return int(info.value.details["judged"]) / elapsed, (last.seq - first.seq) / elapsed
    finally:
        await driver.detach()


async def test_bench_capture_loop(tmp_path: Path) -> None:
    results = {size: await _capture_loop_fps(tmp_path, size) for size in ((1920, 1080), (1280, 720))}
    rows = "".join(
        f"| capture loop, {w}x{h}, a 60 fps camera, {LOOP_SECONDS:.0f} s | {cam:.0f} frames/s from the camera "
        f"| {judged:.1f} frames/s judged | | reported |\n"
        for (w, h), (judged, cam) in results.items()
    )
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python "
        f"{platform.python_version()}, OpenCV {cv2.__version__} (`make bench`).\n\n"
        "| measure | offered | judged | ratio | target |\n|---|---|---|---|---|\n" + rows
    )
    print("\n" + text)
    record("photo-capture-loop", text)
    for judged, _ in results.values():
        assert judged >= 5.0, "the capture loop judges fewer than 5 frames a second"
