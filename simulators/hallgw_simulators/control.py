"""The control protocol of a virtual hall: JSON lines over TCP.

Each request is one JSON object on one line; each answer is one JSON object on
one line, ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``. A
connection may carry any number of requests, answered in order. Ops: ``list``,
``cards``, ``insert``, ``remove``, ``fault``, ``documents``, ``place``,
``kiosks`` (see ``docs/simulators.md``). Kiosk faults go through ``fault`` too.
A fingerprint scanner's finger is moved with the
``fault`` op (``place``, ``touch``, ``lift``), for which the client has
:meth:`ControlClient.finger` and :meth:`ControlClient.touch`.

:class:`ControlServer` serves a handler coroutine; :class:`ControlClient` is
the small async client tests and ``hallsim ctl`` use.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, Self

MAX_LINE: Final = 64 * 1024
"""Longest request line accepted; longer ones are answered with an error and the connection closed."""

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class ControlError(Exception):
    """The hall answered a control request with ``ok: false``."""


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class ControlServer:
    """Serves JSON-lines requests to a handler on a TCP port."""

    def __init__(self, handler: Handler, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self.host = host
        self.port = port
        """The listening port; a requested 0 becomes the port the kernel chose."""
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(self._on_client, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop connected clients."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._clients):
            task.cancel()
        for task in list(self._clients):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - start_server runs callbacks as tasks
        self._clients.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # the line exceeded the stream limit
                    writer.write(_encode({"ok": False, "error": f"request line longer than {MAX_LINE} bytes"}))
                    await writer.drain()
                    return
                except ConnectionError:
                    return
                if not line:
                    return
                if not line.strip():
                    continue
                writer.write(_encode(await self._answer(line)))
                await writer.drain()
        except ConnectionError:
            return
        finally:
            self._clients.discard(task)
            writer.close()

    async def _answer(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            return {"ok": False, "error": f"not a JSON line: {err}"}
        if not isinstance(request, dict):
            return {"ok": False, "error": "a request is a JSON object"}
        return await self._handler(request)


class ControlClient:
    """An async client for the control protocol, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, host: str, port: int) -> Self:
        """Connect to a hall's control port."""
        reader, writer = await asyncio.open_connection(host, port, limit=16 * MAX_LINE)
        return cls(reader, writer)

    async def close(self) -> None:
        """Close the connection."""
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request and return the raw answer (``ok`` true or false)."""
        async with self._lock:
            self._writer.write(_encode(request))
            await self._writer.drain()
            line = await self._reader.readline()
        if not line:
            raise ConnectionError("the control server closed the connection")
        answer = json.loads(line)
        if not isinstance(answer, dict):
            raise ControlError(f"malformed answer: {line!r}")
        return answer

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send ``op`` with ``fields``; raises :class:`ControlError` on ``ok: false``."""
        answer = await self.call({"op": op, **fields})
        if not answer.get("ok"):
            raise ControlError(str(answer.get("error", "unspecified error")))
        return answer

    async def list_devices(self) -> list[dict[str, Any]]:
        """Every device with its link, card state and faults."""
        devices: list[dict[str, Any]] = (await self.request("list"))["devices"]
        return devices

    async def cards(self) -> list[dict[str, str]]:
        """The deck's card ids and layouts."""
        cards: list[dict[str, str]] = (await self.request("cards"))["cards"]
        return cards

    async def insert(self, device: str, card: str) -> dict[str, Any]:
        """Put a card on a reader."""
        return await self.request("insert", device=device, card=card)

    async def remove(self, device: str) -> dict[str, Any]:
        """Take the card off a reader."""
        return await self.request("remove", device=device)

    async def fault(self, device: str, fault: str, *args: str | int | bool) -> dict[str, Any]:
        """Apply a fault, e.g. ``fault("idr-01", "corrupt", 2)``."""
        return await self.request("fault", device=device, fault=fault, args=list(args))

    async def place(self, station: str, document: str, *options: str) -> dict[str, Any]:
        """Present a passport-deck document at a station (MRZ reader scan and chip on the reader)."""
        return await self.request("place", station=station, document=document, options=list(options))

    async def kiosks(self, **filters: str) -> dict[str, Any]:
        """The kiosks (``station=``, ``kind=``, ``device=`` narrow the list) with their counts, and fleet totals."""
        return await self.request("kiosks", **filters)

    async def finger(self, device: str, finger_id: str, contact: str = "good", coverage: float = 1.0) -> dict[str, Any]:
        """Put a finger on a fingerprint scanner (the ``place`` fault)."""
        return await self.fault(device, "place", finger_id, contact, str(coverage))

    async def touch(
        self,
        device: str,
        finger_id: str,
        *,
        contact: str = "good",
        coverage: float = 1.0,
        after_ms: int = 500,
        hold_ms: int = 1500,
    ) -> dict[str, Any]:
        """A finger's timeline on a fingerprint scanner: placed after ``after_ms``, lifted ``hold_ms`` later."""
        return await self.fault(device, "touch", finger_id, contact, str(coverage), after_ms, hold_ms)
