"""BER-TLV as ISO/IEC 7816-4 and the LDS use it: multi-byte tags, definite lengths up to 4 bytes.

Tags are kept as integers of their encoded bytes (``0x5F1F``, ``0x7F61``), as
Doc 9303 writes them. Every read is bounds checked: malformed input raises
:class:`RemoteProtocolError` (the chip sent it), never IndexError.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hallgw_protocols._common import NEED_DATA, LocalProtocolError, NeedData, RemoteProtocolError

MAX_TAG_BYTES: Final = 3
MAX_LENGTH_BYTES: Final = 4
MAX_DEPTH: Final = 16
"""Nesting limit for :meth:`Tlv.children` walks: LDS files nest 4 or 5 levels deep."""


def _tag_bytes(tag: int) -> bytes:
    if tag < 0 or tag >= 1 << (8 * MAX_TAG_BYTES):
        raise LocalProtocolError("tag out of range")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def is_constructed(tag: int) -> bool:
    """Whether ``tag`` marks a constructed object (bit 6 of its first byte)."""
    return bool(_tag_bytes(tag)[0] & 0x20)


def encode_length(length: int) -> bytes:
    """Definite-length encoding: short form below 128, else ``81``..``84`` and the length."""
    if length < 0 or length >= 1 << (8 * MAX_LENGTH_BYTES):
        raise LocalProtocolError("TLV length out of range")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode_tlv(tag: int, value: bytes) -> bytes:
    """One TLV object."""
    return _tag_bytes(tag) + encode_length(len(value)) + value


def object_size(prefix: bytes) -> int | NeedData:
    """The whole size of the TLV object ``prefix`` starts with, once its header is complete.

    A reader takes the first bytes of a file and learns how much more to read.
    """
    header = _read_header(prefix, 0)
    if isinstance(header, NeedData):
        return header
    _, length, value_offset = header
    return value_offset + length


def _read_header(data: bytes, offset: int) -> tuple[int, int, int] | NeedData:
    """(tag, length, value offset) of the object at ``offset``, or NEED_DATA when the header is cut short."""
    pos = offset
    if pos >= len(data):
        return NEED_DATA
    first = data[pos]
    pos += 1
    tag = first
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                return NEED_DATA
            byte = data[pos]
            pos += 1
            tag = tag << 8 | byte
            if pos - offset > MAX_TAG_BYTES:
                raise RemoteProtocolError(f"BER-TLV tag longer than {MAX_TAG_BYTES} bytes")
            if not byte & 0x80:
                break
    if pos >= len(data):
        return NEED_DATA
    length = data[pos]
    pos += 1
    if length == 0x80:
        raise RemoteProtocolError("indefinite BER-TLV length where a definite one is required")
    if length > 0x80:
        size = length & 0x7F
        if size > MAX_LENGTH_BYTES:
            raise RemoteProtocolError(f"BER-TLV length field of {size} bytes")
        if pos + size > len(data):
            return NEED_DATA
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    return tag, length, pos


def tlv_size(prefix: bytes) -> int | NeedData:
    """Total size of the TLV object that ``prefix`` begins, or NEED_DATA until its header is complete.

    This is how a reader learns a file's length from its first READ BINARY.
    """
    header = _read_header(prefix, 0)
    if header is NEED_DATA:
        return NEED_DATA
    _, length, start = header
    return start + length


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Tlv:
    """One BER-TLV data object."""

    tag: int
    value: bytes

    def __post_init__(self) -> None:
        _tag_bytes(self.tag)

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def to_bytes(self) -> bytes:
        return encode_tlv(self.tag, self.value)

    def children(self) -> tuple[Tlv, ...]:
        """The objects inside a constructed object."""
        if not self.constructed:
            raise LocalProtocolError(f"tag {self.tag:X} is primitive: it has no children")
        return parse_tlvs(self.value)

    def child(self, tag: int) -> Tlv:
        """The first child with ``tag``; the chip is at fault if it is missing."""
        for item in self.children():
            if item.tag == tag:
                return item
        raise RemoteProtocolError(f"tag {tag:X} missing inside tag {self.tag:X}")


def read_tlv(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """The object at ``offset`` and the offset just after it."""
    header = _read_header(data, offset)
    if header is NEED_DATA:
        raise RemoteProtocolError("BER-TLV header truncated")
    tag, length, start = header
    end = start + length
    if end > len(data):
        raise RemoteProtocolError(f"BER-TLV object {tag:X} claims {length} bytes but {len(data) - start} remain")
    return Tlv(tag=tag, value=data[start:end]), end


def parse_tlvs(data: bytes) -> tuple[Tlv, ...]:
    """Every object of ``data``, which must be consumed exactly."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        item, offset = read_tlv(data, offset)
        items.append(item)
    return tuple(items)


def parse_single(data: bytes, tag: int) -> Tlv:
    """``data`` as exactly one object with ``tag`` (an LDS file: trailing bytes are an error)."""
    item, end = read_tlv(data)
    if item.tag != tag:
        raise RemoteProtocolError(f"expected tag {tag:X}, found {item.tag:X}")
    if end != len(data):
        raise RemoteProtocolError(f"{len(data) - end} bytes follow the object with tag {tag:X}")
    return item
