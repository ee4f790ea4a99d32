"""Real-time status: ``DLE EOT n`` and the one status byte the printer answers.

Bit layout [3+] (Bixolon SRP-350, Samsung STP-131, Citizen CT-S2000 and
PPU-231II, Epson TM-L60II and TM-T88III technical references; python-escpos
and escpos for node read the same bits). In every answer bit 0 is fixed off,
bit 1 on, bit 4 on and bit 7 off, so ``byte & 0x93 == 0x12`` tells a status
byte from line noise or an XON/XOFF byte (0x11 / 0x13 fail it):

=====  ==========================  ============================  =======================
bit    n = 1 printer               n = 2 offline cause           n = 4 paper roll sensor
=====  ==========================  ============================  =======================
2      drawer connector pin 3 high cover open                    near end (bits 2 and 3)
3      offline                     paper fed by the FEED button  near end (bits 2 and 3)
5      waiting for online recovery printing stopped: paper end   paper end (bits 5 and 6)
6      FEED button pressed         error occurred                paper end (bits 5 and 6)
=====  ==========================  ============================  =======================

n = 3 (error cause: bit 3 auto-cutter error, bit 5 unrecoverable, bit 6
auto-recoverable) is Epson's [single source] and varies by model (Samsung's
STP-131 marks every bit "not used"), so we send no n = 3 and keep only its raw byte.
Bits 2, 5 and 6 of n = 1 are undefined on some models (Citizen PPU-231II);
such a printer leaves them off. The two-bit paper fields are read as set
when either bit is set (our choice: the manuals only show both on or both off).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

FIXED_MASK: Final = 0x93
FIXED_BITS: Final = 0x12
"""``byte & FIXED_MASK == FIXED_BITS`` for every real-time status byte."""


class StatusKind(enum.IntEnum):
    """The ``n`` of ``DLE EOT n``."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER_SENSOR = 4


# n = 1
DRAWER_PIN3: Final = 0x04
OFFLINE: Final = 0x08
WAITING_RECOVERY: Final = 0x20
FEED_BUTTON: Final = 0x40
# n = 2
COVER_OPEN: Final = 0x04
PAPER_FEEDING: Final = 0x08
PAPER_END_STOP: Final = 0x20
ERROR: Final = 0x40
# n = 4
NEAR_END: Final = 0x0C
PAPER_END: Final = 0x60


def is_status_byte(value: int) -> bool:
    """Whether ``value`` has the fixed bits of a real-time status byte."""
    return value & FIXED_MASK == FIXED_BITS


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StatusReply:
    """One status byte, with the request it answers."""

    kind: StatusKind
    value: int

    def __post_init__(self) -> None:
        if not 0 <= self.value <= 0xFF:
            raise LocalProtocolError(f"status byte out of range: {self.value!r}")
        if not is_status_byte(self.value):
            raise RemoteProtocolError(f"{self.value:02x} is no status byte (fixed bits are not 0x12)", discarded=1)

    def to_bytes(self) -> bytes:
        return bytes([self.value])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PrinterStatus:
    """What the status bytes say, merged (see :meth:`from_replies`).

    Fields an answer did not cover keep their defaults: a printer is assumed
    online, closed and supplied until a byte says otherwise.
    """

    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    """The roll-end sensor sees no paper, or printing stopped at a paper end."""
    paper_near_end: bool = False
    error: bool = False
    """An error took the printer offline (cutter jam, head too hot, ...)."""
    waiting_recovery: bool = False
    feed_button: bool = False
    paper_feeding: bool = False
    drawer_pin3_high: bool = False

    @property
    def ready(self) -> bool:
        """Whether the printer would print now."""
        return self.online and not (self.cover_open or self.paper_out or self.error)

    @property
    def summary(self) -> str:
        """A short word for operators: the most pressing condition first."""
        if self.paper_out:
            return "paper out"
        if self.cover_open:
            return "cover open"
        if self.error:
            return "error"
        if not self.online:
            return "offline"
        if self.paper_near_end:
            return "paper near end"
        return "ready"

    def merge(self, reply: StatusReply) -> PrinterStatus:
        """This status with one more answer applied."""
        v = reply.value
        if reply.kind is StatusKind.PRINTER:
            return dataclasses.replace(
                self,
                online=not v & OFFLINE,
                drawer_pin3_high=bool(v & DRAWER_PIN3),
                waiting_recovery=bool(v & WAITING_RECOVERY),
                feed_button=bool(v & FEED_BUTTON),
            )
        if reply.kind is StatusKind.OFFLINE_CAUSE:
            return dataclasses.replace(
                self,
                cover_open=bool(v & COVER_OPEN),
                paper_feeding=bool(v & PAPER_FEEDING),
                paper_out=self.paper_out or bool(v & PAPER_END_STOP),
                error=bool(v & ERROR),
            )
        if reply.kind is StatusKind.PAPER_SENSOR:
            return dataclasses.replace(
                self, paper_near_end=bool(v & NEAR_END), paper_out=self.paper_out or bool(v & PAPER_END)
            )
        return self  # n = 3: model-specific, kept raw by the caller

    @classmethod
    def from_replies(cls, replies: Iterable[StatusReply]) -> PrinterStatus:
        """Merge answers to DLE EOT 1, 2 and 4 (any subset, any order)."""
        status = cls()
        for reply in replies:
            status = status.merge(reply)
        return status

    def reply(self, kind: StatusKind) -> StatusReply:
        """The byte a printer in this state answers to ``DLE EOT kind`` (the device role)."""
        value = FIXED_BITS
        if kind is StatusKind.PRINTER:
            value |= (not self.online) * OFFLINE | self.drawer_pin3_high * DRAWER_PIN3
            value |= self.waiting_recovery * WAITING_RECOVERY | self.feed_button * FEED_BUTTON
        elif kind is StatusKind.OFFLINE_CAUSE:
            value |= self.cover_open * COVER_OPEN | self.paper_feeding * PAPER_FEEDING
            value |= self.paper_out * PAPER_END_STOP | self.error * ERROR
        elif kind is StatusKind.PAPER_SENSOR:
            # An empty roll is past the near-end mark too: both sensors see it.
            value |= (self.paper_near_end or self.paper_out) * NEAR_END | self.paper_out * PAPER_END
        return StatusReply(kind=kind, value=value)
