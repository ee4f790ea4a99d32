"""A simulated camera: MJPEG over HTTP on 127.0.0.1, as IP cameras serve it, with faults on command.

Theory of operation
-------------------
A :class:`CameraDevice` is a tiny HTTP server (``asyncio.start_server`` on
127.0.0.1) with three answers:

- ``GET /video.mjpg``: ``multipart/x-mixed-replace; boundary=frame``, one JPEG
  part per frame, at the camera's frame rate, for as long as the client stays;
- ``GET /snapshot.jpg``: one JPEG (``image/jpeg``), then the connection closes;
- anything else: ``404`` (``405`` for methods other than GET and HEAD).

The daemon reads ``http://127.0.0.1:PORT/video.mjpg`` with the real
``cv2.VideoCapture`` (FFmpeg backend), the same capture code as a networked
camera, across processes, at real time.

One producer task makes the frames, and only while somebody watches: on every
tick of the frame clock (absolute deadlines, so the rate does not drift; a
late tick skips rather than bursts) it calls the renderer off the event loop
(``asyncio.to_thread``: rendering and JPEG encoding release the GIL), keeps the
newest JPEG and wakes the clients. Each client writes whichever frame is newest
when it is ready, so a slow client skips frames instead of building a backlog,
and a client that stops reading for :data:`WRITE_TIMEOUT` seconds is dropped.

What the camera shows comes from a renderer, ``render(ctx) -> frame`` (BGR
uint8, ``ctx.size``), given a :class:`FrameContext`: the seconds since the
script began (:meth:`CameraDevice.restart` starts it again, as the hall does when
a capture begins), the frame number and the ``two_faces`` fault. The camera is
generic over the renderer: :func:`synthetic_frame` draws a moving square, the time
and a machine-readable frame stamp (:func:`stamp`, :func:`read_stamp`); the
photo-scene composer plugs in through :func:`scripted` and a :class:`Timeline`.

Faults (see :data:`FAULTS`), applied through :meth:`CameraDevice.apply_fault`:

- ``gone``: every stream is closed and the port refuses connections (the camera
  was unplugged or lost power), until ``back``;
- ``back``: the camera listens again, on the same port;
- ``black`` [on|off]: all-black frames (lens cap, dead sensor);
- ``two_faces`` [on|off]: the renderer is asked for a second face;
- ``freeze`` [on|off]: the same frame is sent again and again (a hung sensor
  pipeline: the stream lives, the picture does not);
- ``restart``: the script plays from its start (an operation, not a fault);
- ``clear``: all faults off (a gone camera comes back).

``write_video`` and ``write_sequence`` write the same frames as an MJPG
``.avi`` or a numbered image sequence, for file-source tests and demos.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final, Generic, TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from hallgw_simulators.faults import FaultArg, FaultError, no_args, switch_arg

__all__ = [
    "BOUNDARY",
    "DEFAULT_FPS",
    "DEFAULT_SCRIPT",
    "DEFAULT_SIZE",
    "FAULTS",
    "KIND",
    "CameraDevice",
    "CameraFaults",
    "FrameContext",
    "Image",
    "Render",
    "Segment",
    "Timeline",
    "lerp_fields",
    "read_stamp",
    "scripted",
    "stamp",
    "synthetic_frame",
    "write_sequence",
    "write_video",
]

Image = npt.NDArray[np.uint8]
"""A BGR frame, ``(height, width, 3)`` uint8."""

KIND: Final = "camera"
DEFAULT_FPS: Final = 10.0
DEFAULT_SIZE: Final = (1280, 720)
"""(width, height)."""
MAX_FPS: Final = 60.0
JPEG_QUALITY: Final = 85
BOUNDARY: Final = "frame"
MAX_REQUEST: Final = 8192
"""Longest request head accepted (request line and headers)."""
REQUEST_TIMEOUT: Final = 5.0
"""Seconds a client has to send its request head."""
WRITE_TIMEOUT: Final = 5.0
"""Seconds a stream client may stop reading before it is dropped."""

STAMP_BITS: Final = 24
STAMP_CELL: Final = 8
"""Side in pixels of one stamp bit: big enough to survive JPEG at any sane quality."""


# -- what a frame is made of ---------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FrameContext:
    """What a renderer is told about the frame it is asked for."""

    t: float
    """Seconds since the script (re)started (:meth:`CameraDevice.restart`)."""
    index: int
    """Frame number since the camera started (0-based, counts every rendered frame)."""
    size: tuple[int, int]
    """(width, height) the frame must have."""
    two_faces: bool = False
    """The ``two_faces`` fault: the scene should hold a second face."""


Render = Callable[[FrameContext], Image]
"""Makes one frame (BGR uint8 of ``ctx.size``) for a context; called on a worker thread."""

P = TypeVar("P")


@dataclasses.dataclass(frozen=True, slots=True)
class Segment(Generic[P]):
    """One step of a script: the scene ``params`` held for ``duration`` seconds."""

    duration: float
    params: P

    def __post_init__(self) -> None:
        if not (math.isfinite(self.duration) and self.duration > 0):
            raise ValueError(f"a segment lasts a positive, finite number of seconds, got {self.duration!r}")


class Timeline(Generic[P]):
    """A script of scene parameters over time: which ``params`` hold ``t`` seconds after the start.

    Pure: the camera passes the time (seconds since it was last restarted), so
    a test asks ``at(2.5)`` without waiting. After the last segment the last
    params hold, or with ``loop=True`` the script starts over. With
    ``interpolate`` (see :func:`lerp_fields`), the last ``blend`` seconds of a
    segment move smoothly towards the next segment's params, as a person shifts
    on a stool rather than jumping.
    """

    def __init__(
        self,
        segments: Iterable[Segment[P] | tuple[float, P]],
        *,
        loop: bool = False,
        interpolate: Callable[[P, P, float], P] | None = None,
        blend: float = 0.5,
    ) -> None:
        self.segments: tuple[Segment[P], ...] = tuple(
            s if isinstance(s, Segment) else Segment(float(s[0]), s[1]) for s in segments
        )
        if not self.segments:
            raise ValueError("a timeline needs at least one segment")
        if blend < 0:
            raise ValueError("blend is a duration in seconds, >= 0")
        self.loop = loop
        self.interpolate = interpolate
        self.blend = blend
        self.duration = sum(s.duration for s in self.segments)

    def index_at(self, t: float) -> int:
        """Which segment holds at ``t`` (before 0: the first; after the end: the last, unless looping)."""
        if t < 0:
            return 0
        if self.loop:
            t = math.fmod(t, self.duration)
        start = 0.0
        for i, segment in enumerate(self.segments):
            if t < start + segment.duration:
                return i
            start += segment.duration
        return len(self.segments) - 1

    def at(self, t: float) -> P:
        """The params ``t`` seconds after the start."""
        i = self.index_at(t)
        segment = self.segments[i]
        has_next = i + 1 < len(self.segments) or self.loop
        if self.interpolate is None or self.blend <= 0 or not has_next:
            return segment.params
        local = max(0.0, math.fmod(t, self.duration) if self.loop else t) - sum(s.duration for s in self.segments[:i])
        blend = min(self.blend, segment.duration)
        into = local - (segment.duration - blend)
        if into <= 0:
            return segment.params
        following = self.segments[(i + 1) % len(self.segments)].params
        return self.interpolate(segment.params, following, min(1.0, into / blend))


def lerp_fields(fields: Sequence[str] = ("offset_x", "offset_y", "scale", "roll_deg")) -> Callable[[P, P, float], P]:
    """An ``interpolate`` for :class:`Timeline`: moves the numeric ``fields`` linearly, keeps the rest of ``a``.

    Works on dataclasses (through :func:`dataclasses.replace`) and on mappings;
    fields missing from either side are left alone.
    """

    def lerp(a: P, b: P, f: float) -> P:
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out = dict(a)
            for name in fields:
                if name in a and name in b:
                    out[name] = a[name] + (b[name] - a[name]) * f
            return out  # type: ignore[return-value]  # same mapping shape as P
        if dataclasses.is_dataclass(a) and not isinstance(a, type):
            changes = {
                name: getattr(a, name) + (getattr(b, name) - getattr(a, name)) * f
                for name in fields
                if hasattr(a, name) and hasattr(b, name)
            }
            return dataclasses.replace(a, **changes)
        raise TypeError(f"lerp_fields works on dataclasses and mappings, not {type(a).__name__}")

    return lerp


def scripted(timeline: Timeline[P], draw: Callable[[P, FrameContext], Image]) -> Render:
    """A renderer that draws the timeline's params at the frame's time.

    With the photo-scene composer, for instance::

        scripted(timeline, lambda p, ctx: compose(SceneParams(**p, second_face=ctx.two_faces), size=ctx.size))
    """

    def render(ctx: FrameContext) -> Image:
        return draw(timeline.at(ctx.t), ctx)

    return render


DEFAULT_SCRIPT: Final[tuple[tuple[float, dict[str, float]], ...]] = (
    (1.5, {"offset_x": -0.35, "offset_y": 0.05, "scale": 0.55, "roll_deg": 0.0}),
    (2.0, {"offset_x": -0.22, "offset_y": 0.0, "scale": 1.0, "roll_deg": 4.0}),
    (1.5, {"offset_x": -0.06, "offset_y": 0.0, "scale": 1.0, "roll_deg": 1.0}),
    (5.0, {"offset_x": 0.0, "offset_y": 0.0, "scale": 1.0, "roll_deg": 0.0}),
)
"""An applicant at the photo machine, as (seconds, params) segments of photo-scene ``SceneParams`` fields.

1. walks in: the face small (``scale`` 0.55 of the ideal size) and far to the left;
2. sits down, still too far left (``offset_x`` -0.22 of the frame width) and a little tilted;
3. corrects: nearly centred;
4. holds still, centred and upright, long enough for a compliant capture.

Offsets are fractions of the frame from its centre; ``scale`` is the face
size relative to the ideal; the other ``SceneParams`` fields keep their
defaults. Use ``Timeline(DEFAULT_SCRIPT, interpolate=lerp_fields())`` and build
``SceneParams(**params)`` in the draw function. Plain dicts, so this module
does not depend on the composer.
"""


# -- a renderer that needs nothing else -------------------------------------------


def stamp(frame: Image, number: int) -> None:
    """Write ``number`` (24 bits) into the top-left corner as black and white cells, in place.

    The daemon-side tests read it back with :func:`read_stamp` to tell which
    frame they got: cells of :data:`STAMP_CELL` pixels survive JPEG.
    """
    for bit in range(STAMP_BITS):
        value = 255 if (number >> bit) & 1 else 0
        x = bit * STAMP_CELL
        frame[0:STAMP_CELL, x : x + STAMP_CELL] = value


def read_stamp(frame: Image) -> int:
    """The number :func:`stamp` wrote into ``frame``."""
    number = 0
    half = STAMP_CELL // 2
    for bit in range(STAMP_BITS):
        x = bit * STAMP_CELL
        cell = frame[half - 2 : half + 2, x + half - 2 : x + half + 2]
        if float(cell.mean()) > 127:
            number |= 1 << bit
    return number


def synthetic_frame(ctx: FrameContext) -> Image:
    """A synthetic scene: grey background, an ellipse "head" (two if asked), a moving square, the time, a stamp."""
    width, height = ctx.size
    frame = np.full((height, width, 3), 96, np.uint8)
    centre = (width // 2, height // 2)
    axes = (max(1, height // 6), max(1, height // 4))
    cv2.ellipse(frame, centre, axes, 0, 0, 360, (150, 180, 220), -1)
    if ctx.two_faces:
        cv2.ellipse(frame, (width // 5, height // 2), (axes[0] // 2, axes[1] // 2), 0, 0, 360, (150, 180, 220), -1)
    side = max(4, height // 12)
    x = int((ctx.t * width / 4) % max(1, width - side))
    cv2.rectangle(frame, (x, height - 2 * side), (x + side, height - side), (40, 200, 40), -1)
    cv2.putText(
        frame, f"{ctx.t:7.2f}s #{ctx.index}", (16, 48), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA
    )
    stamp(frame, ctx.index)
    return frame


# -- files from the same frames ------------------------------------------------------


def write_video(path: str | Path, frames: Iterable[Image], *, fps: float = DEFAULT_FPS) -> int:
    """Write ``frames`` (all of one size) as an MJPG ``.avi``; returns how many were written."""
    writer: cv2.VideoWriter | None = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                height, width = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (width, height))
                if not writer.isOpened():
                    raise OSError(f"{path}: OpenCV cannot write an MJPG video there")
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    return count


def write_sequence(directory: str | Path, frames: Iterable[Image], *, pattern: str = "frame_%05d.jpg") -> str:
    """Write ``frames`` as a numbered image sequence (from 0); returns the ``%``-pattern path ``VideoCapture`` opens."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        target = folder / (pattern % i)
        if not cv2.imwrite(str(target), frame):
            raise OSError(f"{target}: OpenCV cannot write this image")
    return str(folder / pattern)


# -- the device --------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class CameraFaults:
    """The camera's faults (all off by default)."""

    gone: bool = False
    black: bool = False
    two_faces: bool = False
    freeze: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class _Jpeg:
    index: int
    data: bytes


FaultHandler = Callable[["CameraDevice", str, Sequence[FaultArg]], Any]


class CameraDevice:
    """One simulated network camera (see the module docstring)."""

    kind: ClassVar[str] = KIND
    FAULT_HANDLERS: ClassVar[Mapping[str, FaultHandler]]

    def __init__(
        self,
        *,
        device_id: str = "cam-1",
        render: Render = synthetic_frame,
        fps: float = DEFAULT_FPS,
        size: tuple[int, int] = DEFAULT_SIZE,
        port: int = 0,
        quality: int = JPEG_QUALITY,
        station: str | None = None,
        name: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (math.isfinite(fps) and 0 < fps <= MAX_FPS):
            raise ValueError(f"fps must be in (0, {MAX_FPS}], got {fps!r}")
        if len(size) != 2 or not all(isinstance(v, int) and 16 <= v <= 8192 for v in size):
            raise ValueError(f"size is (width, height) of 16..8192 pixels each, got {size!r}")
        if not 1 <= quality <= 100:
            raise ValueError(f"JPEG quality is 1..100, got {quality!r}")
        self.device_id = device_id
        self.station = station
        self.name = name
        self.render = render
        self.fps = fps
        self.size = size
        self.quality = quality
        self.faults = CameraFaults()
        self._clock = clock
        self._origin = clock()
        self._port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._watchers = 0
        self._latest: _Jpeg | None = None
        self._new_frame = asyncio.Event()
        self._watched = asyncio.Event()
        self._producer: asyncio.Task[None] | None = None
        self._index = 0
        self._black: bytes | None = None
        self.frames_rendered = 0
        self.frames_sent = 0
        self.restarts = 0
        self.render_errors = 0
        self.last_render_error: str | None = None

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> None:
        """Listen on 127.0.0.1 (a random port unless one was given) and start the frame clock."""
        await self._listen()
        if self._producer is None:
            self._producer = asyncio.create_task(self._produce(), name=f"camera-{self.device_id}-frames")

    async def stop(self) -> None:
        """Close the port, every client and the frame clock."""
        await self._unlisten()
        if self._producer is not None:
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._producer
            self._producer = None

    async def __aenter__(self) -> CameraDevice:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (fixed at the first start, kept across ``gone``/``back``)."""
        return self._port

    @property
    def url(self) -> str:
        """The stream URL a daemon's capture opens."""
        return f"http://127.0.0.1:{self._port}/video.mjpg"

    @property
    def link_url(self) -> str:
        """The camera's link in the daemon config: its stream URL."""
        return self.url

    @property
    def snapshot_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/snapshot.jpg"

    @property
    def frame_index(self) -> int:
        """Number of the newest frame made for the streams (-1 before the first)."""
        return self._latest.index if self._latest is not None else -1

    def restart(self) -> None:
        """Play the script from its start (the hall calls this when a capture begins)."""
        self._origin = self._clock()
        self.restarts += 1

    def script_time(self) -> float:
        """Seconds since the script (re)started."""
        return self._clock() - self._origin

    def describe(self) -> dict[str, Any]:
        """State for the control protocol."""
        return {
            "id": self.device_id,
            "kind": self.kind,
            "station": self.station,
            "transport": "mjpeg-http",
            "link": self.url,
            "snapshot": self.snapshot_url,
            "fps": self.fps,
            "size": list(self.size),
            "listening": self._server is not None,
            "clients": len(self._writers),
            "script_time": round(self.script_time(), 3),
            "frames_rendered": self.frames_rendered,
            "frames_sent": self.frames_sent,
            "restarts": self.restarts,
            "render_errors": self.render_errors,
            "last_render_error": self.last_render_error,
            "faults": dataclasses.asdict(self.faults),
        }

    # -- faults --------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one fault or operation by name (see :data:`FAULTS`); raises :class:`FaultError`."""
        handler = self.FAULT_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(self.FAULT_HANDLERS)}")
        await handler(self, name, args)

    async def _gone(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.faults.gone = True
        await self._unlisten()

    async def _back(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.faults.gone = False
        await self._listen()

    async def _black_fault(self, name: str, args: Sequence[FaultArg]) -> None:
        self.faults.black = switch_arg(name, args, default=True)

    async def _two_faces(self, name: str, args: Sequence[FaultArg]) -> None:
        self.faults.two_faces = switch_arg(name, args, default=True)

    async def _freeze(self, name: str, args: Sequence[FaultArg]) -> None:
        self.faults.freeze = switch_arg(name, args, default=True)

    async def _restart(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.restart()

    async def _clear(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        was_gone = self.faults.gone
        self.faults = CameraFaults()
        if was_gone:
            await self._listen()

    # -- frames --------------------------------------------------------------------
    def _encode(self, image: Image) -> bytes:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return data.tobytes()

    def _make_jpeg(self, ctx: FrameContext, black: bool) -> bytes:
        """Render and encode one frame (on a worker thread)."""
        if black:
            if self._black is None:
                width, height = self.size
                self._black = self._encode(np.zeros((height, width, 3), np.uint8))
            return self._black
        image = self.render(ctx)
        width, height = self.size
        if image.shape != (height, width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"the renderer made a {image.shape} {image.dtype} frame; expected ({height}, {width}, 3) uint8"
            )
        return self._encode(image)

    async def next_jpeg(self) -> _Jpeg:
        """Make the next frame now, with the faults applied (``freeze`` repeats the last one)."""
        if self.faults.freeze and self._latest is not None:
            return _Jpeg(self._index, self._latest.data)
        ctx = FrameContext(t=self.script_time(), index=self._index, size=self.size, two_faces=self.faults.two_faces)
        data = await asyncio.to_thread(self._make_jpeg, ctx, self.faults.black)
        self.frames_rendered += 1
        return _Jpeg(ctx.index, data)

    def _wake(self) -> None:
        """Wake every stream waiting for a frame (a new frame, or the camera going away)."""
        self._new_frame.set()
        self._new_frame = asyncio.Event()

    async def _produce(self) -> None:
        period = 1.0 / self.fps
        loop = asyncio.get_running_loop()
        while True:
            await self._watched.wait()
            deadline = loop.time()
            while self._watchers > 0:
                try:
                    self._latest = await self.next_jpeg()
                except Exception as err:  # a broken renderer costs frames, not the camera
                    self.render_errors += 1
                    self.last_render_error = f"{type(err).__name__}: {err}"
                else:
                    self._index += 1
                    self._wake()
                deadline += period
                now = loop.time()
                deadline = max(deadline, now)  # late (a slow renderer or a busy loop): skip ticks, do not burst
                await asyncio.sleep(deadline - now)
            self._watched.clear()

    # -- HTTP ----------------------------------------------------------------------
    async def _listen(self) -> None:
        if self._server is not None or self.faults.gone:
            return
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self._port, reuse_address=True, limit=MAX_REQUEST
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def _unlisten(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        self._wake()  # streams waiting for a frame see their writer closing and end
        handlers = list(self._handlers)
        if handlers:
            _, stuck = await asyncio.wait(handlers, timeout=2.0)
            for task in stuck:  # only a handler blocked beyond its own timeouts
                task.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - a stream callback always runs in a task
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            await self._answer(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away or misbehaved: drop it
        finally:
            self._writers.discard(writer)
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            head = await reader.readuntil(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await _respond(writer, 400, "Bad Request", b"bad request\n")
            return
        method, target = parts[0], parts[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            await _respond(writer, 405, "Method Not Allowed", b"GET only\n", extra="Allow: GET, HEAD\r\n")
            return
        if target == "/snapshot.jpg":
            try:
                jpeg = await self.next_jpeg() if self._latest is None or self._watchers == 0 else self._latest
            except Exception as err:  # the renderer failed: say so, keep serving
                self.render_errors += 1
                self.last_render_error = f"{type(err).__name__}: {err}"
                await _respond(writer, 500, "Internal Server Error", b"the renderer failed\n")
                return
            await _respond(writer, 200, "OK", jpeg.data, content_type="image/jpeg", head_only=method == "HEAD")
            return
        if target != "/video.mjpg":
            await _respond(writer, 404, "Not Found", b"not found: try /video.mjpg or /snapshot.jpg\n")
            return
        writer.write(
            b"HTTP/1.0 200 OK\r\n"
            b"Cache-Control: no-cache, no-store\r\nPragma: no-cache\r\nConnection: close\r\n"
            b"Content-Type: multipart/x-mixed-replace; boundary=" + BOUNDARY.encode() + b"\r\n\r\n"
        )
        if method == "HEAD":
            await writer.drain()
            return
        await self._stream(writer)

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        self._watchers += 1
        self._watched.set()
        try:
            sent = -1
            while not writer.is_closing():
                latest = self._latest
                if latest is None or latest.index == sent:
                    await self._new_frame.wait()
                    continue
                writer.write(
                    b"--" + BOUNDARY.encode() + b"\r\nContent-Type: image/jpeg\r\n"
                    b"Content-Length: " + str(len(latest.data)).encode() + b"\r\n\r\n" + latest.data + b"\r\n"
                )
                async with asyncio.timeout(WRITE_TIMEOUT):
                    await writer.drain()
                sent = latest.index
                self.frames_sent += 1
        finally:
            self._watchers -= 1


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    reason: str,
    body: bytes,
    *,
    content_type: str = "text/plain; charset=utf-8",
    extra: str = "",
    head_only: bool = False,
) -> None:
    writer.write(
        f"HTTP/1.0 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Cache-Control: no-cache\r\nConnection: close\r\n{extra}\r\n".encode("latin-1")
        + (b"" if head_only else body)
    )
    async with asyncio.timeout(WRITE_TIMEOUT):
        await writer.drain()


CameraDevice.FAULT_HANDLERS = {
    "gone": CameraDevice._gone,
    "back": CameraDevice._back,
    "black": CameraDevice._black_fault,
    "two_faces": CameraDevice._two_faces,
    "freeze": CameraDevice._freeze,
    "restart": CameraDevice._restart,
    "clear": CameraDevice._clear,
}

FAULTS: Final = tuple(CameraDevice.FAULT_HANDLERS)
"""Operation and fault names :meth:`CameraDevice.apply_fault` accepts."""
