"""Page detection, rectification and encoding on composed desk scenes with known page corners.

The scenes come from the simulator's composer (:mod:`hallgw_simulators.document_scene`), which also gives the
true page corners (:func:`page_quad`); frames go through a JPEG round trip, as they do from a camera.
"""

from __future__ import annotations

import re
import zlib

import cv2
import numpy as np
import pytest

from hallgw_daemon.drivers.page_detect import (
    CORNER_TOLERANCE_PX,
    MIN_PAGE_AREA,
    Hint,
    a4_size,
    corner_error,
    detect_factor,
    encode_pages,
    find_page,
    rectify,
)
from hallgw_simulators.document_scene import (
    CUT_OFF,
    DARK,
    LANDSCAPE,
    MOVING,
    NO_PAGE,
    PAGE_PLACED,
    SECOND_PAGE,
    SMALL,
    DeskParams,
    compose_desk,
    page_quad,
    render_page,
)

HD = (1920, 1080)


def camera_frame(params: DeskParams, size: tuple[int, int] = HD, seed: int = 1, page_id: int = 0) -> np.ndarray:
    """A composed frame after JPEG at quality 90, as a camera would send it."""
    ok, data = cv2.imencode(
        ".jpg", compose_desk(params, size, seed=seed, page_id=page_id), [cv2.IMWRITE_JPEG_QUALITY, 90]
    )
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)


# -- finding the page ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "size"),
    [
        (PAGE_PLACED, HD),
        (SECOND_PAGE, HD),
        (DeskParams(rotate_deg=-30.0, keystone=0.08, scale=0.7), HD),
        (DeskParams(rotate_deg=12.0, keystone=-0.06, offset_x=0.1, scale=0.8), (1280, 720)),
        (PAGE_PLACED, (3264, 2448)),
        (LANDSCAPE, HD),
    ],
    ids=["placed", "second", "rotated-30-keystone", "720p-offset", "8mp", "landscape"],
)
def test_page_corners_within_tolerance(params: DeskParams, size: tuple[int, int]) -> None:
    result = find_page(camera_frame(params, size))
    truth = page_quad(params, size)
    assert truth is not None
    assert result.ok, result.hints
    assert result.frame_size == size
    assert corner_error(result.corners(), truth) <= CORNER_TOLERANCE_PX


def test_corners_are_ordered_clockwise_from_top_left() -> None:
    quad = find_page(camera_frame(PAGE_PLACED)).corners()
    tl, tr, br, bl = quad
    assert tl[0] < tr[0] and bl[0] < br[0] and tl[1] < bl[1] and tr[1] < br[1]
    # the page's own corner order matches exactly when it is not turned sideways
    truth = page_quad(PAGE_PLACED, HD)
    assert truth is not None
    assert float(np.max(np.linalg.norm(quad - truth, axis=1))) <= CORNER_TOLERANCE_PX


def test_subpixel_refinement_beats_the_coarse_contour() -> None:
    """Without cornerSubPix the corners are off by whole pixels of the small image (the measured 4-11 px)."""
    result = find_page(camera_frame(PAGE_PLACED))
    truth = page_quad(PAGE_PLACED, HD)
    assert truth is not None
    assert corner_error(result.corners(), truth) < 1.0


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        (NO_PAGE, Hint.PAGE_NOT_FOUND),
        (CUT_OFF, Hint.PAGE_CUT_OFF),
        (DeskParams(offset_y=0.2, rotate_deg=3.0), Hint.PAGE_CUT_OFF),  # the bottom corners below the frame
        (DARK, Hint.TOO_DARK),
        (SMALL, Hint.TOO_SMALL),
        (MOVING, Hint.HOLD_STILL),
    ],
    ids=["no-page", "cut-off-right", "cut-off-bottom", "dark", "small", "moving"],
)
def test_hints(params: DeskParams, hint: Hint) -> None:
    result = find_page(camera_frame(params))
    assert result.hints[0] is hint
    assert not result.ok
    assert hint.text  # plain words for every hint
    if hint in (Hint.PAGE_NOT_FOUND, Hint.PAGE_CUT_OFF):
        assert result.quad is None
    else:  # the page is there, a check failed: the quad is still reported
        truth = page_quad(params, HD)
        assert truth is not None
        assert corner_error(result.corners(), truth) <= 2 * CORNER_TOLERANCE_PX


def test_black_frame_is_too_dark() -> None:
    result = find_page(np.zeros((1080, 1920, 3), np.uint8))
    assert result.hints == (Hint.TOO_DARK,)
    assert result.quad is None


def test_figures_of_a_good_page() -> None:
    result = find_page(camera_frame(PAGE_PLACED))
    assert result.area_share > MIN_PAGE_AREA
    assert result.brightness > 180
    assert result.edge_width_px is not None and result.edge_width_px < 5
    assert "array" not in repr(result)  # figures only


def test_grey_frames_are_taken_and_odd_shapes_refused() -> None:
    grey = np.asarray(cv2.cvtColor(camera_frame(PAGE_PLACED), cv2.COLOR_BGR2GRAY), np.uint8)
    assert find_page(grey).ok
    with pytest.raises(ValueError, match="BGR or grey"):
        find_page(np.zeros((10, 10, 4), np.uint8))


def test_detect_factor_is_an_integer_near_800_pixels() -> None:
    assert detect_factor(3264, 2448) == 4
    assert detect_factor(1920, 1080) == 2
    assert detect_factor(640, 480) == 1


# -- rectifying --------------------------------------------------------------------------


def test_rectified_page_is_a4_at_the_dpi_and_matches_the_source() -> None:
    frame = camera_frame(PAGE_PLACED, (3264, 2448))
    result = find_page(frame)
    page = rectify(frame, result.corners(), dpi=150)
    assert page.shape == (1754, 1240, 3) == (*a4_size(150)[::-1], 3)
    source = cv2.cvtColor(render_page(0), cv2.COLOR_BGR2GRAY).astype(np.float32)
    got = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY).astype(np.float32)
    ncc = float(cv2.matchTemplate(got, source, cv2.TM_CCOEFF_NORMED)[0, 0])
    assert ncc > 0.7, ncc  # the reference measured 0.74-0.78 on its scenes


def test_a4_sizes() -> None:
    assert a4_size(200) == (1654, 2339)
    assert a4_size(300) == (2480, 3508)


def test_sideways_page_is_turned_upright() -> None:
    frame = camera_frame(LANDSCAPE)
    page = rectify(frame, find_page(frame).corners(), dpi=100)
    assert page.shape[:2] == (1169, 827)
    source = cv2.resize(cv2.cvtColor(render_page(0), cv2.COLOR_BGR2GRAY), (827, 1169)).astype(np.float32)
    got = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY).astype(np.float32)
    upright = float(cv2.matchTemplate(got, source, cv2.TM_CCOEFF_NORMED)[0, 0])
    flipped = float(cv2.matchTemplate(got, source[::-1, ::-1].copy(), cv2.TM_CCOEFF_NORMED)[0, 0])
    assert upright > 0.5 > flipped


def test_rectify_refuses_a_silly_dpi() -> None:
    with pytest.raises(ValueError, match="dpi"):
        rectify(camera_frame(PAGE_PLACED), np.zeros((4, 2)), dpi=5000)


# -- encoding ---------------------------------------------------------------------------------


def _pages(count: int, dpi: int = 100) -> list[np.ndarray]:
    frame = camera_frame(PAGE_PLACED)
    quad = find_page(frame).corners()
    return [rectify(frame, quad, dpi=dpi) for _ in range(count)]


def test_jpeg_decodes_and_states_its_dpi() -> None:
    data = encode_pages(_pages(1), "jpeg", 100)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (1169, 827, 3)
    assert data[6:11] == b"JFIF\x00" and data[13] == 1  # units: dots per inch
    assert int.from_bytes(data[14:16], "big") == 100 == int.from_bytes(data[16:18], "big")


def _parse_pdf(data: bytes) -> tuple[int, list[tuple[float, ...]], list[bytes]]:
    """Page count from the page tree, MediaBoxes and image streams, checking the xref offsets on the way."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data).group(1))  # type: ignore[union-attr]
    assert data[startxref : startxref + 4] == b"xref"
    header = re.match(rb"xref\s+0 (\d+)\s+", data[startxref:])
    assert header is not None
    count = int(header.group(1))
    entries = data[startxref + header.end() :].split(b"\n")[:count]
    for number, entry in enumerate(entries[1:], start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj" % number), number
    pages = int(re.search(rb"/Type /Pages .*?/Count (\d+)", data).group(1))  # type: ignore[union-attr]
    boxes = [
        tuple(float(v) for v in m.groups())
        for m in re.finditer(rb"/MediaBox \[([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\]", data)
    ]
    images = []
    for m in re.finditer(rb"/Filter /DCTDecode /Length (\d+) >>\nstream\n", data):
        length = int(m.group(1))
        images.append(data[m.end() : m.end() + length])
        assert data[m.end() + length : m.end() + length + 10] == b"\nendstream"
    return pages, boxes, images


@pytest.mark.parametrize("count", [1, 3])
def test_pdf_has_the_pages_at_a4(count: int) -> None:
    data = encode_pages(_pages(count), "pdf", 100)
    pages, boxes, images = _parse_pdf(data)
    assert pages == count == len(boxes) == len(images) == len(re.findall(rb"/Type /Page\b(?!s)", data))
    for box in boxes:
        assert box[:2] == (0.0, 0.0)
        assert box[2] == pytest.approx(595.28, abs=0.01) and box[3] == pytest.approx(841.89, abs=0.01)
    for jpeg in images:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (1169, 827, 3)
    assert zlib.crc32(data) == zlib.crc32(encode_pages(_pages(count), "pdf", 100))  # deterministic: no dates


def test_encode_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match="one page"):
        encode_pages(_pages(2), "jpeg", 100)
    with pytest.raises(ValueError, match="no pages"):
        encode_pages([], "pdf", 100)
    with pytest.raises(ValueError, match="format"):
        encode_pages(_pages(1), "png", 100)  # type: ignore[arg-type]
