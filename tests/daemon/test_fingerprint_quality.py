"""Fingerprint quality on the simulator's captures, as the daemon receives them (4-bit upload)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_daemon.drivers.fingerprint_quality import (
    DEFAULT_MINIMUM,
    Hint,
    Image,
    Quality,
    guidance,
    is_acceptable,
    score,
)
from hallgw_protocols.fingerprint.as608 import IMAGE_HEIGHT, IMAGE_WIDTH, pack_4bit, unpack_4bit
from hallgw_simulators.fingerprint_module import Contact, Finger, render_finger

PRINTS = [(1, "alice/right-index"), (7, "bob/left-thumb"), (3, "carol/right-middle"), (11, "dave/left-ring")]
"""Seeds and fingers: between them a whorl, loops and arches."""

KINDS: dict[str, tuple[Contact, float]] = {
    "clean": (Contact.GOOD, 1.0),
    "partial": (Contact.GOOD, 0.35),
    "smudged": (Contact.MOVING, 1.0),
    "dry": (Contact.DRY, 1.0),
    "wet": (Contact.WET, 1.0),
    "light": (Contact.LIGHT, 1.0),
}

OWN_HINT = {
    "partial": Hint.PLACE_FLAT_CENTRE,
    "smudged": Hint.HOLD_STILL,
    "dry": Hint.TOO_DRY,
    "wet": Hint.TOO_WET,
    "light": Hint.PRESS_HARDER,
}


def capture(seed: int, finger_id: str, kind: str) -> Image:
    """The image the daemon gets: the module's render after the 4-bit trip over the UART."""
    contact, coverage = KINDS[kind]
    rendered = render_finger(seed, Finger(finger_id=finger_id, contact=contact, coverage=coverage))
    received = unpack_4bit(pack_4bit(rendered))
    return np.frombuffer(received.pixels, dtype=np.uint8).reshape(IMAGE_HEIGHT, IMAGE_WIDTH)


def rendered(seed: int, finger_id: str, kind: str) -> Image:
    """The module's own 8-bit image (a host on USB would get this one)."""
    contact, coverage = KINDS[kind]
    image = render_finger(seed, Finger(finger_id=finger_id, contact=contact, coverage=coverage))
    return np.frombuffer(image.pixels, dtype=np.uint8).reshape(IMAGE_HEIGHT, IMAGE_WIDTH)


@pytest.fixture(scope="module")
def scores() -> dict[tuple[int, str], dict[str, Quality]]:
    return {(seed, fid): {kind: score(capture(seed, fid, kind)) for kind in KINDS} for seed, fid in PRINTS}


@pytest.mark.parametrize(("seed", "finger_id"), PRINTS)
def test_clean_ranks_above_every_poor_capture(
    scores: dict[tuple[int, str], dict[str, Quality]], seed: int, finger_id: str
) -> None:
    by_kind = scores[seed, finger_id]
    clean = by_kind["clean"]
    assert clean.overall >= 90, clean
    for kind in OWN_HINT:
        assert by_kind[kind].overall < clean.overall - 10, (kind, by_kind[kind])
    # Each poor capture loses most on the component that describes its fault.
    assert by_kind["partial"].foreground.value < 0.5 < clean.foreground.value
    assert by_kind["smudged"].coherence.raw < clean.coherence.raw - 0.2
    assert by_kind["dry"].moisture.raw > clean.moisture.raw + 40
    assert by_kind["wet"].moisture.raw < clean.moisture.raw - 40
    assert by_kind["light"].contrast.raw < clean.contrast.raw / 2


@pytest.mark.parametrize(("seed", "finger_id"), PRINTS)
def test_each_poor_capture_gets_its_own_hint_and_the_clean_one_none(
    scores: dict[tuple[int, str], dict[str, Quality]], seed: int, finger_id: str
) -> None:
    by_kind = scores[seed, finger_id]
    assert by_kind["clean"].guidance == ()
    assert is_acceptable(by_kind["clean"])
    for kind, hint in OWN_HINT.items():
        quality = by_kind[kind]
        assert quality.guidance[0] is hint, (kind, quality.guidance)
        assert not is_acceptable(quality)
        # No advice that does not fit: a dry finger is not told to hold still, a smudge is not told it is wet.
        others = set(OWN_HINT.values()) - {hint}
        if kind == "dry":
            others -= {Hint.PRESS_HARDER}  # a dry print is faint too: pressing harder helps
        assert not others & set(quality.guidance), (kind, quality.guidance)


def test_the_module_own_8_bit_images_score_alike() -> None:
    for seed, finger_id in PRINTS[:2]:
        clean = score(rendered(seed, finger_id, "clean"))
        assert clean.overall >= 90 and clean.guidance == ()
        for kind, hint in OWN_HINT.items():
            quality = score(rendered(seed, finger_id, kind))
            assert quality.overall < clean.overall and quality.guidance[0] is hint, (kind, quality)


def test_hints_have_stable_codes_and_plain_words() -> None:
    assert {hint.value for hint in Hint} == {
        "place_flat_centre",
        "too_wet",
        "too_dry",
        "press_harder",
        "hold_still",
        "lift_and_retry",
    }
    assert Hint.PLACE_FLAT_CENTRE.text == "place your finger flat on the centre of the sensor"
    assert Hint.TOO_DRY.text == "your finger is too dry: breathe on it or use the moistening pad"
    assert Hint.TOO_WET.text == "your finger is too wet: wipe it and place it again"
    assert Hint.PRESS_HARDER.text == "press a little harder"
    assert Hint.HOLD_STILL.text == "hold your finger still"
    assert Hint.LIFT_AND_RETRY.text == "lift your finger and place it again"


@pytest.mark.parametrize("grey", [0, 224, 255])
def test_a_blank_sensor_scores_zero_and_asks_for_the_finger(grey: int) -> None:
    quality = score(np.full((IMAGE_HEIGHT, IMAGE_WIDTH), grey, dtype=np.uint8))
    assert quality.overall == 0
    assert quality.foreground.raw == 0.0
    assert quality.guidance == (Hint.PLACE_FLAT_CENTRE,)
    assert not is_acceptable(quality, 0)  # a minimum of 0 still wants no hint


def test_a_bare_sensor_with_faint_noise_scores_near_zero() -> None:
    rng = np.random.default_rng(5)
    noise = (224 + rng.integers(-6, 7, size=(IMAGE_HEIGHT, IMAGE_WIDTH))).astype(np.uint8)
    quality = score(noise)
    assert quality.overall <= 5
    assert quality.guidance[0] is Hint.PLACE_FLAT_CENTRE


def test_strong_noise_is_no_fingerprint() -> None:
    rng = np.random.default_rng(6)
    quality = score(rng.integers(0, 256, size=(IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.uint8))
    assert quality.coherence.raw < 0.3
    assert quality.overall < 20
    assert quality.guidance and not is_acceptable(quality)


def test_a_finger_in_one_corner_is_off_centre() -> None:
    image = np.full((IMAGE_HEIGHT, IMAGE_WIDTH), 224, dtype=np.uint8)
    clean = capture(*PRINTS[0], "clean")
    image[:144, :128] = clean[72:216, 64:192]  # the middle of a good print, pushed into the top left
    quality = score(image)
    assert quality.offset > 0.3
    assert quality.guidance[0] is Hint.PLACE_FLAT_CENTRE


def test_other_sizes_are_scored_and_odd_edges_ignored() -> None:
    clean = capture(*PRINTS[0], "clean")
    quality = score(np.ascontiguousarray(clean[10:260, 20:237]))  # 217x250: not a multiple of the block
    assert quality.overall >= 80
    small = score(np.zeros((32, 32), dtype=np.uint8))
    assert small.overall == 0


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(32, 300),
    width=st.integers(32, 300),
    low=st.integers(0, 255),
    span=st.integers(0, 255),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_grey_image_scores_without_raising(height: int, width: int, low: int, span: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    image = np.clip(low + rng.integers(0, span + 1, size=(height, width)), 0, 255).astype(np.uint8)
    quality = score(image)
    assert 0 <= quality.overall <= 100
    for part in (quality.foreground, quality.contrast, quality.coherence, quality.moisture):
        assert 0.0 <= part.value <= 1.0 and np.isfinite(part.raw)
    assert len(quality.guidance) == len(set(quality.guidance)) <= 3
    assert is_acceptable(quality) or quality.guidance  # a refused capture always says what to do


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (np.zeros((IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.float64), "dtype float64"),
        (np.zeros((IMAGE_HEIGHT, IMAGE_WIDTH), dtype=np.uint16), "dtype uint16"),
        (np.zeros((IMAGE_HEIGHT, IMAGE_WIDTH, 3), dtype=np.uint8), r"shape \(288, 256, 3\)"),
        (np.zeros(IMAGE_HEIGHT * IMAGE_WIDTH, dtype=np.uint8), "shape"),
        (np.zeros((31, 256), dtype=np.uint8), "at least 32x32"),
        (np.zeros((0, 0), dtype=np.uint8), "at least 32x32"),
        (bytes(IMAGE_HEIGHT * IMAGE_WIDTH), "got bytes"),
        ([[0] * 64] * 64, "got list"),
    ],
)
def test_wrong_input_says_what_was_expected(image: object, expected: str) -> None:
    with pytest.raises(ValueError, match=expected) as caught:
        score(image)  # type: ignore[arg-type]
    assert "uint8" in str(caught.value) or "32x32" in str(caught.value)


def test_acceptance_needs_the_minimum_and_no_hint() -> None:
    clean = score(capture(*PRINTS[0], "clean"))
    assert is_acceptable(clean, DEFAULT_MINIMUM) and is_acceptable(clean, 100) == (clean.overall == 100)
    hinted = dataclasses.replace(clean, guidance=(Hint.HOLD_STILL,))
    assert not is_acceptable(hinted)
    for bad in (-1, 101):
        with pytest.raises(ValueError, match=r"outside 0\.\.100"):
            is_acceptable(clean, bad)


def test_guidance_falls_back_to_try_again_for_a_poor_capture_with_no_cause() -> None:
    clean = score(capture(*PRINTS[0], "clean"))
    poor = dataclasses.replace(clean, overall=20)
    assert guidance(poor) == (Hint.LIFT_AND_RETRY,)
    assert guidance(clean) == ()
    # A washed-out print in mid grey: placed well, neither dry nor wet, the flow intact, the ridges weak.
    washed = np.clip(140 + (rendered(*PRINTS[0], "clean").astype(np.float64) - 150) / 5, 0, 255).astype(np.uint8)
    quality = score(washed)
    assert quality.overall < DEFAULT_MINIMUM and quality.contrast.value < 0.2
    assert quality.guidance == (Hint.LIFT_AND_RETRY,)
    # Whatever is refused at the default minimum comes with something to do.
    for grey in (60, 100, 140, 180):
        assert score(np.clip(washed.astype(np.int16) - 140 + grey, 0, 255).astype(np.uint8)).guidance


def test_quality_holds_figures_only() -> None:
    quality = score(capture(*PRINTS[0], "smudged"))
    text = repr(quality)
    assert len(text) < 600
    assert "array" not in text and "[[" not in text
    with pytest.raises(dataclasses.FrozenInstanceError):
        quality.overall = 100  # type: ignore[misc]
