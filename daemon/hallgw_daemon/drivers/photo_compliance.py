"""Document-photo compliance: is this camera frame a usable exit-entry photo, and if not, what should the applicant do?

Theory of operation
-------------------
A photo machine's camera sees more than the photo: the photo is a 3:4 crop of
the frame, cut so that the head lands at the size and position the standard
asks for (reference/protocols.md section 5; the numbers are in :class:`Profile`).
:func:`analyse` looks at one BGR frame and answers three questions:

1. **Where is the head?** One Haar cascade pass (``haarcascade_frontalface_default``)
   on a grey copy of the frame scaled down to :data:`DETECT_HEIGHT` rows, with
   the smallest and largest face bounded to a share of the frame
   (:data:`MIN_FACE`, :data:`MAX_FACE`), so that a 1920x1080 frame costs about
   as much as a 640x360 one. The Haar box covers brows to mouth; the head is
   estimated from it with ratios calibrated on the astronaut portrait the
   simulator uses: the crown (top of the hair) :data:`CROWN_ABOVE_BOX` box
   heights above the box, the chin :data:`CHIN_BELOW_BOX` below it, the head
   width :data:`HEAD_WIDTH_PER_BOX` box widths (an adult head is about 0.67 as
   wide as it is tall, ears included, hair excluded). The eyes are found with
   ``haarcascade_eye`` in the upper part of the face box, scaled to
   :data:`EYE_FACE_WIDTH` pixels; the roll is the angle of the line through
   their centres. When the eyes are not found the report says so (``eyes`` is
   None, the roll and eye-distance checks fail with :attr:`Hint.FACE_CAMERA`).
2. **Which crop makes the photo?** The rectangle of the frame that, scaled to
   the profile's size, puts the head at :attr:`Profile.target_head_height`
   with :attr:`Profile.target_crown_gap` above it, centred on the head. It may
   not leave the frame, and it may not be smaller than the output (no
   upscaling: an upscaled photo has fewer real pixels than the standard asks
   for). Where it would, it is clamped (shifted into the frame, grown or shrunk
   to the limit) and ``crop_fits`` is False; the geometry checks then measure
   the head *in the clamped crop*, which is exactly the photo that would be
   produced. A head too small in the frame thus shows as a head too small in
   the photo, a head too close to the frame's top as a crown gap too small.
3. **Does the photo comply?** One :class:`Check` per rule, each with the
   measured value, the window, and the :class:`Hint` that fixes a failure.
   Pixel checks run on small regions only (the face box, a 36x48 grid of the
   crop for the background), never on the whole frame.

Directions are given from the applicant's point of view. The camera image is
not mirrored: the applicant faces the camera, so the image's left is the
applicant's right. A head in the image's left part means the applicant
stands too far to their right, and the hint is :attr:`Hint.MOVE_LEFT` ("move
to your left"), which brings them towards the image's centre. Up and down
are the same for both: a head too high in the image gets
:attr:`Hint.MOVE_DOWN` (lower your head or the seat).

After :func:`crop` and :func:`encode_jpeg` (which searches the JPEG quality
for a file inside the profile's size window), :func:`with_jpeg` adds the
checks of the encoded file. :func:`score` ranks passing frames for a capture
loop; :func:`draw_overlay` draws the analysis for an engineer.

Everything here is pure computation on arrays in memory: no I/O, no clock, no
logging. A :class:`Report` holds figures and rectangles only, never pixels;
the photo itself stays with the caller.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
from collections.abc import Mapping
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

# -- detector settings (the bench measures analyse() against these alone) --------------------------------------------

DETECT_HEIGHT: Final = 360
"""Rows of the grey copy the face detector runs on; taller frames are scaled down (INTER_AREA) to this."""
SCALE_FACTOR: Final = 1.1
"""Step between the detector's scales (OpenCV's default)."""
MIN_NEIGHBORS: Final = 5
"""Overlapping detections a face needs (OpenCV's sample value; 3 lets stray patterns through)."""
MIN_FACE: Final = 0.10
"""Smallest face box, as a share of the frame height: a head of about 17 % of the frame, far too small for a photo."""
MAX_FACE: Final = 0.90
"""Largest face box, as a share of the frame height."""
EYE_FACE_WIDTH: Final = 96
"""Width, in pixels, the face box is scaled to for the eye detector and the sharpness measure."""

# -- head estimation from the Haar box (calibrated on the astronaut portrait, docs/photo-compliance.md) --------------

CROWN_ABOVE_BOX: Final = 0.55
"""Top of the head (hair included) above the face box, in box heights (astronaut: 0.54 to 0.55)."""
CHIN_BELOW_BOX: Final = 0.19
"""Chin below the face box, in box heights (astronaut: 0.17 to 0.19)."""
HEAD_WIDTH_PER_BOX: Final = 1.22
"""Head width in box widths: 0.70 x the head height of 1.74 boxes, the ratio of the "354 x 472" profile's window
midpoints (256 : 360); an adult head's breadth is 0.67 of its height, ears add a little. A Haar box cannot see
hair or ears, so this check follows the head height; it is kept because the standard states it."""
BACKGROUND_DEPTH: Final = 0.65
"""The background is sampled from the crop's top down to this far down the head (crown 0, chin 1)."""
EYE_LINE_IN_BOX: Final = 0.40
"""Eye line below the box top, in box heights, used only to draw the overlay when the eyes are not found."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """One photo standard, in output pixels unless said otherwise.

    Defaults are the "354 x 472" e-photo profile of the exit-entry photo guide
    (reference/protocols.md section 5.1) with the ISO/ICAO pose limits of
    section 5.2; docs/photo-compliance.md gives the source of every number and
    why it was chosen where the sources are silent.
    """

    width: int = 354
    """Output width: the guide's minimum digital size, 30 mm at 300 dpi."""
    height: int = 472
    """Output height: 40 mm at 300 dpi; 354 x 472 is the guide's 3:4."""
    head_width: tuple[float, float] = (230.0, 283.0)
    """Head width window ("354 x 472" profile; another page says 248-283)."""
    head_height: tuple[float, float] = (331.0, 390.0)
    """Head height, crown to chin ("354 x 472" profile, two sources)."""
    target_head_height: float = 355.0
    """Head height the crop aims at: inside the window, and with the target crown gap it leaves
    472 - 33 - 355 = 84 px under the chin, the guide's "chin to bottom edge >= 7 mm" (82.6 px at 300 dpi)."""
    crown_gap: tuple[float, float] = (25.0, 45.0)
    """Crown to the top edge ("354 x 472" profile; the guide's 3-5 mm is 35-59 px)."""
    target_crown_gap: float = 33.0
    """Crown gap the crop aims at (see ``target_head_height``)."""
    eye_line: tuple[float, float] = (176.0, 251.0)
    """Eye line from the top edge ("354 x 472" profile)."""
    eye_distance: tuple[float, float] = (82.0, 118.0)
    """Distance between the eye centres ("354 x 472" profile; the guide's 0.23-0.33 x width is 81-117 px)."""
    centre_tolerance: float = 0.08
    """Largest offset of the head centre from the frame's vertical centre line, as a share of the frame width.

    The standards ask for a centred face (ISO: face centre at 45-55 % of the photo width), which the crop gives by
    construction; what the frame adds is the camera axis: 8 % of the frame width is about 5 degrees off axis for a
    60-degree lens, the ISO yaw limit (section 5.2), and keeps the booth's lights symmetric on the face."""
    roll_max: float = 8.0
    """Largest head roll, degrees (ISO 19794-5 via section 5.2: +-8)."""
    max_upscale: float = 1.0
    """Largest enlargement from frame to photo: 1.0 forbids upscaling (invented pixels are not resolution)."""
    bg_min_lightness: float = 210.0
    """Smallest mean background lightness (HLS L, 0-255): the guide's grey reference, brightness >= 198 on the
    0-240 scale. The guide's light blue (>= 167/240, 178 here) needs a profile of its own."""
    bg_max_saturation: float = 0.25
    """Largest mean background saturation ((max - min) / max of B, G, R): white to light grey, as this profile
    asks (pure white). The guide's light blue reference has 0.61: a blue profile raises this to 0.65."""
    bg_max_nonuniformity: float = 12.0
    """Largest standard deviation of the lightness over a 36x48 grid of the background (grey levels).
    The guide asks for "uniform" without a number; 12 levels is where a shadow or a pattern starts to show,
    while camera noise averages out in the grid's cells."""
    exposure: tuple[float, float] = (85.0, 215.0)
    """Window of the mean grey level of the inner face (cheeks, nose, mouth). The profile's skin colour
    (CIE L* 59-65.5) is about 145-165; the window is wider so that every skin tone passes under good light."""
    sharpness_min: float = 0.05
    """Smallest Laplacian variance over grey-level variance of the face at ``EYE_FACE_WIDTH`` pixels: a ratio,
    so it does not depend on the face size or the exposure. Calibrated on the simulator's portrait (sharp: 0.10,
    Gaussian blur of sigma 2 px at 1080p: 0.042, sigma 5: 0.011). Real cameras need their own calibration."""
    colour_min_chroma: float = 3.0
    """Smallest mean |B - G| + |G - R| over the face: a 24-bit colour photo (the guide), not a grey one."""
    jpeg_quality: int = 90
    """First JPEG quality tried."""
    jpeg_quality_min: int = 70
    """Lowest JPEG quality ("354 x 472" profile: quality >= 70)."""
    file_size: tuple[int, int] = (20 * 1024, 80 * 1024)
    """JPEG file size window, bytes: the guide's 20-80 KB (another quote: 30-80 KB)."""

    def __post_init__(self) -> None:
        if self.width * 4 != self.height * 3:
            raise ValueError(f"photo size {self.width}x{self.height} is not 3:4")
        for name in ("head_width", "head_height", "crown_gap", "eye_line", "eye_distance", "exposure", "file_size"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"{name} window {low}..{high} is empty")
        if not 1 <= self.jpeg_quality_min <= self.jpeg_quality <= 100:
            raise ValueError("JPEG qualities must satisfy 1 <= jpeg_quality_min <= jpeg_quality <= 100")


DEFAULT_PROFILE: Final = Profile()


class Hint(enum.Enum):
    """Something the applicant can do; the value is the stable code, :attr:`text` what to tell them.

    Directions are the applicant's own (the module docstring explains the convention).
    """

    NO_FACE = "no_face"
    ONE_PERSON_ONLY = "one_person_only"
    MOVE_CLOSER = "move_closer"
    MOVE_BACK = "move_back"
    MOVE_LEFT = "move_left"
    MOVE_RIGHT = "move_right"
    MOVE_UP = "move_up"
    MOVE_DOWN = "move_down"
    FACE_CAMERA = "face_camera"
    MORE_LIGHT = "more_light"
    LESS_LIGHT = "less_light"
    HOLD_STILL = "hold_still"
    BACKGROUND = "background"

    @property
    def text(self) -> str:
        """The hint in plain words."""
        return _HINT_TEXT[self]


_HINT_TEXT: Final[Mapping[Hint, str]] = {
    Hint.NO_FACE: "we cannot see your face: sit in front of the camera and look at it",
    Hint.ONE_PERSON_ONLY: "only one person may be in the picture",
    Hint.MOVE_CLOSER: "move a little closer to the camera",
    Hint.MOVE_BACK: "move a little further back from the camera",
    Hint.MOVE_LEFT: "move a little to your left",
    Hint.MOVE_RIGHT: "move a little to your right",
    Hint.MOVE_UP: "sit up a little higher, or raise the seat",
    Hint.MOVE_DOWN: "lower your head a little, or lower the seat",
    Hint.FACE_CAMERA: "keep your head straight and look straight into the camera",
    Hint.MORE_LIGHT: "the picture is too dark: staff should check the lights",
    Hint.LESS_LIGHT: "the picture is too bright: staff should check the lights",
    Hint.HOLD_STILL: "hold still for a moment",
    Hint.BACKGROUND: "the background behind you must be plain and light",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle in frame pixels."""

    x: int
    y: int
    w: int
    h: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One rule: the measured ``value`` against the window ``low``..``high`` (either may be open)."""

    name: str
    value: float
    low: float | None
    high: float | None
    unit: str
    passed: bool
    hint: Hint | None
    """What fixes a failure (None when passed, or when the applicant cannot fix it)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    """The head as estimated from the face box, in frame pixels."""

    centre_x: float
    crown_y: float
    chin_y: float
    width: float

    @property
    def height(self) -> float:
        """Crown to chin."""
        return self.chin_y - self.crown_y


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The analysis of one frame: figures and rectangles, never pixels."""

    frame_size: tuple[int, int]
    """Width, height of the analysed frame."""
    checks: tuple[Check, ...]
    """Every rule in order of importance; the first failure's hint is the most useful."""
    face: Rect | None = None
    """The face box (the largest, when there are several)."""
    faces: int = 0
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None
    """Eye centres, image-left first; None when the eye detector did not find two."""
    head: Head | None = None
    crop: Rect | None = None
    """The frame rectangle that becomes the photo (clamped into the frame)."""
    crop_fits: bool = False
    """True when the ideal crop lies in the frame without enlargement; False when it had to be clamped."""

    @property
    def passed(self) -> bool:
        """Every check passed."""
        return all(c.passed for c in self.checks)

    def check(self, name: str) -> Check:
        """The check called ``name``; KeyError when there is none."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def failed(self) -> tuple[Check, ...]:
        """The checks that failed, in order."""
        return tuple(c for c in self.checks if not c.passed)

    def hints(self) -> tuple[Hint, ...]:
        """What the applicant should do, most useful first, each once; empty when nothing they can do helps."""
        seen: dict[Hint, None] = {}
        for c in self.checks:
            if not c.passed and c.hint is not None:
                seen.setdefault(c.hint, None)
        return tuple(seen)


def _window(
    name: str,
    value: float,
    low: float | None,
    high: float | None,
    unit: str,
    *,
    below: Hint | None,
    above: Hint | None,
) -> Check:
    too_low = low is not None and not value >= low  # NaN fails
    too_high = high is not None and not value <= high
    hint = below if too_low else above if too_high else None
    if math.isnan(value):
        too_low, hint = True, below
    return Check(name=name, value=value, low=low, high=high, unit=unit, passed=not (too_low or too_high), hint=hint)


def _u8(array: npt.NDArray[Any]) -> Image:
    """``array`` typed as 8-bit (OpenCV's stubs return untyped arrays); no copy when it already is."""
    return np.asarray(array, dtype=np.uint8)


def _grey(image: Image) -> Image:
    return image if image.ndim == 2 else _u8(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(f"OpenCV ships no {name}: opencv-python-headless 4.x is needed (stack notes section 6)")
    return cascade


def face_cascade() -> cv2.CascadeClassifier:
    """The frontal-face Haar cascade :func:`analyse` uses (loaded once)."""
    return _cascade("haarcascade_frontalface_default.xml")


def detector_input(image: Image) -> tuple[Image, float]:
    """The grey, scaled-down copy of ``image`` the face detector runs on, and its scale (work px per frame px)."""
    grey = _grey(image)
    height = grey.shape[0]
    if height <= DETECT_HEIGHT:
        return grey, 1.0
    scale = DETECT_HEIGHT / height
    small = cv2.resize(grey, (round(grey.shape[1] * scale), DETECT_HEIGHT), interpolation=cv2.INTER_AREA)
    return _u8(small), scale


def detect_faces(small: Image) -> list[Rect]:
    """Face boxes in the detector input, with the settings :func:`analyse` uses."""
    height = small.shape[0]
    low, high = max(24, round(MIN_FACE * height)), round(MAX_FACE * height)
    found = face_cascade().detectMultiScale(
        small, scaleFactor=SCALE_FACTOR, minNeighbors=MIN_NEIGHBORS, minSize=(low, low), maxSize=(high, high)
    )
    return [Rect(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


def _validate(image: object) -> Image:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a numpy uint8 BGR image (height x width x 3), got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a numpy uint8 BGR image (height x width x 3), got dtype {image.dtype}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(
            f"expected a BGR image (height x width x 3) or a grey one (height x width), got shape {image.shape}"
        )
    if image.shape[0] < 64 or image.shape[1] < 64:
        raise ValueError(f"expected an image of at least 64x64 pixels, got {image.shape[1]}x{image.shape[0]}")
    return image


def _find_eyes(grey: Image, face: Rect) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Two eye centres in frame pixels, image-left first, from the upper part of the face box; None if not two."""
    top = grey[face.y : face.y + round(face.h * 0.6), face.x : face.x + face.w]
    if top.size == 0:
        return None
    k = EYE_FACE_WIDTH / face.w
    small = cv2.resize(top, (EYE_FACE_WIDTH, max(1, round(top.shape[0] * k))), interpolation=cv2.INTER_AREA)
    found = _cascade("haarcascade_eye.xml").detectMultiScale(
        small, scaleFactor=1.1, minNeighbors=4, minSize=(12, 12), maxSize=(40, 40)
    )
    half = EYE_FACE_WIDTH / 2
    centres = [(x + w / 2, y + h / 2, w) for x, y, w, h in found]
    left = [c for c in centres if c[0] < half]
    right = [c for c in centres if c[0] >= half]
    best: tuple[float, tuple[float, float, int], tuple[float, float, int]] | None = None
    for a in left:
        for b in right:
            dx, dy = b[0] - a[0], b[1] - a[1]
            # Eye centres are 0.25-0.65 face widths apart and roughly level (|roll| under ~30 degrees).
            if not 0.25 * EYE_FACE_WIDTH <= dx <= 0.65 * EYE_FACE_WIDTH or abs(dy) > 0.6 * dx:
                continue
            size = a[2] + b[2]
            if best is None or size > best[0]:
                best = (size, a, b)
    if best is None:
        return None
    _, a, b = best
    return (face.x + float(a[0]) / k, face.y + float(a[1]) / k), (face.x + float(b[0]) / k, face.y + float(b[1]) / k)


def _head(face: Rect) -> Head:
    return Head(
        centre_x=face.x + face.w / 2,
        crown_y=face.y - CROWN_ABOVE_BOX * face.h,
        chin_y=face.y + face.h * (1 + CHIN_BELOW_BOX),
        width=HEAD_WIDTH_PER_BOX * face.w,
    )


def _crop_for(head: Head, frame: tuple[int, int], profile: Profile) -> tuple[Rect, float, float, bool]:
    """The clamped crop, its scale (frame px per photo px), its exact top, and whether the ideal one fits."""
    width, height = frame
    ideal = head.height / profile.target_head_height
    largest = min(width / profile.width, height / profile.height)
    smallest = 1.0 / profile.max_upscale
    scale = min(max(ideal, smallest), largest)
    crop_w, crop_h = profile.width * scale, profile.height * scale
    left = head.centre_x - crop_w / 2
    top = head.crown_y - profile.target_crown_gap * scale
    fits = math.isclose(scale, ideal) and left >= 0 and top >= 0 and left + crop_w <= width and top + crop_h <= height
    left = min(max(left, 0.0), width - crop_w)
    top = min(max(top, 0.0), height - crop_h)
    rect = Rect(round(left), round(top), min(width, round(crop_w)), min(height, round(crop_h)))
    return rect, scale, top, fits


def _background_cells(image: Image, crop: Rect, head: Head, face: Rect) -> npt.NDArray[np.float32]:
    """The background of the crop on a 36x48 grid, as float BGR cells (N x 3), head and body excluded."""
    region = image[crop.y : crop.y + crop.h, crop.x : crop.x + crop.w]
    cols, rows = 36, 48
    cells = cv2.resize(region, (cols, rows), interpolation=cv2.INTER_AREA)
    if cells.ndim == 2:
        cells = cv2.cvtColor(cells, cv2.COLOR_GRAY2BGR)
    sx, sy = crop.w / cols, crop.h / rows
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    fx, fy = crop.x + (xs + 0.5) * sx, crop.y + (ys + 0.5) * sy
    # Exclude the head with room for hair (the box's width each side), and everything below the mouth:
    # shoulders and collars reach up beside the jaw.
    cy = (head.crown_y + head.chin_y) / 2
    ax, ay = 0.95 * face.w + sx, 0.6 * head.height + sy
    outside = ((fx - head.centre_x) / ax) ** 2 + ((fy - cy) / ay) ** 2 > 1.0
    keep = outside & (fy < head.crown_y + BACKGROUND_DEPTH * head.height)
    result: npt.NDArray[np.float32] = cells[keep].astype(np.float32)
    return result


def _roll(eyes: tuple[tuple[float, float], tuple[float, float]] | None) -> float:
    if eyes is None:
        return math.nan
    (x0, y0), (x1, y1) = eyes
    # Image y points down: a positive angle is the image-right eye lower, the head tilted clockwise in the image.
    return math.degrees(math.atan2(y1 - y0, x1 - x0))


def analyse(image: Image, profile: Profile = DEFAULT_PROFILE) -> Report:
    """Analyse one camera frame (BGR uint8, or grey uint8, at least 64x64) against ``profile``.

    Raises ValueError, saying what was expected, for another dtype, channel count or a tiny image; never for the
    content (a frame without a face is a report with a failing ``face_count`` check).
    """
    image = _validate(image)
    frame = (int(image.shape[1]), int(image.shape[0]))
    grey = _grey(image)
    small, k = detector_input(grey)
    boxes = detect_faces(small)
    if not boxes:
        # Say why when we can: a dark frame hides a face from the detector, and the light is the first thing to fix.
        level = float(small[::4, ::4].mean())
        exposure = _window("exposure", level, profile.exposure[0] / 2, None, "grey", below=Hint.MORE_LIGHT, above=None)
        count = _window("face_count", 0.0, 1.0, 1.0, "faces", below=Hint.NO_FACE, above=Hint.ONE_PERSON_ONLY)
        return Report(frame_size=frame, checks=(exposure, count))

    box = max(boxes, key=lambda r: r.w * r.h)
    face = Rect(round(box.x / k), round(box.y / k), round(box.w / k), round(box.h / k))
    head = _head(face)
    eyes = _find_eyes(grey, face)
    crop_rect, scale, top, fits = _crop_for(head, frame, profile)
    count = _window("face_count", float(len(boxes)), 1, 1, "faces", below=Hint.NO_FACE, above=Hint.ONE_PERSON_ONLY)
    checks = (
        count,
        *_geometry_checks(frame=frame, face=face, head=head, eyes=eyes, scale=scale, top=top, profile=profile),
        *_pixel_checks(image=image, grey=grey, face=face, head=head, crop_rect=crop_rect, profile=profile),
    )
    return Report(
        frame_size=frame,
        checks=checks,
        face=face,
        faces=len(boxes),
        eyes=eyes,
        head=head,
        crop=crop_rect,
        crop_fits=fits,
    )


def _geometry_checks(
    *,
    frame: tuple[int, int],
    face: Rect,
    head: Head,
    eyes: tuple[tuple[float, float], tuple[float, float]] | None,
    scale: float,
    top: float,
    profile: Profile,
) -> list[Check]:
    """Size and position of the head, in the photo the clamped crop makes (px) or in the frame (``centre``)."""
    tol = profile.centre_tolerance
    eye_y = (eyes[0][1] + eyes[1][1]) / 2 if eyes else face.y + EYE_LINE_IN_BOX * face.h
    checks = [
        _window(
            "head_height", head.height / scale, *profile.head_height, "px", below=Hint.MOVE_CLOSER, above=Hint.MOVE_BACK
        ),
        _window(
            "head_width", head.width / scale, *profile.head_width, "px", below=Hint.MOVE_CLOSER, above=Hint.MOVE_BACK
        ),
        # Image left is the applicant's right: a head left of centre must move to the applicant's left.
        _window(
            "centre",
            (head.centre_x - frame[0] / 2) / frame[0],
            -tol,
            tol,
            "frame",
            below=Hint.MOVE_LEFT,
            above=Hint.MOVE_RIGHT,
        ),
        _window(
            "crown_gap",
            (head.crown_y - top) / scale,
            *profile.crown_gap,
            "px",
            below=Hint.MOVE_DOWN,
            above=Hint.MOVE_UP,
        ),
        _window("eye_line", (eye_y - top) / scale, *profile.eye_line, "px", below=Hint.MOVE_DOWN, above=Hint.MOVE_UP),
    ]
    if eyes is None:
        checks.append(
            _window("eye_distance", math.nan, *profile.eye_distance, "px", below=Hint.FACE_CAMERA, above=None)
        )
        checks.append(_window("roll", math.nan, None, profile.roll_max, "deg", below=Hint.FACE_CAMERA, above=None))
    else:
        distance = math.dist(*eyes) / scale
        checks.append(
            _window("eye_distance", distance, *profile.eye_distance, "px", below=Hint.MOVE_CLOSER, above=Hint.MOVE_BACK)
        )
        checks.append(
            _window("roll", abs(_roll(eyes)), None, profile.roll_max, "deg", below=None, above=Hint.FACE_CAMERA)
        )
    return checks


def _pixel_checks(
    *, image: Image, grey: Image, face: Rect, head: Head, crop_rect: Rect, profile: Profile
) -> list[Check]:
    """Exposure and sharpness of the face, the background around the head, colour: small regions only."""
    # The inner face (cheeks, nose, mouth) for the exposure; the whole box, at a fixed size, for the sharpness.
    inner = grey[face.y + face.h * 3 // 10 : face.y + face.h * 8 // 10, face.x + face.w // 4 : face.x + face.w * 3 // 4]
    whole = grey[face.y : face.y + face.h, face.x : face.x + face.w]
    norm = cv2.resize(whole, (EYE_FACE_WIDTH, EYE_FACE_WIDTH), interpolation=cv2.INTER_AREA)
    sharp = float(cv2.Laplacian(norm, cv2.CV_32F).var()) / max(float(norm.var()), 1.0)

    cells = _background_cells(image, crop_rect, head, face)
    if len(cells) < 8:  # a head that fills the crop leaves no background to judge
        lightness = saturation = spread = math.nan
    else:
        hi, lo = cells.max(axis=1), cells.min(axis=1)
        level = (hi + lo) / 2
        lightness = float(level.mean())
        saturation = float(((hi - lo) / np.maximum(hi, 1.0)).mean())
        spread = float(level.std())

    if image.ndim == 2:
        chroma = 0.0
    else:
        skin = image[face.y : face.y + face.h : 4, face.x : face.x + face.w : 4].astype(np.int16)
        chroma = float(np.abs(skin[..., 0] - skin[..., 1]).mean() + np.abs(skin[..., 1] - skin[..., 2]).mean())
    # No background left in the crop (a head out of the frame's top) is not the background's fault.
    bg = None if math.isnan(lightness) else Hint.BACKGROUND
    return [
        _window(
            "exposure", float(inner.mean()), *profile.exposure, "grey", below=Hint.MORE_LIGHT, above=Hint.LESS_LIGHT
        ),
        _window("sharpness", sharp, profile.sharpness_min, None, "ratio", below=Hint.HOLD_STILL, above=None),
        _window("background_lightness", lightness, profile.bg_min_lightness, None, "L", below=bg, above=None),
        _window("background_colour", saturation, None, profile.bg_max_saturation, "sat", below=bg, above=bg),
        _window("background_uniformity", spread, None, profile.bg_max_nonuniformity, "L std", below=bg, above=bg),
        # Not the applicant's to fix: a grey photo means a camera setting.
        _window("colour", chroma, profile.colour_min_chroma, None, "chroma", below=None, above=None),
    ]


def crop(image: Image, report: Report, profile: Profile = DEFAULT_PROFILE) -> Image:
    """The photo: ``report.crop`` of ``image`` scaled to the profile's size, BGR (grey input is expanded).

    Raises ValueError when the report has no crop (no face) or was made for a frame of another size.
    """
    image = _validate(image)
    if report.crop is None:
        raise ValueError("the report has no crop: no face was found")
    if (image.shape[1], image.shape[0]) != report.frame_size:
        raise ValueError(f"the report is for a {report.frame_size[0]}x{report.frame_size[1]} frame")
    r = report.crop
    region = image[r.y : r.y + r.h, r.x : r.x + r.w]
    if region.ndim == 2:
        region = _u8(cv2.cvtColor(region, cv2.COLOR_GRAY2BGR))
    shrink = r.w >= profile.width
    out = cv2.resize(
        region, (profile.width, profile.height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    )
    result: Image = np.ascontiguousarray(out)
    return result


def _jpeg(photo: Image, quality: int) -> bytes:
    ok, data = cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the photo as JPEG")
    return data.tobytes()


def encode_jpeg(photo: Image, profile: Profile = DEFAULT_PROFILE) -> bytes:
    """The photo as JPEG, at the highest quality whose file fits the profile's size window.

    Tries :attr:`Profile.jpeg_quality` first; if the file is too large, searches the qualities down to
    :attr:`Profile.jpeg_quality_min` by bisection (at most 5 more encodings); if it is too small, the qualities up
    to 100. When no quality lands in the window the closest end is returned and :func:`check_jpeg` fails it.
    """
    photo = _validate(photo)
    low_size, high_size = profile.file_size
    data = _jpeg(photo, profile.jpeg_quality)
    if low_size <= len(data) <= high_size:
        return data
    if len(data) > high_size:
        # Largest quality in [min, q) whose file is small enough.
        lo, hi, best = profile.jpeg_quality_min, profile.jpeg_quality - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            candidate = _jpeg(photo, mid)
            if len(candidate) <= high_size:
                best, lo = candidate, mid + 1
            else:
                hi = mid - 1
        return best if best is not None else _jpeg(photo, profile.jpeg_quality_min)
    # Too small: the smallest quality in (q, 100] whose file is large enough, else 100.
    lo, hi, best = profile.jpeg_quality + 1, 100, None
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = _jpeg(photo, mid)
        if len(candidate) >= low_size:
            best, hi = candidate, mid - 1
        else:
            lo = mid + 1
    return best if best is not None else _jpeg(photo, 100)


def check_jpeg(jpeg: bytes, profile: Profile = DEFAULT_PROFILE) -> tuple[Check, ...]:
    """The checks of the encoded file: its size in bytes, and that it decodes to the profile's size in colour."""
    size = _window("file_size", float(len(jpeg)), *profile.file_size, "bytes", below=None, above=None)
    decoded = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    ok = (
        decoded is not None
        and decoded.ndim == 3
        and decoded.shape[2] == 3
        and (decoded.shape[1], decoded.shape[0]) == (profile.width, profile.height)
    )
    # 1 when the file decodes as 24-bit colour at the profile's size, 0 otherwise: a window of exactly 1.
    dims = Check(name="jpeg_format", value=1.0 if ok else 0.0, low=1.0, high=1.0, unit="ok", passed=bool(ok), hint=None)
    return size, dims


def with_jpeg(report: Report, jpeg: bytes, profile: Profile = DEFAULT_PROFILE) -> Report:
    """The final report: ``report`` plus the checks of the encoded file (replacing earlier ones)."""
    extra = check_jpeg(jpeg, profile)
    names = {c.name for c in extra}
    kept = tuple(c for c in report.checks if c.name not in names)
    return dataclasses.replace(report, checks=kept + extra)


def _centred(check: Check) -> float:
    """1 at the middle of the check's window, 0 at its edges (1 for one-sided windows)."""
    if check.low is None or check.high is None or check.high <= check.low:
        return 1.0
    half = (check.high - check.low) / 2
    return max(0.0, 1.0 - abs(check.value - (check.low + half)) / half)


def score(report: Report) -> float:
    """How good a passing frame is, 0..1 (0 for a failing one), to keep the best of a burst.

    The product of: sharpness (saturating at twice the minimum), roll (1 when level, 0.5 at the limit), how
    central the head is, and how close exposure and head height sit to the middle of their windows (each
    weighted so that a frame near a limit still scores above half). Only comparable between frames of the same
    profile and camera.
    """
    if not report.passed:
        return 0.0
    by_name = {c.name: c for c in report.checks}
    sharp = by_name["sharpness"]
    sharpness = min(1.0, sharp.value / (2 * sharp.low)) if sharp.low else 1.0
    roll = by_name["roll"]
    level = 1.0 - 0.5 * roll.value / roll.high if roll.high else 1.0
    centre = 0.5 + 0.5 * _centred(by_name["centre"])
    exposure = 0.5 + 0.5 * _centred(by_name["exposure"])
    size = 0.5 + 0.5 * _centred(by_name["head_height"])
    return sharpness * level * centre * exposure * size


_GREEN: Final = (0, 200, 0)
_RED: Final = (0, 0, 230)
_YELLOW: Final = (0, 220, 220)
_BLUE: Final = (230, 120, 0)


def _fmt(check: Check) -> str:
    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:.3g}"

    verdict = "ok" if check.passed else "FAIL"
    return f"{check.name} {num(check.value)} {check.unit} [{num(check.low)}..{num(check.high)}] {verdict}"


def draw_overlay(image: Image, report: Report) -> Image:
    """A picture of the analysis on a copy of ``image`` (BGR, same size): face box, eye line, crown and chin
    guides, the crop (green when it fits, red when clamped) and every check as ASCII text.

    For an engineer's screen (``hallctl photo check --overlay``); it shows the applicant's face, so it is
    personal data like the frame itself.
    """
    image = _validate(image)
    out = _u8(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)) if image.ndim == 2 else image.copy()
    height, width = out.shape[:2]
    thick = max(1, round(height / 400))
    if report.face is not None:
        f = report.face
        cv2.rectangle(out, (f.x, f.y), (f.x + f.w, f.y + f.h), _GREEN, thick)
    if report.head is not None:
        h = report.head
        x0, x1 = round(h.centre_x - h.width / 2), round(h.centre_x + h.width / 2)
        for y in (h.crown_y, h.chin_y):
            cv2.line(out, (x0, round(y)), (x1, round(y)), _YELLOW, thick)
        cv2.line(out, (round(h.centre_x), round(h.crown_y)), (round(h.centre_x), round(h.chin_y)), _YELLOW, 1)
    if report.eyes is not None:
        (ax, ay), (bx, by) = report.eyes
        cv2.line(out, (round(ax), round(ay)), (round(bx), round(by)), _BLUE, thick)
        for x, y in report.eyes:
            cv2.circle(out, (round(x), round(y)), 3 * thick, _BLUE, thick)
    if report.crop is not None:
        c = report.crop
        cv2.rectangle(out, (c.x, c.y), (c.x + c.w, c.y + c.h), _GREEN if report.crop_fits else _RED, thick + 1)
    # The checks, one line each, on a dark band so they read on any background.
    font_scale = max(0.35, height / 1800)
    line = round(26 * font_scale) + 4
    lines = [_fmt(c) for c in report.checks]
    lines.append("PASS" if report.passed else "hints: " + ", ".join(h.value for h in report.hints()))
    band_w = min(width, round(max(len(s) for s in lines) * 13 * font_scale) + 16)
    band_h = min(height, line * len(lines) + 8)
    band = out[:band_h, :band_w]
    band[:] = (band.astype(np.uint16) * 2 // 5).astype(np.uint8)
    for i, (text, check) in enumerate(zip(lines, (*report.checks, None), strict=True)):
        colour = (255, 255, 255) if check is None else _GREEN if check.passed else _RED
        cv2.putText(out, text, (8, (i + 1) * line), cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, 1, cv2.LINE_AA)
    return out
