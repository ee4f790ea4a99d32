"""The simulated camera: its script, its HTTP answers, its faults and its file writers.

Streams are read here with a small raw multipart reader (the daemon side reads
them with the real ``VideoCapture`` in ``tests/daemon/test_camera_transport.py``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from hallgw_simulators.camera_device import (
    DEFAULT_SCRIPT,
    FAULTS,
    CameraDevice,
    FrameContext,
    Image,
    Segment,
    Timeline,
    lerp_fields,
    read_stamp,
    scripted,
    stamp,
    synthetic_frame,
    write_sequence,
    write_video,
)
from hallgw_simulators.faults import FaultError

SIZE = (320, 240)
WAIT = 5.0


# -- helpers ---------------------------------------------------------------------------


async def http_get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One whole HTTP/1.0 exchange: status, headers (lower-case names), body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        async with asyncio.timeout(WAIT):
            data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


class MjpegClient:
    """Reads multipart/x-mixed-replace parts as JPEG bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> MjpegClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /video.mjpg HTTP/1.0\r\n\r\n")
        async with asyncio.timeout(WAIT):
            head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200 OK\r\n")
        assert b"multipart/x-mixed-replace; boundary=frame" in head
        return cls(reader, writer)

    async def part(self) -> bytes:
        async with asyncio.timeout(WAIT):
            head = await self.reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"--frame\r\nContent-Type: image/jpeg\r\n")
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            body = await self.reader.readexactly(length + 2)
        assert body.endswith(b"\r\n")
        return body[:-2]

    async def image(self) -> Image:
        return decode(await self.part())

    def close(self) -> None:
        self.writer.close()


async def read_parts(client: MjpegClient, count: int) -> None:
    for _ in range(count):
        await client.part()


def decode(jpeg: bytes) -> Image:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, np.uint8)


@pytest.fixture
async def start_camera() -> AsyncIterator[Callable[..., CameraDevice]]:
    started: list[CameraDevice] = []

    def make(**kwargs: object) -> CameraDevice:
        camera = CameraDevice(size=SIZE, fps=20, **kwargs)  # type: ignore[arg-type]
        started.append(camera)
        return camera

    yield make
    for camera in started:
        await camera.stop()


# -- the script ---------------------------------------------------------------------------


def test_timeline_plays_segments_in_order_then_holds_the_last() -> None:
    timeline = Timeline[str]([(1.0, "walks in"), (2.0, "sits left"), Segment(0.5, "holds")])
    assert timeline.duration == 3.5
    assert [timeline.at(t) for t in (-1, 0, 0.99, 1.0, 2.9, 3.0, 3.49, 3.5, 100)] == [
        "walks in",
        "walks in",
        "walks in",
        "sits left",
        "sits left",
        "holds",
        "holds",
        "holds",
        "holds",
    ]


def test_a_looping_timeline_starts_over() -> None:
    timeline = Timeline([(1.0, "a"), (1.0, "b")], loop=True)
    assert [timeline.at(t) for t in (0.5, 1.5, 2.5, 3.5, 10.2)] == ["a", "b", "a", "b", "a"]


def test_interpolation_moves_offsets_towards_the_next_segment() -> None:
    timeline = Timeline(
        [(2.0, {"offset_x": -0.4, "scale": 0.5, "background": 3}), (1.0, {"offset_x": 0.0, "scale": 1.0})],
        interpolate=lerp_fields(),
        blend=1.0,
    )
    assert timeline.at(0.5) == {"offset_x": -0.4, "scale": 0.5, "background": 3}  # before the blend
    assert timeline.at(1.5) == pytest.approx({"offset_x": -0.2, "scale": 0.75, "background": 3})
    assert timeline.at(2.5) == {"offset_x": 0.0, "scale": 1.0}  # the last segment has nothing to blend into


def test_interpolation_works_on_frozen_dataclasses() -> None:
    @dataclasses.dataclass(frozen=True)
    class Params:
        offset_x: float
        scale: float
        pattern: str = "plain"

    lerp = lerp_fields()
    assert lerp(Params(0.0, 1.0, "dots"), Params(1.0, 2.0), 0.25) == Params(0.25, 1.25, "dots")
    with pytest.raises(TypeError):
        lerp(1, 2, 0.5)


def test_bad_timelines_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Timeline([])
    with pytest.raises(ValueError, match="positive"):
        Timeline([(0.0, "x")])
    with pytest.raises(ValueError, match="positive"):
        Segment(float("nan"), "x")


def test_the_default_script_walks_in_small_and_left_then_holds_centred() -> None:
    timeline = Timeline(DEFAULT_SCRIPT, interpolate=lerp_fields())
    first, *_, last = (params for _, params in DEFAULT_SCRIPT)
    assert first["offset_x"] < -0.2 and first["scale"] < 0.8
    assert last == {"offset_x": 0.0, "offset_y": 0.0, "scale": 1.0, "roll_deg": 0.0}
    assert DEFAULT_SCRIPT[-1][0] >= 3.0  # long enough to take a photo
    xs = [timeline.at(t / 10)["offset_x"] for t in range(int(timeline.duration * 10) + 5)]
    assert xs == sorted(xs)  # the applicant only ever moves towards the centre


def test_stamps_survive_jpeg() -> None:
    for number in (0, 1, 4095, 0xABCDEF):
        frame = synthetic_frame(FrameContext(t=1.0, index=number, size=SIZE))
        assert read_stamp(decode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 60])[1].tobytes())) == number
    blank = np.zeros((40, 400, 3), np.uint8)
    stamp(blank, 77)
    assert read_stamp(blank) == 77


# -- HTTP ------------------------------------------------------------------------------------


async def test_unknown_paths_are_404_and_other_methods_405(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    await camera.start()
    status, headers, body = await http_get(camera.port, "/index.html")
    assert status == 404 and b"/video.mjpg" in body and headers["content-length"] == str(len(body))
    status, headers, _ = await http_get(camera.port, "/video.mjpg", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    reader, writer = await asyncio.open_connection("127.0.0.1", camera.port)
    writer.write(b"nonsense\r\n\r\n")
    async with asyncio.timeout(WAIT):
        assert (await reader.read()).startswith(b"HTTP/1.0 400 ")
    writer.close()


async def test_a_snapshot_is_one_jpeg_of_the_configured_size(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    await camera.start()
    status, headers, body = await http_get(camera.port, "/snapshot.jpg?cache=no")
    assert status == 200 and headers["content-type"] == "image/jpeg"
    assert decode(body).shape == (SIZE[1], SIZE[0], 3)
    status, headers, body = await http_get(camera.port, "/snapshot.jpg", method="HEAD")
    assert status == 200 and int(headers["content-length"]) > 0 and body == b""


async def test_many_clients_each_get_the_live_frames(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    await camera.start()
    clients = [await MjpegClient.connect(camera.port) for _ in range(3)]
    try:
        for client in clients:
            stamps = [read_stamp(await client.image()) for _ in range(4)]
            assert stamps == sorted(stamps) and len(set(stamps)) == 4
        assert camera.describe()["clients"] == 3
    finally:
        for client in clients:
            client.close()


async def test_the_frame_clock_idles_without_clients(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    await camera.start()
    client = await MjpegClient.connect(camera.port)
    await client.part()
    client.close()
    async with asyncio.timeout(WAIT):
        while camera.describe()["clients"]:  # noqa: ASYNC110 - the camera has no event for a client leaving
            await asyncio.sleep(0.01)
    rendered = camera.frames_rendered
    await asyncio.sleep(0.3)  # six ticks at 20 fps: none may render
    assert camera.frames_rendered <= rendered + 1


# -- faults ------------------------------------------------------------------------------------


async def test_gone_closes_streams_and_refuses_connections_until_back(
    start_camera: Callable[..., CameraDevice],
) -> None:
    camera = start_camera()
    await camera.start()
    port = camera.port
    client = await MjpegClient.connect(port)
    await client.part()
    await camera.apply_fault("gone")
    with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):  # after frames still in the socket buffer
        await read_parts(client, 100)
    client.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    assert camera.describe()["listening"] is False and camera.faults.gone
    await camera.apply_fault("back")
    assert camera.port == port
    again = await MjpegClient.connect(port)
    await again.part()
    again.close()


async def test_black_frames_and_clear(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    await camera.start()
    client = await MjpegClient.connect(camera.port)
    try:
        assert (await client.image()).mean() > 50
        await camera.apply_fault("black", ["on"])
        await client.part()  # one may have been made before the fault
        assert (await client.image()).max() < 10
        await camera.apply_fault("clear")
        await client.part()
        assert (await client.image()).mean() > 50
    finally:
        client.close()


async def test_two_faces_reaches_the_renderer(start_camera: Callable[..., CameraDevice]) -> None:
    seen: list[bool] = []

    def render(ctx: FrameContext) -> Image:
        seen.append(ctx.two_faces)
        return synthetic_frame(ctx)

    camera = start_camera(render=render)
    await camera.start()
    await http_get(camera.port, "/snapshot.jpg")
    await camera.apply_fault("two_faces", ["on"])
    await http_get(camera.port, "/snapshot.jpg")
    await camera.apply_fault("two_faces", ["off"])
    await http_get(camera.port, "/snapshot.jpg")
    assert seen == [False, True, False]


async def test_freeze_repeats_one_frame_while_the_stream_goes_on(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    await camera.start()
    client = await MjpegClient.connect(camera.port)
    try:
        await client.part()
        await camera.apply_fault("freeze")
        await client.part()  # one may have been made before the fault
        frozen = [await client.part() for _ in range(3)]
        assert frozen[0] == frozen[1] == frozen[2]
        await camera.apply_fault("freeze", ["off"])
        await client.part()
        assert await client.part() != frozen[0]
    finally:
        client.close()


async def test_restart_plays_the_script_from_the_start(start_camera: Callable[..., CameraDevice]) -> None:
    now = [100.0]
    times: list[float] = []

    def draw(params: str, ctx: FrameContext) -> Image:
        times.append(ctx.t)
        frame = synthetic_frame(ctx)
        cv2.putText(frame, params, (10, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
        return frame

    camera = start_camera(render=scripted(Timeline([(1.0, "a"), (1.0, "b")]), draw), clock=lambda: now[0])
    await camera.start()
    now[0] = 107.5
    assert camera.script_time() == 7.5
    await camera.apply_fault("restart")
    now[0] = 107.75
    await http_get(camera.port, "/snapshot.jpg")
    assert times == [0.25]
    assert camera.describe()["restarts"] == 1


async def test_a_failing_renderer_costs_frames_not_the_camera(start_camera: Callable[..., CameraDevice]) -> None:
    def render(ctx: FrameContext) -> Image:
        return np.zeros((10, 10, 3), np.uint8)  # the wrong size

    camera = start_camera(render=render)
    await camera.start()
    status, _, _ = await http_get(camera.port, "/snapshot.jpg")
    assert status == 500
    assert "ValueError" in str(camera.describe()["last_render_error"])
    status, _, _ = await http_get(camera.port, "/nothing")
    assert status == 404


async def test_fault_names_and_arguments_are_checked(start_camera: Callable[..., CameraDevice]) -> None:
    camera = start_camera()
    assert set(FAULTS) == {"gone", "back", "black", "two_faces", "freeze", "restart", "clear"}
    with pytest.raises(FaultError, match="unknown fault"):
        await camera.apply_fault("smoke")
    with pytest.raises(FaultError, match="on or off"):
        await camera.apply_fault("black", ["maybe"])
    with pytest.raises(FaultError, match="no arguments"):
        await camera.apply_fault("gone", ["now"])
    with pytest.raises(ValueError, match="fps"):
        CameraDevice(fps=0)
    with pytest.raises(ValueError, match="size"):
        CameraDevice(size=(1, 1))


# -- files ----------------------------------------------------------------------------------


def frames(count: int) -> list[Image]:
    return [synthetic_frame(FrameContext(t=i / 10, index=i, size=SIZE)) for i in range(count)]


def test_write_video_and_sequence_are_readable_by_opencv(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    assert write_video(video, frames(6), fps=12) == 6
    capture = cv2.VideoCapture(str(video))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12)
    got = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        got.append(read_stamp(np.asarray(image, np.uint8)))
    capture.release()
    assert got == list(range(6))

    pattern = write_sequence(tmp_path / "seq", frames(4))
    assert pattern.endswith("frame_%05d.jpg")
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == [f"frame_{i:05d}.jpg" for i in range(4)]
    capture = cv2.VideoCapture(pattern)
    assert [read_stamp(np.asarray(capture.read()[1], np.uint8)) for _ in range(4)] == [0, 1, 2, 3]
    capture.release()
