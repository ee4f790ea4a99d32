"""Document-camera page detection: where is the A4 page in this frame, can it be taken, and the page as a file.

Theory of operation
-------------------
An overhead camera sees a sheet of paper, brighter than the desk, as a convex
quadrilateral. :func:`find_page` follows the pipeline measured on this kind of
machine (reference/desk-notes.md section 5; docs/document-camera.md):

1. **Grey, then an integer downscale.** The frame is converted to grey first
   and shrunk by the integer factor :func:`detect_factor` (the long side to
   about :data:`DETECT_LONG_SIDE` pixels; 2 at 1280x720 and 1920x1080, 4 at
   3264x2448) with
   ``INTER_AREA`` on a crop whose sides divide by it: on an 8 MP frame that is
   3.7 ms, where a colour resize by a non-integer factor costs 16 ms.
2. **Exposure gain.** When the brightest 1 % of the small image is below
   :data:`TARGET_LEVEL`, it is stretched (at most :data:`MAX_GAIN` times) so
   that Canny's fixed thresholds still see the edge of a dimly lit page. This
   is the one step added to the measured pipeline; it only feeds the edge
   finder, the brightness check reads the real levels. A frame whose brightest
   1 % is below :data:`BLACK_LEVEL` is black (lens cap, lights off): TOO_DARK.
3. **Edges.** Gaussian blur 5x5, Canny 50/150, dilation 3x3 (closes small gaps
   in the page outline), then the *external* contours: the text and tables
   inside a whole page are enclosed by its outline and drop out.
4. **Candidates.** At most :data:`CANDIDATES` contours, largest convex hull
   first, whose hull covers at least :data:`MIN_CANDIDATE` of the frame. The
   first one that touches the frame edge means the page runs out of view
   (PAGE_CUT_OFF): its outline is open there, as Canny finds no edge at the
   border, so its hull is big while its own area is thin. The first one whose
   ``approxPolyDP`` (epsilon 2 % of the perimeter) is a convex quadrilateral
   is the page. Corners are ordered top-left, top-right, bottom-right,
   bottom-left as seen in the frame (clockwise from the corner nearest the
   frame's top-left).
5. **Sub-pixel corners.** The corners are scaled back to the full frame and
   refined with ``cornerSubPix`` (window 31x31, 30 iterations or 0.01 px) on
   the full-resolution grey image. The measured error drops from 4-11 px to
   about 0.5 px; the tests hold it to :data:`CORNER_TOLERANCE_PX`.
6. **Checks**, each a :class:`Hint` the person at the desk can act on:

   - TOO_DARK: the median grey inside the page is below :data:`PAGE_DARK`;
   - TOO_SMALL: the page covers less than :data:`MIN_PAGE_AREA` of the frame
     (15 %, the sanity floor of the measured pipeline; an A4 page filling the
     frame height covers about a third of a 16:9 frame);
   - HOLD_STILL: the page's edge is smeared. The 10-90 % rise of the grey
     level across the page outline is measured on :data:`EDGE_PROFILES`
     profiles normal to the four sides (sampled on the full frame with
     ``cv2.remap``); their median above :data:`MAX_EDGE_WIDTH_PX` pixels means
     a moving page or a camera out of focus. The outline is a step from white
     paper to the desk whatever the page says, so a blank page is judged as
     fairly as a printed one.

:func:`rectify` warps the quad to an A4 portrait image at a given dpi
(210x297 mm; 1654x2339 pixels at 200 dpi); a page lying sideways (its top and
bottom sides longer than its left and right) is taken to have been turned a
quarter clockwise, and is turned back: the side at the frame's right becomes
the top. Text orientation is not detected, so a page turned the other way
comes out upside down. :func:`encode_pages` makes the file: a JPEG of one page (its JFIF
header carries the dpi) or a PDF of one or more pages, written here with no
library: one DCTDecode image XObject per page, the JPEG bytes as they are,
drawn over a MediaBox of exactly 595.28x841.89 points, so the page prints at
its physical size.

Everything here is pure computation on arrays in memory: no I/O, no clock, no
logging. A :class:`PageResult` holds figures only, never pixels; the images
stay with the caller.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "A4_MM",
    "BLACK_LEVEL",
    "CORNER_TOLERANCE_PX",
    "DETECT_LONG_SIDE",
    "MAX_EDGE_WIDTH_PX",
    "MIN_CANDIDATE",
    "MIN_PAGE_AREA",
    "PAGE_DARK",
    "Format",
    "Hint",
    "Image",
    "PageResult",
    "Quad",
    "a4_size",
    "corner_error",
    "detect_factor",
    "encode_pages",
    "find_page",
    "rectify",
]

Image = npt.NDArray[np.uint8]
"""A BGR frame ``(height, width, 3)`` or a grey one ``(height, width)``, uint8."""
Quad = npt.NDArray[np.float64]
"""Four (x, y) corners in frame pixels (pixel centres), shape (4, 2): tl, tr, br, bl."""
Format = Literal["jpeg", "pdf"]

A4_MM: Final = (210.0, 297.0)
"""(width, height) of A4 in millimetres."""
MM_PER_INCH: Final = 25.4
POINTS_PER_INCH: Final = 72.0

# -- detection settings (docs/document-camera.md explains each) ---------------------------------------------------

DETECT_LONG_SIDE: Final = 800
"""The grey frame is shrunk by the integer factor that brings its long side nearest this length."""
BLACK_LEVEL: Final = 24
"""Brightest 1 % of the frame below this grey level: nothing to see (lens cap, lights off)."""
TARGET_LEVEL: Final = 200.0
"""Edge-finder input is stretched so that its brightest 1 % reaches this level..."""
MAX_GAIN: Final = 4.0
"""...by at most this factor (more only amplifies noise)."""
CANNY_LOW: Final = 50
CANNY_HIGH: Final = 150
CANDIDATES: Final = 5
"""Contours looked at, largest hull first."""
MIN_CANDIDATE: Final = 0.02
"""Smallest hull, as a share of the frame, that can be a page at all (smaller ones are text, specks)."""
APPROX_EPSILON: Final = 0.02
"""``approxPolyDP`` tolerance as a share of the contour's perimeter."""
EDGE_MARGIN: Final = 2
"""A contour within this many pixels of the small image's border touches the frame edge."""
SUBPIX_WINDOW: Final = 15
"""Half-size of the ``cornerSubPix`` window in full-frame pixels (a 31x31 window)."""
SUBPIX_CRITERIA: Final = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01)
CORNER_TOLERANCE_PX: Final = 1.5
"""Largest corner error the tests accept on the simulator's scenes (measured: about 0.5 px)."""

# -- checks ----------------------------------------------------------------------------------------------------------

PAGE_DARK: Final = 100.0
"""Median grey level inside the page below which it is too dark: white paper under a working desk lamp reads
180-240; below 100 the camera's gain brings up noise and faint pencil or stamp ink is lost."""
MIN_PAGE_AREA: Final = 0.15
"""Smallest share of the frame a page may cover: an A4 page as tall as a 16:9 frame covers 0.33, one as tall as a
4:3 frame 0.44; below 0.15 it is a small sheet (a receipt, a card) or the camera is too far, and at 200 dpi the
rectified page would be blown up more than 2.5 times."""
EDGE_PROFILES: Final = 3
"""Profiles per side for the edge-width measure (at a quarter, half and three quarters of each side)."""
EDGE_REACH_PX: Final = 20.0
"""Profiles run this many pixels into the page and out onto the desk."""
EDGE_STEP_PX: Final = 0.5
MIN_EDGE_CONTRAST: Final = 20.0
"""Profiles with less contrast than this between paper and desk are not counted (a shadow, a hand)."""
MAX_EDGE_WIDTH_PX: Final = 6.0
"""Largest median 10-90 % width of the page's edge, in frame pixels: a focused lens with JPEG gives 2-4 px (a
Gaussian of sigma s gives 2.56 s); 6 px is a sigma of about 2.3 px, where 2 mm letters blur together."""

JPEG_QUALITY: Final = 90
MIN_DPI: Final = 50
MAX_DPI: Final = 400
"""Output resolutions taken; 400 dpi A4 is 3307x4677 pixels (46 MB in memory)."""


class Hint(enum.Enum):
    """Something the person at the desk can do; the name is the stable code, :attr:`text` what to tell them."""

    PAGE_NOT_FOUND = "page_not_found"
    PAGE_CUT_OFF = "page_cut_off"
    TOO_DARK = "too_dark"
    TOO_SMALL = "too_small"
    HOLD_STILL = "hold_still"

    @property
    def text(self) -> str:
        """The hint in plain words."""
        return _HINT_TEXT[self]


_HINT_TEXT: Final[Mapping[Hint, str]] = {
    Hint.PAGE_NOT_FOUND: "no page in view: lay the page flat under the camera",
    Hint.PAGE_CUT_OFF: "part of the page is out of view: move it to the middle of the desk",
    Hint.TOO_DARK: "the page is too dark: staff should check the desk light",
    Hint.TOO_SMALL: "the page looks too small: lay a whole A4 page in the marked area",
    Hint.HOLD_STILL: "hold the page still for a moment",
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PageResult:
    """What :func:`find_page` saw in one frame: figures only, never pixels.

    ``quad`` is set when a whole page was found, even if a check failed
    (``hints`` then says which); it is None when no whole page is in view.
    """

    quad: tuple[tuple[float, float], ...] | None
    """Page corners tl, tr, br, bl in frame pixels (pixel centres), sub-pixel."""
    hints: tuple[Hint, ...]
    """What is wrong, most important first; empty when the page can be taken."""
    frame_size: tuple[int, int]
    """(width, height) of the frame."""
    area_share: float = 0.0
    """Share of the frame the page covers (0 without a page)."""
    brightness: float = 0.0
    """Median grey level inside the page; without a page, the brightest 1 % of the frame."""
    edge_width_px: float | None = None
    """Median 10-90 % width of the page's edge (None without a page or with too little contrast)."""

    @property
    def found(self) -> bool:
        """A whole page is in view."""
        return self.quad is not None

    @property
    def ok(self) -> bool:
        """A whole page is in view and every check passed."""
        return self.quad is not None and not self.hints

    def corners(self) -> Quad:
        """The quad as a (4, 2) float64 array; ValueError without a page."""
        if self.quad is None:
            raise ValueError("no page was found")
        return np.array(self.quad, np.float64)


def detect_factor(width: int, height: int) -> int:
    """The integer downscale factor for the edge finder (at least 1)."""
    return max(1, round(max(width, height) / DETECT_LONG_SIDE))


def a4_size(dpi: int) -> tuple[int, int]:
    """(width, height) in pixels of an A4 portrait page at ``dpi``: (1654, 2339) at 200."""
    return round(A4_MM[0] / MM_PER_INCH * dpi), round(A4_MM[1] / MM_PER_INCH * dpi)


def _grey(image: Image) -> Image:
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), np.uint8)
    raise ValueError(f"a frame is BGR or grey uint8, got shape {image.shape}")


def _percentile(small: Image, share: float, mask: Image | None = None) -> float:
    """The grey level below which ``share`` of the (masked) pixels lie, from a 256-bin histogram."""
    hist = cv2.calcHist([small], [0], mask, [256], [0, 256]).ravel()
    total = float(hist.sum())
    if total <= 0:
        return 0.0
    return float(np.searchsorted(np.cumsum(hist), share * total))


def _order(points: npt.NDArray[np.float64]) -> Quad:
    """Corners clockwise on screen (y down), starting with the one nearest the frame's top-left."""
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    clockwise = points[np.argsort(angles)]  # y down: increasing angle turns clockwise on screen
    start = int(np.argmin(clockwise.sum(axis=1)))
    return np.roll(clockwise, -start, axis=0)


def _touches_edge(contour: npt.NDArray[np.integer[Any]] | cv2.typing.MatLike, width: int, height: int) -> bool:
    x, y, w, h = cv2.boundingRect(contour)
    return x <= EDGE_MARGIN or y <= EDGE_MARGIN or x + w >= width - EDGE_MARGIN or y + h >= height - EDGE_MARGIN


def _refine(grey: Image, quad: Quad) -> Quad:
    """Sub-pixel corners on the full frame; a corner that runs away (no corner there) keeps its first estimate."""
    corners = quad.astype(np.float32).reshape(-1, 1, 2).copy()
    window = (SUBPIX_WINDOW, SUBPIX_WINDOW)
    refined = cv2.cornerSubPix(grey, corners, window, (-1, -1), SUBPIX_CRITERIA).reshape(4, 2).astype(np.float64)
    moved = np.linalg.norm(refined - quad, axis=1)
    return np.where((moved <= SUBPIX_WINDOW)[:, None], refined, quad)


def _edge_width(grey: Image, quad: Quad) -> float | None:
    """Median 10-90 % rise width (pixels) of the page outline, across :data:`EDGE_PROFILES` points per side."""
    offsets = np.arange(-EDGE_REACH_PX, EDGE_REACH_PX + EDGE_STEP_PX / 2, EDGE_STEP_PX)
    centre = quad.mean(axis=0)
    xs, ys = [], []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        side = b - a
        normal = np.array([side[1], -side[0]]) / max(1e-9, float(np.hypot(*side)))
        if float(np.dot((a + b) / 2 - centre, normal)) < 0:
            normal = -normal  # outward, onto the desk
        for k in range(1, EDGE_PROFILES + 1):
            point = a + side * (k / (EDGE_PROFILES + 1))
            xs.append(point[0] + offsets * normal[0])
            ys.append(point[1] + offsets * normal[1])
    map_x, map_y = np.array(xs, np.float32), np.array(ys, np.float32)
    samples = cv2.remap(grey, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
    quarter = len(offsets) // 4
    widths = []
    for profile in samples:  # from inside the page (bright) to the desk (dark)
        inside, outside = float(np.median(profile[:quarter])), float(np.median(profile[-quarter:]))
        if inside - outside < MIN_EDGE_CONTRAST:
            continue
        level = (profile - outside) / (inside - outside)
        widths.append(float(np.count_nonzero((level > 0.1) & (level < 0.9))) * EDGE_STEP_PX)
    return float(np.median(widths)) if widths else None


def find_page(image: Image) -> PageResult:
    """Find the page in one frame (BGR or grey uint8); see the module docstring for the steps and the checks."""
    grey = _grey(image)
    height, width = grey.shape
    factor = detect_factor(width, height)
    small_w, small_h = width // factor, height // factor
    if factor > 1:
        small = np.asarray(
            cv2.resize(grey[: small_h * factor, : small_w * factor], (small_w, small_h), interpolation=cv2.INTER_AREA),
            np.uint8,
        )
    else:
        small = grey
    size = (width, height)
    level = _percentile(small, 0.99)
    if level < BLACK_LEVEL:
        return PageResult(quad=None, hints=(Hint.TOO_DARK,), frame_size=size, brightness=level)
    gain = min(MAX_GAIN, TARGET_LEVEL / max(level, 1.0))
    work = cv2.convertScaleAbs(small, alpha=gain) if gain > 1.0 else small
    edges = cv2.Canny(cv2.GaussianBlur(work, (5, 5), 0), CANNY_LOW, CANNY_HIGH)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    frame_area = float(small_w * small_h)
    floor = MIN_CANDIDATE * frame_area
    hulls = []
    for contour in contours:
        _, _, w, h = cv2.boundingRect(contour)
        if w * h < floor:
            continue
        hull_area = float(cv2.contourArea(cv2.convexHull(contour)))
        if hull_area >= floor:
            hulls.append((hull_area, contour))
    hulls.sort(key=lambda item: item[0], reverse=True)
    for _, contour in hulls[:CANDIDATES]:
        if _touches_edge(contour, small_w, small_h):
            return PageResult(quad=None, hints=(Hint.PAGE_CUT_OFF,), frame_size=size, brightness=level)
        approx = cv2.approxPolyDP(contour, APPROX_EPSILON * cv2.arcLength(contour, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx) or cv2.contourArea(approx) < floor:
            continue
        coarse = _order((approx.reshape(4, 2).astype(np.float64) + 0.5) * factor - 0.5)
        return _judge(grey, small, factor, _refine(grey, coarse))
    return PageResult(quad=None, hints=(Hint.PAGE_NOT_FOUND,), frame_size=size, brightness=level)


def _judge(grey: Image, small: Image, factor: int, quad: Quad) -> PageResult:
    """The checks on a found page (module docstring, step 6)."""
    height, width = grey.shape
    mask = np.zeros(small.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round((quad + 0.5) / factor - 0.5).astype(np.int32), 255)
    brightness = _percentile(small, 0.5, mask)
    area_share = float(cv2.contourArea(quad.astype(np.float32))) / float(width * height)
    edge_width = _edge_width(grey, quad)
    hints: list[Hint] = []
    if brightness < PAGE_DARK:
        hints.append(Hint.TOO_DARK)
    if area_share < MIN_PAGE_AREA:
        hints.append(Hint.TOO_SMALL)
    if edge_width is not None and edge_width > MAX_EDGE_WIDTH_PX:
        hints.append(Hint.HOLD_STILL)
    return PageResult(
        quad=tuple((float(x), float(y)) for x, y in quad),
        hints=tuple(hints),
        frame_size=(width, height),
        area_share=area_share,
        brightness=brightness,
        edge_width_px=edge_width,
    )


def _check_dpi(dpi: int) -> None:
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi is {MIN_DPI} to {MAX_DPI}, got {dpi!r}")


def rectify(image: Image, quad: Quad | Sequence[Sequence[float]], *, dpi: int) -> Image:
    """The page inside ``quad`` (tl, tr, br, bl) as an A4 portrait image at ``dpi`` (see the module docstring)."""
    _check_dpi(dpi)
    corners = np.asarray(quad, np.float64).reshape(4, 2)
    across = np.linalg.norm(corners[1] - corners[0]) + np.linalg.norm(corners[2] - corners[3])
    down = np.linalg.norm(corners[3] - corners[0]) + np.linalg.norm(corners[2] - corners[1])
    if across > down:  # lying sideways: a quarter turn counter-clockwise puts the frame-right side on top
        corners = np.roll(corners, -1, axis=0)
    width, height = a4_size(dpi)
    target = np.array(
        [[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5], [-0.5, height - 0.5]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    page = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(page, np.uint8)


def _jpeg(page: Image, dpi: int) -> bytes:
    """The page as a baseline JPEG whose JFIF header states ``dpi``."""
    ok, encoded = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    data = bytearray(encoded.tobytes())
    # SOI, then APP0 "JFIF\0", version (2 bytes), units, x density, y density (big-endian)
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        data[13] = 1  # dots per inch
        data[14:16] = dpi.to_bytes(2, "big")
        data[16:18] = dpi.to_bytes(2, "big")
    return bytes(data)


def encode_pages(pages: Sequence[Image], fmt: Format, dpi: int) -> bytes:
    """One page as a JPEG, or one or more pages as a PDF at their physical size (A4 at ``dpi``).

    ValueError for no pages, several pages as a JPEG, an unknown format or a dpi out of range.
    """
    _check_dpi(dpi)
    if not pages:
        raise ValueError("no pages to encode")
    if fmt == "jpeg":
        if len(pages) != 1:
            raise ValueError(f"a JPEG holds one page, got {len(pages)}; ask for a PDF")
        return _jpeg(pages[0], dpi)
    if fmt == "pdf":
        return _pdf([(_jpeg(page, dpi), page) for page in pages], dpi)
    raise ValueError(f"the format is 'jpeg' or 'pdf', got {fmt!r}")


def _pdf(images: Sequence[tuple[bytes, Image]], dpi: int) -> bytes:
    """A minimal PDF 1.4: catalog, page tree, then per page a page object, its content stream and its image."""
    objects: list[bytes] = []  # object n is objects[n - 1]
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(len(images)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(images)} >>".encode("ascii"))
    for i, (jpeg, page) in enumerate(images):
        content_no, image_no = 4 + 3 * i, 5 + 3 * i  # the page itself is 3 + 3 * i
        height, width = page.shape[:2]
        if (width, height) == a4_size(dpi):  # exactly A4, not the rounded pixel count
            w_pt, h_pt = (mm / MM_PER_INCH * POINTS_PER_INCH for mm in A4_MM)
        else:
            w_pt, h_pt = width / dpi * POINTS_PER_INCH, height / dpi * POINTS_PER_INCH
        colour = "/DeviceGray" if page.ndim == 2 else "/DeviceRGB"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
            f"/Resources << /XObject << /Im0 {image_no} 0 R >> /ProcSet [/PDF /ImageC /ImageB] >> "
            f"/Contents {content_no} 0 R >>".encode("ascii")
        )
        draw = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode("ascii")
        objects.append(b"<< /Length %d >>\nstream\n" % len(draw) + draw + b"\nendstream")
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {colour} "
            f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(jpeg)} >>\nstream\n".encode("ascii")
            + jpeg
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def corner_error(found: Quad, truth: Quad) -> float:
    """Largest distance in pixels between matching corners of two quads (for tests and the bench).

    Corners match in the same clockwise order whichever is named first: the detector names them as the frame
    shows them, a page lying sideways has its own top-left elsewhere.
    """
    a, b = np.asarray(found, np.float64).reshape(4, 2), np.asarray(truth, np.float64).reshape(4, 2)
    return min(float(np.max(np.linalg.norm(a - np.roll(b, k, axis=0), axis=1))) for k in range(4))
