"""Data fields of SAM responses: the SAM id and the card read (section 1.4).

Parsers (host role) raise :class:`RemoteProtocolError` on any inconsistency;
builders (device role) produce the exact data fields a SAM sends.
"""

from __future__ import annotations

import dataclasses
import struct
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.idcard_sam.text import TEXT_SIZE

SAM_ID_SIZE: Final = 16
PHOTO_SIZE: Final = 1024
"""A WLT-compressed photo is always 1024 bytes; decoding it needs a vendor library."""
FINGERPRINT_SIZES: Final = (0, 512, 1024)
FIND_CARD_DATA: Final = bytes(4)  # meaning [not found]; zeros in every capture
SELECT_CARD_DATA: Final = bytes(8)  # meaning [not found]; zeros in every capture


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SamId:
    """The security module's id: five little-endian integers (2/2/4/4/4 bytes).

    Drivers disagree on how to print it, so the raw bytes are kept and
    :meth:`display` uses one documented form.
    """

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != SAM_ID_SIZE:
            raise ValueError(f"SAM id is {SAM_ID_SIZE} bytes, got {len(self.raw)}")

    @property
    def parts(self) -> tuple[int, int, int, int, int]:
        a, b, c, d, e = struct.unpack("<HHIII", self.raw)
        return a, b, c, d, e

    def display(self) -> str:
        """``AA.BB-C-DDDDDDDDD-EEEEEEEEE``: the HslCommunication form (third part unpadded, last two 9 digits)."""
        a, b, c, d, e = self.parts
        return f"{a:02d}.{b:02d}-{c}-{d:09d}-{e:09d}"

    @classmethod
    def from_parts(cls, a: int, b: int, c: int, d: int, e: int) -> SamId:
        return cls(raw=struct.pack("<HHIII", a, b, c, d, e))


def parse_sam_id(data: bytes) -> SamId:
    if len(data) != SAM_ID_SIZE:
        raise RemoteProtocolError(f"SAM id response carries {len(data)} bytes, expected {SAM_ID_SIZE}")
    return SamId(raw=data)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CardRead:
    """Raw result of a card read: text block, WLT photo, optional fingerprints.

    ``repr`` is deliberately opaque: this object carries personal data.
    """

    text: bytes
    photo: bytes
    fingerprint: bytes = b""

    def __repr__(self) -> str:
        sizes = f"text=<{len(self.text)} bytes>, photo=<{len(self.photo)} bytes>"
        return f"CardRead({sizes}, fingerprint=<{len(self.fingerprint)} bytes>)"


def parse_card_read(data: bytes, *, with_fingerprint: bool) -> CardRead:
    """Split the data of a ``30 01`` (two length words) or ``30 10`` (three) response."""
    words = 3 if with_fingerprint else 2
    head = 2 * words
    if len(data) < head:
        raise RemoteProtocolError(f"card read response too short for its {words} length words")
    lengths = struct.unpack(f">{words}H", data[:head])
    text_len, photo_len = lengths[0], lengths[1]
    fp_len = lengths[2] if with_fingerprint else 0
    if text_len != TEXT_SIZE:
        raise RemoteProtocolError(f"text length {text_len}, expected {TEXT_SIZE}")
    if photo_len != PHOTO_SIZE:
        raise RemoteProtocolError(f"photo length {photo_len}, expected {PHOTO_SIZE}")
    if fp_len not in FINGERPRINT_SIZES:
        raise RemoteProtocolError(f"fingerprint length {fp_len} is not one of {FINGERPRINT_SIZES}")
    if len(data) != head + text_len + photo_len + fp_len:
        raise RemoteProtocolError(
            f"card read carries {len(data) - head} payload bytes, its length words say {text_len + photo_len + fp_len}"
        )
    body = data[head:]
    return CardRead(
        text=body[:text_len],
        photo=body[text_len : text_len + photo_len],
        fingerprint=body[text_len + photo_len :],
    )


def build_card_read(read: CardRead, *, with_fingerprint: bool) -> bytes:
    """The data field a SAM sends for ``30 01`` / ``30 10`` (device role)."""
    if len(read.text) != TEXT_SIZE or len(read.photo) != PHOTO_SIZE:
        raise LocalProtocolError(f"text must be {TEXT_SIZE} bytes and photo {PHOTO_SIZE} bytes")
    if not with_fingerprint:
        return struct.pack(">2H", TEXT_SIZE, PHOTO_SIZE) + read.text + read.photo
    if len(read.fingerprint) not in FINGERPRINT_SIZES:
        raise LocalProtocolError(f"fingerprint must be one of {FINGERPRINT_SIZES} bytes")
    return struct.pack(">3H", TEXT_SIZE, PHOTO_SIZE, len(read.fingerprint)) + read.text + read.photo + read.fingerprint
