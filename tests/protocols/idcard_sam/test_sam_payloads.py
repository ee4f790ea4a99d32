"""Data fields of SAM responses: the SAM id and the card read (reference section 1.4)."""

from __future__ import annotations

import struct

import pytest

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.idcard_sam import (
    FIND_CARD_DATA,
    PHOTO_SIZE,
    SELECT_CARD_DATA,
    TEXT_SIZE,
    CardRead,
    SamId,
    build_card_read,
    parse_card_read,
    parse_sam_id,
)

TEXT = bytes((i * 3) & 0xFF for i in range(TEXT_SIZE))
PHOTO = bytes((i * 5 + 1) & 0xFF for i in range(PHOTO_SIZE))


def test_find_and_select_data_are_zeros_as_captured() -> None:
    assert (bytes(4), bytes(8)) == (FIND_CARD_DATA, SELECT_CARD_DATA)


def test_sam_id_parts_are_little_endian_2_2_4_4_4() -> None:
    raw = bytes.fromhex("0500 0100 D5AF3401 15CD5B07 B168DE3A")
    sam_id = parse_sam_id(raw)
    assert sam_id.raw == raw
    assert sam_id.parts == (5, 1, 20230101, 123456789, 987654321)
    assert SamId.from_parts(*sam_id.parts) == sam_id


def test_sam_id_display_is_the_hslcommunication_form() -> None:
    # AA.BB - third part unpadded - fourth and fifth as 9 digits (reference 1.4).
    assert SamId.from_parts(5, 1, 20230101, 1234567, 89).display() == "05.01-20230101-001234567-000000089"
    assert SamId.from_parts(0, 0, 0, 0, 0).display() == "00.00-0-000000000-000000000"
    # Full 32-bit values are printed unsigned.
    assert SamId.from_parts(99, 99, 2**32 - 1, 2**32 - 1, 2**32 - 1).display() == (
        "99.99-4294967295-4294967295-4294967295"
    )


@pytest.mark.parametrize("size", [0, 15, 17, 32])
def test_sam_id_of_wrong_size(size: int) -> None:
    with pytest.raises(RemoteProtocolError, match="16"):
        parse_sam_id(bytes(size))
    with pytest.raises(ValueError, match="16"):
        SamId(raw=bytes(size))


def test_build_text_photo_read() -> None:
    data = build_card_read(CardRead(text=TEXT, photo=PHOTO), with_fingerprint=False)
    assert data[:4] == bytes.fromhex("01 00 04 00")
    assert data[4:260] == TEXT
    assert data[260:] == PHOTO
    assert parse_card_read(data, with_fingerprint=False) == CardRead(text=TEXT, photo=PHOTO)


def test_build_ignores_fingerprint_when_not_asked() -> None:
    read = CardRead(text=TEXT, photo=PHOTO, fingerprint=bytes(512))
    assert len(build_card_read(read, with_fingerprint=False)) == 4 + TEXT_SIZE + PHOTO_SIZE


@pytest.mark.parametrize("fp_size", [0, 512, 1024])
def test_build_text_photo_fingerprint_read(fp_size: int) -> None:
    fingerprint = bytes(range(256)) * (fp_size // 256)
    data = build_card_read(CardRead(text=TEXT, photo=PHOTO, fingerprint=fingerprint), with_fingerprint=True)
    assert data[:6] == struct.pack(">3H", 256, 1024, fp_size)
    assert data[6:262] == TEXT
    assert data[262:1286] == PHOTO
    assert data[1286:] == fingerprint
    assert parse_card_read(data, with_fingerprint=True).fingerprint == fingerprint


@pytest.mark.parametrize(
    "read",
    [
        CardRead(text=TEXT[:-1], photo=PHOTO),
        CardRead(text=TEXT, photo=PHOTO + b"\x00"),
        CardRead(text=TEXT, photo=PHOTO, fingerprint=bytes(100)),
    ],
)
def test_build_refuses_wrong_sizes(read: CardRead) -> None:
    with pytest.raises(LocalProtocolError):
        build_card_read(read, with_fingerprint=True)


def read_data(text_len: int, photo_len: int, fp_len: int | None, payload: int) -> bytes:
    words = (text_len, photo_len) if fp_len is None else (text_len, photo_len, fp_len)
    return struct.pack(f">{len(words)}H", *words) + bytes(payload)


@pytest.mark.parametrize(
    ("data", "with_fingerprint", "match"),
    [
        (b"", False, "length words"),
        (b"\x01\x00\x04", False, "length words"),
        (b"\x01\x00\x04\x00\x00", True, "length words"),
        (read_data(255, 1024, None, 1279), False, "text length"),
        (read_data(256, 1023, None, 1279), False, "photo length"),
        (read_data(256, 1024, 256, 1536), True, "fingerprint length"),
        (read_data(256, 1024, None, 1279), False, "payload bytes"),
        (read_data(256, 1024, None, 1281), False, "payload bytes"),
        (read_data(256, 1024, 512, 1280 + 511), True, "payload bytes"),
        (read_data(256, 1024, 1024, 1280 + 512), True, "payload bytes"),
        # A 30 10 answer parsed as 30 01: the words disagree with the payload.
        (read_data(256, 1024, 0, 1280), False, "payload bytes"),
    ],
)
def test_parse_rejects_inconsistent_reads(data: bytes, with_fingerprint: bool, match: str) -> None:
    with pytest.raises(RemoteProtocolError, match=match):
        parse_card_read(data, with_fingerprint=with_fingerprint)


def test_card_read_repr_shows_no_content() -> None:
    text = "测试样例".encode("utf-16-le").ljust(TEXT_SIZE, b" ")
    read = CardRead(text=text, photo=PHOTO, fingerprint=bytes(512))
    shown = repr(read)
    assert shown == "CardRead(text=<256 bytes>, photo=<1024 bytes>, fingerprint=<512 bytes>)"
    assert str(read) == shown
    assert "测试" not in shown
    assert "\\x" not in shown
