"""The queue-ticket printer: an ESC/POS thermal printer on a serial line, TCP or USB.

Theory of operation
-------------------
The printer answers nothing but ``DLE EOT n`` real-time status requests, one
byte each (:mod:`hallgw_protocols.escpos.status`). :class:`PrinterLink` is
the host end: a reader task feeds every byte into the host codec
(:class:`~hallgw_protocols.escpos.EscPosConnection`), which pairs each status
byte with the request it answers; the waiter is registered *before* the
request is written, one request is out at a time, and every wait has a
timeout. Bytes that are no status byte (noise, XON/XOFF) are dropped and
reported as link faults; if only such bytes came back by the timeout the
answer was corrupted (:class:`DeviceProtocolError`), if nothing came it is a
:class:`DeviceTimeoutError`. After any failed exchange the link waits for
:data:`QUIET_GAP` of silence and forgets what arrived, so a late answer is
never taken for the next one.

Printing a ticket (:meth:`TicketPrinterDriver.print_ticket`):

1. ask the paper sensor (n = 4), the offline cause (n = 2) and the printer
   status (n = 1): paper out is :class:`PaperOutError`, an open cover
   :class:`CoverOpenError`, any other offline state (an error)
   :class:`PrinterStoppedError`. Nothing is sent to a printer that would
   throw the ticket away;
2. progress PRINTING, then write the ticket's bytes
   (:func:`~hallgw_protocols.escpos.render_ticket`);
3. ask the same three again to confirm: the paper running out part-way is
   :class:`PaperOutError` too, with ``details["printed"] == "partial"``, so
   the caller prints the ticket again once paper is in; then progress PRINTED.

The confirmation is as good as the printer's real-time answer: a real printer
answers ``DLE EOT`` as soon as it reads it, possibly while the end of the
ticket is still in its buffer, so a paper end in the last few lines can go
unseen until the next ticket ([not verified on hardware]; the simulator
answers in order). The wait for that answer allows for the ticket's time on
the wire at 9600 baud.

``identify()`` asks n = 1 and reports ``{"status": "online" | "offline"}``.
``probe()`` asks n = 1 (a silent printer is a timeout; marking it offline
after repeated failures is the supervisor's job) and the paper sensor for
:meth:`TicketPrinterDriver.consumables`; when the printer is offline it also
asks why (n = 2). A ticket holds a queue number, a window and a time, no
personal data, so traces show its bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, Final

from hallgw_daemon.core.errors import (
    CoverOpenError,
    DeviceProtocolError,
    DeviceTimeoutError,
    LinkLostError,
    PaperOutError,
    PrinterStoppedError,
)
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Direction, Driver, DriverContext, TraceRecord, register_driver, stream_of
from hallgw_daemon.transports import ByteStream, LinkClosedError, Transport
from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.escpos import (
    EscPosConnection,
    PrinterStatus,
    StatusKind,
    StatusReply,
    StatusRequest,
    Ticket,
    render_ticket,
)

QUIET_GAP: Final = 0.05
"""Silence that marks the end of whatever the printer was sending (48 byte times at 9600)."""
QUIET_MAX: Final = 1.0
ASSUMED_BAUD: Final = 9600
"""Line rate assumed for the ticket's time on the wire (the usual rate of ticket printers)."""
FULL_STATUS: Final = (StatusKind.PAPER_SENSOR, StatusKind.OFFLINE_CAUSE, StatusKind.PRINTER)

ProgressFn = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PrintResult:
    """A ticket that went through: the status after it, and what it took."""

    status: PrinterStatus
    bytes_sent: int
    seconds: float

    @property
    def paper_near_end(self) -> bool:
        """Staff should bring a new roll soon."""
        return self.status.paper_near_end


class PrinterLink:
    """The host end of one ESC/POS link (see module docstring)."""

    def __init__(self, link: ByteStream, ctx: DriverContext) -> None:
        self._link = link
        self._ctx = ctx
        self._conn = EscPosConnection(Role.HOST)
        self._waiter: asyncio.Future[StatusReply] | None = None
        self._bad = 0  # bytes refused while the current request waited
        self._loop = asyncio.get_running_loop()
        self._last_rx = self._loop.time()
        self._closed = asyncio.Event()
        self.close_reason = ""
        self._reader = asyncio.create_task(self._read_loop(), name=f"escpos-read:{ctx.device_id}")

    # -- the reader task ---------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._link.read()
                self._last_rx = self._loop.time()
                self._conn.receive_data(data)
                self._drain()
        except LinkClosedError as err:
            self.close_reason = str(err)
        except asyncio.CancelledError:
            self.close_reason = "detached"
            raise
        finally:
            self._closed.set()
            self._fail(LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id))

    def _drain(self) -> None:
        refused = 0
        while True:
            try:
                event = self._conn.next_event()
            except RemoteProtocolError as err:
                refused += err.discarded
                self._tap(TraceRecord(direction=Direction.FROM_DEVICE, summary="", error=str(err), length=1))
                continue
            if event is NEED_DATA:
                break
            if not isinstance(event, StatusReply):  # pragma: no cover - the host codec yields status answers only
                continue
            if self._ctx.taps:
                summary = f"status n={event.kind.value}: {event.value:02x}"
                self._tap(
                    TraceRecord(direction=Direction.FROM_DEVICE, summary=summary, data=event.to_bytes(), length=1)
                )
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(event)
        if refused:
            if self._waiter is not None:
                self._bad += refused
            self._ctx.on_link_fault(f"{refused} bytes that are no status byte discarded", refused)

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # retrieved: the waiter may already be abandoned

    def _tap(self, record: TraceRecord) -> None:
        for tap in list(self._ctx.taps):
            tap(record)

    # -- exchanges ---------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> str:
        await self._closed.wait()
        return self.close_reason

    def _lost(self) -> LinkLostError:
        return LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id)

    async def write(self, data: bytes, summary: str) -> None:
        """Send print data."""
        if self.closed:
            raise self._lost()
        if self._ctx.taps:
            self._tap(TraceRecord(direction=Direction.TO_DEVICE, summary=summary, data=data, length=len(data)))
        try:
            await self._link.write(self._conn.send_data(data))
        except LinkClosedError as err:
            raise LinkLostError(f"link lost: {err}", device_id=self._ctx.device_id) from err

    async def ask(self, kind: StatusKind, *, timeout: float) -> StatusReply:
        """Send ``DLE EOT kind`` and return the printer's answer."""
        if self.closed:
            raise self._lost()
        waiter: asyncio.Future[StatusReply] = self._loop.create_future()
        self._waiter, self._bad = waiter, 0
        request = self._conn.send(StatusRequest(kind=kind))
        try:
            await self.write(request, f"DLE EOT {kind.value} ({kind.name.lower()})")
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)
        except TimeoutError:
            bad = self._bad
            await self.recover()
            if bad:
                raise DeviceProtocolError(
                    f"the printer answered DLE EOT {kind.value} with {bad} bytes that are no status byte",
                    device_id=self._ctx.device_id,
                ) from None
            raise DeviceTimeoutError(
                f"no answer to DLE EOT {kind.value} within {timeout:.1f} s", device_id=self._ctx.device_id
            ) from None
        except BaseException:
            await self.recover()
            raise

    async def status(self, kinds: Sequence[StatusKind], *, timeout: float, first_timeout: float = 0.0) -> PrinterStatus:
        """Ask each of ``kinds`` in turn; the first wait may be longer (data still on the wire)."""
        replies = []
        for index, kind in enumerate(kinds):
            wait = max(timeout, first_timeout) if index == 0 else timeout
            replies.append(await self.ask(kind, timeout=wait))
        return PrinterStatus.from_replies(replies)

    async def recover(self) -> None:
        """Forget the exchange: wait until the printer is quiet, then drop what it sent."""
        self._waiter = None
        start = self._loop.time()
        while not self.closed:
            now = self._loop.time()
            quiet_for = now - self._last_rx
            if quiet_for >= QUIET_GAP or now - start >= QUIET_MAX:
                break
            await asyncio.sleep(QUIET_GAP - quiet_for)
        self._conn.abandon()

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._link.close()


@register_driver
class TicketPrinterDriver(Driver):
    """An ESC/POS queue-ticket printer (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.TICKET_PRINTER

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._link: PrinterLink | None = None
        self.last_status: PrinterStatus | None = None
        """The status as last read (probe or print)."""

    @property
    def link(self) -> PrinterLink:
        if self._link is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return self._link

    def attach(self, transport: Transport) -> None:
        self._link = PrinterLink(stream_of(transport, self.ctx.device_id), self.ctx)

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        status = await self.link.status([StatusKind.PRINTER], timeout=timeout)
        return {"status": "online" if status.online else "offline"}

    async def probe(self, *, timeout: float) -> None:
        kinds = [StatusKind.PRINTER, StatusKind.PAPER_SENSOR]
        status = await self.link.status(kinds, timeout=timeout)
        if not status.online:
            cause = await self.link.ask(StatusKind.OFFLINE_CAUSE, timeout=timeout)
            status = status.merge(cause)
        self.last_status = status

    def consumables(self) -> Mapping[str, int]:
        if self.last_status is None:
            return {}
        return {"paper_near_end": int(self.last_status.paper_near_end), "paper_out": int(self.last_status.paper_out)}

    async def wait_closed(self) -> str:
        return await self.link.wait_closed()

    async def detach(self) -> None:
        if self._link is not None:
            link, self._link = self._link, None
            await link.close()

    # -- printing ------------------------------------------------------------------
    def _check(self, status: PrinterStatus, *, after: bool) -> None:
        """Raise the error a caller can act on when ``status`` says the printer cannot print."""
        printed = "partial" if after else "none"
        details = {"printed": printed, "status": status.summary}
        again = ": load paper and print the ticket again" if after else ": load a new roll"
        device = self.ctx.device_id
        if status.paper_out:
            raise PaperOutError(f"the ticket printer is out of paper{again}", device_id=device, details=details)
        if status.cover_open:
            raise CoverOpenError("the ticket printer's cover is open: close it", device_id=device, details=details)
        if not status.ready:
            what = "stopped on an error" if status.error else "offline"
            raise PrinterStoppedError(
                f"the ticket printer is {what}: check it and switch it off and on", device_id=device, details=details
            )

    async def print_ticket(self, ticket: Ticket, *, progress: ProgressFn | None = None) -> PrintResult:
        """Print ``ticket`` and confirm it went through (see the module docstring)."""
        report = progress or (lambda _stage, _message: None)
        data = render_ticket(ticket)
        timeout = self.ctx.command_timeout
        started = asyncio.get_running_loop().time()
        before = await self.link.status(FULL_STATUS, timeout=timeout)
        self.last_status = before
        self._check(before, after=False)
        report("PRINTING", "printing the ticket")
        await self.link.write(data, f"ticket {ticket.queue_number} ({len(data)} bytes)")
        on_wire = len(data) * 10 / ASSUMED_BAUD
        after = await self.link.status(FULL_STATUS, timeout=timeout, first_timeout=timeout + on_wire)
        self.last_status = after
        self._check(after, after=True)
        report("PRINTED", "take your ticket")
        return PrintResult(status=after, bytes_sent=len(data), seconds=asyncio.get_running_loop().time() - started)
