"""Request/response over an AS608 link: one command outstanding, image uploads, a timeout on every wait.

Theory of operation
-------------------
A reader task feeds every byte from the link (serial or USB) into the host
codec (:class:`~hallgw_protocols.fingerprint.as608.As608Connection`). An
acknowledgement resolves the waiter registered *before* its command was
written; data packets of an upload go to the upload in progress. A recovered
protocol error (bad checksum, a packet out of turn) fails whatever waits.

After any failed exchange the link waits until the module has stopped
sending (:data:`QUIET_GAP` of silence) and drops what arrived, so a late
answer or the rest of an upload is never taken for the next command's.

Uploads (:meth:`As608Link.upload_image`) run under an inactivity timeout, not
a total one: 36,864 bytes take 6.4 s at 57600 baud, and what matters is that
packets keep coming. Data packets are fingerprint images: a trace shows their
sizes, never their bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from hallgw_daemon.core.errors import DeviceProtocolError, DeviceTimeoutError, LinkLostError
from hallgw_daemon.drivers.base import Direction, DriverContext, TraceRecord
from hallgw_daemon.transports import ByteStream, LinkClosedError
from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import (
    Acknowledgement,
    As608Connection,
    DataPacket,
    GrayImage,
    ImageAssembler,
    SystemParametersReport,
    UploadImage,
    VerifyPassword,
)
from hallgw_protocols.fingerprint.as608.events import AnyAcknowledgement, AnyCommand

QUIET_GAP: Final = 0.05
"""Silence that marks the end of whatever the module was sending (about 290 byte times at 57600)."""
QUIET_MAX: Final = 2.0
PACKET_GAP: Final = 1.0
"""Longest wait for the next data packet of an upload."""


class As608Link:
    """The host end of one AS608 link (see module docstring)."""

    def __init__(self, link: ByteStream, ctx: DriverContext) -> None:
        self._link = link
        self._ctx = ctx
        self._conn = As608Connection(Role.HOST)
        self._ack: asyncio.Future[AnyAcknowledgement] | None = None
        self._data: asyncio.Queue[DataPacket | Exception] | None = None
        self._loop = asyncio.get_running_loop()
        self._last_rx = self._loop.time()
        self._closed = asyncio.Event()
        self.close_reason = ""
        self._reader = asyncio.create_task(self._read_loop(), name=f"as608-read:{ctx.device_id}")

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
                self._fail(DeviceProtocolError(f"the module sent a bad packet: {err}", device_id=self._ctx.device_id))
                continue
            if event is NEED_DATA:
                return
            if isinstance(event, DataPacket):
                self._trace_data(event)
                if self._data is not None:
                    self._data.put_nowait(event)
            elif isinstance(event, Acknowledgement | SystemParametersReport):
                if self._ctx.taps:
                    self._tap(self._ack_record(event))
                waiter, self._ack = self._ack, None
                if waiter is not None and not waiter.done():
                    waiter.set_result(event)

    def _fail(self, exc: Exception) -> None:
        waiter, self._ack = self._ack, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # retrieved: the waiter may already be abandoned
        if self._data is not None:
            self._data.put_nowait(exc)

    def _tap(self, record: TraceRecord) -> None:
        for tap in list(self._ctx.taps):
            tap(record)

    @staticmethod
    def _ack_record(ack: AnyAcknowledgement) -> TraceRecord:
        if isinstance(ack, SystemParametersReport):
            summary = "ReadSysPara: OK"
        else:
            summary = f"confirmation {ack.confirmation:02X} {ack.text}"
        return TraceRecord(direction=Direction.FROM_DEVICE, summary=summary, length=len(ack.payload()) + 11)

    def _trace_data(self, packet: DataPacket) -> None:
        if self._ctx.taps:
            kind = "end packet" if packet.last else "data packet"
            self._tap(
                TraceRecord(
                    direction=Direction.FROM_DEVICE,
                    summary=f"{kind} ({len(packet.data)} image bytes masked)",
                    masked=True,
                    length=len(packet.data) + 11,
                )
            )

    # -- exchanges ---------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> str:
        await self._closed.wait()
        return self.close_reason

    async def _send(self, command: AnyCommand) -> asyncio.Future[AnyAcknowledgement]:
        if self.closed:
            raise LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id)
        waiter: asyncio.Future[AnyAcknowledgement] = self._loop.create_future()
        self._ack = waiter
        try:
            data = self._conn.send(command)
        except LocalProtocolError:
            await self.recover()
            data = self._conn.send(command)
        if self._ctx.taps:
            name = type(command).__name__
            if isinstance(command, VerifyPassword):  # the module's password: never in a trace
                record = TraceRecord(
                    direction=Direction.TO_DEVICE, summary=f"{name} (password masked)", masked=True, length=len(data)
                )
            else:
                record = TraceRecord(direction=Direction.TO_DEVICE, summary=name, data=data, length=len(data))
            self._tap(record)
        try:
            await self._link.write(data)
        except LinkClosedError as err:
            self._ack = None
            raise LinkLostError(f"link lost: {err}", device_id=self._ctx.device_id) from err
        return waiter

    async def command(self, command: AnyCommand, *, timeout: float) -> AnyAcknowledgement:
        """Send one command and return its acknowledgement."""
        waiter = await self._send(command)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)
        except TimeoutError:
            await self.recover()
            name = type(command).__name__
            raise DeviceTimeoutError(
                f"no answer to {name} within {timeout:.1f} s", device_id=self._ctx.device_id
            ) from None
        except BaseException:
            await self.recover()
            raise

    async def upload_image(self, *, packet_size: int, timeout: float) -> tuple[AnyAcknowledgement, GrayImage | None]:
        """UpImage: the acknowledgement, and the image (expanded to 8 bits) when the module sent one.

        A lost or corrupted packet raises DeviceProtocolError: the caller may ask again.
        """
        self._data = asyncio.Queue()
        try:
            ack = await self.command(UploadImage(), timeout=timeout)
            if not ack.ok:
                return ack, None
            assembler = ImageAssembler(packet_size=packet_size)
            while not assembler.done:
                try:
                    async with asyncio.timeout(PACKET_GAP):
                        item = await self._data.get()
                except TimeoutError:
                    raise DeviceTimeoutError(
                        f"the image upload stopped after {assembler.received} bytes", device_id=self._ctx.device_id
                    ) from None
                if isinstance(item, Exception):
                    raise item
                try:
                    assembler.add(item)
                except RemoteProtocolError as err:
                    raise DeviceProtocolError(
                        f"the image upload is broken: {err}", device_id=self._ctx.device_id
                    ) from err
            return ack, assembler.image()
        except BaseException:
            await self.recover()
            raise
        finally:
            self._data = None

    async def recover(self) -> None:
        """Forget the exchange: wait until the module is quiet, then drop what it sent."""
        self._ack = None
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
