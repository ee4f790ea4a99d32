"""The DG2 face: its size from the JPEG header, and JPEG 2000 converted to JPEG."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hallgw_daemon.drivers.document import face_to_jpeg, jpeg_size
from hallgw_protocols.icao9303 import ImageFormat
from hallgw_simulators.passport_deck import FACE_JP2, FACE_JPEG, face_image


def test_jpeg_size_from_the_start_of_frame() -> None:
    assert jpeg_size(FACE_JPEG) == (24, 32)
    ok, encoded = cv2.imencode(".jpg", np.zeros((77, 131), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok and jpeg_size(encoded.tobytes()) == (131, 77)


@pytest.mark.parametrize("data", [b"", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00", FACE_JPEG[:40], b"not a jpeg at all"])
def test_jpeg_size_of_garbage_is_none(data: bytes) -> None:
    assert jpeg_size(data) is None


def test_jpeg_face_is_returned_as_stored() -> None:
    face = face_to_jpeg(face_image(FACE_JPEG))
    assert face is not None and face.jpeg == FACE_JPEG and (face.width, face.height) == (24, 32)


def test_jpeg2000_face_is_converted() -> None:
    face = face_to_jpeg(face_image(FACE_JP2))
    assert face is not None and face.chip_format is ImageFormat.JP2
    decoded = cv2.imdecode(np.frombuffer(face.jpeg, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None and decoded.shape[:2] == (32, 24)


def test_undecodable_face_is_none() -> None:
    assert face_to_jpeg(face_image(b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 20)) is None
