"""The host end of an Enttec DMX USB Pro widget: the studio lights of a photo machine.

Theory of operation
-------------------
A reader task feeds every byte from the link into the host codec
(:class:`~hallgw_protocols.dmx.DmxConnection`). The widget answers two
requests, Get Widget Parameters and Get Widget Serial Number, each with a
reply of the same label; :meth:`DmxLink.identify` asks both, one request
outstanding at a time (the protocol has no sequence numbers), the waiter
registered *before* the request is written and a timeout on every wait. A
reply nobody waits for (a late one) is traced and dropped; a Received DMX
packet (the widget's input port) is kept as :attr:`DmxLink.last_input`. A
recovered protocol error (a frame without its end byte, a serial number that
is not BCD) fails whatever waits with :class:`DeviceProtocolError`; after a
failed request the link waits until the widget is quiet and drops what it
sent, so a late reply never answers the next request.

:meth:`DmxLink.send_levels` writes an Output Only Send DMX request and
returns: the widget never acknowledges it, so a write that completes is all
a host can know. The widget keeps sending the last universe it was given;
but "the periodic DMX packet output will stop ... when the Widget receives
any request message other than the Output Only Send DMX Packet request, or
the Get Widget Parameters request" (widget API 1.44), so after asking for the
serial number :meth:`identify` sends the last levels again and the lights do
not go out because somebody identified the widget.

Writes are serialised (a universe is one write), but a level change never
waits behind an outstanding request: lights follow the caller at once.
Levels are not personal data; traces carry the frames whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Final, TypeVar

from hallgw_daemon.core.errors import DeviceProtocolError, DeviceTimeoutError, InvalidRequestError, LinkLostError
from hallgw_daemon.drivers.base import Direction, DriverContext, TraceRecord
from hallgw_daemon.transports import ByteStream, LinkClosedError
from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.dmx import (
    DmxConnection,
    Event,
    GetSerialNumber,
    GetWidgetParameters,
    ReceivedDmx,
    Reply,
    Request,
    SendDmx,
    SerialNumber,
    WidgetMessage,
    WidgetParameters,
)

QUIET_GAP: Final = 0.05
"""Silence that marks the end of whatever the widget was sending."""
QUIET_MAX: Final = 1.0

_R = TypeVar("_R", WidgetParameters, SerialNumber)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WidgetInfo:
    """Who the widget is: what :meth:`DmxLink.identify` learns."""

    firmware: str
    """``MSB.LSB`` of the firmware version, e.g. ``1.44`` (MSB 1: DMX firmware)."""
    serial: str
    """Eight digits, as printed on the case."""
    parameters: WidgetParameters
    """The output timing the widget reported."""

    def identity(self) -> dict[str, str]:
        """For display: the identity map a driver returns."""
        return {
            "firmware": self.firmware,
            "serial": self.serial,
            "break_us": f"{self.parameters.break_us:.0f}",
            "mab_us": f"{self.parameters.mab_us:.0f}",
            "output_rate": str(self.parameters.output_rate),
        }


class DmxLink:
    """The host end of one DMX USB Pro widget link (see module docstring)."""

    def __init__(self, link: ByteStream, ctx: DriverContext) -> None:
        self._link = link
        self._ctx = ctx
        self._conn = DmxConnection(Role.HOST)
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[Reply] | None = None
        self._expected: type[Reply] | None = None
        self._request_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._last_rx = self._loop.time()
        self._closed = asyncio.Event()
        self.close_reason = ""
        self.last_levels: SendDmx | None = None
        """The last universe written (sent again after identify)."""
        self.last_input: ReceivedDmx | None = None
        """The last DMX packet the widget received on its input port, if it ever sent one."""
        self._reader = asyncio.create_task(self._read_loop(), name=f"dmx-read:{ctx.device_id}")

    # -- the reader task ---------------------------------------------------------
    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._link.read()
                self._last_rx = self._loop.time()
                before = self._conn.discarded_bytes
                self._conn.receive_data(data)
                self._drain_events()
                skipped = self._conn.discarded_bytes - before
                if skipped:
                    self._ctx.on_link_fault(f"{skipped} stray bytes discarded while resynchronising", skipped)
        except LinkClosedError as err:
            self.close_reason = str(err)
        except asyncio.CancelledError:
            self.close_reason = "detached"
            raise
        finally:
            self._closed.set()
            self._fail(LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id))

    def _drain_events(self) -> None:
        while True:
            try:
                event = self._conn.next_event()
            except RemoteProtocolError as err:
                self._tap(TraceRecord(direction=Direction.FROM_DEVICE, summary="", error=str(err)))
                self._fail(DeviceProtocolError(f"the widget sent a bad frame: {err}", device_id=self._ctx.device_id))
                continue
            if event is NEED_DATA:
                return
            if isinstance(event, ReceivedDmx):
                self.last_input = event
                self._trace_in(f"ReceivedDmx: {len(event.levels)} levels, status {event.status:02X}", event)
            elif isinstance(event, WidgetMessage):
                self._trace_in(f"label {event.label}: ignored", event)
            elif self._expected is not None and isinstance(event, self._expected):
                self._trace_in(type(event).__name__, event)
                waiter, self._waiter, self._expected = self._waiter, None, None
                if waiter is not None and not waiter.done():
                    waiter.set_result(event)
            else:
                self._trace_in(f"{type(event).__name__}: unexpected, dropped", event)

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter, self._expected = self._waiter, None, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # retrieved: the waiter may already be abandoned

    def _tap(self, record: TraceRecord) -> None:
        for tap in list(self._ctx.taps):
            tap(record)

    def _trace_in(self, summary: str, event: Event) -> None:
        if self._ctx.taps:
            self._tap(TraceRecord(direction=Direction.FROM_DEVICE, summary=summary, length=len(event.data()) + 5))

    # -- the API -----------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> str:
        await self._closed.wait()
        return self.close_reason

    async def identify(self, *, timeout: float | None = None) -> WidgetInfo:
        """Ask the widget's serial number and parameters (each wait bounded by ``timeout``)."""
        serial = await self._request(GetSerialNumber(), SerialNumber, timeout)
        parameters = await self._request(GetWidgetParameters(), WidgetParameters, timeout)
        if self.last_levels is not None:
            # The serial number request stopped the widget's output: start it again.
            await self._write(self.last_levels, timeout)
        return WidgetInfo(firmware=str(parameters.firmware), serial=serial.text, parameters=parameters)

    async def parameters(self, *, timeout: float | None = None) -> WidgetParameters:
        """Ask the widget's parameters: a health check that leaves its output running."""
        return await self._request(GetWidgetParameters(), WidgetParameters, timeout)

    async def send_levels(self, levels: Mapping[int, int] | Sequence[int], *, timeout: float | None = None) -> None:
        """Set the lights: levels by channel from 1 (a mapping), or channels 1..N in order (a sequence).

        Channels not given are 0. Raises InvalidRequestError for a channel
        outside 1..512 or a level outside 0..255; nothing is sent then.
        """
        try:
            frame = SendDmx.of(levels)
        except LocalProtocolError as err:
            raise InvalidRequestError(f"bad DMX levels: {err}", device_id=self._ctx.device_id) from None
        self.last_levels = frame
        await self._write(frame, timeout)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._link.close()

    # -- exchanges ---------------------------------------------------------------
    async def _write(self, request: Request, timeout: float | None) -> None:
        if self.closed:
            raise LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id)
        data = self._conn.send(request)
        if self._ctx.taps:
            summary = type(request).__name__
            if isinstance(request, SendDmx):
                summary = f"SendDmx: {len(request.levels)} channels"
            self._tap(TraceRecord(direction=Direction.TO_DEVICE, summary=summary, data=data, length=len(data)))
        limit = self._ctx.command_timeout if timeout is None else timeout
        try:
            async with self._write_lock, asyncio.timeout(limit):
                await self._link.write(data)
        except TimeoutError:
            raise DeviceTimeoutError(
                f"writing {type(request).__name__} took over {limit:.1f} s", device_id=self._ctx.device_id
            ) from None
        except LinkClosedError as err:
            raise LinkLostError(f"link lost: {err}", device_id=self._ctx.device_id) from err

    async def _request(self, request: Request, expected: type[_R], timeout: float | None) -> _R:
        limit = self._ctx.command_timeout if timeout is None else timeout
        async with self._request_lock:
            waiter: asyncio.Future[Reply] = self._loop.create_future()
            self._waiter, self._expected = waiter, expected
            try:
                await self._write(request, limit)
                async with asyncio.timeout(limit):
                    reply = await asyncio.shield(waiter)
            except DeviceTimeoutError:  # the write itself stalled
                await self._recover()
                raise
            except TimeoutError:
                await self._recover()
                raise DeviceTimeoutError(
                    f"no answer to {type(request).__name__} within {limit:.1f} s", device_id=self._ctx.device_id
                ) from None
            except BaseException:
                await self._recover()
                raise
        assert isinstance(reply, expected)  # noqa: S101 - the reader resolves only with the expected type
        return reply

    async def _recover(self) -> None:
        """Forget the request: wait until the widget is quiet, then drop what it sent."""
        self._waiter, self._expected = None, None
        start = self._loop.time()
        while not self.closed:
            now = self._loop.time()
            quiet_for = now - self._last_rx
            if quiet_for >= QUIET_GAP or now - start >= QUIET_MAX:
                break
            await asyncio.sleep(QUIET_GAP - quiet_for)
        self._conn.clear()
