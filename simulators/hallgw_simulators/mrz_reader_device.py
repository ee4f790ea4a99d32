"""A simulated desktop OCR MRZ reader on a real serial transport, with faults on command.

:class:`MrzReaderDevice` is a swipe or full-page MRZ reader: it only sends.
When a document is placed (:meth:`MrzReaderDevice.scan`, or the ``scan``
operation of the control protocol) it writes the MRZ lines of that document,
taken from the passport deck (:func:`hallgw_simulators.passport_deck.build_passport_deck`)
or given as text, with the line framing of :class:`hallgw_protocols.mrz_reader.Framing`
(CR by default) at the line rate: 9600 baud by default, so a TD3 read of 90
bytes takes about 94 ms; ``baud=0`` writes at once. Whatever the host sends
is read and ignored, as these readers have no commands worth simulating.

Faults (see :data:`FAULTS`), applied through :meth:`MrzReaderDevice.apply_fault`:

- ``misread`` [on|off]: the reader misreads one character of the document
  number, so the document number check digit fails (until switched off);
- ``partial`` [on|off]: only the first line is sent, then nothing (no ETX);
- ``garbage`` N: N random bytes (from the device's seeded stream, never a
  line end, STX or ETX) and a line end go out before the next read, so the
  host sees one bad line and then the read;
- ``silence`` on|off: a scan sends nothing;
- ``corrupt`` N: the next N reads get one byte changed;
- ``delay`` MS, ``unplug``, ``replug``, ``clear``: as on every serial device.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.icao9303 import MrzFormat
from hallgw_protocols.mrz_reader import FORMAT_BY_WIDTH, Framing, check_lines, encode_lines, encode_scan
from hallgw_simulators.faults import FaultArg, FaultError, switch_arg
from hallgw_simulators.links import Endpoint, Link
from hallgw_simulators.passport_deck import PassportDeck, build_passport_deck
from hallgw_simulators.serial_device import SerialDevice

__all__ = [
    "DEFAULT_BAUD",
    "FAULTS",
    "KIND",
    "MrzReaderDevice",
    "MrzReaderModel",
    "ReaderFaults",
    "misread",
]

KIND: Final = "mrz_reader"
DEFAULT_BAUD: Final = 9600
_LINE_BREAKS: Final = frozenset(b"\r\n\x02\x03")
_DOCUMENT_NUMBER: Final = {MrzFormat.TD1: (0, 5), MrzFormat.TD2: (1, 0), MrzFormat.TD3: (1, 0)}
"""(line, index) of the document number's first character (weight 7 in its check digit)."""


def misread(lines: Sequence[str]) -> tuple[str, ...]:
    """``lines`` with the document number's first character read wrong: its check digit no longer holds.

    The character sits under weight 7, and the replacement differs in value by
    1 (or 10 -> 1 for ``<``), so the weighted sum changes modulo 10.
    """
    fmt = check_lines(lines)
    row, index = _DOCUMENT_NUMBER[fmt]
    line = lines[row]
    char = line[index]
    if char.isdigit():
        wrong = str((int(char) + 1) % 10)
    elif char == "<":
        wrong = "1"
    else:
        wrong = "A" if char == "Z" else chr(ord(char) + 1)
    out = list(lines)
    out[row] = line[:index] + wrong + line[index + 1 :]
    return tuple(out)


def _lines_of(text: str) -> tuple[str, ...]:
    """MRZ text as lines: split on line breaks, or by width when it comes as one string."""
    parts = tuple(part.strip() for part in text.replace("\r", "\n").split("\n") if part.strip())
    if len(parts) == 1:
        flat = parts[0]
        for width, fmt in FORMAT_BY_WIDTH.items():
            if len(flat) == width * fmt.lines:
                return tuple(flat[i : i + width] for i in range(0, len(flat), width))
    return parts


@dataclasses.dataclass(slots=True)
class ReaderFaults:
    """Faults on what the reader reads (the wire faults are the base's)."""

    misread: bool = False
    partial: bool = False


class MrzReaderModel:
    """What the reader holds: the deck, the last document read and its faults."""

    def __init__(self, deck: PassportDeck, framing: Framing) -> None:
        self.deck = deck
        self.framing = framing
        self.faults = ReaderFaults()
        self.last_document: str | None = None
        self.scans = 0

    def lines_for(self, document: str) -> tuple[str, ...]:
        """The MRZ lines of a deck document id, or of MRZ text (raises FaultError when neither)."""
        if document in self.deck:
            return self.deck[document].mrz.lines
        lines = _lines_of(document)
        try:
            check_lines(lines)
        except LocalProtocolError as err:
            # No MRZ text in the message: it may be a real one.
            raise FaultError(
                f"scan takes a document id of the passport deck ({', '.join(self.deck)}) or whole MRZ text: "
                f"{str(err).split(';')[0]}"
            ) from None
        return lines

    def describe(self) -> dict[str, Any]:
        return {"framing": self.framing.value, "last_document": self.last_document, "scans": self.scans}


class MrzReaderDevice(SerialDevice):
    """One simulated MRZ reader: the document deck, the line encoder, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    # Noise never ends a line or a read: the host sees one bad line, then the real read.
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if b not in _LINE_BREAKS)
    HEADER_SIZE: ClassVar[int] = 1  # corruption spares the first byte (STX on framed readers)

    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        endpoint: Endpoint,
        baud: int = DEFAULT_BAUD,
        framing: Framing = Framing.CR,
        deck: PassportDeck | None = None,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(device_id=device_id, seed=seed, endpoint=endpoint, baud=baud, station=station, name=name)
        self.model = MrzReaderModel(deck if deck is not None else build_passport_deck(), framing)
        self._link: Link | None = None
        self.bytes_in = 0

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this reader (9600 baud when pacing is off)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    # -- the document ----------------------------------------------------------------
    async def scan(self, document: str, framing: Framing | None = None) -> bool:
        """Read ``document`` (a deck document id or MRZ text) and send its lines.

        Returns whether anything was sent: False when silenced or when no host
        is connected (a TCP reader with nobody attached loses the read).
        """
        lines = self.model.lines_for(document)
        chosen = framing or self.model.framing
        self.model.last_document = document if document in self.model.deck else "<text>"
        self.model.scans += 1
        if self._link is None and self.endpoint.plugged:
            # A link being plugged in right now gets its serving task started first.
            await asyncio.sleep(0)
        if self.wire.silence or self._link is None:
            return False
        if self.model.faults.misread:
            lines = misread(lines)
        frames: list[bytes] = []
        if self.wire.garbage:
            frames.append(self._noise(self.wire.garbage) + chosen.line_end)
            self.wire.garbage = 0
        if self.model.faults.partial:
            frames.append(encode_lines(lines[:1], framing=chosen, close=False))
        else:
            frames.append(encode_scan(lines, framing=chosen))
        await self._write(self._link, frames)
        return True

    # -- faults ----------------------------------------------------------------------
    async def _scan(self, name: str, args: Sequence[FaultArg]) -> None:
        if not 1 <= len(args) <= 2 or not isinstance(args[0], str) or not args[0]:
            raise FaultError(f"{name} takes a document id or MRZ text, then optionally a framing")
        framing = _framing(name, args[1]) if len(args) == 2 else None
        await self.scan(args[0], framing)

    async def _framing(self, name: str, args: Sequence[FaultArg]) -> None:
        if len(args) != 1:
            raise FaultError(f"{name} takes one framing: {', '.join(f.value for f in Framing)}")
        self.model.framing = _framing(name, args[0])

    async def _misread(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.misread = switch_arg(name, args, default=True)

    async def _partial(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.partial = switch_arg(name, args, default=True)

    def _clear_device_faults(self) -> None:
        self.model.faults = ReaderFaults()

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"documents": self.model.deck.describe()}

    # -- the wire --------------------------------------------------------------------
    async def _serve(self, link: Link) -> None:
        # The reader only sends; what the host writes is read and dropped.
        self._link = link
        try:
            while data := await link.read():
                self.bytes_in += len(data)
        finally:
            if self._link is link:
                self._link = None


def _framing(name: str, value: FaultArg) -> Framing:
    try:
        return Framing(str(value).lower())
    except ValueError:
        raise FaultError(f"{name}: framing is one of {', '.join(f.value for f in Framing)}, got {value!r}") from None


MrzReaderDevice.FAULT_HANDLERS = {
    "scan": MrzReaderDevice._scan,
    "framing": MrzReaderDevice._framing,
    "misread": MrzReaderDevice._misread,
    "partial": MrzReaderDevice._partial,
    "corrupt": MrzReaderDevice._corrupt,
    "garbage": MrzReaderDevice._garbage,
    "silence": MrzReaderDevice._silence,
    "delay": MrzReaderDevice._delay,
    "unplug": MrzReaderDevice._unplug,
    "replug": MrzReaderDevice._replug,
    "clear": MrzReaderDevice._clear,
}

FAULTS: Final = tuple(MrzReaderDevice.FAULT_HANDLERS)
"""Operation and fault names :meth:`MrzReaderDevice.apply_fault` accepts."""
