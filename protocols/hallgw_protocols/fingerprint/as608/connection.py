"""The AS608 link as a sans-IO connection object.

Theory of operation
-------------------
Bytes from the wire go into :meth:`As608Connection.receive_data`; whole packets
come out of :meth:`As608Connection.next_event` as events, or :data:`NEED_DATA`.
The HOST (the gateway) sends commands and data packets and receives
acknowledgements and data packets; the DEVICE (a simulator) the reverse.

Reassembly: the buffer is searched for the header ``EF 01`` and everything
before it is dropped (a module's lone power-on byte ``55`` goes this way).
Once a header is found, the PID and the length field are checked first, so a
false header inside data costs one byte, not a whole packet; then the packet
is cut and its checksum checked. A bad PID, length or checksum drops the first
header byte and raises :class:`RemoteProtocolError` carrying how many bytes
were discarded; the next call goes on with the rest of the buffer. A valid
packet that this role never receives (an acknowledgement sent to the device, a
command sent to the host) is consumed and reported the same way. The buffer
never grows past ``buffer_cap``: an overflow drops the oldest bytes and counts
them.

Incoming packets are not filtered by address: on a point-to-point serial link
the address is a formality, and SetAddr is answered from the new address
([single source], R503 manual). Outgoing packets carry :attr:`address`.

The protocol has no sequence numbers, so one command is outstanding at a time.
The host-side exchange state is a table (:data:`HOST_TRANSITIONS`); a
(state, input) pair missing from it is an error: a local one when we tried to
send, a remote one when the module sent something out of turn.
"""

from __future__ import annotations

import enum
from typing import Final

from hallgw_protocols._common import NEED_DATA, LocalProtocolError, NeedData, RemoteProtocolError, Role
from hallgw_protocols._reassembly import ReassemblyBuffer
from hallgw_protocols.fingerprint.as608.codes import DOWNLOAD_INSTRUCTIONS, UPLOAD_INSTRUCTIONS, Confirmation
from hallgw_protocols.fingerprint.as608.events import (
    Acknowledgement,
    DataPacket,
    Event,
    SystemParametersReport,
    command_payload,
    decode_acknowledgement,
    decode_command,
)
from hallgw_protocols.fingerprint.as608.packets import (
    DEFAULT_ADDRESS,
    HEADER,
    MAX_PACKET,
    PREFIX_SIZE,
    Packet,
    PacketId,
    parse_length,
    parse_pid,
)

DEFAULT_BUFFER_CAP: Final = 64 * 1024
"""More than a whole image upload (40,044 bytes at the default packet size), so a caller
that reads the full upload before draining events loses nothing."""


class ExchangeState(enum.Enum):
    """Where the host is in an exchange."""

    IDLE = "idle"
    AWAITING_ACK = "awaiting_ack"
    RECEIVING_DATA = "receiving_data"
    """After an OK to UpImage / UpChar / ReadInfPage, until the end packet."""
    SENDING_DATA = "sending_data"
    """After an OK to DownImage / DownChar, until we send the end packet."""


class ExchangeInput(enum.Enum):
    """What can happen to an exchange."""

    SEND_COMMAND = "send a command"
    RECEIVE_ACK = "receive an acknowledgement"
    RECEIVE_ACK_DATA_FOLLOWS = "receive an OK to an upload command"
    RECEIVE_ACK_SEND_DATA = "receive an OK to a download command"
    RECEIVE_DATA = "receive a data packet"
    RECEIVE_END = "receive the end packet"
    SEND_DATA = "send a data packet"
    SEND_END = "send the end packet"
    ABANDON = "abandon the exchange"


_S = ExchangeState
_I = ExchangeInput
HOST_TRANSITIONS: Final[dict[tuple[ExchangeState, ExchangeInput], ExchangeState]] = {
    (_S.IDLE, _I.SEND_COMMAND): _S.AWAITING_ACK,
    (_S.AWAITING_ACK, _I.RECEIVE_ACK): _S.IDLE,
    (_S.AWAITING_ACK, _I.RECEIVE_ACK_DATA_FOLLOWS): _S.RECEIVING_DATA,
    (_S.AWAITING_ACK, _I.RECEIVE_ACK_SEND_DATA): _S.SENDING_DATA,
    (_S.RECEIVING_DATA, _I.RECEIVE_DATA): _S.RECEIVING_DATA,
    (_S.RECEIVING_DATA, _I.RECEIVE_END): _S.IDLE,
    (_S.SENDING_DATA, _I.SEND_DATA): _S.SENDING_DATA,
    # Whether a module acknowledges the end of a download is [not found]: we expect nothing.
    (_S.SENDING_DATA, _I.SEND_END): _S.IDLE,
    (_S.IDLE, _I.ABANDON): _S.IDLE,
    (_S.AWAITING_ACK, _I.ABANDON): _S.IDLE,
    (_S.RECEIVING_DATA, _I.ABANDON): _S.IDLE,
    (_S.SENDING_DATA, _I.ABANDON): _S.IDLE,
}
"""Host exchange table. Missing pairs include a second command while one is outstanding
(local), data sent unasked (local), an acknowledgement nobody asked for (remote) and data
packets outside an upload (remote)."""

REMOTE_INPUTS: Final = frozenset(
    {_I.RECEIVE_ACK, _I.RECEIVE_ACK_DATA_FOLLOWS, _I.RECEIVE_ACK_SEND_DATA, _I.RECEIVE_DATA, _I.RECEIVE_END}
)


class As608Connection:
    """One end of an AS608 / ZFM / R30x link."""

    def __init__(self, role: Role, *, address: int = DEFAULT_ADDRESS, buffer_cap: int = DEFAULT_BUFFER_CAP) -> None:
        if buffer_cap < MAX_PACKET:
            raise LocalProtocolError(f"buffer_cap must hold one whole packet ({MAX_PACKET} bytes)")
        if not 0 <= address <= 0xFFFFFFFF:
            raise LocalProtocolError(f"address out of 32-bit range: {address!r}")
        self.role = role
        self.address = address
        """Module address written into every packet we send."""
        self.buffer_cap = buffer_cap
        self._buf = ReassemblyBuffer(marker=HEADER, cap=buffer_cap)
        self._state = ExchangeState.IDLE
        self._pending: int | None = None
        self._consumed = 0  # whole packets taken off the buffer and then refused
        self.protocol_errors = 0
        """Remote protocol errors raised so far."""

    # -- state -------------------------------------------------------------------------------
    @property
    def state(self) -> ExchangeState:
        return self._state

    @property
    def pending(self) -> int | None:
        """The instruction of the outstanding command (HOST role), or None."""
        return self._pending

    def _transition(self, event: ExchangeInput, *, packet_size: int = 0) -> None:
        try:
            self._state = HOST_TRANSITIONS[(self._state, event)]
        except KeyError:
            if event in REMOTE_INPUTS:
                # The packet has already left the buffer: report it as dropped.
                self.protocol_errors += 1
                self._consumed += packet_size
                raise RemoteProtocolError(
                    f"module sent a packet out of turn: cannot {event.value} while {self._state.value}",
                    discarded=packet_size,
                ) from None
            raise LocalProtocolError(f"cannot {event.value} while {self._state.value}") from None
        if self._state is ExchangeState.IDLE:
            self._pending = None

    def abandon(self) -> None:
        """Give up on the outstanding exchange (the caller timed out or cancelled).

        Buffered bytes are dropped too: a late acknowledgement or the rest of an
        upload must not be taken for the answer to the next command.
        """
        if self.role is Role.HOST:
            self._transition(ExchangeInput.ABANDON)
        self._buf.clear()

    # -- output ------------------------------------------------------------------------------
    def send(self, event: Event) -> bytes:
        """Bytes for ``event``; checks that this role may send it now."""
        if isinstance(event, DataPacket):
            if self.role is Role.HOST:
                self._transition(ExchangeInput.SEND_END if event.last else ExchangeInput.SEND_DATA)
            pid = PacketId.END if event.last else PacketId.DATA
            return Packet(pid=pid, payload=event.data, address=self.address).to_bytes()
        if isinstance(event, (Acknowledgement, SystemParametersReport)):
            if self.role is Role.HOST:
                raise LocalProtocolError("the host does not send acknowledgements")
            return Packet(pid=PacketId.ACK, payload=event.payload(), address=self.address).to_bytes()
        if self.role is Role.DEVICE:
            raise LocalProtocolError("the device does not send commands")
        wire = Packet(pid=PacketId.COMMAND, payload=command_payload(event), address=self.address).to_bytes()
        self._transition(ExchangeInput.SEND_COMMAND)
        self._pending = event.instruction
        return wire

    # -- input -------------------------------------------------------------------------------
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
        """The next whole packet as an event, or NEED_DATA.

        Raises :class:`RemoteProtocolError` for a bad or unexpected packet, after skipping it.
        """
        packet = self._next_packet()
        if packet is None:
            return NEED_DATA
        size = len(packet.payload) + PREFIX_SIZE + 2
        if self.role is Role.DEVICE:
            return self._device_event(packet, size)
        return self._host_event(packet, size)

    def _device_event(self, packet: Packet, size: int) -> Event:
        if packet.pid is PacketId.COMMAND:
            return decode_command(packet.payload)
        if packet.pid is PacketId.ACK:
            raise self._remote("the device received an acknowledge packet", size)
        return DataPacket(data=packet.payload, last=packet.pid is PacketId.END)

    def _host_event(self, packet: Packet, size: int) -> Event:
        if packet.pid is PacketId.COMMAND:
            raise self._remote("the host received a command packet (an echo on the line?)", size)
        if packet.pid is not PacketId.ACK:
            last = packet.pid is PacketId.END
            self._transition(ExchangeInput.RECEIVE_END if last else ExchangeInput.RECEIVE_DATA, packet_size=size)
            return DataPacket(data=packet.payload, last=last)
        instruction = self._pending
        ok = packet.payload[0] == Confirmation.OK
        if ok and instruction in UPLOAD_INSTRUCTIONS:
            step = ExchangeInput.RECEIVE_ACK_DATA_FOLLOWS
        elif ok and instruction in DOWNLOAD_INSTRUCTIONS:
            step = ExchangeInput.RECEIVE_ACK_SEND_DATA
        else:
            step = ExchangeInput.RECEIVE_ACK
        self._transition(step, packet_size=size)
        try:
            return decode_acknowledgement(packet.payload, instruction)
        except RemoteProtocolError as err:
            raise self._remote(f"bad acknowledgement: {err}", size) from err

    def _next_packet(self) -> Packet | None:
        if not self._buf.hunt():
            return None
        if len(self._buf) < PREFIX_SIZE:
            return None
        prefix = self._buf.peek(PREFIX_SIZE)
        try:
            parse_pid(prefix[6])
            length = parse_length(prefix[7:9])
        except RemoteProtocolError as err:
            self._buf.drop(1)
            raise self._remote(str(err), 0, discarded=1) from None
        total = PREFIX_SIZE + length
        if len(self._buf) < total:
            return None
        try:
            packet = Packet.from_bytes(self._buf.peek(total))
        except RemoteProtocolError as err:
            self._buf.drop(1)
            raise self._remote(str(err), 0, discarded=1) from None
        self._buf.take(total)
        return packet

    def _remote(self, message: str, size: int, *, discarded: int | None = None) -> RemoteProtocolError:
        """Count a remote error. ``size`` is a whole consumed packet, added to the discard counter."""
        self.protocol_errors += 1
        self._consumed += size
        return RemoteProtocolError(message, discarded=size if discarded is None else discarded)
