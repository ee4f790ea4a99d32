"""The printer's side of ESC/POS: bytes in, typed events out (for simulators and traces).

Theory of operation
-------------------
ESC/POS has no frames: a stream is text bytes with commands in between, each
command a prefix (``ESC``, ``GS``, ``FS``, ``DLE``) and a command byte whose
parameters have a length fixed by the command (``ESC a n``), carried in the
command (``GS ( k pL pH ...``) or ended by NUL (``GS k m d... NUL``).
:class:`EscPosParser` walks the buffer the way a printer does:

- A byte >= 0x20 starts a text run, which ends at the next byte < 0x20. Out of
  Chinese mode each byte is a character (code page 437, the power-on table);
  in Chinese mode (after ``FS &``) a byte 0x81..0xFE leads a GB18030 code of
  two bytes (or four, when the second is 0x30..0x39) and bytes < 0x80 are
  ASCII. A run is emitted as :class:`~.events.Text` only once its end is in
  the buffer (or it reaches :data:`MAX_TEXT_RUN` bytes), so the events do not
  depend on how the stream was cut into reads.
- ``LF`` is :class:`~.events.LineFeed`; ``CR`` is ignored (printers with
  automatic line feed off do so).
- Commands the ticket uses become events; the QR code functions update the
  symbol settings and store, and function 181 emits :class:`~.events.Qr`.
- Any other command whose length is known is skipped whole and counted in
  :attr:`EscPosParser.skipped_commands`; an unknown command byte after a
  prefix skips the two bytes and counts in :attr:`EscPosParser.unknown_commands`;
  a stray control byte is skipped and counted the same way. Nothing raises:
  a printer prints what it can and ignores the rest.
- Commands longer than the buffer cap (a raster image) are skipped as they
  stream past, never held. The buffer itself is capped: if the caller does
  not drain events, the oldest bytes go and are counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from hallgw_protocols._common import NEED_DATA, NeedData
from hallgw_protocols.escpos.commands import (
    DLE,
    EOT,
    ESC,
    FS,
    GS,
    LF,
    QR_CN,
    QR_MODULE_SIZES,
    Alignment,
    ErrorCorrection,
    PrintMode,
    QrModel,
)
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
from hallgw_protocols.escpos.status import StatusKind

DEFAULT_BUFFER_CAP: Final = 16 * 1024
"""Holds the longest QR store command (7095 bytes) twice over."""
MAX_TEXT_RUN: Final = 1024
"""A text run this long is emitted without waiting for its end (no ticket line comes close)."""
CR: Final = 0x0D
_NUL_TERMINATED_MAX: Final = 256

# Parameter bytes after the command byte, for the commands skipped whole.
_ESC_FIXED: Final = {
    0x20: 1, 0x21: 1, 0x24: 2, 0x2D: 1, 0x32: 0, 0x33: 1, 0x3D: 1, 0x3F: 1, 0x40: 0, 0x45: 1, 0x47: 1,
    0x4A: 1, 0x4C: 0, 0x4D: 1, 0x52: 1, 0x53: 0, 0x54: 1, 0x55: 1, 0x56: 1, 0x57: 8, 0x5C: 2, 0x61: 1,
    0x63: 2, 0x64: 1, 0x65: 1, 0x69: 0, 0x6D: 0, 0x70: 3, 0x72: 1, 0x74: 1, 0x7B: 1,
}  # fmt: skip
_GS_FIXED: Final = {
    0x21: 1, 0x24: 2, 0x3A: 0, 0x42: 1, 0x48: 1, 0x49: 1, 0x4C: 2, 0x50: 2, 0x54: 1, 0x57: 2, 0x5C: 2,
    0x5E: 3, 0x61: 1, 0x62: 1, 0x66: 1, 0x68: 1, 0x72: 1, 0x77: 1,
}  # fmt: skip
_FS_FIXED: Final = {0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x32: 74, 0x3F: 2, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2}


class _Skip:
    """Marker: the bytes were consumed and gave no event."""


_SKIPPED: Final = _Skip()
_Step = Event | NeedData | _Skip


class EscPosParser:
    """Decode what a printer receives into events (see module docstring)."""

    def __init__(self, *, buffer_cap: int = DEFAULT_BUFFER_CAP) -> None:
        self.buffer_cap = buffer_cap
        self._buf = bytearray()
        self._skip = 0  # bytes of an oversized command still to let pass
        self.chinese = False
        """Whether the printer is in Chinese character mode. Real printers power up in it;
        we start out of it, so ASCII-only senders decode the same either way."""
        self.skipped_commands = 0
        """Known commands consumed without an event (ESC E, GS v 0 raster, ...)."""
        self.unknown_commands = 0
        """Unknown commands and stray control bytes skipped."""
        self.dropped_bytes = 0
        """Bytes lost to the buffer cap."""
        self._reset_qr()

    def _reset_qr(self) -> None:
        self.qr_model = QrModel.MODEL_2
        self.qr_size = 3
        self.qr_error_correction = ErrorCorrection.L
        self.qr_data: bytes | None = None

    # -- input -------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the wire. Never raises; caps the buffer."""
        if self._skip:
            passed = min(self._skip, len(data))
            self._skip -= passed
            data = data[passed:]
        self._buf += data
        overflow = len(self._buf) - self.buffer_cap
        if overflow > 0:
            del self._buf[:overflow]
            self.dropped_bytes += overflow

    def feed(self, data: bytes) -> list[Event]:
        """Feed ``data`` and return every event it completes."""
        self.receive_data(data)
        events: list[Event] = []
        while (event := self.next_event()) is not NEED_DATA:
            events.append(event)
        return events

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_event(self) -> Event | NeedData:
        """The next event, or NEED_DATA; never raises for what the bytes say."""
        while self._buf:
            first = self._buf[0]
            step: _Step
            if first >= 0x20:
                step = self._text()
            elif first == LF:
                del self._buf[:1]
                return LineFeed()
            elif first in (ESC, GS, FS, DLE):
                step = self._command(first)
            else:
                del self._buf[:1]
                if first != CR:
                    self.unknown_commands += 1
                continue
            if isinstance(step, _Skip):
                continue
            return step
        return NEED_DATA

    # -- text ------------------------------------------------------------------------
    def _text(self) -> Text | NeedData:
        buf = self._buf
        end = len(buf)
        i = 0
        while i < end and i < MAX_TEXT_RUN:
            b = buf[i]
            if b < 0x20:
                break
            width = self._char_width(i) if self.chinese and 0x81 <= b <= 0xFE else 1
            if width == 0:
                return NEED_DATA  # a GB code cut by the read
            if i + width > MAX_TEXT_RUN:
                break
            i += width
        else:
            if i < MAX_TEXT_RUN:
                return NEED_DATA  # the run may go on in the next read
        raw = bytes(buf[:i])
        del buf[:i]
        codec = "gb18030" if self.chinese else "cp437"
        return Text(text=raw.decode(codec, errors="replace"), chinese=self.chinese)

    def _char_width(self, i: int) -> int:
        """Bytes of the GB18030 code led by ``buf[i]``; 0 when the buffer ends inside it."""
        buf = self._buf
        if i + 1 >= len(buf):
            return 0
        second = buf[i + 1]
        if 0x30 <= second <= 0x39:
            if i + 3 >= len(buf):
                return 0
            return 4
        if second < 0x40 or second in (0x7F, 0xFF):
            return 1  # not a valid trail byte: the lead alone decodes as a replacement character
        return 2

    # -- commands ----------------------------------------------------------------------
    def _take(self, size: int) -> bytes | None:
        if len(self._buf) < size:
            return None
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def _skip_known(self, size: int) -> _Skip | NeedData:
        if self._take(size) is None:
            return NEED_DATA
        self.skipped_commands += 1
        return _SKIPPED

    def _unknown(self, size: int) -> _Skip:
        del self._buf[:size]
        self.unknown_commands += 1
        return _SKIPPED

    def _command(self, prefix: int) -> _Step:
        if len(self._buf) < 2:
            return NEED_DATA
        code = self._buf[1]
        if prefix == ESC:
            return self._esc(code)
        if prefix == GS:
            return self._gs(code)
        if prefix == FS:
            return self._fs(code)
        return self._dle(code)

    def _esc(self, code: int) -> _Step:
        special = _ESC_SPECIAL.get(code)
        if special is not None:
            return special(self)
        if code not in _ESC_FIXED:
            return self._unknown(2)
        raw = self._take(2 + _ESC_FIXED[code])
        if raw is None:
            return NEED_DATA
        event: Event | None = None
        if code == 0x40:
            self._reset_qr()
            event = Init()
        elif code == 0x61 and raw[2] in (0, 1, 2, 48, 49, 50):
            event = Align(alignment=Alignment(raw[2] % 48))
        elif code == 0x21:
            event = Mode(mode=PrintMode(raw[2]))
        elif code == 0x64:
            event = Feed(lines=raw[2])
        return self._known(event)

    def _gs(self, code: int) -> _Step:
        special = _GS_SPECIAL.get(code)
        if special is not None:
            return special(self)
        if code not in _GS_FIXED:
            return self._unknown(2)
        raw = self._take(2 + _GS_FIXED[code])
        if raw is None:
            return NEED_DATA
        event: Event | None = None
        if code == 0x21 and raw[2] >> 4 < 8 and raw[2] & 0x0F < 8:
            event = Size(width=(raw[2] >> 4) + 1, height=(raw[2] & 0x0F) + 1)
        return self._known(event)

    def _known(self, event: Event | None) -> _Step:
        """A known command was consumed: its event, or a count of those skipped."""
        if event is None:
            self.skipped_commands += 1
            return _SKIPPED
        return event

    def _fs(self, code: int) -> _Step:
        if code not in _FS_FIXED:
            return self._unknown(2)
        raw = self._take(2 + _FS_FIXED[code])
        if raw is None:
            return NEED_DATA
        if code in (0x26, 0x2E):
            self.chinese = code == 0x26
            return ChineseMode(enabled=self.chinese)
        self.skipped_commands += 1
        return _SKIPPED

    def _dle(self, code: int) -> _Step:
        if code == EOT:
            if len(self._buf) < 3:
                return NEED_DATA
            n = self._buf[2]
            if n in (1, 2, 3, 4):
                del self._buf[:3]
                return StatusRequest(kind=StatusKind(n))
            return self._skip_known(4 if n in (7, 8, 18) else 3)  # Epson's n with a second byte
        if code == 0x05:  # DLE ENQ n
            return self._skip_known(3)
        if code == 0x14:  # DLE DC4 fn a b
            return self._skip_known(5)
        return self._unknown(1)  # a lone DLE is no command

    # -- commands with their own length ---------------------------------------------------
    def _skip_long(self, size: int) -> _Skip:
        """Skip a command of ``size`` bytes, letting the part not yet received pass later."""
        have = min(size, len(self._buf))
        del self._buf[:have]
        self._skip = size - have
        self.skipped_commands += 1
        return _SKIPPED

    def _nul_terminated(self, start: int) -> _Step:
        end = self._buf.find(0, start, start + _NUL_TERMINATED_MAX)
        if end < 0:
            if len(self._buf) < start + _NUL_TERMINATED_MAX:
                return NEED_DATA
            return self._unknown(start + _NUL_TERMINATED_MAX)
        return self._skip_known(end + 1)

    def _tab_stops(self) -> _Step:
        return self._nul_terminated(2)  # ESC D n1..nk NUL

    def _downloaded_image(self) -> _Step:
        # GS * x y d1..d(x*y*8)
        if len(self._buf) < 4:
            return NEED_DATA
        return self._skip_long(4 + self._buf[2] * self._buf[3] * 8)

    def _bit_image(self) -> _Step:
        if len(self._buf) < 5:
            return NEED_DATA
        m, columns = self._buf[2], self._buf[3] | self._buf[4] << 8
        return self._skip_long(5 + columns * (3 if m in (32, 33) else 1))

    def _raster(self) -> _Step:
        # GS v 0 m xL xH yL yH d1..dk, k = (xL + 256 xH) * (yL + 256 yH)
        if len(self._buf) < 8:
            return NEED_DATA
        if self._buf[2] != 0x30:
            return self._unknown(2)
        b = self._buf
        return self._skip_long(8 + (b[4] | b[5] << 8) * (b[6] | b[7] << 8))

    def _barcode(self) -> _Step:
        if len(self._buf) < 3:
            return NEED_DATA
        m = self._buf[2]
        if m <= 6:
            return self._nul_terminated(3)
        if len(self._buf) < 4:
            return NEED_DATA
        return self._skip_known(4 + self._buf[3])

    def _cut(self) -> _Step:
        if len(self._buf) < 3:
            return NEED_DATA
        m = self._buf[2]
        if m in (0, 48, 1, 49):
            del self._buf[:3]
            return Cut(partial=m in (1, 49))
        if m in (65, 66):
            raw = self._take(4)
            if raw is None:
                return NEED_DATA
            return Cut(partial=m == 66, feed=raw[3])
        if m in (97, 98, 103, 104):  # Epson's reserve-cut functions C and D
            return self._skip_known(4)
        return self._unknown(3)

    def _extended(self) -> _Step:
        """``GS ( c pL pH ...``: QR code functions become settings and events; the rest is skipped."""
        if len(self._buf) < 5:
            return NEED_DATA
        size = self._buf[3] | self._buf[4] << 8
        total = 5 + size
        if self._buf[2] != 0x6B or size < 2 or total > self.buffer_cap:
            return self._skip_long(total)
        raw = self._take(total)
        if raw is None:
            return NEED_DATA
        cn, fn, params = raw[5], raw[6], raw[7:]
        if cn != QR_CN:
            self.skipped_commands += 1
            return _SKIPPED
        return self._qr_function(fn, params)

    def _qr_function(self, fn: int, params: bytes) -> _Step:
        if fn == 65 and params[:1] in (b"1", b"2"):
            self.qr_model = QrModel(params[0])
        elif fn == 67 and params and params[0] in QR_MODULE_SIZES:
            self.qr_size = params[0]
        elif fn == 69 and params and 48 <= params[0] <= 51:
            self.qr_error_correction = ErrorCorrection(params[0])
        elif fn == 80 and params[:1] == b"0":
            self.qr_data = params[1:]
        elif fn == 81 and self.qr_data:
            return Qr(
                data=self.qr_data,
                size=self.qr_size,
                error_correction=self.qr_error_correction,
                model=self.qr_model,
            )
        else:
            self.skipped_commands += 1
        return _SKIPPED


_ESC_SPECIAL: Final[dict[int, Callable[[EscPosParser], _Step]]] = {
    0x2A: EscPosParser._bit_image,
    0x44: EscPosParser._tab_stops,
}
_GS_SPECIAL: Final[dict[int, Callable[[EscPosParser], _Step]]] = {
    0x28: EscPosParser._extended,
    0x2A: EscPosParser._downloaded_image,
    0x56: EscPosParser._cut,
    0x6B: EscPosParser._barcode,
    0x76: EscPosParser._raster,
}
"""Commands whose length is not fixed, by command byte."""
