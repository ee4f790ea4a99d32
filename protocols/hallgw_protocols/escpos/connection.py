"""One end of an ESC/POS link as a sans-IO connection object.

Theory of operation
-------------------
The host (the gateway) sends print data and ``DLE EOT n`` requests; the
printer sends back nothing but one status byte per request. So the two roles
are lopsided:

- ``Role.HOST``: :meth:`EscPosConnection.send` turns a
  :class:`~.events.StatusRequest` into ``10 04 n`` and remembers it;
  :meth:`EscPosConnection.send_data` passes print data through.
  :meth:`EscPosConnection.next_event` pairs each byte received with the oldest
  request still unanswered and returns a :class:`~.status.StatusReply`. A byte
  without the fixed bits of a status byte (line noise, XON/XOFF) is dropped
  and raises :class:`RemoteProtocolError` with ``discarded=1``; the request
  stays pending, so the real answer behind the noise still matches it. A byte
  with nothing pending is dropped the same way (a late answer). A corrupted
  answer cannot be told from noise (there is no checksum): the caller sees a
  protocol error and then no answer, and decides after its timeout.
- ``Role.DEVICE``: received bytes go through :class:`~.parser.EscPosParser`
  and come out as its events; :meth:`EscPosConnection.send` turns a
  :class:`~.status.StatusReply` into its byte.

The protocol has no sequence numbers; the pairing relies on answers coming in
request order, which a printer guarantees by answering each real-time
request as it arrives. After a timeout the caller calls :meth:`abandon`, so a
late answer is not taken for the next one.
"""

from __future__ import annotations

import collections

from hallgw_protocols._common import NEED_DATA, LocalProtocolError, NeedData, RemoteProtocolError, Role
from hallgw_protocols.escpos.events import Event, StatusRequest
from hallgw_protocols.escpos.parser import DEFAULT_BUFFER_CAP, EscPosParser
from hallgw_protocols.escpos.status import StatusKind, StatusReply, is_status_byte

MAX_PENDING = 16
"""Unanswered status requests a host may have out (more means it is not reading)."""


class EscPosConnection:
    """One end of an ESC/POS link (see module docstring)."""

    def __init__(self, role: Role, *, buffer_cap: int = DEFAULT_BUFFER_CAP) -> None:
        self.role = role
        self.parser = EscPosParser(buffer_cap=buffer_cap)
        """The device role's decoder (unused by the host)."""
        self._pending: collections.deque[StatusKind] = collections.deque()
        self._rx = bytearray()
        self.discarded_bytes = 0
        """Bytes the host dropped: noise, or answers nobody waited for."""

    @property
    def pending(self) -> tuple[StatusKind, ...]:
        """Status requests sent and not answered yet, oldest first (HOST role)."""
        return tuple(self._pending)

    # -- output ------------------------------------------------------------------------
    def send(self, event: StatusRequest | StatusReply) -> bytes:
        """Bytes for a status request (HOST) or a status answer (DEVICE)."""
        if isinstance(event, StatusRequest):
            if self.role is not Role.HOST:
                raise LocalProtocolError("the printer does not send status requests")
            if len(self._pending) >= MAX_PENDING:
                raise LocalProtocolError(f"{MAX_PENDING} status requests already unanswered")
            self._pending.append(event.kind)
            return event.to_bytes()
        if self.role is not Role.DEVICE:
            raise LocalProtocolError("the host does not send status answers")
        return event.to_bytes()

    def send_data(self, data: bytes) -> bytes:
        """Print data as it goes on the wire (HOST): built by :mod:`.commands` or :mod:`.ticket`."""
        if self.role is not Role.HOST:
            raise LocalProtocolError("the printer does not send print data")
        return data

    def abandon(self) -> None:
        """Forget unanswered requests and buffered bytes (after a timeout or cancellation)."""
        self._pending.clear()
        self._rx.clear()

    # -- input -------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the wire. Never raises for content."""
        if self.role is Role.DEVICE:
            self.parser.receive_data(data)
        else:
            self._rx += data
            overflow = len(self._rx) - MAX_PENDING * 4
            if overflow > 0:  # nobody is asking for this much: keep the newest bytes
                del self._rx[:overflow]
                self.discarded_bytes += overflow

    def next_event(self) -> Event | StatusReply | NeedData:
        """DEVICE: the next parsed event. HOST: the next status answer, paired with its request.

        The host raises :class:`RemoteProtocolError` for a byte that is no
        answer, after dropping it; call again to go on.
        """
        if self.role is Role.DEVICE:
            return self.parser.next_event()
        if not self._rx:
            return NEED_DATA
        value = self._rx.pop(0)
        if not is_status_byte(value):
            self.discarded_bytes += 1
            raise RemoteProtocolError(f"{value:02x} is no status byte (its fixed bits are not 0x12)", discarded=1)
        if not self._pending:
            self.discarded_bytes += 1
            raise RemoteProtocolError(f"status byte {value:02x} arrived with no request pending", discarded=1)
        return StatusReply(kind=self._pending.popleft(), value=value)
