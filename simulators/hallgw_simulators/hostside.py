"""A minimal host end of the SAM link, to check a simulated reader from outside.

:class:`SamHost` is the codec in ``Role.HOST`` over a real pty (opened by path
in raw mode, as a daemon opens a serial port) or a real TCP socket; every wait
has a timeout. ``hallsim probe`` and the simulator tests use it. It is not the
daemon's driver (the simulators never import the daemon); it is the smallest
host that can run the typical transaction of reference section 1.9.

A pty has one reader: do not probe a device the daemon is using, or the two
will steal each other's bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urlsplit

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import (
    Command,
    CommandCode,
    Response,
    SamConnection,
    Status,
    decode_text,
    parse_card_read,
    parse_sam_id,
    status_text,
)
from hallgw_protocols.idcard_sam.text import CardText

TIMEOUT: Final = 3.0
"""Seconds to wait for a response; public drivers use 1-5 s."""


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class ProbeError(Exception):
    """The reader answered a step of the transaction with an unexpected status."""


class SamHost:
    """Sends commands and decodes responses over one byte stream."""

    def __init__(
        self,
        read: Callable[[], Awaitable[bytes]],
        write: Callable[[bytes], Awaitable[None]],
        close: Callable[[], None],
    ) -> None:
        self._read = read
        self._write = write
        self._close = close
        self.codec = SamConnection(Role.HOST)

    @classmethod
    async def open_pty(cls, path: str | os.PathLike[str]) -> SamHost:
        """Open a pty by path like a serial port: raw, no echo, no XON/XOFF."""
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        loop = asyncio.get_running_loop()
        incoming: asyncio.Queue[bytes] = asyncio.Queue()

        def readable() -> None:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""  # EIO: the master end is gone (unplugged)
            if not data:
                loop.remove_reader(fd)
            incoming.put_nowait(data)

        loop.add_reader(fd, readable)

        async def write(data: bytes) -> None:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    room: asyncio.Future[None] = loop.create_future()
                    loop.add_writer(fd, _settle, room)
                    try:
                        await room
                    finally:
                        loop.remove_writer(fd)

        def close() -> None:
            loop.remove_reader(fd)
            os.close(fd)

        return cls(incoming.get, write, close)

    @classmethod
    async def open_tcp(cls, port: int, host: str = "127.0.0.1") -> SamHost:
        """Connect to a TCP endpoint."""
        reader, writer = await asyncio.open_connection(host, port)

        async def read() -> bytes:
            try:
                return await reader.read(65536)
            except ConnectionError:
                return b""

        async def write(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        return cls(read, write, writer.close)

    def close(self) -> None:
        """Close the stream."""
        with contextlib.suppress(OSError):
            self._close()

    async def send_raw(self, data: bytes) -> None:
        """Write bytes as they are, around the codec (for malformed frames)."""
        await self._write(data)

    async def recv_raw(self, timeout: float = TIMEOUT) -> bytes:
        """The next bytes that arrive, around the codec; TimeoutError if none do."""
        async with asyncio.timeout(timeout):
            return await self._read()

    async def response(self, timeout: float = TIMEOUT) -> Response:
        """Wait for one complete response.

        Raises :class:`RemoteProtocolError` for a bad frame (after resetting the
        codec so the next command starts clean), :class:`EOFError` when the link
        closes and :class:`TimeoutError` when nothing complete arrives in time.
        """
        async with asyncio.timeout(timeout):
            while True:
                try:
                    event = self.codec.next_event()
                except RemoteProtocolError:
                    self.codec.abandon()
                    raise
                if isinstance(event, Response):
                    return event
                if event is not NEED_DATA:
                    raise RemoteProtocolError("the reader sent a command frame")
                data = await self._read()
                if not data:
                    raise EOFError("the link closed")
                self.codec.receive_data(data)

    async def exchange(self, command: Command, timeout: float = TIMEOUT) -> Response:
        """Send any command frame (known or not) and return its response."""
        await self._write(self.codec.send(command))
        return await self.response(timeout)

    async def command(self, code: CommandCode, data: bytes = b"", timeout: float = TIMEOUT) -> Response:
        """Send one known command and return its response."""
        return await self.exchange(Command.of(code, data), timeout)

    async def expect(self, code: CommandCode, status: Status) -> Response:
        """Send a command; raise :class:`ProbeError` unless it answers ``status``."""
        response = await self.command(code)
        if response.sw3 != status:
            raise ProbeError(f"{code.name} answered {response.sw3:02X} ({status_text(response.sw3)})")
        return response

    async def read_card(self, *, with_fingerprint: bool = False) -> tuple[CardText, bytes, bytes]:
        """The typical transaction: status, find, select, read; returns (text, photo, fingerprint)."""
        await self.expect(CommandCode.SAM_STATUS, Status.OK)
        await self.expect(CommandCode.FIND_CARD, Status.FIND_CARD_OK)
        await self.expect(CommandCode.SELECT_CARD, Status.OK)
        code = CommandCode.READ_TEXT_PHOTO_FINGERPRINT if with_fingerprint else CommandCode.READ_TEXT_PHOTO
        response = await self.expect(code, Status.OK)
        read = parse_card_read(response.data, with_fingerprint=with_fingerprint)
        return decode_text(read.text), read.photo, read.fingerprint


async def open_link(url: str) -> SamHost:
    """Open ``serial:///path?baud=N`` (the baud is ignored: a pty has none) or ``tcp://host:port``."""
    parts = urlsplit(url)
    if parts.scheme == "serial" and parts.path:
        return await SamHost.open_pty(parts.path)
    if parts.scheme == "tcp" and parts.hostname and parts.port is not None:
        return await SamHost.open_tcp(parts.port, parts.hostname)
    raise ValueError(f"expected serial:///PATH or tcp://HOST:PORT, got {url!r}")


async def probe(host: SamHost) -> dict[str, Any]:
    """Run the typical transaction and summarise it without any personal field."""
    await host.expect(CommandCode.SAM_STATUS, Status.OK)
    sam_id = parse_sam_id((await host.expect(CommandCode.READ_SAM_ID, Status.OK)).data)
    find = await host.command(CommandCode.FIND_CARD)
    if find.sw3 == Status.FIND_CARD_FAILED:
        return {"sam_id": sam_id.display(), "card": None}
    if find.sw3 != Status.FIND_CARD_OK:
        raise ProbeError(f"FIND_CARD answered {find.sw3:02X} ({status_text(find.sw3)})")
    await host.expect(CommandCode.SELECT_CARD, Status.OK)
    response = await host.expect(CommandCode.READ_TEXT_PHOTO_FINGERPRINT, Status.OK)
    read = parse_card_read(response.data, with_fingerprint=True)
    return {
        "sam_id": sam_id.display(),
        "card": {
            "layout": decode_text(read.text).card_type.name.lower(),
            "photo_bytes": len(read.photo),
            "fingerprint_bytes": len(read.fingerprint),
        },
    }
