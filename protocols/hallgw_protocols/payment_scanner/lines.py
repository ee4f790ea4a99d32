"""The line protocol of serial barcode scanners: bytes in, one scanned code per line out.

Serial (RS-232 or USB-CDC) barcode scanners share one convention, described
alike by the public manuals of Intermec, CipherLab, Champtek and Newland
(reference/desk-notes.md section 4): 9600 baud, 8N1, no handshake, and each
read sent as one frame::

    [STX] [prefix] code [suffix] [ETX] terminator

where STX (``02``) and ETX (``03``) are optional, the prefix and suffix
(preamble and postamble) are strings set up on the scanner, and the
terminator is CR, LF or CR LF (CR or CR LF from the factory). The scanner
only sends; nothing in the stream says how long a code is.

Theory of operation. Bytes go into :meth:`ScanLineCollector.feed` with the
time they arrived (the caller's monotonic clock; this module reads none). A
line ends at the configured terminator (:class:`Framing`): with ``"any"``,
CR and LF each end a line and empty lines are skipped, so CR LF is one line
end even when the CR closes one chunk and the LF opens the next; with
``"crlf"`` a CR waits for its LF (across chunks too); a line end other than
the configured one ends the line as a :class:`ScanError`, which shows a
scanner set up differently from its config. An ETX also ends a line (the
terminator after it then ends an empty one), an STX starts a fresh one and
reports any unfinished line before it. NUL bytes are dropped (some
converters send one at power-up).

Each finished line must be printable ASCII, start with the prefix and end
with the suffix, with something between them; the code is what is left.
Whatever goes wrong gives a :class:`ScanError` whose message says what was
expected; the next line starts afresh. A line is held in a buffer of at most
``max_line`` bytes: a longer one is reported at once and dropped up to its
line end, so noise never grows memory. A line left unfinished for longer
than ``timeout`` seconds after its first byte (a scanner sends a whole code
in tens of milliseconds) is reported by :meth:`ScanLineCollector.expire`,
or by the next :meth:`~ScanLineCollector.feed`.

A code is payment data: events never show it in their repr, and no error
message quotes the line. :func:`encode_scan` is the scanner's side, for
simulators.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal, get_args

from hallgw_protocols._common import LocalProtocolError

STX: Final = 0x02
ETX: Final = 0x03
CR: Final = 0x0D
LF: Final = 0x0A
NUL: Final = 0x00
MAX_LINE: Final = 128
"""Default cap of one line in bytes, prefix and suffix included (payment codes have at most 24)."""
MAX_AFFIX: Final = 16
"""Longest prefix or suffix (scanners allow 10 to 20 characters; the daemon config allows 16)."""
DEFAULT_TIMEOUT: Final = 1.0
"""Default seconds a line may stay unfinished after its first byte."""

Terminator = Literal["any", "cr", "lf", "crlf"]
TERMINATORS: Final[tuple[Terminator, ...]] = get_args(Terminator)
_PRINTABLE: Final = frozenset(range(0x20, 0x7F))
_NAMES: Final = {CR: "CR", LF: "LF"}
_EXPECTED: Final = {"cr": "CR", "lf": "LF", "crlf": "CR LF"}


def _printable(text: str) -> bool:
    return all(0x20 <= ord(char) < 0x7F for char in text)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Framing:
    """How the scanner is set up: its prefix, its suffix and its line end."""

    prefix: str = ""
    """Characters sent before each code (its preamble); stripped."""
    suffix: str = ""
    """Characters sent after each code, before ETX and the line end (its postamble); stripped."""
    terminator: Terminator = "any"
    """The line end: ``cr``, ``lf``, ``crlf``, or ``any`` of them (the default)."""

    def __post_init__(self) -> None:
        for name, value in (("prefix", self.prefix), ("suffix", self.suffix)):
            if len(value) > MAX_AFFIX or not _printable(value):
                raise LocalProtocolError(f"the {name} is at most {MAX_AFFIX} printable ASCII characters")
        if self.terminator not in TERMINATORS:
            raise LocalProtocolError(f"the terminator is one of {', '.join(TERMINATORS)}")

    @property
    def line_end(self) -> bytes:
        """The bytes a scanner set up this way ends a line with (CR for ``any``)."""
        return {"lf": b"\n", "crlf": b"\r\n"}.get(self.terminator, b"\r")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CodeScan:
    """One scanned code, prefix and suffix stripped (not yet classified: see :func:`.classify`)."""

    text: str

    def __repr__(self) -> str:
        # Payment data: the code never appears.
        return f"CodeScan({len(self.text)} chars)"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ScanError:
    """A line that could not be used, and why (the message never quotes the line)."""

    message: str
    discarded: int = 0
    """Bytes of the line that were dropped (STX, ETX, NUL and line ends excluded)."""


ScanEvent = CodeScan | ScanError


class ScanLineCollector:
    """Host-side codec: bytes and arrival times in, :class:`CodeScan` and :class:`ScanError` out."""

    def __init__(
        self, framing: Framing | None = None, *, timeout: float = DEFAULT_TIMEOUT, max_line: int = MAX_LINE
    ) -> None:
        self.framing = framing if framing is not None else Framing()
        if timeout <= 0:
            raise LocalProtocolError("timeout is a positive number of seconds")
        affixes = len(self.framing.prefix) + len(self.framing.suffix)
        if max_line <= affixes:
            raise LocalProtocolError(f"max_line must hold the prefix, the suffix and a code: more than {affixes}")
        self.timeout = timeout
        self.max_line = max_line
        self._line = bytearray()
        self._bad = ""  # why the current line will be refused, once it ends
        self._overflow = False  # the current line ran past max_line and was reported
        self._cr = False  # "crlf": a CR waits for its LF
        self._started: float | None = None  # arrival of the current line's first byte
        self.scans = 0
        self.errors = 0

    @property
    def buffered(self) -> int:
        """Bytes held for the current line (never more than ``max_line``)."""
        return len(self._line)

    @property
    def busy(self) -> bool:
        """Whether a line is under way (bytes, an STX or a CR are held)."""
        return self._started is not None

    def feed(self, data: bytes, now: float) -> list[ScanEvent]:
        """Take ``data`` that arrived at ``now`` (seconds, any monotonic origin); return finished events."""
        events = self.expire(now)
        for byte in data:
            if byte == NUL:
                continue
            if self._cr and self._after_cr(events, byte):
                continue
            if self._started is None:
                self._started = now
            if byte in (CR, LF, STX, ETX):
                self._control(events, byte, now)
            elif not self._overflow:
                self._append(events, byte, now)
        return events

    def expire(self, now: float) -> list[ScanEvent]:
        """Events due at ``now``: a line left unfinished ``timeout`` seconds after its first byte."""
        events: list[ScanEvent] = []
        if self._started is None or now - self._started <= self.timeout:
            return events
        age = now - self._started
        if self._overflow:
            self._reset()  # already reported when it overflowed
        else:
            self._fail(events, f"{self._partial()} {age:.1f} s after it began")
        return events

    # -- internals ------------------------------------------------------------------------
    def _partial(self) -> str:
        return f"partial scan: {len(self._line)} bytes without a line end"

    def _reset(self) -> None:
        self._line.clear()
        self._bad = ""
        self._overflow = False
        self._cr = False
        self._started = None

    def _fail(self, events: list[ScanEvent], message: str) -> None:
        events.append(ScanError(message=message, discarded=len(self._line)))
        self.errors += 1
        self._reset()

    def _control(self, events: list[ScanEvent], byte: int, now: float) -> None:
        if byte == STX:
            if self._line or self._overflow or self._bad:
                self._fail(events, f"{self._partial()}, then a new frame began (STX)")
            self._started = now
        elif byte == ETX:
            self._end(events)
        else:
            self._line_end(events, byte)

    def _append(self, events: list[ScanEvent], byte: int, now: float) -> None:
        self._line.append(byte)
        if byte not in _PRINTABLE and not self._bad:
            self._bad = f"the line has a byte outside printable ASCII (0x{byte:02X})"
        if len(self._line) > self.max_line:
            self._fail(events, f"a line ran past {self.max_line} bytes without a line end; dropped it")
            self._overflow = True
            self._started = now

    def _line_end(self, events: list[ScanEvent], byte: int) -> None:
        terminator = self.framing.terminator
        if terminator == "crlf" and byte == CR:
            self._cr = True
        elif self._overflow:
            self._reset()  # any line end resyncs after an over-long line (already reported)
        elif terminator in ("any", _NAMES[byte].lower()):
            self._end(events)
        else:
            name, expected = _NAMES[byte], _EXPECTED[terminator]
            self._fail(events, f"a line ended with {name}; the scanner is set to end lines with {expected}")

    def _after_cr(self, events: list[ScanEvent], byte: int) -> bool:
        """``"crlf"``: the byte after a CR. True when it was the LF that ends the line."""
        self._cr = False
        if byte == LF:
            self._end(events)
            return True
        if self._overflow:
            self._reset()
        else:
            self._fail(events, "a line ended with CR alone; the scanner is set to end lines with CR LF")
        return False

    def _end(self, events: list[ScanEvent]) -> None:
        """The current line is complete: check it and emit its event (an empty line is skipped)."""
        if self._overflow:
            self._reset()  # the rest of an over-long line: already reported
            return
        if not self._line:
            self._reset()
            return
        if self._bad:
            self._fail(events, self._bad)
            return
        text = self._line.decode("ascii")
        prefix, suffix = self.framing.prefix, self.framing.suffix
        if not text.startswith(prefix):
            self._fail(events, f"the line does not start with the configured prefix ({len(prefix)} chars)")
        elif not text.endswith(suffix):
            self._fail(events, f"the line does not end with the configured suffix ({len(suffix)} chars)")
        elif len(text) <= len(prefix) + len(suffix):
            self._fail(events, "the line has no code between the prefix and the suffix")
        else:
            events.append(CodeScan(text=text[len(prefix) : len(text) - len(suffix)]))
            self.scans += 1
            self._reset()


def encode_scan(code: str, *, framing: Framing | None = None, stx_etx: bool = False, terminated: bool = True) -> bytes:
    """``code`` as a scanner set up with ``framing`` sends it.

    ``terminated=False`` leaves out the ETX and the line end (a read cut
    short). Raises LocalProtocolError (without quoting the code) when the code
    is empty or not printable ASCII.
    """
    framing = framing if framing is not None else Framing()
    if not code or not _printable(code):
        raise LocalProtocolError(f"a scanned code is printable ASCII, got {len(code)} chars that are not")
    body = (framing.prefix + code + framing.suffix).encode("ascii")
    start = b"\x02" if stx_etx else b""
    if not terminated:
        return start + body
    return start + body + (b"\x03" if stx_etx else b"") + framing.line_end
