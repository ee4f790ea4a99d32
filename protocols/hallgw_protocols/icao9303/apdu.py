"""ISO/IEC 7816-4 short APDUs and the plain commands an eMRTD reader sends.

Only short APDUs (data up to 255 bytes, Le up to 256) are built: BAC chips
accept them, and READ BINARY with Le up to 0xDF keeps a protected response
within 256 bytes (stack-notes addendum). Extended length is not implemented.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

EMRTD_AID: Final = bytes.fromhex("A0000002471001")
"""Application identifier of the eMRTD (LDS1) application."""

SW_OK: Final = 0x9000
MAX_SHORT_LE: Final = 256
MAX_SHORT_DATA: Final = 255


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CommandApdu:
    """A command APDU. ``le`` is None when no response data is expected; 256 is sent as ``00``."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise LocalProtocolError(f"{name} out of byte range")
        if len(self.data) > MAX_SHORT_DATA:
            raise LocalProtocolError(f"command data of {len(self.data)} bytes needs an extended APDU")
        if self.le is not None and not 1 <= self.le <= MAX_SHORT_LE:
            raise LocalProtocolError(f"Le must be 1..{MAX_SHORT_LE} for a short APDU")

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def to_bytes(self) -> bytes:
        out = self.header
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out += bytes((self.le % MAX_SHORT_LE,))
        return out

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandApdu:
        """Decode a short command APDU (cases 1 to 4); the sender is at fault if it is malformed."""
        if len(raw) < 4:
            raise RemoteProtocolError("command APDU shorter than its 4-byte header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        data, le = b"", None
        if len(body) == 1:
            le = body[0] or MAX_SHORT_LE
        elif body:
            lc = body[0]
            if lc == 0:
                raise RemoteProtocolError("extended-length command APDUs are not supported")
            if len(body) == 1 + lc:
                data = body[1:]
            elif len(body) == 2 + lc:
                data, le = body[1:-1], body[-1] or MAX_SHORT_LE
            else:
                raise RemoteProtocolError("command APDU length does not match its Lc")
        return cls(cla=cla, ins=ins, p1=p1, p2=p2, data=data, le=le)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResponseApdu:
    """A response APDU: data then the status word SW1 SW2."""

    data: bytes = b""
    sw1: int = 0x90
    sw2: int = 0x00

    def __post_init__(self) -> None:
        if not (0 <= self.sw1 <= 0xFF and 0 <= self.sw2 <= 0xFF):
            raise LocalProtocolError("status word bytes out of byte range")

    @property
    def sw(self) -> int:
        return self.sw1 << 8 | self.sw2

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return self.data + bytes((self.sw1, self.sw2))

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise RemoteProtocolError("response APDU shorter than its status word")
        return cls(data=raw[:-2], sw1=raw[-2], sw2=raw[-1])


def select_application(aid: bytes = EMRTD_AID) -> CommandApdu:
    """SELECT by DF name, no response data (P2 ``0C``): ``00 A4 04 0C 07 A0..01``."""
    return CommandApdu(cla=0x00, ins=0xA4, p1=0x04, p2=0x0C, data=aid)


def select_file(fid: int) -> CommandApdu:
    """SELECT an elementary file by its identifier, no response data."""
    if not 0 <= fid <= 0xFFFF:
        raise LocalProtocolError("file identifier out of range")
    return CommandApdu(cla=0x00, ins=0xA4, p1=0x02, p2=0x0C, data=fid.to_bytes(2, "big"))


def get_challenge() -> CommandApdu:
    """GET CHALLENGE for the chip's 8-byte RND.IC."""
    return CommandApdu(cla=0x00, ins=0x84, p1=0x00, p2=0x00, le=8)


def external_authenticate(data: bytes) -> CommandApdu:
    """EXTERNAL (MUTUAL) AUTHENTICATE with E.IFD ‖ M.IFD, expecting 40 bytes back."""
    return CommandApdu(cla=0x00, ins=0x82, p1=0x00, p2=0x00, data=data, le=0x28)


def read_binary(offset: int, length: int) -> CommandApdu:
    """READ BINARY of ``length`` bytes at ``offset`` of the selected file (offset below 32768)."""
    if not 0 <= offset <= 0x7FFF:
        raise LocalProtocolError("READ BINARY offset must be below 32768 (P1 bit 8 selects by SFI)")
    return CommandApdu(cla=0x00, ins=0xB0, p1=offset >> 8, p2=offset & 0xFF, le=length)
