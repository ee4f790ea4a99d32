"""Request/response matching over a SAM link: one command outstanding, a timeout on every wait.

A reader task feeds every byte from the link into the codec and hands each
response to the waiter registered *before* the command was written. A
recovered protocol error while a response is awaited fails that wait; the
exchange then lets the line go quiet and repeats the command once (every SAM
command the gateway sends is a read, safe to repeat). A caller cancelled
mid-exchange leaves its response to be drained by the next exchange, so the
reader is free again at the next frame boundary.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

from hallgw_daemon.core.errors import DeviceProtocolError, DeviceTimeoutError, LinkLostError
from hallgw_daemon.drivers.base import Direction, DriverContext, TraceRecord
from hallgw_daemon.transports import ByteStream, LinkClosedError
from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import Command, CommandCode, Response, SamConnection, status_text

QUIET_GAP: Final = 0.03
"""Silence that marks the end of whatever the device was sending (330 byte times at 115200)."""
QUIET_MAX: Final = 0.5

_READS: Final = (CommandCode.READ_TEXT_PHOTO, CommandCode.READ_TEXT_PHOTO_FINGERPRINT)


def trace_response(resp: Response) -> TraceRecord:
    """A trace record of a response with the card payload (text, photo, fingerprint) zeroed."""
    raw = resp.to_bytes()
    summary = f"status {resp.sw3:02X} {status_text(resp.sw3)}"
    if resp.command is not None:
        summary = f"{resp.command.name}: {summary}"
    if resp.command in _READS and resp.ok and len(resp.data) > 6:
        words = 3 if resp.command is CommandCode.READ_TEXT_PHOTO_FINGERPRINT else 2
        keep = 7 + 3 + 2 * words  # header, SW1-3, the length words
        masked = raw[:keep] + bytes(len(raw) - keep)
        return TraceRecord(
            direction=Direction.FROM_DEVICE,
            summary=f"{summary} ({len(resp.data) - 2 * words} payload bytes masked)",
            data=masked,
            masked=True,
            length=len(raw),
        )
    if resp.data:
        summary += f" ({len(resp.data)} data bytes)"
    return TraceRecord(direction=Direction.FROM_DEVICE, summary=summary, data=raw, length=len(raw))


class SamLink:
    """The host end of one SAM link (see module docstring)."""

    def __init__(self, link: ByteStream, ctx: DriverContext) -> None:
        self._link = link
        self._ctx = ctx
        self._conn = SamConnection(Role.HOST)
        self._waiter: asyncio.Future[Response] | None = None
        self._drain_until = 0.0
        self._loop = asyncio.get_running_loop()
        self._last_rx = self._loop.time()
        self._closed = asyncio.Event()
        self.close_reason = ""
        self._reader = asyncio.create_task(self._read_loop(), name=f"samlink-read:{ctx.device_id}")

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
            self._fail_waiter(LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id))

    def _drain_events(self) -> None:
        while True:
            try:
                event = self._conn.next_event()
            except RemoteProtocolError as err:
                self._ctx.on_link_fault(str(err), err.discarded)
                self._tap(TraceRecord(direction=Direction.FROM_DEVICE, summary="", error=str(err)))
                self._fail_waiter(DeviceProtocolError(f"device sent a bad frame: {err}", device_id=self._ctx.device_id))
                continue
            if event is NEED_DATA:
                return
            if not isinstance(event, Response):  # pragma: no cover - a HOST codec yields responses only
                continue
            if self._ctx.taps:
                self._tap(trace_response(event))
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(event)

    def _fail_waiter(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # mark retrieved: nobody may be awaiting a drained waiter

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

    async def exchange(self, code: CommandCode, *, timeout: float) -> Response:
        """Send one command and return its response (see module docstring)."""
        try:
            return await self._exchange_once(code, timeout)
        except DeviceProtocolError:
            await self._quiesce()
            return await self._exchange_once(code, timeout)

    async def _exchange_once(self, code: CommandCode, timeout: float) -> Response:
        if self.closed:
            raise LinkLostError(f"link lost: {self.close_reason}", device_id=self._ctx.device_id)
        await self._finish_drain()
        waiter: asyncio.Future[Response] = self._loop.create_future()
        self._waiter = waiter
        command = Command.of(code)
        data = self._conn.send(command)
        if self._ctx.taps:
            self._tap(TraceRecord(direction=Direction.TO_DEVICE, summary=code.name, data=data, length=len(data)))
        try:
            await self._link.write(data)
        except LinkClosedError as err:
            self._waiter = None
            raise LinkLostError(f"link lost: {err}", device_id=self._ctx.device_id) from err
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)
        except TimeoutError:
            self._abandon()
            raise DeviceTimeoutError(
                f"no answer to {code.name} within {timeout:.1f} s", device_id=self._ctx.device_id
            ) from None
        except asyncio.CancelledError:
            # The caller went away; the response is still on its way. Let the next
            # exchange wait for it (bounded) so it is not taken for its own.
            self._drain_until = self._loop.time() + timeout
            raise
        except DeviceProtocolError:
            self._abandon()
            raise

    async def _finish_drain(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self._waiter = None
            return
        remaining = self._drain_until - self._loop.time()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(max(remaining, 0)):
                await asyncio.shield(waiter)
        if not waiter.done():
            self._abandon()
            await self._quiesce()
        self._waiter = None

    def _abandon(self) -> None:
        self._waiter = None
        self._conn.abandon()

    async def _quiesce(self) -> None:
        """Wait until the device has stopped sending, then drop what it sent."""
        start = self._loop.time()
        while not self.closed:
            now = self._loop.time()
            quiet_for = now - self._last_rx
            if quiet_for >= QUIET_GAP or now - start >= QUIET_MAX:
                break
            await asyncio.sleep(QUIET_GAP - quiet_for)
        self._conn.abandon()

    @property
    def link_stats(self) -> tuple[int, int]:
        """(protocol errors, discarded bytes) seen by the codec."""
        return self._conn.protocol_errors, self._conn.discarded_bytes

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self._link.close()
