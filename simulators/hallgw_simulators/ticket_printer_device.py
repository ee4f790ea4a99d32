"""A simulated ESC/POS queue-ticket printer on a real serial transport, with faults on command.

Theory of operation
-------------------
:class:`TicketPrinterDevice` reads what the host writes through the same
codec the gateway uses, in the device role
(:class:`hallgw_protocols.escpos.EscPosParser`), and acts on the events as a
thermal printer does:

- text runs make up the current line; a line feed prints it; a QR code
  (``GS ( k`` function 181) prints its stored data; ``GS V`` cuts, which ends
  the ticket: it is kept as a :class:`PrintedTicket` (the last
  :data:`DEFAULT_KEEP`, plus a count of all). ``ESC @`` with lines printed
  and no cut ends that ticket uncut.
- ``DLE EOT n`` is answered at once with one status byte built from the
  model's state (:meth:`TicketPrinterModel.status`, bit layout in
  :mod:`hallgw_protocols.escpos.status`), even while the printer cannot
  print: real-time commands are meant for exactly that.
- While the paper is out, the cover is open or the printer is offline, print
  data is discarded and counted, as real printers do (their buffer is lost
  or the host must send again). A ticket being printed when the paper runs
  out is kept uncut with the lines it got.

Faults (see :data:`FAULTS`), applied through :meth:`TicketPrinterDevice.apply_fault`:

- ``paper_out`` [on|off]: the roll is empty (status n = 4 bits 2, 3, 5, 6;
  n = 2 bit 5; n = 1 bit 3 offline);
- ``paper_near_end`` [on|off]: the near-end sensor trips (n = 4 bits 2, 3); still prints;
- ``cover_open`` [on|off]: the cover is open (n = 2 bit 2, n = 1 offline);
- ``offline`` [on|off]: the printer stops on an error (n = 2 bit 6, n = 1 offline);
- ``runout`` N: the roll ends after N more printed lines (0: never), so the
  paper runs out part-way through a ticket;
- ``silence`` on|off: the printer is dead: nothing is answered or printed;
- ``corrupt`` N: the next N status answers get their fixed bit 1 cleared,
  so the host can tell them from status bytes;
- ``garbage`` N: N noise bytes (never a valid status byte) before the next answer;
- ``delay`` MS, ``unplug``, ``replug``, ``clear``: as on every serial device.

What :meth:`TicketPrinterDevice.describe` shows of tickets (a queue number,
a window, a time) is no personal data.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from hallgw_protocols.escpos import (
    Cut,
    EscPosParser,
    Event,
    Init,
    LineFeed,
    PrinterStatus,
    Qr,
    StatusRequest,
    Text,
    is_status_byte,
)
from hallgw_simulators.faults import FaultArg, count_arg, switch_arg
from hallgw_simulators.links import Endpoint, Link
from hallgw_simulators.serial_device import SerialDevice

__all__ = [
    "DEFAULT_BAUD",
    "DEFAULT_KEEP",
    "FAULTS",
    "KIND",
    "PrintedTicket",
    "PrinterFaults",
    "TicketPrinterDevice",
    "TicketPrinterModel",
]

KIND: Final = "ticket_printer"
DEFAULT_BAUD: Final = 9600
DEFAULT_KEEP: Final = 50
"""Tickets kept for inspection; older ones only count."""
MAX_RUNOUT: Final = 1_000_000
_FIXED_ON_BIT: Final = 0x02


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PrintedTicket:
    """One ticket as it came out of the printer."""

    lines: tuple[str, ...]
    qr: tuple[str, ...]
    """QR payloads, decoded as UTF-8."""
    cut: bool
    """False when the ticket stopped before its cut (paper out, or the host started over)."""
    time: dt.datetime

    def describe(self) -> dict[str, Any]:
        return {"lines": list(self.lines), "qr": list(self.qr), "cut": self.cut, "time": self.time.isoformat()}


@dataclasses.dataclass(slots=True)
class PrinterFaults:
    """Conditions of the mechanism (the wire faults are the base's)."""

    paper_out: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    offline: bool = False
    runout: int = 0
    """Printed lines left on the roll; 0 means it does not run out."""


class TicketPrinterModel:
    """The printer's state: the ticket being printed, the tickets done, and its faults."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.faults = PrinterFaults()
        self.tickets: collections.deque[PrintedTicket] = collections.deque(maxlen=keep)
        self.printed = 0
        """Tickets ended (cut or not) since start."""
        self.discarded = 0
        """Print commands and text runs dropped while the printer could not print."""
        self._lines: list[str] = []
        self._line = ""
        self._qr: list[str] = []

    def status(self) -> PrinterStatus:
        """What the sensors say, as the status bytes report it."""
        f = self.faults
        return PrinterStatus(
            online=not (f.paper_out or f.cover_open or f.offline),
            cover_open=f.cover_open,
            paper_out=f.paper_out,
            paper_near_end=f.paper_near_end,
            error=f.offline,
        )

    @property
    def in_progress(self) -> bool:
        return bool(self._lines or self._line or self._qr)

    def apply(self, event: Event) -> bool:
        """Act on one parsed event; False when it was discarded (the printer cannot print)."""
        if not self.status().ready:
            self.discarded += 1
            return False
        if isinstance(event, Text):
            self._line += event.text
        elif isinstance(event, LineFeed):
            self._print_line()
        elif isinstance(event, Qr):
            self._qr.append(event.text)
        elif isinstance(event, Cut):
            self.end_ticket(cut=True)
        elif isinstance(event, Init):
            self.end_ticket(cut=False)
        return True

    def _print_line(self) -> None:
        self._lines.append(self._line)
        self._line = ""
        if self.faults.runout:
            self.faults.runout -= 1
            if not self.faults.runout:
                self.faults.paper_out = True
                self.end_ticket(cut=False)

    def end_ticket(self, *, cut: bool) -> None:
        """Close the ticket in progress (nothing happens when there is none)."""
        if not self.in_progress:
            return
        if self._line:
            self._lines.append(self._line)
        self.tickets.append(
            PrintedTicket(lines=tuple(self._lines), qr=tuple(self._qr), cut=cut, time=dt.datetime.now(dt.UTC))
        )
        self.printed += 1
        self._lines, self._line, self._qr = [], "", []

    def describe(self) -> dict[str, Any]:
        last = self.tickets[-1].describe() if self.tickets else None
        return {
            "status": self.status().summary,
            "tickets": self.printed,
            "last_ticket": last,
            "discarded": self.discarded,
        }


class TicketPrinterDevice(SerialDevice):
    """One simulated ESC/POS ticket printer: the parser, the model, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if not is_status_byte(b))
    HEADER_SIZE: ClassVar[int] = 0  # an answer is one byte
    model: TicketPrinterModel

    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        endpoint: Endpoint,
        baud: int = DEFAULT_BAUD,
        keep: int = DEFAULT_KEEP,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(device_id=device_id, seed=seed, endpoint=endpoint, baud=baud, station=station, name=name)
        self.model = TicketPrinterModel(keep)
        self.bytes_in = 0
        self.status_requests = 0
        self._parser: EscPosParser | None = None
        self._changed = asyncio.Condition()

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this printer (9600 baud when pacing is off)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    @property
    def tickets(self) -> tuple[PrintedTicket, ...]:
        """The tickets kept, oldest first."""
        return tuple(self.model.tickets)

    async def wait_tickets(self, count: int) -> PrintedTicket:
        """Return the last ticket once ``count`` have been printed in all.

        No timeout of its own: wrap it in ``asyncio.timeout``.
        """
        async with self._changed:
            await self._changed.wait_for(lambda: self.model.printed >= count)
        return self.model.tickets[-1]

    # -- faults ----------------------------------------------------------------------
    async def _switch(self, name: str, args: Sequence[FaultArg]) -> None:
        setattr(self.model.faults, name, switch_arg(name, args, default=True))
        if not self.model.status().ready:
            # The mechanism stops: whatever was printed so far is torn off uncut.
            self.model.end_ticket(cut=False)
            await self._notify()

    async def _runout(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.runout = count_arg(name, args, MAX_RUNOUT)

    def _clear_device_faults(self) -> None:
        self.model.faults = PrinterFaults()

    def _flip_byte(self, frame: bytes) -> bytes:
        # Clear the fixed-on bit: a random flip could make another valid status byte,
        # which no host could catch; a real line fault is as likely to hit this bit as any.
        return bytes([frame[0] & ~_FIXED_ON_BIT & 0xFF]) + frame[1:]

    def describe(self) -> dict[str, Any]:
        parser = self._parser
        counters = {
            "bytes_in": self.bytes_in,
            "status_requests": self.status_requests,
            "skipped_commands": parser.skipped_commands if parser else 0,
            "unknown_commands": parser.unknown_commands if parser else 0,
        }
        return super().describe() | counters

    # -- the wire --------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, link: Link) -> None:
        # A new link is a printer that was power-cycled: its parser starts afresh.
        parser = self._parser = EscPosParser()
        while data := await link.read():
            self.bytes_in += len(data)
            if self.wire.silence:
                continue
            printed = self.model.printed
            for event in parser.feed(data):
                if isinstance(event, StatusRequest):
                    self.status_requests += 1
                    await self._write(link, [self.model.status().reply(event.kind).to_bytes()])
                else:
                    self.model.apply(event)
            if self.model.printed != printed:
                await self._notify()


TicketPrinterDevice.FAULT_HANDLERS = {
    "paper_out": TicketPrinterDevice._switch,
    "paper_near_end": TicketPrinterDevice._switch,
    "cover_open": TicketPrinterDevice._switch,
    "offline": TicketPrinterDevice._switch,
    "runout": TicketPrinterDevice._runout,
    "corrupt": TicketPrinterDevice._corrupt,
    "garbage": TicketPrinterDevice._garbage,
    "silence": TicketPrinterDevice._silence,
    "delay": TicketPrinterDevice._delay,
    "unplug": TicketPrinterDevice._unplug,
    "replug": TicketPrinterDevice._replug,
    "clear": TicketPrinterDevice._clear,
}

FAULTS: Final = tuple(TicketPrinterDevice.FAULT_HANDLERS)
"""Fault names :meth:`TicketPrinterDevice.apply_fault` accepts."""
