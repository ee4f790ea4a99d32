"""Cameras through OpenCV's ``VideoCapture``, off the event loop, newest frame only.

Theory of operation
-------------------
A :class:`CameraSource` is one camera, named by a source spec
(:func:`parse_camera_spec`): a device index (``"0"``), a V4L2 device path
(``"/dev/video0"``), a video file (``"/srv/clips/x.avi"``), an image sequence
(``"/srv/clips/frame_%05d.jpg"``) or a network stream as IP cameras serve it
(``"http://10.0.0.7/video.mjpg"``, ``"rtsp://..."``). The daemon's link URLs
name cameras with :func:`parse_camera_url` (``camera://0``,
``camera:///srv/clips/x.avi?loop=1``, or the stream URL itself).

``VideoCapture`` blocks, and one capture object must stay on one thread, so each
camera owns a one-thread executor: opening, every grab and the release run
there, never on the loop. Once open, that thread reads continuously, as fast as
the source delivers (a camera or stream paces itself; a file is paced at its
frame rate, so it plays like a camera), and keeps only the newest frame in a
one-frame slot. The loop is woken at most once per pending frame
(``call_soon_threadsafe``), so a busy loop never piles up frames in memory, and
a consumer never gets a stale, buffered frame: whoever asks gets the newest one.
Each :class:`Frame` carries a sequence number (counting up across reopens) and
the monotonic time it was grabbed; its image is read-only because consumers
share it (copy before drawing on it). :meth:`CameraSource.read` returns a frame
newer than the one it returned last; :meth:`CameraSource.frames` yields each
newer frame to one consumer; several consumers can each have their own.

A camera goes away when a read fails: the device was unplugged, the stream's
server closed or stopped sending for ``read_timeout`` seconds (FFmpeg's read
timeout), or a file ended without ``loop``. Frames already grabbed are still
delivered, then every read raises :class:`CameraGoneError` (a
:class:`~hallgw_daemon.transports.link.LinkClosedError`, so the supervisor treats
it as any lost link). No new frame within the caller's own timeout is
:class:`CameraTimeoutError` (a :class:`TimeoutError`): the camera may be fine
and merely slow. :meth:`CameraSource.reopen` opens the same source again on the
same thread; :func:`open_camera` opens one with retries after the delays the
caller gives (the supervisor's capped, jittered backoff).

Following a growing image sequence is not supported: a reader races the writer
on half-written files. A simulated camera serves MJPEG over HTTP instead
(``hallgw_simulators.camera_device``), which reaches this code exactly as a
networked camera does.

Frames are personal data (faces): nothing here logs or stores them, and errors
name the source with its credentials removed (:meth:`CameraSpec.display`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import enum
import math
import os
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import SplitResult, parse_qs, urlsplit, urlunsplit

import cv2
import numpy as np
import numpy.typing as npt

from hallgw_daemon.transports.errors import LinkClosedError, LinkOpenError

__all__ = [
    "CAMERA_URL_SCHEMES",
    "CameraGoneError",
    "CameraOpenError",
    "CameraSource",
    "CameraSpec",
    "CameraTimeoutError",
    "Frame",
    "Image",
    "SourceKind",
    "open_camera",
    "parse_camera_spec",
    "parse_camera_url",
]

Image = npt.NDArray[np.uint8]
"""A BGR frame, ``(height, width, 3)`` uint8."""

# FFmpeg writes its own errors to stderr, outside the daemon's logs, and a stream's may name its URL
# with the password. Quiet unless an engineer sets the level: OpenCV reads it when its FFmpeg backend
# first opens something, which only this module does (-8 is AV_LOG_QUIET, 16 AV_LOG_ERROR).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

STREAM_SCHEMES: Final = ("http", "https", "rtsp", "rtsps")
CAMERA_URL_SCHEMES: Final = ("camera", *STREAM_SCHEMES)
"""Link URL schemes :func:`parse_camera_url` accepts."""
DEFAULT_OPEN_TIMEOUT: Final = 5.0
DEFAULT_READ_TIMEOUT: Final = 3.0
"""Seconds a stream may send nothing before the camera counts as gone."""
DEFAULT_FILE_FPS: Final = 10.0
"""Pace of a file whose own frame rate is unknown."""
MAX_FPS: Final = 120.0
_SEQUENCE = re.compile(r"%0?\d*d")
_STOP_GRACE: Final = 1.0
"""Seconds beyond the read timeout that closing waits for the grabbing thread."""


class CameraOpenError(LinkOpenError):
    """The camera could not be opened (no such device or file, connection refused, no frame)."""


class CameraGoneError(LinkClosedError):
    """The camera went away: unplugged, the stream closed or stalled, the file ended, or it was closed."""


class CameraTimeoutError(TimeoutError):
    """No new frame within the caller's timeout; the camera is still open."""


class SourceKind(enum.Enum):
    """What a source spec names; decides the backend, pacing and what ``loop`` means."""

    DEVICE_INDEX = "device_index"
    DEVICE_PATH = "device_path"
    FILE = "file"
    SEQUENCE = "sequence"
    STREAM = "stream"

    @property
    def is_file(self) -> bool:
        return self in (SourceKind.FILE, SourceKind.SEQUENCE)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CameraSpec:
    """A parsed camera source: what to open and how to play it."""

    kind: SourceKind
    source: str
    """What ``VideoCapture`` opens (an index as digits, a path or a URL)."""
    loop: bool = False
    """Files only: start again at the end instead of ending (a simulated camera with a playlist)."""
    fps: float | None = None
    """Files only: the pace to play at; None takes the file's own rate (or 10 when unknown)."""

    def __post_init__(self) -> None:
        if not self.kind.is_file and (self.loop or self.fps is not None):
            raise ValueError(f"{self.display()}: loop and fps apply to video files and image sequences only")
        if self.fps is not None and not (math.isfinite(self.fps) and 0 < self.fps <= MAX_FPS):
            raise ValueError(f"{self.display()}: fps must be in (0, {MAX_FPS}], got {self.fps!r}")

    def display(self) -> str:
        """The source for messages and logs, without a password in a stream URL."""
        if self.kind is not SourceKind.STREAM:
            return self.source
        parts = urlsplit(self.source)
        if parts.password is None and parts.username is None:
            return self.source
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _without_password(parts: SplitResult) -> str:
    """The URL with any user and password replaced by ``***``."""
    if "@" not in parts.netloc:
        return urlunsplit(parts)
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def parse_camera_spec(spec: str, *, loop: bool = False, fps: float | None = None) -> CameraSpec:
    """Tell what a source spec names; ValueError saying what was expected.

    ``"0"`` is a device index, ``/dev/...`` a device path, ``http(s)://`` and
    ``rtsp(s)://`` a network stream, a path with a ``%d``-style field an image
    sequence, any other path a video file.
    """
    text = spec.strip()
    if not text:
        raise ValueError("a camera source is a device index, a device path, a video file, an image sequence or a URL")
    if text.isdigit():
        return CameraSpec(kind=SourceKind.DEVICE_INDEX, source=str(int(text)), loop=loop, fps=fps)
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in STREAM_SCHEMES:
        shown = _without_password(parts)  # an error message is logged: never the password
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError:
            raise ValueError(f"{shown!r}: the port is not a number from 1 to 65535") from None
        if not parts.hostname:
            raise ValueError(f"{shown!r}: a stream URL names a host, as in http://HOST:PORT/video.mjpg")
        return CameraSpec(kind=SourceKind.STREAM, source=text, loop=loop, fps=fps)
    if "://" in text:
        shown = _without_password(parts)
        raise ValueError(f"{shown!r}: unsupported camera scheme {scheme!r}; streams are {', '.join(STREAM_SCHEMES)}")
    if not os.path.isabs(text):
        raise ValueError(f"{text!r}: a camera file or device is given by its absolute path")
    if text.startswith("/dev/"):
        return CameraSpec(kind=SourceKind.DEVICE_PATH, source=text, loop=loop, fps=fps)
    kind = SourceKind.SEQUENCE if _SEQUENCE.search(os.path.basename(text)) else SourceKind.FILE
    return CameraSpec(kind=kind, source=text, loop=loop, fps=fps)


def parse_camera_url(url: str) -> CameraSpec:
    """A camera link URL as a spec; ValueError saying what was expected.

    ``camera://INDEX``; ``camera:///ABSOLUTE/PATH[?loop=1][&fps=N]`` (a device,
    a video file or an image sequence, the path taken literally so
    ``frame_%05d.jpg`` needs no escaping); or a stream URL as the camera
    serves it (``http://``, ``https://``, ``rtsp://``, ``rtsps://``; its query
    belongs to the camera).
    """
    parts = urlsplit(url)
    if parts.scheme in STREAM_SCHEMES:
        return parse_camera_spec(url)
    expected = "camera://INDEX, camera:///PATH[?loop=1&fps=N] or a stream URL (http://, rtsp://)"
    if parts.scheme != "camera":
        raise ValueError(f"{url!r}: expected {expected}")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"loop", "fps"}
    if unknown:
        raise ValueError(f"{url!r}: unknown camera option(s) {sorted(unknown)}; known: loop, fps")
    loop_text = query.get("loop", ["0"])[-1].lower()
    if loop_text not in ("0", "1", "true", "false", "yes", "no", ""):
        raise ValueError(f"{url!r}: loop is 1 or 0")
    fps: float | None = None
    if "fps" in query:
        try:
            fps = float(query["fps"][-1])
        except ValueError:
            raise ValueError(f"{url!r}: fps is a number of frames per second") from None
    if parts.netloc and not parts.path:
        source = parts.netloc
        if not source.isdigit():
            raise ValueError(f"{url!r}: expected {expected}")
    elif not parts.netloc and parts.path:
        source = parts.path
    else:
        raise ValueError(f"{url!r}: expected {expected}")
    return parse_camera_spec(source, loop=loop_text in ("1", "true", "yes", ""), fps=fps)


@dataclasses.dataclass(frozen=True, slots=True)
class Frame:
    """One grabbed frame: the image (read-only, shared), its sequence number and when it was grabbed."""

    image: Image
    seq: int
    """1 for the first frame a source ever grabbed, counting up across reopens."""
    captured: float
    """``time.monotonic()`` when the grab returned."""
    position: int | None = None
    """Files only: the frame's index in the file (0-based; starts again after a rewind)."""


class CameraSource:
    """One camera: a one-thread executor grabbing continuously, the newest frame, and the waiters for it."""

    def __init__(
        self,
        spec: str | CameraSpec,
        *,
        name: str | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        self.spec = parse_camera_spec(spec) if isinstance(spec, str) else spec
        if not (math.isfinite(read_timeout) and 0 < read_timeout <= 600):
            raise ValueError(f"read_timeout is in (0, 600] seconds, got {read_timeout!r}")
        self.name = name or self.spec.display()
        self.read_timeout = read_timeout
        label = re.sub(r"[^A-Za-z0-9_.-]+", "_", name or self.spec.kind.value)[:24]
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"camera-{label}")
        self._lock = threading.Lock()
        self._slot: Frame | None = None  # written by the grabbing thread, under the lock
        self._wake_pending = False
        self._latest: Frame | None = None  # the loop's view
        self._changed = asyncio.Event()
        self._error: CameraGoneError | None = None
        self._stop = threading.Event()
        self._grabbing: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._seq = 0
        self._cursor = 0
        self._closed = False
        self.size: tuple[int, int] | None = None
        """(width, height) of the frames, known once open."""
        self.opens = 0

    # -- lifecycle ---------------------------------------------------------------
    async def open(self, timeout: float = DEFAULT_OPEN_TIMEOUT) -> None:
        """Open the source and start grabbing; returns once a first frame is in (CameraOpenError if none)."""
        if self._closed:
            raise CameraOpenError(f"{self.spec.display()}: this camera source was closed")
        await self._stop_grabbing()
        self._loop = asyncio.get_running_loop()
        self._stop = threading.Event()
        job = self._loop.run_in_executor(self._executor, _open_capture, self.spec, timeout, self.read_timeout)
        try:
            async with asyncio.timeout(timeout + _STOP_GRACE):
                capture, first = await asyncio.shield(job)
        except TimeoutError:
            job.add_done_callback(self._release_late)
            raise CameraOpenError(f"{self.spec.display()}: no frame within {timeout:g} s") from None
        except asyncio.CancelledError:
            job.add_done_callback(self._release_late)
            raise
        self._error = None
        self.opens += 1
        self.size = (int(first.shape[1]), int(first.shape[0]))
        stop = self._stop
        self._publish(first, 0 if self.spec.kind.is_file else None)
        self._take()  # the first frame is readable as soon as open returns
        self._grabbing = self._loop.run_in_executor(self._executor, self._grab, capture, stop)
        self._grabbing.add_done_callback(self._grab_ended)

    async def reopen(self, timeout: float = DEFAULT_OPEN_TIMEOUT) -> None:
        """Stop grabbing (if still running) and open the same source again; CameraOpenError if it is not back."""
        await self.open(timeout)

    async def close(self) -> None:
        """Stop grabbing and release the capture; readers then get CameraGoneError."""
        if self._closed:
            return
        self._closed = True
        await self._stop_grabbing()
        self._fail(CameraGoneError(f"{self.spec.display()}: closed"))
        self._executor.shutdown(wait=False)

    async def __aenter__(self) -> Self:
        if self._grabbing is None:
            await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def is_open(self) -> bool:
        """Grabbing now (not gone, not closed)."""
        return self._grabbing is not None and not self._grabbing.done() and self._error is None

    @property
    def gone(self) -> CameraGoneError | None:
        """Why the camera is gone, or None while it is open."""
        return self._error

    def describe(self) -> dict[str, Any]:
        """State for diagnostics (never the image)."""
        latest = self._latest
        return {
            "source": self.spec.display(),
            "kind": self.spec.kind.value,
            "open": self.is_open,
            "size": list(self.size) if self.size else None,
            "frames": self._seq,
            "last_frame_age_s": round(time.monotonic() - latest.captured, 3) if latest else None,
            "opens": self.opens,
            "gone": str(self._error) if self._error else None,
        }

    # -- reading -------------------------------------------------------------------
    def latest(self) -> Frame | None:
        """The newest frame grabbed so far, without waiting (None before the first)."""
        return self._latest

    async def read_frame(self, timeout: float, *, after: int = 0) -> Frame:
        """The newest frame whose sequence number is above ``after``, waiting up to ``timeout`` s for one.

        CameraGoneError once the camera is gone and no such frame is left, or
        at once after :meth:`close`; CameraTimeoutError when none came in time.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self._closed:
                        raise CameraGoneError(f"{self.spec.display()}: closed")
                    latest = self._latest
                    if latest is not None and latest.seq > after:
                        return latest
                    if self._error is not None:
                        raise self._error
                    if self._grabbing is None:
                        raise CameraGoneError(f"{self.spec.display()}: not open")
                    await self._changed.wait()
        except TimeoutError:
            if self._error is not None:
                raise self._error from None
            raise CameraTimeoutError(f"{self.spec.display()}: no new frame within {timeout:g} s") from None

    async def wait_gone(self) -> str:
        """Return, with the reason, once the camera is gone or closed (the supervisor's link watch)."""
        while self._error is None and not self._closed:
            await self._changed.wait()
        return str(self._error) if self._error is not None else "closed"

    async def read(self, timeout: float) -> Image:
        """The newest frame's image, newer than the one this method returned last."""
        frame = await self.read_frame(timeout, after=self._cursor)
        self._cursor = frame.seq
        return frame.image

    async def frames(self, timeout: float, *, fresh: bool = True) -> AsyncIterator[Frame]:
        """Each newer frame, for one consumer; ends with CameraGoneError or CameraTimeoutError.

        ``fresh``: start with a frame grabbed after the call, not the one already
        waiting. A slow consumer skips frames rather than falling behind.
        """
        after = self._latest.seq if fresh and self._latest is not None else 0
        while True:
            frame = await self.read_frame(timeout, after=after)
            after = frame.seq
            yield frame

    # -- the grabbing thread and its hand-over -------------------------------------
    def _grab(self, capture: cv2.VideoCapture, stop: threading.Event) -> None:
        """Grab until stopped or gone (on the camera's thread); always releases the capture."""
        spec = self.spec
        try:
            period = 1.0 / _file_fps(spec, capture) if spec.kind.is_file else 0.0
            position = 0
            deadline = time.monotonic()
            while not stop.is_set():
                if period:
                    deadline += period
                    delay = deadline - time.monotonic()
                    if delay < -period:  # fell behind (busy machine): skip, do not fast-forward
                        deadline = time.monotonic()
                    elif delay > 0 and stop.wait(delay):
                        return
                ok, image = capture.read()
                if not ok and spec.loop:
                    capture = _rewind(spec, capture, self.read_timeout)
                    position = -1
                    ok, image = capture.read()
                if stop.is_set():
                    return
                if not ok:
                    reason = "the file ended" if spec.kind.is_file else "no frame (unplugged, closed or stalled)"
                    self._post(self._fail, CameraGoneError(f"{spec.display()}: {reason}"))
                    return
                position += 1
                self._publish(_bgr(image), position if spec.kind.is_file else None)
        except cv2.error as err:
            self._post(self._fail, CameraGoneError(f"{spec.display()}: OpenCV failed: {err.msg}"))
        finally:
            capture.release()

    def _publish(self, image: Image, position: int | None) -> None:
        """Put a frame in the slot (any thread) and wake the loop once for however many arrive meanwhile."""
        image.flags.writeable = False
        with self._lock:
            self._seq += 1
            self._slot = Frame(image, self._seq, time.monotonic(), position)
            if self._wake_pending:
                return
            self._wake_pending = True
        self._post(self._take)

    def _post(self, callback: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        if loop.is_closed():
            self._stop.set()
            return
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop closed under us: nobody is reading any more
            self._stop.set()

    def _take(self) -> None:
        with self._lock:
            self._wake_pending = False
            self._latest = self._slot
        self._notify()

    def _fail(self, error: CameraGoneError) -> None:
        if self._error is None:
            self._error = error
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _grab_ended(self, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self._fail(CameraGoneError(f"{self.spec.display()}: the capture thread failed: {future.exception()!r}"))

    async def _stop_grabbing(self) -> None:
        grabbing, self._grabbing = self._grabbing, None
        self._stop.set()
        if grabbing is not None and not grabbing.done():
            # A grab in progress ends within the read timeout (FFmpeg's interrupt callback).
            await asyncio.wait([grabbing], timeout=self.read_timeout + _STOP_GRACE)
        self._take()

    def _release_late(self, job: asyncio.Future[tuple[cv2.VideoCapture, Image]]) -> None:
        """An open that finished after its caller gave up: release what it opened, on the camera's thread."""
        if not job.cancelled() and job.exception() is None:
            capture, _ = job.result()
            if not self._closed:
                self._executor.submit(capture.release)


def _open_capture(spec: CameraSpec, timeout: float, read_timeout: float) -> tuple[cv2.VideoCapture, Image]:
    """Open ``spec`` and grab a first frame (on the camera's thread); CameraOpenError when it cannot."""
    if spec.kind is SourceKind.FILE and not os.path.isfile(spec.source):
        raise CameraOpenError(f"{spec.source}: no such video file")
    if spec.kind is SourceKind.SEQUENCE and not os.path.isdir(os.path.dirname(spec.source)):
        raise CameraOpenError(f"{spec.source}: no such directory")
    if spec.kind is SourceKind.DEVICE_PATH and not os.path.exists(spec.source):
        raise CameraOpenError(f"{spec.source}: no such device")
    if spec.kind is SourceKind.DEVICE_INDEX:
        capture = cv2.VideoCapture(int(spec.source), cv2.CAP_ANY)
    elif spec.kind is SourceKind.DEVICE_PATH:
        capture = cv2.VideoCapture(spec.source, cv2.CAP_ANY)
    else:
        capture = cv2.VideoCapture(spec.source, cv2.CAP_FFMPEG, _ffmpeg_params(timeout, read_timeout))
    try:
        if not capture.isOpened():
            raise CameraOpenError(f"{spec.display()}: OpenCV cannot open it")
        ok, image = capture.read()
        if not ok:
            raise CameraOpenError(f"{spec.display()}: opened but gave no frame")
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise CameraOpenError(f"{spec.display()}: frames are {image.shape} {image.dtype}, not BGR uint8")
    except BaseException:
        capture.release()
        raise
    return capture, _bgr(image)


def _ffmpeg_params(open_timeout: float, read_timeout: float) -> list[int]:
    """FFmpeg's own timeouts: they bound every blocking call, so closing never waits longer."""
    return [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        max(1, int(open_timeout * 1000)),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        max(1, int(read_timeout * 1000)),
    ]


def _bgr(image: npt.NDArray[Any]) -> Image:
    """The frame as an ndarray of uint8 (no copy; ``VideoCapture`` with default settings gives BGR uint8)."""
    if image.dtype != np.uint8:
        raise cv2.error(f"frame of dtype {image.dtype}, not uint8")
    return np.asarray(image, dtype=np.uint8)


def _file_fps(spec: CameraSpec, capture: cv2.VideoCapture) -> float:
    if spec.fps is not None:
        return spec.fps
    own = float(capture.get(cv2.CAP_PROP_FPS))
    return own if math.isfinite(own) and 0 < own <= MAX_FPS else DEFAULT_FILE_FPS


def _rewind(spec: CameraSpec, capture: cv2.VideoCapture, read_timeout: float) -> cv2.VideoCapture:
    """Back to the first frame: seek, or open afresh when the backend cannot seek."""
    if capture.set(cv2.CAP_PROP_POS_FRAMES, 0) and capture.get(cv2.CAP_PROP_POS_FRAMES) == 0:
        return capture
    capture.release()
    return cv2.VideoCapture(spec.source, cv2.CAP_FFMPEG, _ffmpeg_params(read_timeout, read_timeout))


async def open_camera(
    spec: str | CameraSpec,
    *,
    timeout: float = DEFAULT_OPEN_TIMEOUT,
    retry_delays: Iterable[float] = (),
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    name: str | None = None,
) -> CameraSource:
    """Open a camera, trying again after each of ``retry_delays`` seconds; the last CameraOpenError otherwise.

    Each attempt has ``timeout`` seconds. The delays come from the caller so the
    supervisor's backoff (capped, jittered) applies, for instance
    ``(backoff_delay(n, initial=0.5, cap=10, rng=rng) for n in range(1, 6))``.
    """
    source = CameraSource(spec, name=name, read_timeout=read_timeout)
    delays = iter(retry_delays)
    try:
        while True:
            try:
                await source.open(timeout)
            except CameraOpenError:
                delay = next(delays, None)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
            else:
                return source
    except BaseException:
        await source.close()
        raise
