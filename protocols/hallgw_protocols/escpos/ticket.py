"""A queue ticket and the ESC/POS bytes that print it.

Layout, centred on the roll::

    排队号
    A023            <- GS ! 3x3: readable across the hall
    窗口：7
    取号时间：2026-11-27 09:30
    (extra lines)
    [QR code]       <- native GS ( k, model 2, 6-dot modules, level M
    (feed 6 lines, full cut)

The ticket starts with ``ESC @``, so it never inherits a size or an alignment
from a ticket cut short, and ends with left alignment and normal size again.
Lines with anything but ASCII travel in Chinese mode (:func:`.commands.text_line`).
A ticket holds a queue number, a window and a time, never personal data.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hallgw_protocols._common import LocalProtocolError
from hallgw_protocols.escpos import commands
from hallgw_protocols.escpos.commands import Alignment, ErrorCorrection

MAX_QUEUE_NUMBER: Final = 10
"""Characters of a queue number: 10 fit a 58 mm roll (32 columns) at triple width."""
MAX_LINE: Final = 64
HEADING: Final = "排队号"
QUEUE_NUMBER_SCALE: Final = 3
QR_MODULE: Final = 6
CUT_FEED_LINES: Final = 6
"""Lines fed before the cut, so the QR code clears the cutter (python-escpos feeds the same)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=False)
class Ticket:
    """One queue ticket; validated on construction (:class:`LocalProtocolError`)."""

    queue_number: str
    window: str
    issued_at: str
    """As it is printed, e.g. ``2026-11-27 09:30``."""
    qr: str
    """What the QR code holds (a URL or a reference to the visit); empty: no QR code."""
    lines: tuple[str, ...] = ()
    """Extra lines printed under the time (e.g. 请耐心等候)."""

    def __post_init__(self) -> None:
        if not (1 <= len(self.queue_number) <= MAX_QUEUE_NUMBER and self.queue_number.isascii()):
            raise LocalProtocolError(f"a queue number is 1..{MAX_QUEUE_NUMBER} ASCII characters")
        if not self.window or not self.issued_at:
            raise LocalProtocolError("a ticket needs a window and the time it was issued")
        for line in (self.window, self.issued_at, *self.lines):
            if len(line) > MAX_LINE:
                raise LocalProtocolError(f"ticket lines hold at most {MAX_LINE} characters")
        # Fail now, not half-way through printing: every line must encode.
        self.text_lines()
        if self.qr:
            commands.qr_code(self.qr)

    def text_lines(self) -> tuple[str, ...]:
        """The text printed, line by line (what a simulator should read back)."""
        lines = (HEADING, self.queue_number, f"窗口：{self.window}", f"取号时间：{self.issued_at}", *self.lines)
        for line in lines:
            commands.text_line(line)  # raises for control characters and unprintable CJK
        return lines


def render_ticket(ticket: Ticket) -> bytes:
    """The bytes that print ``ticket``."""
    heading, number, *rest = ticket.text_lines()
    if not rest:  # pragma: no cover - text_lines always has the window and time
        raise LocalProtocolError("ticket without lines")
    return b"".join(
        (
            commands.initialise(),
            commands.align(Alignment.CENTER),
            commands.text_line(heading),
            commands.character_size(QUEUE_NUMBER_SCALE, QUEUE_NUMBER_SCALE),
            commands.text_line(number),
            commands.character_size(1, 1),
            *(commands.text_line(line) for line in rest),
            commands.qr_code(ticket.qr, size=QR_MODULE, error_correction=ErrorCorrection.M) if ticket.qr else b"",
            commands.align(Alignment.LEFT),
            commands.feed_lines(CUT_FEED_LINES),
            commands.cut(),
        )
    )
