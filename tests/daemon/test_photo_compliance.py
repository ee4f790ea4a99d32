"""The photo compliance checks on composed camera frames: each fault fails the right check with the right hint."""

import dataclasses

import cv2
import numpy as np
import pytest

from hallgw_daemon.drivers import photo_compliance as pc
from hallgw_daemon.drivers.photo_compliance import DEFAULT_PROFILE, Hint
from hallgw_simulators import photo_scene as ps


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    return {name: ps.compose(params) for name, params in ps.PRESETS.items()}


@pytest.fixture(scope="module")
def reports(frames: dict[str, np.ndarray]) -> dict[str, pc.Report]:
    return {name: pc.analyse(frame) for name, frame in frames.items()}


def test_compliant_composite_passes(reports: dict[str, pc.Report]) -> None:
    report = reports["compliant"]
    assert report.passed, [(c.name, c.value) for c in report.failed()]
    assert report.hints() == ()
    assert report.faces == 1 and report.eyes is not None and report.crop_fits
    assert report.crop is not None and report.crop.w * 4 == pytest.approx(report.crop.h * 3, abs=4)
    assert pc.score(report) > 0.5


def test_compliant_passes_at_720p_too() -> None:
    report = pc.analyse(ps.compose(ps.COMPLIANT, (1280, 720), seed=3))
    assert report.passed, [(c.name, c.value) for c in report.failed()]


@pytest.mark.parametrize(
    ("preset", "check", "hint"),
    [
        # Image left is the applicant's right: they must move to their left (the module docstring).
        ("off_centre_left", "centre", Hint.MOVE_LEFT),
        ("off_centre_right", "centre", Hint.MOVE_RIGHT),
        ("too_high", "crown_gap", Hint.MOVE_DOWN),
        ("too_low", "crown_gap", Hint.MOVE_UP),
        ("too_small", "head_height", Hint.MOVE_CLOSER),
        ("too_large", "head_height", Hint.MOVE_BACK),
        ("rolled", "roll", Hint.FACE_CAMERA),
        ("blurred", "sharpness", Hint.HOLD_STILL),
        ("dark", "exposure", Hint.MORE_LIGHT),
        ("dark_background", "background_lightness", Hint.BACKGROUND),
        ("patterned_background", "background_uniformity", Hint.BACKGROUND),
        ("two_faces", "face_count", Hint.ONE_PERSON_ONLY),
        ("black", "face_count", Hint.NO_FACE),
    ],
)
def test_each_fault_fails_for_its_reason(reports: dict[str, pc.Report], preset: str, check: str, hint: Hint) -> None:
    report = reports[preset]
    assert not report.passed
    assert not report.check(check).passed
    assert report.check(check).hint is hint
    assert pc.score(report) == 0.0
    expected_first = Hint.MORE_LIGHT if preset == "black" else hint
    assert report.hints()[0] is expected_first, report.hints()
    assert hint in report.hints()


def test_single_faults_fail_only_their_own_kind(reports: dict[str, pc.Report]) -> None:
    # A fault does not drag unrelated checks down with it.
    assert {c.name for c in reports["blurred"].failed()} == {"sharpness"}
    assert {c.name for c in reports["off_centre_left"].failed()} == {"centre"}
    assert {c.name for c in reports["rolled"].failed()} == {"roll"}
    assert {c.name for c in reports["dark_background"].failed()} <= {
        "background_lightness",
        "background_colour",
        "background_uniformity",
    }


def test_size_and_direction_values_have_the_right_sign(reports: dict[str, pc.Report]) -> None:
    assert reports["off_centre_left"].check("centre").value < 0 < reports["off_centre_right"].check("centre").value
    assert reports["too_small"].check("head_height").value < DEFAULT_PROFILE.head_height[0]
    assert reports["too_large"].check("head_height").value > DEFAULT_PROFILE.head_height[1]
    assert not reports["too_large"].crop_fits and not reports["too_small"].crop_fits


def test_roll_both_ways_and_eyes_not_found() -> None:
    report = pc.analyse(ps.compose(dataclasses.replace(ps.COMPLIANT, roll_deg=16.0)))
    assert report.check("roll").hint is Hint.FACE_CAMERA and not report.check("roll").passed
    # A face whose eyes are hidden (blurred out, as behind a glare): the report says so.
    frame = ps.compose(ps.COMPLIANT)
    first = pc.analyse(frame)
    assert first.eyes is not None
    (ax, _), (bx, _) = first.eyes
    covered = frame.copy()
    r = round((bx - ax) * 0.2)
    for x, y in ((round(x), round(y)) for x, y in first.eyes):
        roi = covered[y - r : y + r, x - r : x + r]
        roi[:] = cv2.GaussianBlur(roi, (0, 0), r / 2)
    report = pc.analyse(covered)
    assert report.faces == 1
    assert report.eyes is None
    assert not report.check("roll").passed
    assert report.hints()[0] is Hint.FACE_CAMERA


def test_crop_and_jpeg(frames: dict[str, np.ndarray], reports: dict[str, pc.Report]) -> None:
    photo = pc.crop(frames["compliant"], reports["compliant"])
    assert photo.shape == (DEFAULT_PROFILE.height, DEFAULT_PROFILE.width, 3) == (472, 354, 3)
    assert photo.dtype == np.uint8
    jpeg = pc.encode_jpeg(photo)
    assert 20 * 1024 <= len(jpeg) <= 80 * 1024
    final = pc.with_jpeg(reports["compliant"], jpeg)
    assert final.passed and final.check("file_size").value == len(jpeg)
    assert final.check("jpeg_format").passed


def test_jpeg_quality_search_lands_in_a_narrow_window(
    frames: dict[str, np.ndarray], reports: dict[str, pc.Report]
) -> None:
    photo = pc.crop(frames["compliant"], reports["compliant"])
    for quality in (75, 97):  # below and above the first quality tried (90)
        size = len(cv2.imencode(".jpg", photo, [cv2.IMWRITE_JPEG_QUALITY, quality])[1])
        window = dataclasses.replace(DEFAULT_PROFILE, file_size=(size - 150, size + 150))
        assert size - 150 <= len(pc.encode_jpeg(photo, window)) <= size + 150
    impossible = dataclasses.replace(DEFAULT_PROFILE, file_size=(10, 100))
    assert not pc.check_jpeg(pc.encode_jpeg(photo, impossible), impossible)[0].passed


def test_overlay_draws_on_a_copy(frames: dict[str, np.ndarray], reports: dict[str, pc.Report]) -> None:
    for name in ("compliant", "black"):
        frame = frames[name]
        before = frame.copy()
        overlay = pc.draw_overlay(frame, reports[name])
        assert overlay.shape == frame.shape and overlay.dtype == np.uint8
        assert not np.array_equal(overlay, frame)
        assert np.array_equal(frame, before)


def test_greyscale_fails_the_colour_check(frames: dict[str, np.ndarray]) -> None:
    grey = np.asarray(cv2.cvtColor(frames["compliant"], cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    for image in (grey, np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), dtype=np.uint8)):
        report = pc.analyse(image)
        assert report.faces == 1
        assert not report.check("colour").passed
        assert {c.name for c in report.failed()} == {"colour"}
    assert pc.crop(grey, pc.analyse(grey)).shape == (472, 354, 3)


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((480, 640, 3), np.float32),
        np.zeros((480, 640, 4), np.uint8),
        np.zeros((480, 640, 3), np.uint16),
        np.zeros((480,), np.uint8),
        np.zeros((32, 32, 3), np.uint8),
        [[0, 0], [0, 0]],
    ],
)
def test_wrong_input_is_a_clear_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="expected"):
        pc.analyse(bad)  # type: ignore[arg-type]


def test_crop_needs_a_face(reports: dict[str, pc.Report], frames: dict[str, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="no face"):
        pc.crop(frames["black"], reports["black"])


def test_hints_have_plain_words() -> None:
    assert all(h.text and h.text.isascii() for h in Hint)
    assert "left" in Hint.MOVE_LEFT.text and "right" in Hint.MOVE_RIGHT.text


def test_profile_rejects_a_wrong_aspect() -> None:
    with pytest.raises(ValueError, match="3:4"):
        pc.Profile(width=400, height=472)


def test_compose_is_deterministic_and_presets_differ() -> None:
    a = ps.compose(ps.COMPLIANT, (320, 240), seed=7)
    assert np.array_equal(a, ps.compose(ps.COMPLIANT, (320, 240), seed=7))
    assert not np.array_equal(a, ps.compose(ps.COMPLIANT, (320, 240), seed=8))
    assert not ps.compose(ps.BLACK, (320, 240)).any()
