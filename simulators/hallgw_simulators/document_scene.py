"""A pre-acceptance desk under the document camera: composed frames of an A4 page on a dark desk.

Theory of operation
-------------------
:func:`render_page` draws a synthetic A4 page with OpenCV at
:data:`PAGE_DPI` (150 dpi, 1240x1754 pixels): an off-white sheet with a title,
label/value rows, a ruled table, a red round stamp and a page number. The
words come from ``numpy.random.default_rng(page_id)``, so each ``page_id`` is a
different, reproducible page (0 a household register page, 1 a certificate,
others alternate). ASCII only: Hershey fonts, no font files needed.

:func:`compose_desk` builds a camera frame in this order:

1. the desk: a dark grey-brown surface with broad, low-contrast blotches and
   faint horizontal grain, deterministic from ``seed`` and cached per
   (size, seed) because an 8 MP desk takes a while to make;
2. the page (``params.page``), placed by :func:`page_quad`: a portrait A4
   rectangle ``scale`` of the frame height tall, its top edge shortened by
   ``keystone`` (a camera not quite overhead sees the far edge smaller),
   rotated by ``rotate_deg`` about its centre and centred at
   (0.5 + offset_x, 0.5 + offset_y) of the frame; with ``cut_off`` it is moved
   right until a fifth of its width lies outside the frame. One perspective
   warp of the page and of a coverage mask, then a blend, so the page edge is
   anti-aliased where it truly lies (the warp maps the page's outer pixel
   *edges*, at -0.5 and size - 0.5 in pixel-centre coordinates, onto the quad);
3. ``light``: a gain on every pixel times a left-to-right lighting gradient
   from 0.8 to 1.0 (a desk lamp on one side);
4. ``blur``: a Gaussian of sigma ``blur`` px (lens softness; 3 and more looks
   like a moving page or a camera out of focus);
5. Gaussian sensor noise of sigma :data:`NOISE` grey levels.

:func:`page_quad` is the ground truth: the four page corners (top-left,
top-right, bottom-right, bottom-left of the page itself) in frame pixels,
pixel-centre coordinates, or None without a page. The daemon-side tests
compare the detector's corners with it.

A 1920x1080 frame takes about 50-100 ms (the page warp and the float blend;
an 8 MP frame about 0.3 s, 1.2 s for the first, which makes the desk);
the simulated camera therefore draws each distinct shot once
(:func:`document_renderer` keeps the frame of the moment, as the photo booth
does) and only re-encodes it.

:func:`document_camera` is the simulated document camera: a
:class:`~hallgw_simulators.camera_device.CameraDevice` (MJPEG over HTTP)
playing one of :data:`SCRIPTS`. The default, ``two_pages``
(:data:`DESK_SCRIPT`), is an applicant at the desk: the empty desk, the page
put down partly off the camera's view, the page put down well, the desk empty
again (the page taken away) and a second page put down and left. A capture
started with the script (restart the camera when it begins) hears
PLACE_PAGE, PAGE_CUT_OFF, HOLD_STILL, then gets its page; a two-page capture
continues with NEXT_PAGE, PLACE_PAGE, HOLD_STILL and gets the second page.

Nothing here imports the daemon: the simulator is a second, independent
implementation of the device side.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from hallgw_simulators.camera_device import DEFAULT_FPS, DEFAULT_SIZE, CameraDevice, FrameContext, Image, Timeline

__all__ = [
    "CUT_OFF",
    "DARK",
    "DESK_SCRIPT",
    "LANDSCAPE",
    "MOVING",
    "NOISE",
    "NO_PAGE",
    "PAGE_DPI",
    "PAGE_PLACED",
    "PRESETS",
    "SCRIPTS",
    "SECOND_PAGE",
    "SMALL",
    "DeskParams",
    "DeskShot",
    "compose_desk",
    "document_camera",
    "document_renderer",
    "page_quad",
    "render_page",
]

A4_MM: Final = (210.0, 297.0)
"""(width, height) of an A4 sheet in millimetres."""
PAGE_DPI: Final = 150
"""Resolution the synthetic page is drawn at: 1240x1754 pixels, enough for an 8 MP frame."""
NOISE: Final = 3.0
"""Sensor noise, standard deviation in grey levels."""
CUT_OFF_SHARE: Final = 0.2
"""Share of the page's width outside the frame with ``cut_off``."""

Quad = npt.NDArray[np.float64]
"""Four (x, y) corners, shape (4, 2): top-left, top-right, bottom-right, bottom-left of the page."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeskParams:
    """What the camera sees on the desk (see the module docstring for how each is drawn)."""

    page: bool = True
    """A page lies on the desk."""
    rotate_deg: float = 0.0
    """The page's rotation about its centre, degrees, clockwise on screen (90: landscape)."""
    keystone: float = 0.0
    """How much shorter the page's top edge looks than its bottom edge (0.05: 5 %)."""
    offset_x: float = 0.0
    """Page centre right of the frame centre, as a share of the frame width."""
    offset_y: float = 0.0
    """Page centre below the frame centre, as a share of the frame height."""
    scale: float = 0.86
    """Page height (its long side) as a share of the frame height."""
    light: float = 1.0
    """Gain on the whole scene (1.0 as composed; 0.35 is a desk lamp off)."""
    cut_off: bool = False
    """Move the page right until :data:`CUT_OFF_SHARE` of its width is out of view."""
    blur: float = 1.2
    """Gaussian blur sigma in frame pixels (1.2: a good lens; 4: moving or out of focus)."""

    def __post_init__(self) -> None:
        if not (0.05 <= self.scale <= 2.0 and 0.0 <= self.light <= 2.0 and 0.0 <= self.blur <= 20.0):
            raise ValueError(f"scale, light or blur out of range: {self!r}")
        if not -0.5 < self.keystone < 0.5:
            raise ValueError(f"keystone is a share in (-0.5, 0.5), got {self.keystone!r}")


PAGE_PLACED: Final = DeskParams(rotate_deg=4.0, keystone=0.04, offset_x=-0.02, offset_y=0.01)
"""A page put down well: nearly straight, a slight keystone, most of the frame height."""
NO_PAGE: Final = DeskParams(page=False)
"""The empty desk."""
CUT_OFF: Final = DeskParams(rotate_deg=-6.0, keystone=0.04, cut_off=True)
"""A page put down partly outside the camera's view (its right fifth)."""
DARK: Final = DeskParams(rotate_deg=3.0, keystone=0.04, light=0.3)
"""The desk lamp off: the page is found but too dark to read well."""
SECOND_PAGE: Final = DeskParams(rotate_deg=-7.0, keystone=0.05, offset_x=0.03, offset_y=-0.01, scale=0.84)
"""The next page, put down a little differently."""
SMALL: Final = DeskParams(rotate_deg=2.0, scale=0.35)
"""A small sheet (a receipt, or a page far from a camera mounted too high)."""
MOVING: Final = dataclasses.replace(PAGE_PLACED, blur=4.0)
"""A page still moving (or a camera out of focus): edges smeared over several pixels."""
LANDSCAPE: Final = DeskParams(rotate_deg=88.0, keystone=0.03, scale=0.9)
"""A page put down sideways."""

PRESETS: Final[Mapping[str, DeskParams]] = {
    "page_placed": PAGE_PLACED,
    "no_page": NO_PAGE,
    "cut_off": CUT_OFF,
    "dark": DARK,
    "second_page": SECOND_PAGE,
    "small": SMALL,
    "moving": MOVING,
    "landscape": LANDSCAPE,
}
"""The presets by name."""


# -- the page --------------------------------------------------------------------------------


def _mm(value: float) -> int:
    return round(value / 25.4 * PAGE_DPI)


_FONT: Final = cv2.FONT_HERSHEY_SIMPLEX
_INK: Final = (40, 35, 30)
_STAMP: Final = (50, 50, 200)
_TITLES: Final = ("HOUSEHOLD REGISTER", "CERTIFICATE OF RESIDENCE")
_LABELS: Final = ("Name", "Relation", "Sex", "Born", "Birthplace", "Ethnicity", "ID number", "Address", "Issued by")


def _words(rng: np.random.Generator, count: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return " ".join(
        "".join(letters[i] for i in rng.integers(0, 26, int(rng.integers(3, 9)))).capitalize() for _ in range(count)
    )


@functools.lru_cache(maxsize=4)
def render_page(page_id: int = 0) -> Image:
    """A synthetic A4 page at :data:`PAGE_DPI`, portrait, BGR (read-only: it is cached and shared)."""
    rng = np.random.default_rng(page_id)
    width, height = _mm(A4_MM[0]), _mm(A4_MM[1])
    page = np.full((height, width, 3), (238, 242, 244), np.uint8)
    left, right = _mm(20), width - _mm(20)
    title = _TITLES[page_id % len(_TITLES)]
    size, _ = cv2.getTextSize(title, _FONT, 1.6, 3)
    cv2.putText(page, title, ((width - size[0]) // 2, _mm(30)), _FONT, 1.6, _INK, 3, cv2.LINE_AA)
    cv2.line(page, (left, _mm(36)), (right, _mm(36)), _INK, 2, cv2.LINE_AA)
    y = _mm(50)
    for label in _LABELS:  # label/value rows
        cv2.putText(page, label, (left, y), _FONT, 0.8, _INK, 2, cv2.LINE_AA)
        cv2.putText(page, _words(rng, 3), (left + _mm(45), y), _FONT, 0.8, _INK, 1, cv2.LINE_AA)
        cv2.line(page, (left + _mm(43), y + _mm(2)), (right - _mm(50), y + _mm(2)), (150, 150, 150), 1)
        y += _mm(10)
    top, rows, cols = y + _mm(6), 7, 4  # a ruled table
    row_h, col_w = _mm(11), (right - left) // cols
    for r in range(rows + 1):
        cv2.line(page, (left, top + r * row_h), (right, top + r * row_h), _INK, 2 if r in (0, 1, rows) else 1)
    for c in range(cols + 1):
        x = left + c * col_w if c < cols else right
        cv2.line(page, (x, top), (x, top + rows * row_h), _INK, 2 if c in (0, cols) else 1)
    for r in range(rows):
        for c in range(cols):
            text = ("Item", "Date", "Office", "Note")[c] if r == 0 else _words(rng, 1)
            cv2.putText(
                page, text, (left + c * col_w + _mm(3), top + r * row_h + _mm(7.5)), _FONT, 0.7, _INK, 1, cv2.LINE_AA
            )
    y = top + rows * row_h + _mm(15)
    for _ in range(4):  # a remarks paragraph
        cv2.putText(page, _words(rng, 9), (left, y), _FONT, 0.75, _INK, 1, cv2.LINE_AA)
        y += _mm(8)
    centre, radius = (right - _mm(35), height - _mm(55)), _mm(21)  # the round red stamp
    cv2.circle(page, centre, radius, _STAMP, 5, cv2.LINE_AA)
    cv2.circle(page, centre, radius - _mm(3), _STAMP, 2, cv2.LINE_AA)
    star = [
        (
            centre[0] + round((_mm(7) if k % 2 == 0 else _mm(3)) * math.sin(k * math.pi / 5)),
            centre[1] - round((_mm(7) if k % 2 == 0 else _mm(3)) * math.cos(k * math.pi / 5)),
        )
        for k in range(10)
    ]
    cv2.fillPoly(page, [np.array(star, np.int32)], _STAMP, cv2.LINE_AA)
    cv2.putText(page, "OFFICIAL SEAL", (centre[0] - _mm(14), centre[1] + _mm(13)), _FONT, 0.6, _STAMP, 2)
    cv2.putText(page, f"page {page_id + 1}", (width // 2 - _mm(8), height - _mm(12)), _FONT, 0.7, _INK, 1)
    page.flags.writeable = False
    return page


# -- the desk and the pose -----------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _desk(size: tuple[int, int], seed: int) -> npt.NDArray[np.float32]:
    """The empty desk at full light, float32 BGR (read-only, cached per size and seed)."""
    width, height = size
    rng = np.random.default_rng(seed ^ 0x5EED)
    blotches = cv2.resize(
        rng.normal(0.0, 1.0, (max(2, height // 64), max(2, width // 64))).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    grain = cv2.resize(
        rng.normal(0.0, 1.0, (height, max(2, width // 48))).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    shade = 52.0 + 6.0 * blotches + 3.0 * grain
    desk = np.stack([shade * 0.85, shade * 0.95, shade * 1.1], axis=2).astype(np.float32)
    desk.flags.writeable = False
    return desk


def page_quad(params: DeskParams, size: tuple[int, int] = (1920, 1080)) -> Quad | None:
    """The true page corners in the frame (tl, tr, br, bl of the page; pixel centres), or None without a page."""
    if not params.page:
        return None
    width, height = size
    page_h = params.scale * height
    page_w = page_h * A4_MM[0] / A4_MM[1]
    top = 1.0 - params.keystone
    local = np.array(
        [[-page_w / 2 * top, -page_h / 2], [page_w / 2 * top, -page_h / 2], [page_w / 2, page_h / 2],
         [-page_w / 2, page_h / 2]],
        np.float64,
    )  # fmt: skip
    angle = math.radians(params.rotate_deg)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    turned = local @ rotation.T
    cx, cy = (0.5 + params.offset_x) * width - 0.5, (0.5 + params.offset_y) * height - 0.5
    if params.cut_off:  # the right fifth of the page out of view
        span = float(turned[:, 0].max() - turned[:, 0].min())
        cx = width - 0.5 + CUT_OFF_SHARE * span - float(turned[:, 0].max())
    return np.asarray(turned + np.array([cx, cy]), np.float64)


def compose_desk(params: DeskParams, size: tuple[int, int] = (1920, 1080), seed: int = 0, page_id: int = 0) -> Image:
    """One camera frame of the desk (BGR uint8, ``size`` is (width, height)); see the module docstring."""
    width, height = size
    frame = np.array(_desk(size, seed), dtype=np.float32)
    quad = page_quad(params, size)
    if quad is not None:
        page = render_page(page_id)
        ph, pw = page.shape[:2]
        source = np.array([[-0.5, -0.5], [pw - 0.5, -0.5], [pw - 0.5, ph - 0.5], [-0.5, ph - 0.5]], np.float32)
        matrix = cv2.getPerspectiveTransform(source, quad.astype(np.float32))
        x0, y0 = (max(0, math.floor(v) - 2) for v in quad.min(axis=0))
        x1, y1 = min(width, math.ceil(quad[:, 0].max()) + 3), min(height, math.ceil(quad[:, 1].max()) + 3)
        if x1 > x0 and y1 > y0:  # warp into the covered region only
            shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ matrix
            box = (x1 - x0, y1 - y0)
            warped = cv2.warpPerspective(page, shift, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            ones = np.ones((ph, pw), np.float32)
            mask = cv2.warpPerspective(ones, shift, box, flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
            region = frame[y0:y1, x0:x1]
            frame[y0:y1, x0:x1] = region * (1.0 - mask) + warped.astype(np.float32) * mask
    gradient = (0.8 + 0.2 * np.linspace(0.0, 1.0, width, dtype=np.float32)) * params.light
    frame *= gradient[None, :, None]
    if params.blur > 0:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), params.blur), np.float32)
    rng = np.random.default_rng(seed)
    frame += rng.normal(0.0, NOISE, (height, width, 1)).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


# -- the simulated camera ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DeskShot:
    """One step of a desk script: the scene and which page lies there."""

    params: DeskParams
    page_id: int = 0


Script = tuple[tuple[float, DeskShot], ...]

DESK_SCRIPT: Final[Script] = (
    (1.5, DeskShot(NO_PAGE)),
    (1.5, DeskShot(CUT_OFF)),
    (3.0, DeskShot(PAGE_PLACED)),
    (1.5, DeskShot(NO_PAGE)),
    (4.0, DeskShot(SECOND_PAGE, page_id=1)),
)
"""An applicant at the desk, as (seconds, shot) segments:

1. the empty desk;
2. the first page put down with its right fifth out of view;
3. the first page put down well, long enough to be taken;
4. the page taken away;
5. the second page put down (a certificate), left there.
"""

SCRIPTS: Final[Mapping[str, Script]] = {
    "two_pages": DESK_SCRIPT,
    "still": ((5.0, DeskShot(PAGE_PLACED)),),
    "empty": ((5.0, DeskShot(NO_PAGE)),),
    "dark": ((1.0, DeskShot(NO_PAGE)), (4.0, DeskShot(DARK))),
}
"""The scripts a document camera can play, by name."""


def document_renderer(
    script: str = "two_pages", *, seed: int = 0, loop: bool = False
) -> Callable[[FrameContext], Image]:
    """A renderer playing ``script`` (a name of :data:`SCRIPTS`); ValueError for an unknown name.

    The frame of the moment is kept: the camera re-encodes it until the shot
    (or the frame size) changes, so a still desk costs only JPEG encoding.
    """
    if script not in SCRIPTS:
        raise ValueError(f"unknown document camera script {script!r}; known: {', '.join(SCRIPTS)}")
    timeline = Timeline(SCRIPTS[script], loop=loop)
    cache: dict[tuple[DeskShot, tuple[int, int]], Image] = {}

    def render(ctx: FrameContext) -> Image:
        shot = timeline.at(ctx.t)
        key = (shot, ctx.size)
        hit = cache.get(key)
        if hit is not None:
            return hit
        frame = compose_desk(shot.params, size=ctx.size, seed=seed, page_id=shot.page_id)
        cache.clear()  # one entry: the frame of the moment
        cache[key] = frame
        return frame

    return render


def document_camera(
    device_id: str,
    *,
    script: str = "two_pages",
    seed: int = 0,
    fps: float = DEFAULT_FPS,
    size: tuple[int, int] = DEFAULT_SIZE,
    port: int = 0,
    station: str | None = None,
    name: str | None = None,
) -> CameraDevice:
    """A desk's document camera serving ``script`` as MJPEG over HTTP (restart it when a capture begins)."""
    return CameraDevice(
        device_id=device_id,
        render=document_renderer(script, seed=seed),
        fps=fps,
        size=size,
        port=port,
        station=station,
        name=name,
    )
