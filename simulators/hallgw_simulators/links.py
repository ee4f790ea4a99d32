"""Real transports for simulated serial devices: pseudo-terminals and TCP.

An *endpoint* is where a host plugs in; a *link* is one live byte stream
through it. An endpoint runs the device's ``serve(link)`` coroutine for as
long as the link lives, and can be unplugged and replugged at run time.

:class:`PtyEndpoint` publishes a stable symlink (``<state_dir>/<id>.tty``) to
the slave of an ``os.openpty()`` pair. It keeps its own slave fd open, so a
host may close and reopen the port without the master seeing EIO. Unplugging
closes both fds and removes the symlink (opening the path then fails with
ENOENT, like a USB serial adapter that was pulled); replugging opens a new pty
and points the same symlink at it.

:class:`TcpEndpoint` listens on 127.0.0.1 like a serial-over-IP converter and
serves one client at a time: a new client replaces the previous one (so a
host that reconnects after a half-dead connection is never locked out).
Unplugging drops the client and stops listening; replugging listens again on
the same port.

A pty ignores the line rate, so :func:`paced_write` holds bytes back until the
time they would have taken on a real UART (10 bits per byte).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import socket
import tty
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final, Protocol

DEFAULT_BAUD: Final = 115200
"""The SAM's default line rate, used in link URLs when pacing is off."""

BAUD_RATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
"""Standard UART rates a simulated serial device may be paced at (0 turns pacing off)."""

BITS_PER_BYTE: Final = 10
"""One start bit, eight data bits, one stop bit (8N1)."""

_READ_SIZE: Final = 65536
_MAX_QUEUED_READS: Final = 64
"""Reads held before the pty is no longer polled (a cap on what a flooding host can make us hold)."""
_PACING_SLICE: Final = 0.005
"""Seconds of line time per paced chunk: fine enough for timing tests, coarse
enough that the event loop is not woken for every byte."""


class Link(Protocol):
    """One live byte stream between a simulated device and its host."""

    async def read(self) -> bytes:
        """The next bytes from the host; ``b""`` when the host is gone for good."""

    async def write(self, data: bytes) -> None:
        """Send bytes to the host."""


Serve = Callable[[Link], Coroutine[Any, Any, None]]
"""The device side of a link: runs until the link ends or is cancelled."""


async def paced_write(link: Link, data: bytes, baud: int) -> None:
    """Write ``data`` as a UART at ``baud`` would deliver it; ``baud <= 0`` writes at once.

    Each chunk is released when its last byte would have arrived, so the whole
    write takes ``len(data) * 10 / baud`` seconds (1295 bytes at 115200: ~112 ms).
    """
    if baud <= 0:
        await link.write(data)
        return
    loop = asyncio.get_running_loop()
    chunk = max(1, int(baud / BITS_PER_BYTE * _PACING_SLICE))
    start = loop.time()
    for offset in range(0, len(data), chunk):
        piece = data[offset : offset + chunk]
        due = start + (offset + len(piece)) * BITS_PER_BYTE / baud
        pause = due - loop.time()
        if pause > 0:
            await asyncio.sleep(pause)
        await link.write(piece)


class Endpoint(abc.ABC):
    """Where a host plugs into a simulated device; can be unplugged and replugged."""

    transport: str

    def __init__(self, name: str) -> None:
        self.name = name
        self._serve: Serve | None = None
        self._plugged = False

    @property
    def plugged(self) -> bool:
        """Whether a host can connect right now."""
        return self._plugged

    async def start(self, serve: Serve) -> None:
        """Plug in for the first time; ``serve`` runs for every link."""
        self._serve = serve
        await self.replug()

    async def replug(self) -> None:
        """Plug in again (a no-op when plugged)."""
        if self._serve is None:
            raise RuntimeError("endpoint was never started")
        if not self._plugged:
            await self._plug(self._serve)
            self._plugged = True

    async def unplug(self) -> None:
        """Pull the plug (a no-op when unplugged)."""
        if self._plugged:
            self._plugged = False
            await self._unplug()

    async def close(self) -> None:
        """Unplug for good and release everything."""
        await self.unplug()

    @abc.abstractmethod
    async def _plug(self, serve: Serve) -> None: ...

    @abc.abstractmethod
    async def _unplug(self) -> None: ...

    @abc.abstractmethod
    def link_url(self, baud: int) -> str:
        """The daemon's link URL for this endpoint."""

    @abc.abstractmethod
    def describe(self) -> dict[str, Any]:
        """Where this endpoint is, for the control protocol and the ready file."""


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- pseudo-terminal ------------------------------------------------------------------


class _PtyLink:
    """Non-blocking reads and writes on a pty master, driven by the event loop."""

    def __init__(self, master: int) -> None:
        self._fd = master
        self._loop = asyncio.get_running_loop()
        self._incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self._reading = False
        self._eof = False
        self._resume()

    def _resume(self) -> None:
        if not self._reading and not self._eof:
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True

    def _pause(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: every slave fd closed, which our own slave fd prevents
        if not data:
            self._eof = True
            self._pause()
        self._incoming.put_nowait(data)
        if self._incoming.qsize() >= _MAX_QUEUED_READS:
            # A host that floods us while we pace a long response: leave the
            # bytes in the tty buffer, so the kernel pushes back on the host.
            self._pause()

    async def read(self) -> bytes:
        data = await self._incoming.get()
        if self._incoming.qsize() < _MAX_QUEUED_READS // 2:
            self._resume()
        return data

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                # Nobody drains the slave side: wait for room instead of spinning.
                await self._writable()
                continue
            view = view[written:]

    async def _writable(self) -> None:
        ready = self._loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        self._loop.add_writer(self._fd, wake)
        try:
            await ready
        finally:
            self._loop.remove_writer(self._fd)

    def detach(self) -> None:
        self._eof = True
        self._pause()
        self._loop.remove_writer(self._fd)


class PtyEndpoint(Endpoint):
    """A pseudo-terminal behind a stable symlink path."""

    transport = "pty"

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name)
        self.path = path
        self._master: int | None = None
        self._slave: int | None = None
        self._link: _PtyLink | None = None
        self._task: asyncio.Task[None] | None = None
        self.slave_name: str | None = None
        """The current ``/dev/pts/N`` behind the symlink, None when unplugged."""

    async def _plug(self, serve: Serve) -> None:
        master, slave = os.openpty()
        # Raw mode, no echo and no XON/XOFF: termios is per tty, and a binary
        # protocol breaks if the kernel eats 0x11/0x13 or echoes commands back.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        staging = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
        os.symlink(self.slave_name, staging)
        os.replace(staging, self.path)  # atomic: the path never points nowhere mid-replug
        self._link = _PtyLink(master)
        self._task = asyncio.create_task(serve(self._link), name=f"hallsim-{self.name}-pty")

    async def _unplug(self) -> None:
        await _cancel(self._task)
        self._task = None
        if self._link is not None:
            self._link.detach()
            self._link = None
        # Remove the path first: a dangling link to a freed /dev/pts/N could be
        # reused by the kernel for an unrelated pty.
        with contextlib.suppress(FileNotFoundError):
            if self.path.is_symlink():
                self.path.unlink()
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        self.slave_name = None

    def link_url(self, baud: int) -> str:
        return f"serial://{self.path}?baud={baud if baud > 0 else DEFAULT_BAUD}"

    def describe(self) -> dict[str, Any]:
        return {"path": str(self.path), "pty": self.slave_name}


# -- TCP --------------------------------------------------------------------------------


class _TcpLink:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self) -> bytes:
        try:
            return await self._reader.read(_READ_SIZE)
        except ConnectionError:
            return b""

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()


class TcpEndpoint(Endpoint):
    """A TCP listener on 127.0.0.1 serving one client at a time."""

    transport = "tcp"

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(name)
        self.host = host
        self.port = port
        """The listening port; a requested 0 becomes the port the kernel chose."""
        self._server: asyncio.Server | None = None
        self._client: tuple[asyncio.Task[None], asyncio.StreamWriter] | None = None

    async def _plug(self, serve: Serve) -> None:
        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._drop_client()
            task = asyncio.current_task()
            assert task is not None  # noqa: S101 - start_server runs callbacks as tasks
            self._client = (task, writer)
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await serve(_TcpLink(reader, writer))
            finally:
                if self._client is not None and self._client[0] is task:
                    self._client = None
                writer.close()

        self._server = await asyncio.start_server(on_client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _drop_client(self) -> None:
        if self._client is None:
            return
        task, writer = self._client
        self._client = None
        writer.close()
        if task is not asyncio.current_task():
            await _cancel(task)

    async def _unplug(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._drop_client()

    def link_url(self, baud: int) -> str:
        return f"tcp://{self.host}:{self.port}"

    def describe(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port}
