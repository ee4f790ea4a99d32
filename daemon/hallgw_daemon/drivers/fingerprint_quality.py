"""Fingerprint image quality, with hints the applicant can act on.

Theory of operation
-------------------
A capture is worth keeping when enough of the finger touches the sensor, its
ridges stand out from its valleys, the ridges flow smoothly, and the skin is
neither too dry nor too wet. :func:`score` measures each of these on an 8-bit
grey image (the 256x288 image of an AS608 module after its 4-bit upload, or any
other size of at least 32x32) in square blocks of :data:`BLOCK` pixels:

* **foreground**: a block belongs to the finger when the standard deviation of
  its grey levels is above :data:`FOREGROUND_STD` (bare glass is flat; ridges
  are not). The raw value is the finger's share of the blocks: 0 up to
  :data:`FOREGROUND_FLOOR`, 1 from :data:`FOREGROUND_FULL` on (a whole finger pressed flat covers a little
  more than half of the sensor). The centre of the finger blocks, as a
  fraction of the half-diagonal from the image centre, is kept as ``offset``.
* **contrast**: the mean standard deviation of grey levels in the finger
  blocks: 0 at :data:`CONTRAST_FLOOR`, 1 from :data:`CONTRAST_FULL` grey
  levels on (dark ridges on light valleys give about 60).
* **coherence**: how well one ridge orientation explains each finger block.
  From the gradients (3x3 Sobel) summed per block into the structure tensor,
  ``sqrt((gxx - gyy)^2 + 4 gxy^2) / (gxx + gyy)``: 1 for parallel ridges, near
  0 for noise or smeared ridges. The raw value is the mean over the finger
  blocks; 0 at :data:`COHERENCE_FLOOR`, 1 from :data:`COHERENCE_FULL` on.
* **moisture**: the mean grey level of the finger blocks. Ridges and valleys
  in equal parts give a mid grey; dry skin prints little ridge and the mean
  rises, wet skin floods the valleys and it falls. 1 between
  :data:`MOISTURE_BAND`, falling to 0 at :data:`MOISTURE_LIMITS`. The spread
  (standard deviation) of the same pixels tells a faint press from a good one
  and is kept as ``grey_spread``.

The overall score is a weighted geometric mean of the four components
(:data:`WEIGHTS`) times 100: a print is as weak as its weakest part, and an
image without a finger scores 0.

:func:`guidance` picks hints from a fixed set (:class:`Hint`) with the
thresholds of :data:`THRESHOLDS`, most useful first; a good capture gets none.
:func:`is_acceptable` is the driver's decision. Everything here is pure
computation on numpy arrays (about a millisecond an image): no I/O, no clock.
Nothing here keeps or shows pixels: a :class:`Quality` holds figures only.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

BLOCK: Final = 16
"""Side of the square blocks, in pixels: a little under two ridge periods at 500 dpi."""
MIN_SIZE: Final = 2 * BLOCK
"""Smallest image side :func:`score` accepts."""

FOREGROUND_STD: Final = 12.0
"""Grey-level standard deviation above which a block holds ridges (bare glass: under 3)."""
FOREGROUND_FLOOR: Final = 0.1
"""Finger share of the blocks that counts as no contact (a fingertip, a smear on the glass)."""
FOREGROUND_FULL: Final = 0.5
"""Finger share of the blocks that counts as full contact."""
CONTRAST_FLOOR: Final = 8.0
CONTRAST_FULL: Final = 55.0
COHERENCE_FLOOR: Final = 0.3
COHERENCE_FULL: Final = 0.8
MOISTURE_BAND: Final = (110.0, 175.0)
"""Mean grey levels of the finger that count as neither dry nor wet."""
MOISTURE_LIMITS: Final = (60.0, 220.0)
"""Mean grey levels at which the moisture component reaches 0 (wet, dry)."""

WEIGHTS: Final[Mapping[str, float]] = {"foreground": 0.25, "contrast": 0.2, "coherence": 0.3, "moisture": 0.25}
"""Exponents of the weighted geometric mean behind the overall score; they sum to 1."""

DEFAULT_MINIMUM: Final = 70
"""The overall score :func:`is_acceptable` asks for unless told otherwise."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """The limits behind each hint (docs/fingerprint-quality.md says how they were chosen)."""

    placement_foreground: float = 0.40
    """Finger share of the blocks under which the finger is not flat on the sensor."""
    placement_offset: float = 0.30
    """Offset of the finger's centre (fraction of the half-diagonal) above which it is off-centre."""
    wet_mean: float = 105.0
    """Mean grey of the finger under which it is too wet."""
    dry_mean: float = 200.0
    """Mean grey of the finger above which it is too dry."""
    faint_mean: float = 170.0
    """Mean grey of the finger above which, with a narrow spread, the press is too light."""
    faint_spread: float = 40.0
    """Grey-level spread of the finger under which, with a light mean, the press is too light."""
    still_coherence: float = 0.70
    """Mean coherence under which the finger moved, when the mean grey lies between ``wet_mean`` and ``faint_mean``."""
    retry_overall: int = DEFAULT_MINIMUM
    """Overall score under which, with no other hint, the applicant should simply try again.

    The default minimum of :func:`is_acceptable`: a capture refused at that minimum always has a hint.
    """


THRESHOLDS: Final = Thresholds()


class Hint(enum.Enum):
    """Something the applicant can do; the value is the stable code, :attr:`text` what to tell them."""

    PLACE_FLAT_CENTRE = "place_flat_centre"
    TOO_WET = "too_wet"
    TOO_DRY = "too_dry"
    PRESS_HARDER = "press_harder"
    HOLD_STILL = "hold_still"
    LIFT_AND_RETRY = "lift_and_retry"

    @property
    def text(self) -> str:
        """The hint in plain words."""
        return _HINT_TEXT[self]


_HINT_TEXT: Final[Mapping[Hint, str]] = {
    Hint.PLACE_FLAT_CENTRE: "place your finger flat on the centre of the sensor",
    Hint.TOO_WET: "your finger is too wet: wipe it and place it again",
    Hint.TOO_DRY: "your finger is too dry: breathe on it or use the moistening pad",
    Hint.PRESS_HARDER: "press a little harder",
    Hint.HOLD_STILL: "hold your finger still",
    Hint.LIFT_AND_RETRY: "lift your finger and place it again",
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One measure of a capture: ``value`` normalised to 0..1 (1 is good), ``raw`` as measured."""

    value: float
    raw: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.value <= 1.0:
            raise ValueError(f"component value {self.value!r} outside 0..1")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Quality:
    """The quality of one capture: figures only, never pixels."""

    overall: int
    """0..100: the weighted geometric mean of the components."""
    foreground: Component
    """Finger share of the blocks (raw 0..1)."""
    contrast: Component
    """Mean grey-level standard deviation in the finger blocks (raw, grey levels)."""
    coherence: Component
    """Mean orientation coherence of the finger blocks (raw 0..1)."""
    moisture: Component
    """Mean grey level of the finger blocks (raw 0..255): high is dry, low is wet."""
    grey_spread: float
    """Standard deviation of the grey levels of the finger blocks."""
    offset: float
    """Distance of the finger's centre from the image centre, as a fraction of the half-diagonal (1.0: no finger)."""
    guidance: tuple[Hint, ...]
    """What the applicant should do, most useful first; empty for a good capture."""

    def __post_init__(self) -> None:
        if not 0 <= self.overall <= 100:
            raise ValueError(f"overall score {self.overall!r} outside 0..100")


Image = npt.NDArray[np.uint8]
_Blocks = npt.NDArray[np.float32]


def _check(image: object) -> Image:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"expected a 2-D numpy uint8 array of grey levels, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a 2-D numpy uint8 array of grey levels, got dtype {image.dtype}")
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D numpy uint8 array of grey levels (height x width), got shape {image.shape}")
    if min(image.shape) < MIN_SIZE:
        raise ValueError(
            f"expected an image of at least {MIN_SIZE}x{MIN_SIZE} pixels, got {image.shape[1]}x{image.shape[0]}"
        )
    return image


def _ramp(value: float, low: float, high: float) -> float:
    """0 at ``low``, 1 at ``high``, linear between (either order)."""
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _block_sum(values: _Blocks, rows: int, cols: int) -> _Blocks:
    result: _Blocks = values.reshape(rows, BLOCK, cols, BLOCK).sum(axis=(1, 3), dtype=np.float32)
    return result


def score(image: Image) -> Quality:
    """The quality of one capture: an 8-bit grey image, height x width, at least 32x32.

    Raises ValueError, saying what was expected, for anything else (another
    dtype, a colour or 1-D array, a tiny image); never for the content.
    """
    image = _check(image)
    rows, cols = image.shape[0] // BLOCK, image.shape[1] // BLOCK
    grey = image[: rows * BLOCK, : cols * BLOCK].astype(np.float32)
    blocks = grey.reshape(rows, BLOCK, cols, BLOCK)
    total = _block_sum(grey, rows, cols)
    squares = _block_sum(grey * grey, rows, cols)
    count = float(BLOCK * BLOCK)
    block_mean = total / count
    block_std = np.sqrt(np.maximum(squares / count - block_mean * block_mean, 0.0))
    finger = block_std > FOREGROUND_STD
    share = float(finger.mean())
    if not finger.any():
        return _quality(share=0.0, offset=1.0, contrast=0.0, coherence=0.0, mean=0.0, spread=0.0)

    # Where the finger is: the centre of its blocks against the centre of the image.
    ys, xs = np.nonzero(finger)
    dy = (ys.mean() + 0.5 - rows / 2) / (rows / 2)
    dx = (xs.mean() + 0.5 - cols / 2) / (cols / 2)
    offset = min(1.0, math.hypot(dx, dy) / math.sqrt(2.0))

    # Structure tensor per block, then how strongly one orientation dominates.
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    gxx = _block_sum(gx * gx, rows, cols)[finger]
    gyy = _block_sum(gy * gy, rows, cols)[finger]
    gxy = _block_sum(gx * gy, rows, cols)[finger]
    energy = gxx + gyy
    coherent = np.sqrt((gxx - gyy) ** 2 + 4.0 * gxy * gxy) / np.maximum(energy, 1e-6)

    pixels = blocks.transpose(0, 2, 1, 3)[finger]
    return _quality(
        share=share,
        offset=offset,
        contrast=float(block_std[finger].mean()),
        coherence=float(coherent.mean()),
        mean=float(pixels.mean()),
        spread=float(pixels.std()),
    )


def _quality(*, share: float, offset: float, contrast: float, coherence: float, mean: float, spread: float) -> Quality:
    """The components, the overall score and the hints from the raw measures."""
    low, high = MOISTURE_BAND
    wet_limit, dry_limit = MOISTURE_LIMITS
    if share == 0.0:
        moisture = 0.0
    elif mean < low:
        moisture = _ramp(mean, wet_limit, low)
    elif mean > high:
        moisture = _ramp(mean, dry_limit, high)
    else:
        moisture = 1.0
    parts = {
        "foreground": Component(value=_ramp(share, FOREGROUND_FLOOR, FOREGROUND_FULL), raw=share),
        "contrast": Component(value=_ramp(contrast, CONTRAST_FLOOR, CONTRAST_FULL), raw=contrast),
        "coherence": Component(value=_ramp(coherence, COHERENCE_FLOOR, COHERENCE_FULL), raw=coherence),
        "moisture": Component(value=moisture, raw=mean),
    }
    overall = math.prod(parts[name].value ** weight for name, weight in WEIGHTS.items())
    draft = Quality(
        overall=round(100 * overall),
        foreground=parts["foreground"],
        contrast=parts["contrast"],
        coherence=parts["coherence"],
        moisture=parts["moisture"],
        grey_spread=spread,
        offset=offset,
        guidance=(),
    )
    return dataclasses.replace(draft, guidance=guidance(draft))


def guidance(quality: Quality, thresholds: Thresholds = THRESHOLDS) -> tuple[Hint, ...]:
    """The hints for a capture, most useful first (the rules are those of docs/fingerprint-quality.md).

    Placement comes first: nothing else can be judged on a finger that is not
    there. Grey levels too dark or too light explain weak ridges and a broken
    flow by themselves, so "hold still" is only given when the grey levels are
    normal. "Lift and retry" is the fallback for a poor capture with no other cause.
    """
    t = thresholds
    hints: list[Hint] = []
    if quality.foreground.raw < t.placement_foreground or quality.offset > t.placement_offset:
        hints.append(Hint.PLACE_FLAT_CENTRE)
    if quality.foreground.raw == 0.0:
        return tuple(hints)
    mean, spread = quality.moisture.raw, quality.grey_spread
    wet = mean < t.wet_mean
    dry = mean > t.dry_mean
    faint = mean > t.faint_mean and spread < t.faint_spread
    if wet:
        hints.append(Hint.TOO_WET)
    if dry:
        hints.append(Hint.TOO_DRY)
    if faint:
        hints.append(Hint.PRESS_HARDER)
    if quality.coherence.raw < t.still_coherence and t.wet_mean <= mean <= t.faint_mean:
        hints.append(Hint.HOLD_STILL)
    if not hints and quality.overall < t.retry_overall:
        hints.append(Hint.LIFT_AND_RETRY)
    return tuple(hints)


def is_acceptable(quality: Quality, minimum: int = DEFAULT_MINIMUM) -> bool:
    """Whether the driver should keep the capture: at least ``minimum`` overall and nothing to fix."""
    if not 0 <= minimum <= 100:
        raise ValueError(f"minimum score {minimum!r} outside 0..100")
    return quality.overall >= minimum and not quality.guidance
