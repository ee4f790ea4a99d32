"""Packets of the AS608 / ZFM / R30x protocol (reference/protocols.md section 2.2).

Every packet, in both directions::

    EF 01 | ADDRESS(4, BE) | PID | LENGTH(2, BE) | PAYLOAD... | CHECKSUM(2, BE)

``LENGTH`` counts the payload plus the two checksum bytes. ``CHECKSUM`` is the
arithmetic sum of the PID, both length bytes and every payload byte, truncated
to 16 bits. A data packet's checksum uses its own PID (``02`` or ``08``).

This module frames and unframes single packets; stream reassembly lives in
:mod:`.connection`.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

HEADER: Final = b"\xef\x01"
DEFAULT_ADDRESS: Final = 0xFFFFFFFF
PREFIX_SIZE: Final = len(HEADER) + 4 + 1 + 2
"""Header, address, PID and length: what a receiver reads before it knows the size."""
CHECKSUM_SIZE: Final = 2

MAX_PAYLOAD: Final = 256
"""Largest payload accepted. [single source] (R503 manual: "maximum packet content
length 256"); it matches the largest data packet size (code 3 = 256 bytes)."""
MIN_PAYLOAD: Final = 1
"""Every packet we know carries at least an instruction, a confirmation code or one data byte."""
MAX_PACKET: Final = PREFIX_SIZE + MAX_PAYLOAD + CHECKSUM_SIZE


class PacketId(enum.IntEnum):
    """The packet identifier byte (PID). All [2+]."""

    COMMAND = 0x01
    """Command packet, host to module."""
    DATA = 0x02
    """Data packet, more follow."""
    ACK = 0x07
    """Acknowledge packet, module to host."""
    END = 0x08
    """Last data packet."""


def checksum(pid: int, payload: bytes) -> int:
    """The 16-bit checksum of a packet: PID + length bytes + payload, modulo 2**16."""
    length = len(payload) + CHECKSUM_SIZE
    return (pid + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Packet:
    """One packet on the wire, whatever it carries."""

    pid: PacketId
    payload: bytes
    address: int = DEFAULT_ADDRESS

    def __post_init__(self) -> None:
        if not isinstance(self.pid, PacketId):
            raise LocalProtocolError(f"pid must be a PacketId, got {self.pid!r}")
        if not 0 <= self.address <= 0xFFFFFFFF:
            raise LocalProtocolError(f"address out of 32-bit range: {self.address!r}")
        if not MIN_PAYLOAD <= len(self.payload) <= MAX_PAYLOAD:
            raise LocalProtocolError(f"payload of {len(self.payload)} bytes outside {MIN_PAYLOAD}..{MAX_PAYLOAD}")

    def to_bytes(self) -> bytes:
        length = len(self.payload) + CHECKSUM_SIZE
        return (
            HEADER
            + self.address.to_bytes(4, "big")
            + bytes([self.pid])
            + length.to_bytes(2, "big")
            + self.payload
            + checksum(self.pid, self.payload).to_bytes(2, "big")
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Packet:
        """Decode exactly one whole packet; any fault is the sender's (:class:`RemoteProtocolError`)."""
        if len(data) < PREFIX_SIZE + MIN_PAYLOAD + CHECKSUM_SIZE:
            raise RemoteProtocolError(f"a packet of {len(data)} bytes is too short")
        if data[:2] != HEADER:
            raise RemoteProtocolError(f"packet header is {data[:2].hex(' ')}, expected ef 01")
        pid = parse_pid(data[6])
        length = parse_length(data[7:9])
        if len(data) != PREFIX_SIZE + length:
            raise RemoteProtocolError(f"length field says {length} but {len(data) - PREFIX_SIZE} bytes follow it")
        payload = data[PREFIX_SIZE:-CHECKSUM_SIZE]
        expected = checksum(pid, payload)
        got = int.from_bytes(data[-CHECKSUM_SIZE:], "big")
        if got != expected:
            raise RemoteProtocolError(f"checksum {got:04X} does not match the computed {expected:04X}")
        return cls(pid=pid, payload=payload, address=int.from_bytes(data[2:6], "big"))


def parse_pid(value: int) -> PacketId:
    """The PID byte as a :class:`PacketId`; an unknown value is the sender's fault."""
    try:
        return PacketId(value)
    except ValueError:
        raise RemoteProtocolError(f"unknown packet identifier 0x{value:02X}") from None


def parse_length(field: bytes) -> int:
    """The length field, checked against the payload bounds (it includes the checksum)."""
    length = int.from_bytes(field, "big")
    low, high = MIN_PAYLOAD + CHECKSUM_SIZE, MAX_PAYLOAD + CHECKSUM_SIZE
    if not low <= length <= high:
        raise RemoteProtocolError(f"packet length {length} outside {low}..{high}")
    return length
