"""The DMX USB Pro widget link as a sans-IO connection object.

Theory of operation
-------------------
Bytes from the wire go into :meth:`DmxConnection.receive_data`; whole
messages come out of :meth:`DmxConnection.next_event` as typed events, or
:data:`NEED_DATA`. The HOST (the gateway) sends requests and receives replies
and received DMX packets; the DEVICE (a simulated widget) the reverse. A label
with no typed event in the receiving direction comes out as a raw
:class:`~.events.WidgetMessage`, never as an error.

Reassembly: the buffer is searched for the start byte ``7E`` and whatever
precedes it is dropped and counted. Once a start byte leads, the length field
is checked first: over 600 means this was no start byte, so that one byte is
dropped and :class:`RemoteProtocolError` raised (``discarded=1``); the next
call goes on with the rest. Otherwise the codec waits for the whole frame and
checks the end byte ``E7``; a different byte there drops the start byte the
same way. As the protocol has no checksum, the end byte is the framing's only
check: a false start byte in line noise can hold back the real frame that
follows until enough bytes arrive to prove it false (at most 605), so line
noise that never contains ``7E`` (as the simulator's) costs nothing but its
own bytes. A whole frame whose data does not fit its label (a serial number
that is not BCD, a Send DMX with 3 levels) is consumed and reported as a
remote error with its size as ``discarded``. The buffer never grows past
``buffer_cap``: an overflow drops the oldest bytes and counts them.

There is no exchange state table here: the widget answers Get Widget
Parameters and Get Widget Serial Number, ignores everything else, and sends
Received DMX packets whenever its input sees one, so any reply may arrive at
any time and matching it to a request belongs to the driver (one request
outstanding, as there are no sequence numbers).
"""

from __future__ import annotations

from typing import Final

from hallgw_protocols._common import NEED_DATA, LocalProtocolError, NeedData, RemoteProtocolError, Role
from hallgw_protocols._reassembly import ReassemblyBuffer
from hallgw_protocols.dmx.events import (
    Event,
    GetSerialNumber,
    GetWidgetParameters,
    ReceivedDmx,
    SendDmx,
    SerialNumber,
    SetWidgetParameters,
    WidgetMessage,
    WidgetParameters,
    decode_reply,
    decode_request,
    to_frame,
)
from hallgw_protocols.dmx.frames import END, HEADER_SIZE, MAX_FRAME, START, Frame, parse_length

DEFAULT_BUFFER_CAP: Final = 16 * 1024
"""Some twenty-five whole universes: far more than a reader that drains events after each read holds."""

_HOST_SENDS: Final = (GetWidgetParameters, SetWidgetParameters, SendDmx, GetSerialNumber, WidgetMessage)
_DEVICE_SENDS: Final = (WidgetParameters, ReceivedDmx, SerialNumber, WidgetMessage)


class DmxConnection:
    """One end of a DMX USB Pro widget link (see module docstring)."""

    def __init__(self, role: Role, *, buffer_cap: int = DEFAULT_BUFFER_CAP) -> None:
        if buffer_cap < MAX_FRAME:
            raise LocalProtocolError(f"buffer_cap must hold one whole frame ({MAX_FRAME} bytes)")
        self.role = role
        self.buffer_cap = buffer_cap
        self._buf = ReassemblyBuffer(marker=bytes([START]), cap=buffer_cap)
        self._consumed = 0  # whole frames taken off the buffer and then refused
        self.protocol_errors = 0
        """Remote protocol errors raised so far."""
        self.frames_in = 0
        """Frames decoded into events."""

    # -- output ------------------------------------------------------------------------------
    def send(self, event: Event) -> bytes:
        """Bytes for ``event``; checks that this role sends it."""
        allowed = _HOST_SENDS if self.role is Role.HOST else _DEVICE_SENDS
        if not isinstance(event, allowed):
            raise LocalProtocolError(f"the {self.role.value} does not send {type(event).__name__}")
        return to_frame(event).to_bytes()

    # -- input -------------------------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the wire. Never raises for content; caps the buffer."""
        self._buf.feed(data)

    @property
    def discarded_bytes(self) -> int:
        """Bytes dropped so far while resynchronising or in refused frames (a link-quality counter)."""
        return self._buf.discarded + self._consumed

    @property
    def buffered(self) -> int:
        """Bytes held in the reassembly buffer."""
        return len(self._buf)

    def clear(self) -> None:
        """Drop everything buffered (counted): after a timeout a late reply must not answer the next request."""
        self._buf.clear()

    def next_event(self) -> Event | NeedData:
        """The next whole frame as an event, or NEED_DATA.

        Raises :class:`RemoteProtocolError` for a bad frame, after skipping it.
        """
        frame = self._next_frame()
        if frame is None:
            return NEED_DATA
        try:
            event = decode_request(frame) if self.role is Role.DEVICE else decode_reply(frame)
        except RemoteProtocolError as err:
            size = HEADER_SIZE + len(frame.data) + 1
            self.protocol_errors += 1
            self._consumed += size
            raise RemoteProtocolError(f"label {frame.label}: {err}", discarded=size) from None
        self.frames_in += 1
        return event

    def _next_frame(self) -> Frame | None:
        if not self._buf.hunt() or len(self._buf) < HEADER_SIZE:
            return None
        try:
            length = parse_length(self._buf.peek(HEADER_SIZE)[2:4])
        except RemoteProtocolError as err:
            raise self._resync(str(err)) from None
        total = HEADER_SIZE + length + 1
        if len(self._buf) < total:
            return None
        wire = self._buf.peek(total)
        if wire[-1] != END:
            raise self._resync(f"no end byte E7 after {length} data bytes (found {wire[-1]:02X})")
        self._buf.take(total)
        return Frame(label=wire[1], data=wire[HEADER_SIZE:-1])

    def _resync(self, message: str) -> RemoteProtocolError:
        """Drop the false start byte and report it."""
        self._buf.drop(1)
        self.protocol_errors += 1
        return RemoteProtocolError(message, discarded=1)
