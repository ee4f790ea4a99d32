"""A photo machine's camera: live frames judged against the photo standard until one is good enough.

Theory of operation
-------------------
The link is a :class:`~hallgw_daemon.transports.camera.CameraSource`, which
grabs frames on its own thread and keeps only the newest. The camera is
healthy while frames keep coming; the source declares it gone when they stop
(unplugged, the stream closed or stalled), and the device goes OFFLINE.

:meth:`CameraDriver.capture` judges frames as they arrive: each is analysed
off the event loop (:func:`~hallgw_daemon.drivers.photo_compliance.analyse`,
about 30 ms at 1920x1080), so a slow analysis skips frames instead of
queueing them. The first failing check's hint becomes a progress event in
plain words (only when it changes, so the applicant is not told the same thing
ten times a second). Once ``hold`` frames in a row pass, the best-scoring of
them is cropped, scaled and encoded to the standard's file size, and its
report gets the file checks; if the file fails them, judging goes on. At the
deadline without a compliant frame the call fails with PHOTO_NOT_COMPLIANT,
naming the checks the last judged frame failed and its hints.

Frames are personal data: they live in memory for the call only, and neither
they nor the photo are logged or traced.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import ClassVar, Final

import cv2
import numpy as np

from hallgw_daemon.core.errors import (
    DeviceTimeoutError,
    ImageInvalidError,
    LinkLostError,
    PhotoNotCompliantError,
)
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import register_driver
from hallgw_daemon.drivers.camera_base import CameraSourceDriver
from hallgw_daemon.drivers.photo_compliance import (
    DEFAULT_PROFILE,
    Hint,
    Image,
    Profile,
    Report,
    analyse,
    crop,
    draw_overlay,
    encode_jpeg,
    score,
    with_jpeg,
)
from hallgw_daemon.transports import CameraGoneError, CameraTimeoutError

FRAME_WAIT: Final = 2.0
"""Longest wait for the next frame during a capture before the camera counts as stalled."""
MIN_SIDE: Final = 64
"""Smallest width or height the analysis takes."""
DEFAULT_HOLD: Final = 3
"""Compliant frames in a row before the photo is taken."""

ProgressFn = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class PhotoCapture:
    """A compliant photo, its report (file checks included) and how many frames were judged."""

    jpeg: bytes
    width: int
    height: int
    report: Report
    frames: int

    def __repr__(self) -> str:  # never the photo
        return f"PhotoCapture({self.width}x{self.height}, {len(self.jpeg)} bytes, frames={self.frames})"


def finish(image: Image, report: Report, profile: Profile) -> tuple[bytes, Report]:
    """Crop, scale and encode ``image`` as its report says; the JPEG and the final report."""
    photo = crop(image, report, profile)
    jpeg = encode_jpeg(photo, profile)
    return jpeg, with_jpeg(report, jpeg, profile)


def failure_details(report: Report | None, judged: int) -> dict[str, str]:
    """The ErrorInfo metadata of PHOTO_NOT_COMPLIANT: failed check names, hint codes, frames judged."""
    if report is None:
        return {"failed": "no_frame", "hints": "", "judged": "0"}
    return {
        "failed": ",".join(c.name for c in report.failed()),
        "hints": ",".join(h.name for h in report.hints()),
        "judged": str(judged),
    }


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class ImageCheck:
    """The checks of an uploaded image: its report, the corrected photo when a face was found, the overlay."""

    report: Report
    jpeg: bytes | None = None
    corrected: Report | None = None
    overlay_png: bytes | None = None

    def __repr__(self) -> str:  # never the image
        return f"ImageCheck(passed={self.report.passed}, corrected={self.jpeg is not None})"


MAX_UPLOAD: Final = 16 * 1024 * 1024
"""Largest image :func:`check_image` takes, in bytes."""
MAX_SIDE: Final = 10_000
"""Largest width or height of an uploaded image, in pixels."""


def check_image(data: bytes, *, overlay: bool, profile: Profile = DEFAULT_PROFILE) -> ImageCheck:
    """Decode and check an uploaded image (blocking: run it off the loop); ImageInvalidError if unusable."""
    if len(data) > MAX_UPLOAD:
        raise ImageInvalidError(f"the image is {len(data)} bytes; at most {MAX_UPLOAD} are taken")
    decoded = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise ImageInvalidError("the image cannot be decoded (JPEG, PNG, BMP, TIFF or WebP expected)")
    image: Image = np.ascontiguousarray(decoded, dtype=np.uint8)
    height, width = image.shape[:2]
    if max(width, height) > MAX_SIDE or min(width, height) < MIN_SIDE:
        raise ImageInvalidError(f"the image is {width}x{height}; each side must be {MIN_SIDE} to {MAX_SIDE} pixels")
    report = analyse(image, profile)
    jpeg: bytes | None = None
    corrected: Report | None = None
    if report.crop is not None:
        jpeg, _ = finish(image, report, profile)
        photo = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
        corrected = with_jpeg(analyse(np.ascontiguousarray(photo, dtype=np.uint8), profile), jpeg, profile)
    png: bytes | None = None
    if overlay:
        ok, encoded = cv2.imencode(".png", draw_overlay(image, report))
        png = encoded.tobytes() if ok else None
    return ImageCheck(report=report, jpeg=jpeg, corrected=corrected, overlay_png=png)


@register_driver
class CameraDriver(CameraSourceDriver):
    """A camera read through OpenCV (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.CAMERA
    profile: ClassVar[Profile] = DEFAULT_PROFILE

    async def capture(
        self, *, until: float, hold: int = DEFAULT_HOLD, settle_until: float = 0.0, progress: ProgressFn
    ) -> PhotoCapture:
        """The best compliant photo, judging frames until ``until`` (loop time); see the module docstring.

        Frames grabbed before ``settle_until`` (``time.monotonic()``, the clock of the event loop and of
        the frames: when the lights reached their level) are not judged.
        """
        loop = asyncio.get_running_loop()
        profile = type(self).profile
        camera = self.camera
        judge = _Judge(progress, hold)
        judge.tell("LOOK_AT_CAMERA", "look at the camera")
        after = 0
        try:
            while (remaining := until - loop.time()) > 0:
                try:
                    frame = await camera.read_frame(min(FRAME_WAIT, remaining), after=after)
                except CameraTimeoutError:
                    if until - loop.time() <= 0:
                        break
                    raise DeviceTimeoutError(
                        f"the camera sent no frame for {FRAME_WAIT:g} s", device_id=self.ctx.device_id
                    ) from None
                after = frame.seq
                if frame.captured < settle_until:  # lit by lamps still coming up
                    continue
                chosen = judge.judge(frame.image, await asyncio.to_thread(analyse, frame.image, profile))
                if chosen is None:
                    continue
                jpeg, final = await asyncio.to_thread(finish, *chosen, profile)
                if not final.passed:  # the file fails its checks: keep judging
                    judge.restart(final)
                    continue
                judge.tell("CAPTURED", "done: thank you")
                return PhotoCapture(
                    jpeg=jpeg, width=profile.width, height=profile.height, report=final, frames=judge.judged
                )
        except CameraGoneError as err:
            raise LinkLostError(f"the camera went away: {err}", device_id=self.ctx.device_id) from None
        hints = judge.last.hints() if judge.last is not None else ()
        advice = f": {hints[0].text}" if hints else ""
        raise PhotoNotCompliantError(
            f"no frame met the photo standard in time ({judge.judged} judged){advice}",
            device_id=self.ctx.device_id,
            details=failure_details(judge.last, judge.judged),
        )


class _Judge:
    """The state of one capture: what the applicant was told, the passing streak, the last report."""

    def __init__(self, progress: ProgressFn, hold: int) -> None:
        self._progress = progress
        self._hold = hold
        self._told: Hint | str | None = None
        self._streak: list[tuple[float, Image, Report]] = []
        self.last: Report | None = None
        self.judged = 0

    def tell(self, code: Hint | str, text: str) -> None:
        """A progress event, unless the applicant was just told the same."""
        if code != self._told:
            self._told = code
            self._progress(code.name if isinstance(code, Hint) else code, text)

    def judge(self, image: Image, report: Report) -> tuple[Image, Report] | None:
        """Take one judged frame; the best of the streak once ``hold`` frames in a row have passed."""
        self.judged += 1
        self.last = report
        if not report.passed:
            self._streak.clear()
            hints = report.hints()
            if hints:
                self.tell(hints[0], hints[0].text)
            return None
        self._streak.append((score(report), image, report))
        self.tell(Hint.HOLD_STILL, Hint.HOLD_STILL.text)
        if len(self._streak) < self._hold:
            return None
        _, best_image, best = max(self._streak, key=lambda item: item[0])
        return best_image, best

    def restart(self, report: Report) -> None:
        """The chosen frame failed after encoding: start a new streak."""
        self._streak.clear()
        self.last = report
