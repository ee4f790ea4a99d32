"""Frames of the SAM serial protocol (reference/protocols.md section 1).

Host to SAM::

    AA AA AA 96 69 | LEN(2, BE) | CMD | PARA | DATA... | CHK

SAM to host::

    AA AA AA 96 69 | LEN(2, BE) | SW1 | SW2 | SW3 | DATA... | CHK

``LEN`` counts everything after itself, CHK included. CHK is the XOR of every
byte from the first length byte up to the byte before CHK.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

from hallgw_protocols._common import LocalProtocolError

PREAMBLE: Final = b"\xaa\xaa\xaa\x96\x69"
HEADER_SIZE: Final = len(PREAMBLE) + 2
"""Preamble plus the two length bytes: what a receiver reads before it knows the size."""

MAX_BODY: Final = 4096
"""Largest length field we accept. The biggest frame on record (text + photo +
two fingerprints) has a length of 0x090A = 2314; anything far above is garbage."""

MIN_COMMAND_BODY: Final = 3  # CMD PARA CHK
MIN_RESPONSE_BODY: Final = 4  # SW1 SW2 SW3 CHK


def xor_checksum(data: bytes) -> int:
    """XOR of all bytes of ``data``."""
    chk = 0
    for b in data:
        chk ^= b
    return chk


def encode_frame(payload: bytes) -> bytes:
    """Wrap ``payload`` (CMD..DATA or SW1..DATA) in preamble, length and checksum."""
    length = len(payload) + 1
    if length > MAX_BODY:
        raise LocalProtocolError(f"frame body of {length} bytes exceeds the cap of {MAX_BODY}")
    head = length.to_bytes(2, "big")
    return PREAMBLE + head + payload + bytes([xor_checksum(head + payload)])


class CommandCode(enum.Enum):
    """Command (CMD, PARA) pairs. Marks are those of the reference."""

    RESET_SAM = (0x10, 0xFF)
    SAM_STATUS = (0x11, 0xFF)
    READ_SAM_ID = (0x12, 0xFF)
    FIND_CARD = (0x20, 0x01)
    SELECT_CARD = (0x20, 0x02)
    READ_TEXT_PHOTO = (0x30, 0x01)
    READ_APPENDED_ADDRESS = (0x30, 0x03)  # payload layout [not found] in public sources
    READ_TEXT_PHOTO_FINGERPRINT = (0x30, 0x10)
    READ_CARD_MID = (0x30, 0x05)  # para [single source]; payload [not found]
    SET_BAUD_115200 = (0x60, 0x00)  # the whole 0x60 family is [single source]
    SET_BAUD_57600 = (0x60, 0x01)
    SET_BAUD_38400 = (0x60, 0x02)
    SET_BAUD_19200 = (0x60, 0x03)
    SET_BAUD_9600 = (0x60, 0x04)
    SET_MAX_RF_FRAME = (0x61, 0xFF)  # [single source]

    @property
    def cmd(self) -> int:
        return self.value[0]

    @property
    def para(self) -> int:
        return self.value[1]

    @classmethod
    def lookup(cls, cmd: int, para: int) -> CommandCode | None:
        """The known command for (cmd, para), or None."""
        return _BY_PAIR.get((cmd, para))


_BY_PAIR: Final[dict[tuple[int, int], CommandCode]] = {c.value: c for c in CommandCode}


class Status(enum.IntEnum):
    """SW3, the SAM's status byte (reference table 1.5, all [2+])."""

    OK = 0x90
    NO_CONTENT = 0x91
    FIND_CARD_OK = 0x9F
    HOST_CHECKSUM_ERROR = 0x10
    HOST_LENGTH_ERROR = 0x11
    COMMAND_ERROR = 0x21
    NOT_PERMITTED = 0x23
    UNRECOGNISED_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31
    SAM_AUTH_CARD_FAILED = 0x32
    VERIFY_FAILED = 0x33
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41
    GET_RANDOM_FAILED = 0x47
    SELF_TEST_FAILED = 0x60
    NOT_AUTHORISED = 0x66
    FIND_CARD_FAILED = 0x80
    SELECT_CARD_FAILED = 0x81

    @property
    def is_success(self) -> bool:
        return self in (Status.OK, Status.FIND_CARD_OK)


STATUS_TEXT: Final[dict[Status, str]] = {
    Status.OK: "operation successful",
    Status.NO_CONTENT: "the card has no content for this item",
    Status.FIND_CARD_OK: "card found",
    Status.HOST_CHECKSUM_ERROR: "checksum error in the command received by the SAM",
    Status.HOST_LENGTH_ERROR: "length error in the command received by the SAM",
    Status.COMMAND_ERROR: "command error (bad value or combination)",
    Status.NOT_PERMITTED: "operation not permitted",
    Status.UNRECOGNISED_ERROR: "unrecognised error",
    Status.CARD_AUTH_SAM_FAILED: "the card failed to authenticate the SAM",
    Status.SAM_AUTH_CARD_FAILED: "the SAM failed to authenticate the card",
    Status.VERIFY_FAILED: "information verification error",
    Status.UNKNOWN_CARD_TYPE: "unrecognised card type",
    Status.READ_FAILED: "reading the card failed",
    Status.GET_RANDOM_FAILED: "get-random failed",
    Status.SELF_TEST_FAILED: "SAM self-test failed; it cannot accept commands",
    Status.NOT_AUTHORISED: "SAM not authorised",
    Status.FIND_CARD_FAILED: "no card found",
    Status.SELECT_CARD_FAILED: "selecting the card failed",
}


def status_text(sw3: int) -> str:
    """Human text for an SW3 value, known or not."""
    try:
        return STATUS_TEXT[Status(sw3)]
    except ValueError:
        return f"unknown SAM status 0x{sw3:02X}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """A host-to-SAM command frame."""

    cmd: int
    para: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not (0 <= self.cmd <= 0xFF and 0 <= self.para <= 0xFF):
            raise LocalProtocolError(f"cmd/para out of byte range: {self.cmd!r}/{self.para!r}")
        if len(self.data) + MIN_COMMAND_BODY > MAX_BODY:
            raise LocalProtocolError(f"command data of {len(self.data)} bytes is too long")

    @classmethod
    def of(cls, code: CommandCode, data: bytes = b"") -> Command:
        """The command frame for a known command code."""
        return cls(cmd=code.cmd, para=code.para, data=data)

    @property
    def code(self) -> CommandCode | None:
        """The known command this frame is, or None for an unknown pair."""
        return CommandCode.lookup(self.cmd, self.para)

    def to_bytes(self) -> bytes:
        return encode_frame(bytes([self.cmd, self.para]) + self.data)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """A SAM-to-host response frame.

    ``command`` is filled in by the host codec with the command this response
    answers (the protocol has no sequence numbers: one command at a time).
    """

    sw3: int
    sw1: int = 0
    sw2: int = 0
    data: bytes = b""
    command: CommandCode | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("sw1", "sw2", "sw3"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise LocalProtocolError(f"{name} out of byte range: {value!r}")
        if len(self.data) + MIN_RESPONSE_BODY > MAX_BODY:
            raise LocalProtocolError(f"response data of {len(self.data)} bytes is too long")

    @property
    def status(self) -> Status | None:
        """SW3 as a known :class:`Status`, or None when the SAM sent an unlisted code."""
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.sw3 in (Status.OK, Status.FIND_CARD_OK)

    def to_bytes(self) -> bytes:
        return encode_frame(bytes([self.sw1, self.sw2, self.sw3]) + self.data)
