"""A person in front of the photo machine's camera: composed camera frames for the simulated camera.

Theory of operation
-------------------
The portrait is a head-and-shoulders cut-out of NASA's public-domain portrait
of the astronaut Eileen Collins (``assets/astronaut.png``, from scikit-image's
``skimage.data.astronaut()``; see ``assets/CREDITS.md``). It is stored as a
280x300 BGRA PNG whose alpha channel is the matte: it was made once with
OpenCV's GrabCut, started from a head ellipse (certain foreground), a larger
head-and-shoulders ellipse pair (probable foreground) and the top rows
(certain background), then opened with a 5x5 kernel and feathered with a
Gaussian of sigma 1.5 px, so the hair blends into any background without a
hard edge. The colour channels are rounded to 5 bits (invisible under the
camera noise added here) to keep the file under 100 KB.

:func:`compose` builds a frame in this order:

1. the background: a flat BGR colour, or with ``pattern=True`` broad diagonal
   stripes of that colour and a darker tone (what a poster or a door behind the
   applicant looks like);
2. the portrait, scaled so that the head (crown to chin) is ``scale`` of the
   frame height, rolled by ``roll_deg`` about the head centre, and placed with
   the head centre at (0.5 + offset_x, 0.45 + offset_y) of the frame (0.45: a
   head a little above the middle leaves room for the shoulders in a 3:4
   photo). The cut-out's bottom row is repeated down to the frame's bottom
   edge, so the torso does not float. One affine warp into the covered region
   only, then an alpha blend of that region;
3. ``second_face``: a second, smaller copy to the right (or left) of the first:
   someone standing behind the applicant;
4. ``blur``: a Gaussian of sigma ``blur`` px over the frame (defocus, motion);
5. ``light``: a gain on every pixel (the scene's lighting, 1.0 = as composed);
6. ``noise``: Gaussian sensor noise of that standard deviation, in grey levels,
   from ``numpy.random.default_rng(seed)``;
7. ``black``: the frame is all black (lens cap, lamp failure) and nothing else applies.

Everything is deterministic from ``params`` and ``seed``. Frames are built in
memory and never written anywhere. At 1280x720 a frame takes a few
milliseconds (docs/photo-compliance.md has the measured figure).

The presets (:data:`COMPLIANT` and one per fault) are what the tests and the
simulated camera use; :data:`PRESETS` names them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

ASSET: Final = Path(__file__).with_name("assets") / "astronaut.png"
"""The cut-out portrait (BGRA), see assets/CREDITS.md."""

# Where the head is in the cut-out, in its pixels: measured on the image (hair top, chin).
SPRITE_CROWN_Y: Final = 15.0
SPRITE_CHIN_Y: Final = 178.0
SPRITE_HEAD_X: Final = 128.5
"""Horizontal centre of the face in the cut-out."""
NOMINAL_HEAD_Y: Final = 0.45
"""Head centre (half-way crown to chin) as a fraction of the frame height when ``offset_y`` is 0."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SceneParams:
    """What is in front of the camera. Fractions are of the frame's width or height."""

    offset_x: float = 0.0
    """Head centre right of the frame centre, as a fraction of the frame width (negative: left)."""
    offset_y: float = 0.0
    """Head centre below its nominal height, as a fraction of the frame height (negative: higher)."""
    scale: float = 0.5
    """Head height, crown to chin, as a fraction of the frame height."""
    roll_deg: float = 0.0
    """Head roll, degrees, positive counter-clockwise in the image."""
    blur: float = 0.0
    """Sigma of a Gaussian blur over the frame, in pixels (0: sharp)."""
    light: float = 1.0
    """Gain applied to the whole frame (1.0: as composed; 0.3: a dim booth)."""
    background: tuple[int, int, int] = (236, 236, 234)
    """Background colour, BGR."""
    pattern: bool = False
    """Broad diagonal stripes instead of a flat background."""
    second_face: bool = False
    """A second person in the frame."""
    noise: float = 2.0
    """Standard deviation of the sensor noise, grey levels."""
    black: bool = False
    """An all-black frame."""

    def __post_init__(self) -> None:
        if not 0.02 <= self.scale <= 2.0:
            raise ValueError(f"scale {self.scale!r} outside 0.02..2.0")
        if self.blur < 0 or self.light < 0 or self.noise < 0:
            raise ValueError("blur, light and noise must not be negative")
        if len(self.background) != 3 or not all(0 <= c <= 255 for c in self.background):
            raise ValueError(f"background {self.background!r} is not a BGR triple of 0..255")


COMPLIANT: Final = SceneParams()
OFF_CENTRE_LEFT: Final = SceneParams(offset_x=-0.3)
"""Head in the image's left part (the applicant stands too far to their right)."""
OFF_CENTRE_RIGHT: Final = SceneParams(offset_x=0.3)
OFF_CENTRE: Final = OFF_CENTRE_LEFT
TOO_HIGH: Final = SceneParams(offset_y=-0.25)
TOO_LOW: Final = SceneParams(offset_y=0.3)
TOO_SMALL: Final = SceneParams(scale=0.22)
TOO_LARGE: Final = SceneParams(scale=0.9, offset_y=0.05)
ROLLED: Final = SceneParams(roll_deg=-14.0)
"""Head tilted clockwise in the image (the portrait itself has about 3 degrees the same way)."""
BLURRED: Final = SceneParams(blur=4.0)
DARK: Final = SceneParams(light=0.35)
DARK_BACKGROUND: Final = SceneParams(background=(70, 60, 55))
PATTERNED_BACKGROUND: Final = SceneParams(pattern=True)
TWO_FACES: Final = SceneParams(offset_x=-0.15, second_face=True)
BLACK: Final = SceneParams(black=True)

PRESETS: Final[Mapping[str, SceneParams]] = {
    "compliant": COMPLIANT,
    "off_centre_left": OFF_CENTRE_LEFT,
    "off_centre_right": OFF_CENTRE_RIGHT,
    "too_high": TOO_HIGH,
    "too_low": TOO_LOW,
    "too_small": TOO_SMALL,
    "too_large": TOO_LARGE,
    "rolled": ROLLED,
    "blurred": BLURRED,
    "dark": DARK,
    "dark_background": DARK_BACKGROUND,
    "patterned_background": PATTERNED_BACKGROUND,
    "two_faces": TWO_FACES,
    "black": BLACK,
}
"""The presets by name (for the simulated camera's control commands)."""


@functools.cache
def _sprite() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The cut-out as float BGR and float alpha (0..1), loaded once."""
    rgba = cv2.imread(str(ASSET), cv2.IMREAD_UNCHANGED)
    if rgba is None or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise RuntimeError(f"the portrait asset {ASSET} is missing or not a BGRA PNG")
    colour = rgba[:, :, :3].astype(np.float32)
    alpha = rgba[:, :, 3].astype(np.float32) / 255.0
    return colour, alpha


def _background(params: SceneParams, width: int, height: int, seed: int) -> Image:
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = np.array(params.background, np.uint8)
    if params.pattern:
        # Diagonal stripes, period about a tenth of the frame height, phase from the seed.
        period = max(8, height // 10)
        phase = seed % period
        ys, xs = np.ogrid[:height, :width]
        stripes = ((xs + ys + phase) // (period // 2)) % 2 == 1
        darker = (np.array(params.background, np.float32) * 0.6).astype(np.uint8)
        frame[stripes] = darker
    return frame


def _place(frame: Image, *, scale_px: float, centre: tuple[float, float], roll_deg: float) -> None:
    """Blend the cut-out into ``frame``: head height ``scale_px``, head centre at ``centre``, rolled."""
    colour, alpha = _sprite()
    height, width = frame.shape[:2]
    k = scale_px / (SPRITE_CHIN_Y - SPRITE_CROWN_Y)
    head_y = (SPRITE_CROWN_Y + SPRITE_CHIN_Y) / 2
    # Affine map sprite -> frame: rotate and scale about the sprite's head centre, then move it to `centre`.
    m = cv2.getRotationMatrix2D((SPRITE_HEAD_X, head_y), roll_deg, k)
    m[0, 2] += centre[0] - SPRITE_HEAD_X
    m[1, 2] += centre[1] - head_y
    sh, sw = alpha.shape
    corners = np.array([[0, 0, 1], [sw, 0, 1], [0, sh, 1], [sw, sh, 1]], np.float64) @ m.T
    x0 = max(0, math.floor(corners[:, 0].min()))
    x1 = min(width, math.ceil(corners[:, 0].max()))
    y0 = max(0, math.floor(corners[:, 1].min()))
    y1 = height  # down to the bottom edge: the torso continues below the cut-out
    if x1 <= x0 or y1 <= y0:
        return
    m[0, 2] -= x0
    m[1, 2] -= y0
    size = (x1 - x0, y1 - y0)
    # Replicate at the border: the bottom row (the torso) extends downwards; the matte's
    # transparent top and sides replicate as transparent.
    a = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    c = cv2.warpAffine(colour, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    roi = frame[y0:y1, x0:x1]
    a3 = a[:, :, None]
    blended = c * a3 + roi.astype(np.float32) * (1.0 - a3)
    roi[:] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def compose(params: SceneParams = COMPLIANT, size: tuple[int, int] = (1920, 1080), seed: int = 0) -> Image:
    """A BGR uint8 camera frame of ``size`` (width, height) showing ``params``; deterministic from ``seed``."""
    width, height = size
    if width < 64 or height < 64:
        raise ValueError(f"frame size {size!r} is smaller than 64x64")
    if params.black:
        return np.zeros((height, width, 3), np.uint8)
    frame = _background(params, width, height, seed)
    head_px = params.scale * height
    centre = (width * (0.5 + params.offset_x), height * (NOMINAL_HEAD_Y + params.offset_y))
    if params.second_face:
        # Someone behind the applicant: smaller, on the far side of the frame from the applicant.
        side = 1.0 if params.offset_x <= 0 else -1.0
        second = (width * (0.5 + params.offset_x + side * 0.4), height * (NOMINAL_HEAD_Y + params.offset_y - 0.05))
        _place(frame, scale_px=head_px * 0.8, centre=second, roll_deg=0.0)
    _place(frame, scale_px=head_px, centre=centre, roll_deg=params.roll_deg)
    if params.blur > 0:
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), params.blur), dtype=np.uint8)
    if params.light != 1.0:
        frame = np.asarray(cv2.convertScaleAbs(frame, alpha=params.light), dtype=np.uint8)
    if params.noise > 0:
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal(frame.shape, dtype=np.float32) * np.float32(params.noise)
        frame = np.asarray(cv2.add(frame, noise, dtype=cv2.CV_8U), dtype=np.uint8)
    return frame
