"""The line protocol of desktop OCR MRZ readers: lines of text in, whole machine readable zones out.

Swipe and full-page MRZ readers send what they read as ASCII over a serial
line: each MRZ line ends with CR, LF or CR LF, many readers wrap the whole
read in STX (``02``) ... ETX (``03``), some pad with spaces, tabs or NUL
bytes. Nothing in the stream says how many lines a read has, so
:class:`MrzLineCollector` groups lines by their length (ICAO Doc 9303,
reference/protocols.md section 3.2): three lines of 30 characters (TD1), two
of 36 (TD2) or two of 44 (TD3).

Theory of operation. Bytes go into :meth:`MrzLineCollector.feed` with the
time they arrived (the caller's clock; this module reads none). Padding is
dropped, a line end closes the current line, and each non-empty line is
checked for the MRZ alphabet (``A-Z 0-9 <``) and a width: the first line of
a read fixes the format, the next lines must have the same width, and the
read is complete when the format's number of lines is there. Whatever goes
wrong ends the current attempt with a :class:`MrzReadError` event whose
message says what was expected; the next line starts afresh. A read that
stops part way is noticed by :meth:`MrzLineCollector.expire` (or the next
:meth:`~MrzLineCollector.feed`) once ``line_gap`` seconds pass without a
byte, by an ETX, or by a new STX. A line is held in a buffer of at most
``max_line`` bytes: a longer one is dropped up to its line end, so noise on
the line never grows memory.

The collector does not check the check digits: :func:`hallgw_protocols.icao9303.parse_mrz`
does that with the text of a :class:`MrzScan`. Events never carry MRZ text in
their repr or in an error message. :func:`encode_scan` is the reader's side,
for simulators: the lines of one MRZ in one of the :class:`Framing` variants.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Final

from hallgw_protocols._common import LocalProtocolError
from hallgw_protocols.icao9303.mrz import MrzFormat

STX: Final = 0x02
ETX: Final = 0x03
CR: Final = 0x0D
LF: Final = 0x0A
NUL: Final = 0x00
MAX_LINE: Final = 128
"""Default cap of one line in bytes, padding included (the longest MRZ line has 44)."""
DEFAULT_LINE_GAP: Final = 1.0
"""Default seconds of silence after which an unfinished read is reported."""
MRZ_ALPHABET: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
FORMAT_BY_WIDTH: Final = {fmt.width: fmt for fmt in MrzFormat}
"""30 -> TD1, 36 -> TD2, 44 -> TD3."""
_PADDING: Final = b" \t"


def _widths() -> str:
    return ", ".join(f"{fmt.width} ({fmt.name})" for fmt in MrzFormat)


class Framing(enum.Enum):
    """How a reader delimits the lines of one read."""

    CR = "cr"
    """Each line ends with CR."""
    LF = "lf"
    """Each line ends with LF."""
    CRLF = "crlf"
    """Each line ends with CR LF."""
    STX_ETX = "stx_etx"
    """STX, each line ending with CR, then ETX."""

    @property
    def start(self) -> bytes:
        return b"\x02" if self is Framing.STX_ETX else b""

    @property
    def line_end(self) -> bytes:
        return {Framing.LF: b"\n", Framing.CRLF: b"\r\n"}.get(self, b"\r")

    @property
    def end(self) -> bytes:
        return b"\x03" if self is Framing.STX_ETX else b""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class MrzScan:
    """One complete read: the MRZ lines as the reader sent them (check digits not yet checked)."""

    format: MrzFormat
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The lines joined with newlines, as :func:`hallgw_protocols.icao9303.parse_mrz` takes them."""
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        # Personal data: the lines never appear.
        return f"MrzScan({self.format.name}, {len(self.lines)} lines)"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MrzReadError:
    """A read that could not be used, and why (never with MRZ text in the message)."""

    message: str
    discarded: int = 0
    """Bytes of the failed attempt that were dropped, padding excluded."""


MrzEvent = MrzScan | MrzReadError


class MrzLineCollector:
    """Reader-side codec: bytes and arrival times in, :class:`MrzScan` and :class:`MrzReadError` out."""

    def __init__(self, *, line_gap: float = DEFAULT_LINE_GAP, max_line: int = MAX_LINE) -> None:
        if line_gap <= 0:
            raise LocalProtocolError("line_gap is a positive number of seconds")
        if max_line < max(FORMAT_BY_WIDTH):
            raise LocalProtocolError(f"max_line must hold an MRZ line of {max(FORMAT_BY_WIDTH)} characters")
        self.line_gap = line_gap
        self.max_line = max_line
        self._line = bytearray()
        self._overflow = False
        self._lines: list[str] = []
        self._format: MrzFormat | None = None
        self._attempt_bytes = 0
        self._framed = False
        self._last: float | None = None
        self.scans = 0
        self.errors = 0

    @property
    def buffered(self) -> int:
        """Bytes held for the current line (never more than ``max_line``)."""
        return len(self._line)

    @property
    def busy(self) -> bool:
        """Whether a read is under way (lines, or part of a line, are held)."""
        return bool(self._lines or self._line.strip(_PADDING) or self._overflow or self._framed)

    def feed(self, data: bytes, now: float) -> list[MrzEvent]:
        """Take ``data`` that arrived at ``now`` (seconds, any monotonic origin); return finished events."""
        events = self.expire(now)
        if not data:
            return events
        self._last = now
        for byte in data:
            if byte == NUL:
                continue
            if byte == STX:
                self._end_line(events)
                if self._lines:
                    self._fail(events, f"{self._partial()}, then a new read began (STX)")
                self._framed = True
            elif byte == ETX:
                self._end_line(events)
                if self._lines:
                    self._fail(events, f"{self._partial()} before the end of the read (ETX)")
                self._framed = False
            elif byte in (CR, LF):
                self._end_line(events)
            elif self._overflow:
                self._attempt_bytes += 1
            else:
                self._line.append(byte)
                if len(self._line) > self.max_line:
                    dropped = len(self._line)
                    self._line.clear()
                    self._overflow = True
                    self._attempt_bytes += dropped
                    self._fail(events, f"a line ran past {self.max_line} bytes without a line end; dropped it")
        return events

    def expire(self, now: float) -> list[MrzEvent]:
        """Events due at ``now``: a read left unfinished for more than ``line_gap`` seconds."""
        events: list[MrzEvent] = []
        if self._last is None or now - self._last <= self.line_gap or not self.busy:
            return events
        gap = now - self._last
        self._framed = False
        self._end_line(events)  # a last line without its line end still counts
        if self._overflow:
            self._overflow = False
            self._attempt_bytes = 0
        if self._lines:
            self._fail(events, f"{self._partial()}, then {gap:.1f} s of silence")
        return events

    # -- internals ------------------------------------------------------------------------
    def _partial(self) -> str:
        expected = self._format.lines if self._format is not None else 0
        return f"partial read: {len(self._lines)} of {expected} lines"

    def _reset(self) -> None:
        self._lines.clear()
        self._format = None
        self._attempt_bytes = 0

    def _fail(self, events: list[MrzEvent], message: str) -> None:
        events.append(MrzReadError(message=message, discarded=self._attempt_bytes))
        self.errors += 1
        self._reset()

    def _end_line(self, events: list[MrzEvent]) -> None:
        if self._overflow:
            # The rest of an over-long line: already reported.
            self._overflow = False
            self._attempt_bytes = 0
            self._line.clear()
            return
        raw = bytes(self._line).strip(_PADDING)
        self._line.clear()
        if not raw:
            return
        self._attempt_bytes += len(raw)
        number = len(self._lines) + 1
        if not MRZ_ALPHABET.issuperset(raw):
            self._fail(events, f"line {number} has characters outside the MRZ alphabet (A-Z, 0-9, <)")
            return
        if self._format is None:
            fmt = FORMAT_BY_WIDTH.get(len(raw))
            if fmt is None:
                self._fail(events, f"line 1 has {len(raw)} characters; an MRZ line has {_widths()}")
                return
            self._format = fmt
        elif len(raw) != self._format.width:
            name, width = self._format.name, self._format.width
            self._fail(events, f"line {number} has {len(raw)} characters; a {name} line has {width}")
            return
        self._lines.append(raw.decode("ascii"))
        if len(self._lines) == self._format.lines:
            events.append(MrzScan(format=self._format, lines=tuple(self._lines)))
            self.scans += 1
            self._reset()


def check_lines(lines: Sequence[str]) -> MrzFormat:
    """The format of ``lines`` as one whole MRZ; raises LocalProtocolError saying what is wrong."""
    if not lines:
        raise LocalProtocolError("an MRZ has 2 or 3 lines, got none")
    for number, line in enumerate(lines, start=1):
        if not line or not MRZ_ALPHABET.issuperset(line.encode("ascii", "replace")):
            raise LocalProtocolError(f"line {number} has characters outside the MRZ alphabet (A-Z, 0-9, <)")
    fmt = FORMAT_BY_WIDTH.get(len(lines[0]))
    if fmt is None:
        raise LocalProtocolError(f"line 1 has {len(lines[0])} characters; an MRZ line has {_widths()}")
    if len(lines) != fmt.lines or any(len(line) != fmt.width for line in lines):
        raise LocalProtocolError(f"a {fmt.name} MRZ has {fmt.lines} lines of {fmt.width} characters")
    return fmt


def encode_lines(lines: Sequence[str], *, framing: Framing = Framing.CR, close: bool = True) -> bytes:
    """``lines`` as a reader sends them, without checking that they form an MRZ.

    ``close=False`` leaves out the ETX of STX/ETX framing (a read cut short).
    """
    body = b"".join(line.encode("ascii") + framing.line_end for line in lines)
    return framing.start + body + (framing.end if close else b"")


def encode_scan(lines: Sequence[str], *, framing: Framing = Framing.CR) -> bytes:
    """One whole MRZ as a reader sends it; raises LocalProtocolError when ``lines`` are not one."""
    check_lines(lines)
    return encode_lines(lines, framing=framing)
