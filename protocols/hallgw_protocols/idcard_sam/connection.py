"""The SAM link as a sans-IO connection object.

Theory of operation
-------------------
Bytes from the wire go into :meth:`SamConnection.receive_data`; complete frames
come out of :meth:`SamConnection.next_event` as :class:`Command` (DEVICE role)
or :class:`Response` (HOST role) events, or :data:`NEED_DATA`.

Reassembly: in the *hunting* state the buffer is searched for the 5-byte
preamble and everything before it is dropped. Once a preamble is found, the
length field is trusted (the preamble bytes may legitimately appear inside
photo data), the frame is cut and its checksum checked. A bad length or bad
checksum drops the first preamble byte, returns to hunting and raises
:class:`RemoteProtocolError` carrying how many bytes were discarded; the next
call goes on with the rest of the buffer. The buffer never grows past
``buffer_cap``: an overflow drops the oldest bytes and reports them.

The protocol has no sequence numbers, so one command is outstanding at a time.
The host-side exchange state is a table (:data:`HOST_TRANSITIONS`); a
(state, input) pair missing from it is an error.
"""

from __future__ import annotations

import enum
from typing import Final

from hallgw_protocols._common import NEED_DATA, LocalProtocolError, NeedData, RemoteProtocolError, Role
from hallgw_protocols._reassembly import ReassemblyBuffer
from hallgw_protocols.idcard_sam.frames import (
    HEADER_SIZE,
    MAX_BODY,
    MIN_COMMAND_BODY,
    MIN_RESPONSE_BODY,
    PREAMBLE,
    Command,
    CommandCode,
    Response,
    xor_checksum,
)

DEFAULT_BUFFER_CAP: Final = 2 * (HEADER_SIZE + MAX_BODY)


class ExchangeState(enum.Enum):
    """Where the host is in a command/response exchange."""

    IDLE = "idle"
    AWAITING_RESPONSE = "awaiting_response"


class ExchangeInput(enum.Enum):
    """What can happen to an exchange."""

    SEND_COMMAND = "send_command"
    RECEIVE_RESPONSE = "receive_response"
    ABANDON = "abandon"


HOST_TRANSITIONS: Final[dict[tuple[ExchangeState, ExchangeInput], ExchangeState]] = {
    (ExchangeState.IDLE, ExchangeInput.SEND_COMMAND): ExchangeState.AWAITING_RESPONSE,
    (ExchangeState.AWAITING_RESPONSE, ExchangeInput.RECEIVE_RESPONSE): ExchangeState.IDLE,
    (ExchangeState.AWAITING_RESPONSE, ExchangeInput.ABANDON): ExchangeState.IDLE,
    (ExchangeState.IDLE, ExchangeInput.ABANDON): ExchangeState.IDLE,
}
"""Host exchange table. Missing pairs: a second command while one is
outstanding (a local error) and a response nobody asked for (a remote error)."""

Event = Command | Response


class SamConnection:
    """One end of a SAM serial link."""

    def __init__(self, role: Role, *, buffer_cap: int = DEFAULT_BUFFER_CAP) -> None:
        if buffer_cap < HEADER_SIZE + MAX_BODY:
            raise LocalProtocolError(f"buffer_cap must hold one whole frame ({HEADER_SIZE + MAX_BODY} bytes)")
        self.role = role
        self.buffer_cap = buffer_cap
        self._buf = ReassemblyBuffer(marker=PREAMBLE, cap=buffer_cap)
        self._state = ExchangeState.IDLE
        self._pending: CommandCode | None = None
        self._consumed = 0  # whole frames taken off the buffer and then refused
        self.protocol_errors = 0
        """Remote protocol errors raised so far."""

    # -- state -----------------------------------------------------------------
    @property
    def state(self) -> ExchangeState:
        return self._state

    @property
    def pending(self) -> CommandCode | None:
        """The known command awaiting its response (HOST role)."""
        return self._pending

    def _transition(self, event: ExchangeInput, *, frame_size: int = 0) -> None:
        try:
            self._state = HOST_TRANSITIONS[(self._state, event)]
        except KeyError:
            if event is ExchangeInput.RECEIVE_RESPONSE:
                # The unsolicited frame has already left the buffer: report it as dropped.
                self.protocol_errors += 1
                self._consumed += frame_size
                raise RemoteProtocolError(
                    "response received while no command was outstanding", discarded=frame_size
                ) from None
            raise LocalProtocolError(f"cannot {event.value} in state {self._state.value}") from None

    def abandon(self) -> None:
        """Give up on the outstanding command (the caller timed out or cancelled).

        Buffered bytes are dropped too: a late response must not be matched to the
        next command.
        """
        if self.role is Role.HOST:
            self._transition(ExchangeInput.ABANDON)
            self._pending = None
        self._buf.clear()

    # -- output ----------------------------------------------------------------
    def send(self, event: Event) -> bytes:
        """Bytes for ``event``; checks that this role may send it now."""
        if self.role is Role.HOST:
            if not isinstance(event, Command):
                raise LocalProtocolError("the host sends Command frames only")
            self._transition(ExchangeInput.SEND_COMMAND)
            self._pending = event.code
            return event.to_bytes()
        if not isinstance(event, Response):
            raise LocalProtocolError("the device sends Response frames only")
        return event.to_bytes()

    # -- input -----------------------------------------------------------------
    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the wire. Never raises for content; caps the buffer."""
        self._buf.feed(data)

    @property
    def discarded_bytes(self) -> int:
        """Bytes dropped so far while resynchronising (a link-quality counter)."""
        return self._buf.discarded + self._consumed

    @property
    def buffered(self) -> int:
        """Bytes held in the reassembly buffer."""
        return len(self._buf)

    def next_event(self) -> Event | NeedData:
        """The next complete frame, or NEED_DATA.

        Raises :class:`RemoteProtocolError` for a bad frame, after skipping it.
        """
        if not self._buf.hunt():
            return NEED_DATA
        if len(self._buf) < HEADER_SIZE:
            return NEED_DATA
        length = int.from_bytes(self._buf.peek(HEADER_SIZE)[5:7], "big")
        minimum = MIN_COMMAND_BODY if self.role is Role.DEVICE else MIN_RESPONSE_BODY
        if not minimum <= length <= MAX_BODY:
            self._skip_preamble()
            raise self._remote(f"frame length {length} outside {minimum}..{MAX_BODY}")
        total = HEADER_SIZE + length
        if len(self._buf) < total:
            return NEED_DATA
        frame = self._buf.peek(total)
        if xor_checksum(frame[5:-1]) != frame[-1]:
            self._skip_preamble()
            raise self._remote(f"checksum mismatch in a {total}-byte frame")
        self._buf.take(total)
        body = frame[7:-1]
        if self.role is Role.DEVICE:
            return Command(cmd=body[0], para=body[1], data=body[2:])
        self._transition(ExchangeInput.RECEIVE_RESPONSE, frame_size=total)
        command, self._pending = self._pending, None
        return Response(sw1=body[0], sw2=body[1], sw3=body[2], data=body[3:], command=command)

    def _skip_preamble(self) -> None:
        self._buf.drop(1)

    def _remote(self, message: str) -> RemoteProtocolError:
        self.protocol_errors += 1
        return RemoteProtocolError(message, discarded=1)
