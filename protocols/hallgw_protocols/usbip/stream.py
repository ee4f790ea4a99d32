"""Stream parsers for USB/IP, one per phase, each in either role.

Feed bytes with ``receive_data``; take whole messages with ``next_event``
until it returns :data:`NEED_DATA`. The role says which direction is parsed:
:attr:`Role.DEVICE` is the server (it parses requests and commands),
:attr:`Role.HOST` the client (it parses replies).

* :class:`OperationParser` reads the one operation message of a connection
  (OP_REQ_DEVLIST or OP_REQ_IMPORT for the server; OP_REP_DEVLIST or
  OP_REP_IMPORT for the client). After that message it is ``done`` and hands
  whatever bytes follow to the URB phase with :meth:`~OperationParser.remainder`.
* :class:`UrbParser` reads the 48-byte-header messages after a successful
  import. What follows a header is not in the header itself: OUT data after a
  CMD_SUBMIT, IN data after the RET_SUBMIT of an IN submit, ISO descriptors
  only on isochronous endpoints. The server side is told which endpoints are
  isochronous; the client side is told of every command it sends
  (:meth:`UrbParser.sent`) and matches each RET_SUBMIT to its submit by
  seqnum, refusing one it never sent, as the Linux client does.

USB/IP has no start-of-frame marker, so a stream that breaks the protocol
cannot be resynchronised: the parser raises :class:`RemoteProtocolError`
saying what it expected, drops its buffer (``discarded``) and refuses every
later call. The caller closes the connection, which is what the Linux peers
do. Every length read from the wire is checked against a cap before bytes are
awaited, so garbage cannot make a parser buffer without bound.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Final

from hallgw_protocols._common import NEED_DATA, LocalProtocolError, NeedData, RemoteProtocolError, Role
from hallgw_protocols.usbip.messages import (
    BUSID_SIZE,
    DEVICE_BLOCK_SIZE,
    INTERFACE_BLOCK_SIZE,
    ISO_DESCRIPTOR_SIZE,
    MAX_ISO_PACKETS,
    OP_HEADER_SIZE,
    URB_HEADER_SIZE,
    CmdSubmit,
    CmdUnlink,
    DeviceInfo,
    DevlistEntry,
    Direction,
    InterfaceInfo,
    IsoPacketDescriptor,
    OpCode,
    OpMessage,
    OpRepDevlist,
    OpRepImport,
    OpReqDevlist,
    OpReqImport,
    OpStatus,
    RetSubmit,
    RetUnlink,
    UrbCommand,
    UrbMessage,
    check_op_header,
    decode_fixed_string,
    unpack_basic,
    unpack_cmd_submit,
    unpack_ret_submit,
    unpack_unlink_seqnum,
    unpack_unlink_status,
)

DEFAULT_OP_CAP: Final = 1 << 20
"""Largest operation message accepted (a DEVLIST of about 3000 devices)."""
DEFAULT_MAX_TRANSFER: Final = 4 << 20
"""Largest transfer_buffer_length / actual_length accepted on a URB."""


class _Buffer:
    """Bytes waiting to be parsed, a cap, and the broken state after a protocol error."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.broken: str | None = None

    def feed(self, data: bytes) -> None:
        self.check()
        self.data += data
        if len(self.data) > self.cap:
            raise self.fail(f"expected at most {self.cap} buffered bytes, got {len(self.data)}")

    def check(self) -> None:
        if self.broken is not None:
            raise RemoteProtocolError(f"the stream broke earlier ({self.broken}); close the connection")

    def fail(self, message: str) -> RemoteProtocolError:
        """Drop the buffer, remember the fault and return the error for the caller to raise."""
        discarded = len(self.data)
        self.data.clear()
        self.broken = message
        return RemoteProtocolError(message, discarded=discarded)

    def take(self, count: int) -> bytes:
        out = bytes(self.data[:count])
        del self.data[:count]
        return out


class OperationParser:
    """The operation phase: one request (DEVICE role) or one reply (HOST role). See module docstring."""

    def __init__(self, role: Role, *, cap: int = DEFAULT_OP_CAP) -> None:
        self.role = role
        self._buf = _Buffer(cap)
        self.done = False
        """True once the connection's operation message was returned."""

    def receive_data(self, data: bytes) -> None:
        self._buf.feed(data)

    def remainder(self) -> bytes:
        """Remove and return the bytes after the operation message (the start of the URB phase)."""
        return self._buf.take(len(self._buf.data))

    def next_event(self) -> OpMessage | NeedData:
        self._buf.check()
        if self.done:
            return NEED_DATA
        buf = self._buf.data
        if len(buf) < OP_HEADER_SIZE:
            return NEED_DATA
        try:
            code, status = check_op_header(bytes(buf[:OP_HEADER_SIZE]))
        except RemoteProtocolError as err:
            raise self._buf.fail(str(err)) from None
        message = self._parse_request(code, status) if self.role is Role.DEVICE else self._parse_reply(code, status)
        if message is not NEED_DATA:
            self.done = True
        return message

    def _parse_request(self, code: int, status: int) -> OpMessage | NeedData:
        if code not in (OpCode.REQ_DEVLIST, OpCode.REQ_IMPORT):
            raise self._buf.fail(f"expected OP_REQ_DEVLIST (0x8005) or OP_REQ_IMPORT (0x8003), got 0x{code:04x}")
        if status != 0:
            raise self._buf.fail(f"expected status 0 in a request, got {status}")
        if code == OpCode.REQ_DEVLIST:
            self._buf.take(OP_HEADER_SIZE)
            return OpReqDevlist()
        if len(self._buf.data) < OP_HEADER_SIZE + BUSID_SIZE:
            return NEED_DATA
        raw = bytes(self._buf.data[OP_HEADER_SIZE : OP_HEADER_SIZE + BUSID_SIZE])
        try:
            busid = decode_fixed_string("busid", raw)
        except RemoteProtocolError as err:
            raise self._buf.fail(f"OP_REQ_IMPORT: {err}") from None
        self._buf.take(OP_HEADER_SIZE + BUSID_SIZE)
        return OpReqImport(busid=busid)

    def _parse_reply(self, code: int, status: int) -> OpMessage | NeedData:
        if code == OpCode.REP_IMPORT:
            if status != OpStatus.OK:
                self._buf.take(OP_HEADER_SIZE)
                return OpRepImport(status=status)
            if len(self._buf.data) < OP_HEADER_SIZE + DEVICE_BLOCK_SIZE:
                return NEED_DATA
            raw = bytes(self._buf.data[OP_HEADER_SIZE : OP_HEADER_SIZE + DEVICE_BLOCK_SIZE])
            try:
                device = DeviceInfo.parse(raw)
            except RemoteProtocolError as err:
                raise self._buf.fail(f"OP_REP_IMPORT: {err}") from None
            self._buf.take(OP_HEADER_SIZE + DEVICE_BLOCK_SIZE)
            return OpRepImport(status=status, device=device)
        if code == OpCode.REP_DEVLIST:
            if status != OpStatus.OK:
                raise self._buf.fail(f"expected status 0 in OP_REP_DEVLIST, got {status}")
            return self._parse_devlist()
        raise self._buf.fail(f"expected OP_REP_DEVLIST (0x0005) or OP_REP_IMPORT (0x0003), got 0x{code:04x}")

    def _parse_devlist(self) -> OpRepDevlist | NeedData:
        buf = self._buf.data
        if len(buf) < OP_HEADER_SIZE + 4:
            return NEED_DATA
        ndev = int.from_bytes(buf[OP_HEADER_SIZE : OP_HEADER_SIZE + 4], "big")
        if OP_HEADER_SIZE + 4 + ndev * DEVICE_BLOCK_SIZE > self._buf.cap:
            raise self._buf.fail(
                f"OP_REP_DEVLIST announces {ndev} devices: expected at most "
                f"{(self._buf.cap - OP_HEADER_SIZE - 4) // DEVICE_BLOCK_SIZE}"
            )
        pos = OP_HEADER_SIZE + 4
        entries: list[DevlistEntry] = []
        for _ in range(ndev):
            if len(buf) < pos + DEVICE_BLOCK_SIZE:
                return NEED_DATA
            try:
                device = DeviceInfo.parse(bytes(buf[pos : pos + DEVICE_BLOCK_SIZE]))
            except RemoteProtocolError as err:
                raise self._buf.fail(f"OP_REP_DEVLIST device {len(entries)}: {err}") from None
            pos += DEVICE_BLOCK_SIZE
            end = pos + INTERFACE_BLOCK_SIZE * device.bNumInterfaces
            if len(buf) < end:
                return NEED_DATA
            interfaces = tuple(
                InterfaceInfo.parse(bytes(buf[p : p + INTERFACE_BLOCK_SIZE]))
                for p in range(pos, end, INTERFACE_BLOCK_SIZE)
            )
            pos = end
            entries.append(DevlistEntry(device=device, interfaces=interfaces))
        self._buf.take(pos)
        return OpRepDevlist(devices=tuple(entries))


@dataclasses.dataclass(frozen=True, slots=True)
class _Pending:
    direction: Direction
    iso: bool
    length: int


class UrbParser:
    """The URB phase: commands (DEVICE role) or replies (HOST role). See module docstring.

    ``iso_endpoints`` (DEVICE role) holds the endpoint addresses (bit 7 set
    for IN) that are isochronous, so that ISO descriptors are read after
    their submits.
    """

    def __init__(
        self,
        role: Role,
        *,
        max_transfer: int = DEFAULT_MAX_TRANSFER,
        iso_endpoints: Collection[int] = (),
    ) -> None:
        self.role = role
        self.max_transfer = max_transfer
        self.iso_endpoints = frozenset(iso_endpoints)
        cap = 2 * (URB_HEADER_SIZE + max_transfer + MAX_ISO_PACKETS * ISO_DESCRIPTOR_SIZE)
        self._buf = _Buffer(cap)
        self._pending: dict[int, _Pending] = {}
        self._unlinks: dict[int, int] = {}

    @property
    def pending(self) -> int:
        """HOST role: submits sent whose RET_SUBMIT (or RET_UNLINK) has not come."""
        return len(self._pending)

    def receive_data(self, data: bytes) -> None:
        self._buf.feed(data)

    def sent(self, message: CmdSubmit | CmdUnlink, *, iso: bool = False) -> None:
        """HOST role: record a command about to be sent, so its reply can be parsed."""
        if self.role is not Role.HOST:
            raise LocalProtocolError("only the client side records the commands it sends")
        if isinstance(message, CmdUnlink):
            self._unlinks[message.seqnum] = message.unlink_seqnum
            return
        if message.seqnum in self._pending:
            raise LocalProtocolError(f"seqnum {message.seqnum} is already pending")
        self._pending[message.seqnum] = _Pending(message.direction, iso, message.transfer_buffer_length)

    def next_event(self) -> UrbMessage | NeedData:
        self._buf.check()
        buf = self._buf.data
        if len(buf) < URB_HEADER_SIZE:
            return NEED_DATA
        header = bytes(buf[:URB_HEADER_SIZE])
        command, seqnum, devid, direction, ep = unpack_basic(header)
        if self.role is Role.DEVICE:
            if command == UrbCommand.CMD_SUBMIT:
                return self._cmd_submit(header, seqnum, devid, direction, ep)
            if command == UrbCommand.CMD_UNLINK:
                self._buf.take(URB_HEADER_SIZE)
                return CmdUnlink(seqnum=seqnum, devid=devid, unlink_seqnum=unpack_unlink_seqnum(header))
            raise self._buf.fail(f"expected USBIP_CMD_SUBMIT (1) or USBIP_CMD_UNLINK (2), got command {command}")
        if command == UrbCommand.RET_SUBMIT:
            return self._ret_submit(header, seqnum, devid, direction, ep)
        if command == UrbCommand.RET_UNLINK:
            self._buf.take(URB_HEADER_SIZE)
            target = self._unlinks.pop(seqnum, None)
            if target is not None:
                self._pending.pop(target, None)
            return RetUnlink(
                seqnum=seqnum, status=unpack_unlink_status(header), devid=devid, direction=direction, ep=ep
            )
        raise self._buf.fail(f"expected USBIP_RET_SUBMIT (3) or USBIP_RET_UNLINK (4), got command {command}")

    def _iso_count(self, packets: int) -> int:
        if not 0 <= packets <= MAX_ISO_PACKETS:
            raise self._buf.fail(f"expected number_of_packets 0..{MAX_ISO_PACKETS} on an ISO endpoint, got {packets}")
        return packets

    def _iso_packets(self, start: int, count: int) -> tuple[IsoPacketDescriptor, ...]:
        raw = bytes(self._buf.data[start : start + count * ISO_DESCRIPTOR_SIZE])
        return tuple(
            IsoPacketDescriptor.parse(raw[i : i + ISO_DESCRIPTOR_SIZE]) for i in range(0, len(raw), ISO_DESCRIPTOR_SIZE)
        )

    def _cmd_submit(self, header: bytes, seqnum: int, devid: int, direction: int, ep: int) -> CmdSubmit | NeedData:
        if direction not in (Direction.OUT, Direction.IN):
            raise self._buf.fail(f"expected direction 0 (OUT) or 1 (IN) in CMD_SUBMIT, got {direction}")
        if ep > 15:
            raise self._buf.fail(f"expected endpoint number 0..15 in CMD_SUBMIT, got {ep}")
        flags, length, start_frame, packets, interval, setup = unpack_cmd_submit(header)
        if not 0 <= length <= self.max_transfer:
            raise self._buf.fail(f"expected transfer_buffer_length 0..{self.max_transfer} in CMD_SUBMIT, got {length}")
        address = ep | (0x80 if direction == Direction.IN else 0)
        iso = address in self.iso_endpoints
        n_iso = self._iso_count(packets) if iso else 0
        data_len = length if direction == Direction.OUT else 0
        total = URB_HEADER_SIZE + data_len + n_iso * ISO_DESCRIPTOR_SIZE
        if len(self._buf.data) < total:
            return NEED_DATA
        data = bytes(self._buf.data[URB_HEADER_SIZE : URB_HEADER_SIZE + data_len])
        iso_packets = self._iso_packets(URB_HEADER_SIZE + data_len, n_iso)
        self._buf.take(total)
        return CmdSubmit(
            seqnum=seqnum,
            devid=devid,
            direction=Direction(direction),
            ep=ep,
            transfer_buffer_length=length,
            transfer_flags=flags,
            start_frame=start_frame,
            number_of_packets=packets,
            interval=interval,
            setup=setup,
            data=data,
            iso_packets=iso_packets,
        )

    def _ret_submit(self, header: bytes, seqnum: int, devid: int, direction: int, ep: int) -> RetSubmit | NeedData:
        pending = self._pending.get(seqnum)
        if pending is None:
            raise self._buf.fail(f"RET_SUBMIT for seqnum {seqnum}: expected the seqnum of a pending submit")
        status, actual, start_frame, packets, errors = unpack_ret_submit(header)
        if actual < 0:
            raise self._buf.fail(f"expected actual_length >= 0 in RET_SUBMIT {seqnum}, got {actual}")
        if pending.direction == Direction.IN and actual > pending.length:
            raise self._buf.fail(
                f"RET_SUBMIT {seqnum} has actual_length {actual}: expected at most the {pending.length} bytes asked for"
            )
        n_iso = self._iso_count(packets) if pending.iso else 0
        data_len = actual if pending.direction == Direction.IN else 0
        total = URB_HEADER_SIZE + data_len + n_iso * ISO_DESCRIPTOR_SIZE
        if len(self._buf.data) < total:
            return NEED_DATA
        data = bytes(self._buf.data[URB_HEADER_SIZE : URB_HEADER_SIZE + data_len])
        iso_packets = self._iso_packets(URB_HEADER_SIZE + data_len, n_iso)
        self._buf.take(total)
        del self._pending[seqnum]
        return RetSubmit(
            seqnum=seqnum,
            status=status,
            actual_length=actual,
            start_frame=start_frame,
            number_of_packets=packets,
            error_count=errors,
            data=data,
            iso_packets=iso_packets,
            devid=devid,
            direction=direction,
            ep=ep,
        )
