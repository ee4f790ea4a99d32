"""A pre-acceptance desk's document camera: an overhead camera that photographs supporting documents.

Theory of operation
-------------------
The link is a :class:`~hallgw_daemon.transports.camera.CameraSource`, as for
the photo machine's camera (:mod:`hallgw_daemon.drivers.photo`): it grabs
frames on its own thread and keeps only the newest. The camera is healthy
while frames keep coming; when they stop the source declares it gone and the
device goes OFFLINE.

:meth:`DocumentCameraDriver.capture_document` judges frames as they arrive.
Each is searched for the page off the event loop
(:func:`~hallgw_daemon.drivers.page_detect.find_page`, a few milliseconds), so
a slow search skips frames rather than queueing them. The person at the desk
is guided through progress events ``(code, text)``, sent only when the code
changes:

- ``PLACE_PAGE`` first (and again once a taken page is gone, for the next);
- a :class:`~hallgw_daemon.drivers.page_detect.Hint` code while the frame
  shows a problem (``PAGE_NOT_FOUND`` is not repeated right after
  ``PLACE_PAGE``: they ask for the same thing);
- ``HOLD_STILL`` while a good page is in view and the streak builds up;
- ``NEXT_PAGE`` when a page of several was taken: take it away, put the next;
- ``CAPTURED`` when the file is ready.

A page is taken when :data:`HOLD_FRAMES` frames in a row show it whole and
passing every check, with no corner moving more than :data:`STABLE_SHARE` of
the page's long side between them (a page still settling, or a hand pressing
it flat, restarts the streak). The last frame of the streak is rectified to
A4 at the requested dpi. For several pages, the next is looked for only after
the desk was seen without a whole page for :data:`REMOVED_FRAMES` frames, so
the same page is never taken twice. At the deadline the call fails with
NO_PAGE, giving the last judged frame's hints and the pages taken so far.

Pages are personal data: frames and pages live in memory for the call only,
and neither they nor the file are logged or traced. Results' reprs show sizes,
never bytes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import ClassVar, Final, cast

import numpy as np

from hallgw_daemon.core.errors import (
    DeviceTimeoutError,
    InvalidRequestError,
    LinkLostError,
    NoPageError,
)
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import register_driver
from hallgw_daemon.drivers.camera_base import CameraSourceDriver
from hallgw_daemon.drivers.page_detect import (
    MAX_DPI,
    MIN_DPI,
    Format,
    Hint,
    Image,
    PageResult,
    Quad,
    a4_size,
    encode_pages,
    find_page,
    rectify,
)
from hallgw_daemon.transports import CameraGoneError, CameraTimeoutError

__all__ = ["FORMATS", "HOLD_FRAMES", "DocumentCameraDriver", "DocumentCapture", "NoPageError", "stable"]

FRAME_WAIT: Final = 2.0
"""Longest wait for the next frame during a capture before the camera counts as stalled."""
HOLD_FRAMES: Final = 3
"""Good frames in a row, with stable corners, before a page is taken."""
STABLE_SHARE: Final = 0.01
"""Largest corner movement between frames of a streak, as a share of the page's long side (about 3 mm)."""
REMOVED_FRAMES: Final = 2
"""Frames without a whole page that show a taken page was taken away (one could be a flicker)."""
MAX_PAGES: Final = 20
"""Most pages one capture takes."""
FORMATS: Final = ("jpeg", "pdf")

ProgressFn = Callable[[str, str], None]
"""Called with (code, plain words) when the guidance changes."""


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class DocumentCapture:
    """The captured pages as one file: a JPEG (one page) or a PDF; ``width``/``height`` are each page's pixels."""

    data: bytes
    fmt: str
    pages: int
    width: int
    height: int
    dpi: int

    def __repr__(self) -> str:  # never the pages
        return (
            f"DocumentCapture({self.fmt}, {self.pages} page(s) of {self.width}x{self.height} at {self.dpi} dpi, "
            f"{len(self.data)} bytes)"
        )


@register_driver
class DocumentCameraDriver(CameraSourceDriver):
    """An overhead document camera read through OpenCV (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.DOCUMENT_CAMERA
    what: ClassVar[str] = "document camera"

    async def capture_document(
        self,
        *,
        until: float,
        dpi: int = 200,
        pages: int = 1,
        fmt: str = "jpeg",
        settle_until: float = 0.0,
        progress: ProgressFn,
    ) -> DocumentCapture:
        """``pages`` pages as one ``fmt`` file at ``dpi``, judging frames until ``until`` (loop time).

        See the module docstring. Frames grabbed before ``settle_until``
        (``time.monotonic()``, the clock of the loop and of the frames) are not
        judged. InvalidRequestError for a bad argument, NoPageError at the
        deadline, LinkLostError when the camera goes away, DeviceTimeoutError
        when it stops sending frames.
        """
        _check_request(dpi, pages, fmt)
        loop = asyncio.get_running_loop()
        camera = self.camera
        session = _Session(progress, pages)
        taken: list[Image] = []
        after = 0
        try:
            while len(taken) < pages and (remaining := until - loop.time()) > 0:
                try:
                    frame = await camera.read_frame(min(FRAME_WAIT, remaining), after=after)
                except CameraTimeoutError:
                    if until - loop.time() <= 0:
                        break
                    raise DeviceTimeoutError(
                        f"the document camera sent no frame for {FRAME_WAIT:g} s", device_id=self.ctx.device_id
                    ) from None
                after = frame.seq
                if frame.captured < settle_until:
                    continue
                result = await asyncio.to_thread(find_page, frame.image)
                chosen = session.judge(frame.image, result)
                if chosen is None:
                    continue
                taken.append(await asyncio.to_thread(rectify, *chosen, dpi=dpi))
                if len(taken) < pages:
                    session.next_page(len(taken))
        except CameraGoneError as err:
            raise LinkLostError(f"the document camera went away: {err}", device_id=self.ctx.device_id) from None
        if len(taken) < pages:
            hints = session.last.hints if session.last is not None else ()
            advice = f": {hints[0].text}" if hints else ""
            raise NoPageError(
                f"{len(taken)} of {pages} page(s) taken before the deadline ({session.judged} frames judged){advice}",
                device_id=self.ctx.device_id,
                details={
                    "hints": ",".join(h.name for h in hints),
                    "pages": str(len(taken)),
                    "judged": str(session.judged),
                },
            )
        data = await asyncio.to_thread(encode_pages, taken, cast(Format, fmt), dpi)
        session.tell("CAPTURED", "done: you can take your documents")
        width, height = a4_size(dpi)
        return DocumentCapture(data=data, fmt=fmt, pages=pages, width=width, height=height, dpi=dpi)


def _check_request(dpi: int, pages: int, fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidRequestError(f"the format is one of {', '.join(FORMATS)}, not {fmt!r}")
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InvalidRequestError(f"dpi is {MIN_DPI} to {MAX_DPI}, not {dpi}")
    if not 1 <= pages <= MAX_PAGES:
        raise InvalidRequestError(f"a capture takes 1 to {MAX_PAGES} pages, not {pages}")
    if fmt == "jpeg" and pages != 1:
        raise InvalidRequestError("a JPEG holds one page: ask for a PDF to take several")


def stable(a: Quad, b: Quad) -> bool:
    """No corner moved more than :data:`STABLE_SHARE` of the page's long side between two quads."""
    sides = np.linalg.norm(b - np.roll(b, -1, axis=0), axis=1)
    return float(np.max(np.linalg.norm(a - b, axis=1))) <= STABLE_SHARE * float(sides.max())


class _Session:
    """The state of one capture: what was said, the streak of good frames, whether a taken page is still there."""

    def __init__(self, progress: ProgressFn, pages: int) -> None:
        self._progress = progress
        self._pages = pages
        self._told: str | None = None
        self._streak: list[Quad] = []
        self._waiting_removal = False
        self._absent = 0
        self._next = 1
        self.last: PageResult | None = None
        self.judged = 0
        self.tell("PLACE_PAGE", "lay the page flat under the camera" if pages == 1 else f"lay page 1 of {pages} flat")

    def tell(self, code: str, text: str) -> None:
        """A progress event, unless the person was just told the same."""
        if code != self._told:
            self._told = code
            self._progress(code, text)

    def judge(self, image: Image, result: PageResult) -> tuple[Image, Quad] | None:
        """Take one judged frame; the frame and its quad once a page has been steady for :data:`HOLD_FRAMES`."""
        self.judged += 1
        self.last = result
        if self._waiting_removal:
            self._absent = self._absent + 1 if not result.found else 0
            if self._absent >= REMOVED_FRAMES:
                self._waiting_removal = False
                self.tell("PLACE_PAGE", f"lay page {self._next} of {self._pages} flat under the camera")
            return None
        if not result.ok:
            self._streak.clear()
            hint = result.hints[0] if result.hints else Hint.PAGE_NOT_FOUND
            if not (hint is Hint.PAGE_NOT_FOUND and self._told == "PLACE_PAGE"):
                self.tell(hint.name, hint.text)
            return None
        quad = result.corners()
        if self._streak and not stable(self._streak[-1], quad):
            self._streak.clear()
        self._streak.append(quad)
        self.tell(Hint.HOLD_STILL.name, Hint.HOLD_STILL.text)
        if len(self._streak) < HOLD_FRAMES:
            return None
        self._streak.clear()
        return image, quad

    def next_page(self, taken: int) -> None:
        """A page was taken and more are wanted: wait for it to go away."""
        self._next = taken + 1
        self._waiting_removal = True
        self._absent = 0
        self._streak.clear()
        self.tell("NEXT_PAGE", f"page {taken} of {self._pages} taken: take it away and lay the next one")
