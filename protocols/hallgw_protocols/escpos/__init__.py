"""ESC/POS for thermal ticket printers: our own codec, with Chinese text done right.

Why not python-escpos: it writes GB18030 without ever switching the printer to
Chinese mode (``FS &``), turns full-width punctuation on its own into ``?`` and
reports "paper adequate" when the printer does not answer
(reference/desk-notes.md section 3). This package builds the bytes itself.

:mod:`.commands` builds single commands (their sources and confidence are in
its docstring); :mod:`.ticket` lays out a queue ticket (:func:`render_ticket`);
:mod:`.status` reads the ``DLE EOT`` status bytes into :class:`PrinterStatus`;
:mod:`.parser` is the printer's side (:class:`EscPosParser`, for simulators and
traces); :class:`EscPosConnection` is either end as a sans-IO connection.
"""

from hallgw_protocols.escpos.commands import (
    CHINESE_OFF,
    CHINESE_ON,
    INIT,
    QR_MAX_DATA,
    Alignment,
    ErrorCorrection,
    PrintMode,
    QrModel,
    align,
    character_size,
    cut,
    encode_gb,
    feed_lines,
    initialise,
    print_mode,
    qr_code,
    status_request,
    text_line,
)
from hallgw_protocols.escpos.connection import MAX_PENDING, EscPosConnection
from hallgw_protocols.escpos.events import (
    Align,
    ChineseMode,
    Cut,
    Event,
    Feed,
    Init,
    LineFeed,
    Mode,
    Qr,
    Size,
    StatusRequest,
    Text,
)
from hallgw_protocols.escpos.parser import DEFAULT_BUFFER_CAP, MAX_TEXT_RUN, EscPosParser
from hallgw_protocols.escpos.status import (
    FIXED_BITS,
    FIXED_MASK,
    PrinterStatus,
    StatusKind,
    StatusReply,
    is_status_byte,
)
from hallgw_protocols.escpos.ticket import Ticket, render_ticket

__all__ = [
    "CHINESE_OFF",
    "CHINESE_ON",
    "DEFAULT_BUFFER_CAP",
    "FIXED_BITS",
    "FIXED_MASK",
    "INIT",
    "MAX_PENDING",
    "MAX_TEXT_RUN",
    "QR_MAX_DATA",
    "Align",
    "Alignment",
    "ChineseMode",
    "Cut",
    "ErrorCorrection",
    "EscPosConnection",
    "EscPosParser",
    "Event",
    "Feed",
    "Init",
    "LineFeed",
    "Mode",
    "PrintMode",
    "PrinterStatus",
    "Qr",
    "QrModel",
    "Size",
    "StatusKind",
    "StatusReply",
    "StatusRequest",
    "Text",
    "Ticket",
    "align",
    "character_size",
    "cut",
    "encode_gb",
    "feed_lines",
    "initialise",
    "is_status_byte",
    "print_mode",
    "qr_code",
    "render_ticket",
    "status_request",
    "text_line",
]
