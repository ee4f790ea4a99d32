"""The card side of the vpcd socket protocol: a virtual card that pcscd's vpcd driver sees.

Theory of operation (reference/protocols.md section 4, stack-notes section 5)
-----------------------------------------------------------------------------
pcscd's vpcd driver listens on a TCP port per slot (35963, 35964 by default);
the card connects to it, and "connected and answering GET ATR" is what makes
the card present. Every message both ways is a 2-byte big-endian length and
that many bytes. One byte from vpcd is a control message: ``00`` power off,
``01`` power on, ``02`` reset (no reply to any of them), ``04`` GET ATR (the
reply is the ATR as one message); unknown control bytes are ignored. Two bytes
or more are a command APDU, answered with the response APDU. A zero-length
message is a protocol error: the card closes the connection.

:class:`VpcdCard` serves any :class:`CardHandler` (the sans-IO card model,
e.g. :class:`~hallgw_simulators.epassport_chip.EpassportChip`) over that
socket. :meth:`~VpcdCard.remove` closes it, which vpcd reports as the card
taken out; :meth:`~VpcdCard.insert` connects again. When the handler answers
None (its chip left the field mid-command) the card closes the socket too.

Latency: vpcd writes the length and the body of each message separately, so
with Nagle on its side and delayed ACKs on ours every APDU would wait about
40 ms for an ACK. ``TCP_QUICKACK`` is re-armed on every receive (the kernel
clears it again on its own), and ``TCP_NODELAY`` is set for our replies.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import typing
from typing import Final, Protocol

VPCD_PORT: Final = 35963
"""vpcd's default port for slot 0 (slot k listens on 35963 + k)."""

POWER_OFF: Final = 0x00
POWER_ON: Final = 0x01
RESET: Final = 0x02
GET_ATR: Final = 0x04

_LENGTH: Final = struct.Struct("!H")
_QUICKACK: Final[int | None] = getattr(socket, "TCP_QUICKACK", None)


class CardHandler(Protocol):
    """What a card model offers the socket: its ATR, a reset and one APDU at a time."""

    @property
    def atr(self) -> bytes: ...

    def reset(self) -> None:
        """Power on, power off or warm reset: the card starts over."""

    def transmit(self, apdu: bytes) -> bytes | None:
        """The response APDU, or None when the card no longer answers (removed)."""


class VpcdProtocolError(Exception):
    """vpcd sent something the protocol does not allow (a zero-length message)."""


def frame(payload: bytes) -> bytes:
    """One vpcd message: the 2-byte big-endian length, then ``payload``."""
    if len(payload) > 0xFFFF:
        raise ValueError("a vpcd message carries at most 65535 bytes")
    return _LENGTH.pack(len(payload)) + payload


class _CardProtocol(asyncio.Protocol):
    """The connection: reassembles messages from the stream and answers each in turn."""

    def __init__(self, card: CardHandler) -> None:
        self._card = card
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        """Set when the connection ends, to the protocol error that ended it, if any."""
        self.powered = False

    def _quickack(self) -> None:
        sock = self._transport.get_extra_info("socket") if self._transport else None
        if sock is not None and _QUICKACK is not None:
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = typing.cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._quickack()

    def data_received(self, data: bytes) -> None:
        self._quickack()
        self._buffer += data
        while len(self._buffer) >= _LENGTH.size and self._transport is not None:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if len(self._buffer) < _LENGTH.size + length:
                return
            message = bytes(self._buffer[_LENGTH.size : _LENGTH.size + length])
            del self._buffer[: _LENGTH.size + length]
            self._handle(self._transport, message)

    def _handle(self, transport: asyncio.Transport, message: bytes) -> None:
        if not message:
            self.close(VpcdProtocolError("vpcd sent a zero-length message"))
            return
        if len(message) == 1:
            control = message[0]
            if control == GET_ATR:
                transport.write(frame(self._card.atr))
            elif control in (POWER_ON, RESET, POWER_OFF):
                self.powered = control != POWER_OFF
                self._card.reset()
            return
        response = self._card.transmit(message)
        if response is None:
            self.close()
            return
        transport.write(frame(response))

    def close(self, exc: Exception | None = None) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if not self.closed.done():
            self.closed.set_result(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self.closed.done():
            self.closed.set_result(None)


class VpcdCard:
    """A card "inserted" into a vpcd slot by connecting to it (see the module docstring)."""

    def __init__(self, card: CardHandler, *, host: str = "127.0.0.1", port: int = VPCD_PORT) -> None:
        self.card = card
        self.host = host
        self.port = port
        self._protocol: _CardProtocol | None = None

    @property
    def inserted(self) -> bool:
        """Whether the socket to vpcd is open."""
        return self._protocol is not None and not self._protocol.closed.done()

    @property
    def powered(self) -> bool:
        """Whether vpcd has powered the card on (and not off) on this connection."""
        return self.inserted and self._protocol is not None and self._protocol.powered

    async def insert(self) -> None:
        """Connect to vpcd; OSError (e.g. ConnectionRefusedError) when nothing listens."""
        if self.inserted:
            return
        loop = asyncio.get_running_loop()
        card = self.card
        _, protocol = await loop.create_connection(lambda: _CardProtocol(card), self.host, self.port)
        self._protocol = protocol

    async def remove(self) -> None:
        """Close the socket: vpcd reports the card as removed."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.close()
            await protocol.closed

    async def wait_removed(self) -> None:
        """Until the connection ends: vpcd closed it, or the card model stopped answering.

        Raises :class:`VpcdProtocolError` when it ended because vpcd broke the protocol.
        """
        protocol = self._protocol
        if protocol is not None:
            error = await protocol.closed
            if error is not None:
                raise error
