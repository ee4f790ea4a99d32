"""System parameters: the 16-byte block ReadSysPara returns (reference/protocols.md section 2.5).

All fields are big-endian and the layout is [2+]::

    status(2) system_id(2) library_size(2) security_level(2) address(4) packet_size_code(2) baud_multiplier(2)
"""

from __future__ import annotations

import dataclasses
import enum
import struct
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

SYSTEM_PARAMETERS_SIZE: Final = 16
BAUD_UNIT: Final = 9600
"""Baud = 9600 x N. [2+]"""
BAUD_MULTIPLIERS: Final = range(1, 13)
"""N = 1..12 per the R30x manual; the R503 manual lists only 1, 2, 4, 6 and 12. [2+]"""
DEFAULT_BAUD_MULTIPLIER: Final = 6  # 57600 baud, as the modules ship [2+]
PACKET_SIZES: Final[dict[int, int]] = {0: 32, 1: 64, 2: 128, 3: 256}
"""Data packet size code to bytes of data per packet. [2+]"""
DEFAULT_PACKET_SIZE_CODE: Final = 2  # 128 bytes "before delivery": [single source] (R503 manual)
SECURITY_LEVELS: Final = range(1, 6)

_LAYOUT: Final = struct.Struct(">HHHHIHH")


class StatusRegister(enum.IntFlag):
    """Bits of the status register; bits 4-15 are reserved. [2+]"""

    BUSY = 0x1
    PASS = 0x2
    """The last match succeeded."""
    PWD = 0x4
    """The handshake password has been verified."""
    IMG_BUF_STAT = 0x8
    """The image buffer holds a valid image."""


class SystemParameter(enum.IntEnum):
    """Parameter numbers for SetSysPara (0E). [2+] The R503 manual says a new value takes effect after a power cycle."""

    BAUD_MULTIPLIER = 4
    SECURITY_LEVEL = 5
    PACKET_SIZE_CODE = 6


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SystemParameters:
    """A module's system parameters as ReadSysPara reports them."""

    status: int
    """The raw status register, reserved bits kept; :attr:`flags` has the known bits."""
    system_id: int
    """Fixed 0000 per the R503 manual, 0009 per one R30x note, a sensor type per an AS608 driver."""
    library_size: int
    security_level: int
    address: int
    packet_size_code: int
    baud_multiplier: int

    def __post_init__(self) -> None:
        for name in ("status", "system_id", "library_size"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFFFF:
                raise LocalProtocolError(f"{name} out of 16-bit range: {value!r}")
        if self.security_level not in SECURITY_LEVELS:
            raise LocalProtocolError(f"security level {self.security_level!r} outside 1..5")
        if not 0 <= self.address <= 0xFFFFFFFF:
            raise LocalProtocolError(f"address out of 32-bit range: {self.address!r}")
        if self.packet_size_code not in PACKET_SIZES:
            raise LocalProtocolError(f"packet size code {self.packet_size_code!r} outside 0..3")
        if self.baud_multiplier not in BAUD_MULTIPLIERS:
            raise LocalProtocolError(f"baud multiplier {self.baud_multiplier!r} outside 1..12")

    @property
    def flags(self) -> StatusRegister:
        return StatusRegister(self.status & 0xF)

    @property
    def busy(self) -> bool:
        return bool(self.flags & StatusRegister.BUSY)

    @property
    def password_verified(self) -> bool:
        return bool(self.flags & StatusRegister.PWD)

    @property
    def image_valid(self) -> bool:
        return bool(self.flags & StatusRegister.IMG_BUF_STAT)

    @property
    def packet_size(self) -> int:
        """Bytes of data per data packet."""
        return PACKET_SIZES[self.packet_size_code]

    @property
    def baud(self) -> int:
        return BAUD_UNIT * self.baud_multiplier

    def to_bytes(self) -> bytes:
        return _LAYOUT.pack(
            self.status,
            self.system_id,
            self.library_size,
            self.security_level,
            self.address,
            self.packet_size_code,
            self.baud_multiplier,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SystemParameters:
        """Decode the block a module sent; a wrong size or out-of-range value is the module's fault."""
        if len(data) != SYSTEM_PARAMETERS_SIZE:
            raise RemoteProtocolError(f"system parameters are {len(data)} bytes, expected {SYSTEM_PARAMETERS_SIZE}")
        status, system_id, library, level, address, size_code, baud_n = _LAYOUT.unpack(data)
        try:
            return cls(
                status=status,
                system_id=system_id,
                library_size=library,
                security_level=level,
                address=address,
                packet_size_code=size_code,
                baud_multiplier=baud_n,
            )
        except LocalProtocolError as err:
            raise RemoteProtocolError(f"module reported bad system parameters: {err}") from err
