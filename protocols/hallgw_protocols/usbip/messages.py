"""USB/IP messages, both phases, both directions (reference/usbip.md sections 2 and 3).

Operation phase (one request per TCP connection)::

    op_common   version(2) 01 11 | code(2) | status(4)            big-endian
    OP_REQ_DEVLIST  80 05   header only
    OP_REP_DEVLIST  00 05   ndev(4), then per device: 312-byte device block
                            and bNumInterfaces 4-byte interface blocks
    OP_REQ_IMPORT   80 03   busid(32, NUL-filled)
    OP_REP_IMPORT   00 03   status 0: one 312-byte device block; else nothing

URB phase (after a successful import, same socket), a 48-byte header::

    command(4) seqnum(4) devid(4) direction(4) ep(4) | 28 bytes per command

    CMD_SUBMIT  1  transfer_flags, transfer_buffer_length, start_frame,
                   number_of_packets, interval, setup(8) [+ OUT data] [+ ISO]
    RET_SUBMIT  3  status, actual_length, start_frame, number_of_packets,
                   error_count, padding(8)            [+ IN data] [+ ISO]
    CMD_UNLINK  2  unlink_seqnum, padding(24)
    RET_UNLINK  4  status, padding(24)

Every header integer is big-endian; status fields are negative Linux errno
values as signed 32-bit. The SETUP packet and all data are raw USB bytes
(little-endian where USB says so) and pass through unchanged.

Each message is a frozen dataclass with ``encode()``. Decoding needs context
the bytes do not carry (whether data follows a RET_SUBMIT depends on the
direction of the CMD_SUBMIT it answers), so it lives in the stream parsers
of :mod:`hallgw_protocols.usbip.stream`.
"""

from __future__ import annotations

import dataclasses
import enum
import struct
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

USBIP_VERSION: Final = 0x0111
DEFAULT_PORT: Final = 3240
OP_HEADER_SIZE: Final = 8
DEVICE_BLOCK_SIZE: Final = 312
INTERFACE_BLOCK_SIZE: Final = 4
PATH_SIZE: Final = 256
BUSID_SIZE: Final = 32
URB_HEADER_SIZE: Final = 48
ISO_DESCRIPTOR_SIZE: Final = 16
MAX_ISO_PACKETS: Final = 1024
"""The kernel's USBIP_MAX_ISO_PACKETS: more in one URB is refused as garbage."""

_OP_HEADER: Final = struct.Struct(">HHI")
_DEVICE_BLOCK: Final = struct.Struct(">256s32sIIIHHHBBBBBB")
_BASIC: Final = struct.Struct(">IIIII")
_CMD_SUBMIT: Final = struct.Struct(">Iiiii8s")  # flags, length, start_frame, packets, interval, setup
_RET_SUBMIT: Final = struct.Struct(">iiiii8x")  # status, actual_length, start_frame, packets, error_count
_UNLINK_BODY: Final = struct.Struct(">i24x")  # unlink_seqnum (CMD) or status (RET)
_ISO: Final = struct.Struct(">IIIi")


class OpCode(enum.IntEnum):
    """Operation codes. Requests have bit 15 set; replies do not."""

    REQ_DEVINFO = 0x8002
    REP_DEVINFO = 0x0002
    REQ_IMPORT = 0x8003
    REP_IMPORT = 0x0003
    REQ_CRYPKEY = 0x8004
    REP_CRYPKEY = 0x0004
    REQ_DEVLIST = 0x8005
    REP_DEVLIST = 0x0005
    REQ_EXPORT = 0x8006
    REP_EXPORT = 0x0006
    REQ_UNEXPORT = 0x8007
    REP_UNEXPORT = 0x0007


class OpStatus(enum.IntEnum):
    """Status of an operation reply (T-lib ``ST_*``). Any non-zero value is a failure."""

    OK = 0
    NA = 1
    DEV_BUSY = 2
    DEV_ERR = 3
    NODEV = 4
    ERROR = 5


class UrbCommand(enum.IntEnum):
    """The command word of a URB-phase header."""

    CMD_SUBMIT = 1
    CMD_UNLINK = 2
    RET_SUBMIT = 3
    RET_UNLINK = 4


class Direction(enum.IntEnum):
    OUT = 0
    IN = 1


class Speed(enum.IntEnum):
    """Linux ``enum usb_device_speed`` as carried in the device block."""

    UNKNOWN = 0
    LOW = 1
    FULL = 2
    HIGH = 3
    WIRELESS = 4
    SUPER = 5
    SUPER_PLUS = 6


class TransferFlags(enum.IntFlag):
    """``USBIP_URB_*`` wire values of transfer_flags."""

    SHORT_NOT_OK = 0x0001
    ISO_ASAP = 0x0002
    NO_TRANSFER_DMA_MAP = 0x0004
    ZERO_PACKET = 0x0040
    NO_INTERRUPT = 0x0080
    FREE_BUFFER = 0x0100
    DIR_IN = 0x0200


def devid_of(busnum: int, devnum: int) -> int:
    """The devid of URB headers: ``(busnum << 16) | devnum``."""
    return (busnum << 16) | devnum


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise LocalProtocolError(f"{name} must be in {low}..{high}, got {value}")


def _u32(name: str, value: int) -> None:
    _check_range(name, value, 0, 0xFFFF_FFFF)


def _s32(name: str, value: int) -> None:
    _check_range(name, value, -0x8000_0000, 0x7FFF_FFFF)


def _fixed_string(name: str, text: str, size: int) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) >= size or b"\0" in raw:
        raise LocalProtocolError(f"{name} must be at most {size - 1} bytes of UTF-8 without NUL, got {len(raw)} bytes")
    return raw.ljust(size, b"\0")


def decode_fixed_string(name: str, raw: bytes) -> str:
    """A NUL-terminated, NUL-filled field (path, busid) as text."""
    text, nul, _ = raw.partition(b"\0")
    if not nul:
        raise RemoteProtocolError(f"{name} field of {len(raw)} bytes has no terminating NUL")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteProtocolError(f"{name} field is not UTF-8") from None


def encode_op_header(code: int, status: int = 0) -> bytes:
    """The 8-byte op_common header with the protocol version."""
    _check_range("code", code, 0, 0xFFFF)
    _u32("status", status)
    return _OP_HEADER.pack(USBIP_VERSION, code, status)


# -- operation phase ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The 312-byte device block (``struct usbip_usb_device``) of DEVLIST and IMPORT replies.

    Field names are those of the kernel struct. idVendor, idProduct and
    bcdDevice are big-endian here, unlike in the USB device descriptor.
    """

    busid: str
    busnum: int
    devnum: int
    speed: int
    idVendor: int
    idProduct: int
    bcdDevice: int = 0
    bDeviceClass: int = 0
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bConfigurationValue: int = 0
    bNumConfigurations: int = 1
    bNumInterfaces: int = 0
    path: str = ""

    @property
    def devid(self) -> int:
        return devid_of(self.busnum, self.devnum)

    def encode(self) -> bytes:
        for name in ("busnum", "devnum", "speed"):
            _u32(name, getattr(self, name))
        for name in ("idVendor", "idProduct", "bcdDevice"):
            _check_range(name, getattr(self, name), 0, 0xFFFF)
        for name in (
            "bDeviceClass",
            "bDeviceSubClass",
            "bDeviceProtocol",
            "bConfigurationValue",
            "bNumConfigurations",
            "bNumInterfaces",
        ):
            _check_range(name, getattr(self, name), 0, 0xFF)
        return _DEVICE_BLOCK.pack(
            _fixed_string("path", self.path, PATH_SIZE),
            _fixed_string("busid", self.busid, BUSID_SIZE),
            self.busnum,
            self.devnum,
            self.speed,
            self.idVendor,
            self.idProduct,
            self.bcdDevice,
            self.bDeviceClass,
            self.bDeviceSubClass,
            self.bDeviceProtocol,
            self.bConfigurationValue,
            self.bNumConfigurations,
            self.bNumInterfaces,
        )

    @classmethod
    def parse(cls, block: bytes) -> DeviceInfo:
        if len(block) != DEVICE_BLOCK_SIZE:
            raise RemoteProtocolError(f"a device block is {DEVICE_BLOCK_SIZE} bytes, got {len(block)}")
        path, busid, *rest = _DEVICE_BLOCK.unpack(block)
        (busnum, devnum, speed, vid, pid, bcd, dcls, dsub, dproto, cfg, ncfg, nintf) = rest
        return cls(
            path=decode_fixed_string("path", path),
            busid=decode_fixed_string("busid", busid),
            busnum=busnum,
            devnum=devnum,
            speed=speed,
            idVendor=vid,
            idProduct=pid,
            bcdDevice=bcd,
            bDeviceClass=dcls,
            bDeviceSubClass=dsub,
            bDeviceProtocol=dproto,
            bConfigurationValue=cfg,
            bNumConfigurations=ncfg,
            bNumInterfaces=nintf,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """The 4-byte interface block of OP_REP_DEVLIST (class, subclass, protocol, padding)."""

    bInterfaceClass: int
    bInterfaceSubClass: int = 0
    bInterfaceProtocol: int = 0

    def encode(self) -> bytes:
        for name in ("bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol"):
            _check_range(name, getattr(self, name), 0, 0xFF)
        return bytes([self.bInterfaceClass, self.bInterfaceSubClass, self.bInterfaceProtocol, 0])

    @classmethod
    def parse(cls, block: bytes) -> InterfaceInfo:
        if len(block) != INTERFACE_BLOCK_SIZE:
            raise RemoteProtocolError(f"an interface block is {INTERFACE_BLOCK_SIZE} bytes, got {len(block)}")
        return cls(block[0], block[1], block[2])


@dataclasses.dataclass(frozen=True, slots=True)
class DevlistEntry:
    """One device of OP_REP_DEVLIST: its block and exactly ``bNumInterfaces`` interface blocks."""

    device: DeviceInfo
    interfaces: tuple[InterfaceInfo, ...] = ()

    def encode(self) -> bytes:
        if len(self.interfaces) != self.device.bNumInterfaces:
            raise LocalProtocolError(
                f"device {self.device.busid!r} declares bNumInterfaces {self.device.bNumInterfaces} "
                f"but {len(self.interfaces)} interface blocks were given"
            )
        return self.device.encode() + b"".join(i.encode() for i in self.interfaces)


@dataclasses.dataclass(frozen=True, slots=True)
class OpReqDevlist:
    """OP_REQ_DEVLIST: list the exported devices (client to server, 8 bytes)."""

    def encode(self) -> bytes:
        return encode_op_header(OpCode.REQ_DEVLIST)


@dataclasses.dataclass(frozen=True, slots=True)
class OpRepDevlist:
    """OP_REP_DEVLIST: the exported devices (server to client)."""

    devices: tuple[DevlistEntry, ...] = ()

    def encode(self) -> bytes:
        return (
            encode_op_header(OpCode.REP_DEVLIST)
            + struct.pack(">I", len(self.devices))
            + b"".join(d.encode() for d in self.devices)
        )


@dataclasses.dataclass(frozen=True, slots=True)
class OpReqImport:
    """OP_REQ_IMPORT: attach the device at ``busid`` (client to server, 40 bytes)."""

    busid: str

    def encode(self) -> bytes:
        return encode_op_header(OpCode.REQ_IMPORT) + _fixed_string("busid", self.busid, BUSID_SIZE)


@dataclasses.dataclass(frozen=True, slots=True)
class OpRepImport:
    """OP_REP_IMPORT: ``status`` 0 and the device block, or a non-zero status alone."""

    status: int
    device: DeviceInfo | None = None

    def __post_init__(self) -> None:
        if (self.status == OpStatus.OK) != (self.device is not None):
            raise LocalProtocolError("OP_REP_IMPORT carries a device block exactly when its status is 0")

    def encode(self) -> bytes:
        head = encode_op_header(OpCode.REP_IMPORT, self.status)
        return head if self.device is None else head + self.device.encode()


OpMessage = OpReqDevlist | OpRepDevlist | OpReqImport | OpRepImport


# -- URB phase ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class IsoPacketDescriptor:
    """One 16-byte isochronous packet descriptor (offset, length, actual_length, status)."""

    offset: int
    length: int
    actual_length: int = 0
    status: int = 0

    def encode(self) -> bytes:
        for name in ("offset", "length", "actual_length"):
            _u32(name, getattr(self, name))
        _s32("status", self.status)
        return _ISO.pack(self.offset, self.length, self.actual_length, self.status)

    @classmethod
    def parse(cls, raw: bytes) -> IsoPacketDescriptor:
        return cls(*_ISO.unpack(raw))


def _basic(command: int, seqnum: int, devid: int, direction: int, ep: int) -> bytes:
    _u32("seqnum", seqnum)
    _u32("devid", devid)
    _check_range("direction", direction, 0, 1)
    _check_range("ep", ep, 0, 15)
    return _BASIC.pack(command, seqnum, devid, direction, ep)


@dataclasses.dataclass(frozen=True, slots=True)
class CmdSubmit:
    """USBIP_CMD_SUBMIT: one URB (client to server).

    ``data`` is the OUT payload and must be ``transfer_buffer_length`` bytes
    long; an IN submit carries none and asks for up to ``transfer_buffer_length``.
    ``iso_packets`` follow only for isochronous endpoints.
    """

    seqnum: int
    devid: int
    direction: Direction
    ep: int
    transfer_buffer_length: int
    transfer_flags: int = 0
    start_frame: int = 0
    number_of_packets: int = 0
    interval: int = 0
    setup: bytes = bytes(8)
    data: bytes = b""
    iso_packets: tuple[IsoPacketDescriptor, ...] = ()

    @property
    def endpoint_address(self) -> int:
        """The USB endpoint address: ``ep`` with bit 7 set for IN."""
        return self.ep | (0x80 if self.direction == Direction.IN else 0)

    def encode(self) -> bytes:
        if len(self.setup) != 8:
            raise LocalProtocolError(f"setup must be 8 bytes, got {len(self.setup)}")
        _u32("transfer_flags", self.transfer_flags)
        for name in ("transfer_buffer_length", "start_frame", "number_of_packets", "interval"):
            _s32(name, getattr(self, name))
        if self.transfer_buffer_length < 0:
            raise LocalProtocolError(f"transfer_buffer_length must be >= 0, got {self.transfer_buffer_length}")
        if self.direction == Direction.OUT and len(self.data) != self.transfer_buffer_length:
            raise LocalProtocolError(
                f"an OUT submit carries transfer_buffer_length ({self.transfer_buffer_length}) bytes, "
                f"got {len(self.data)}"
            )
        if self.direction == Direction.IN and self.data:
            raise LocalProtocolError("an IN submit carries no data")
        if self.iso_packets and len(self.iso_packets) != self.number_of_packets:
            raise LocalProtocolError(
                f"number_of_packets is {self.number_of_packets} but {len(self.iso_packets)} ISO descriptors were given"
            )
        head = _basic(UrbCommand.CMD_SUBMIT, self.seqnum, self.devid, self.direction, self.ep)
        body = _CMD_SUBMIT.pack(
            self.transfer_flags,
            self.transfer_buffer_length,
            self.start_frame,
            self.number_of_packets,
            self.interval,
            self.setup,
        )
        return head + body + self.data + b"".join(p.encode() for p in self.iso_packets)


@dataclasses.dataclass(frozen=True, slots=True)
class RetSubmit:
    """USBIP_RET_SUBMIT: the completion of the CMD_SUBMIT with the same ``seqnum``.

    ``status`` is 0 or a negative errno. ``data`` is the IN data and then
    ``actual_length`` bytes long; the reply to an OUT submit has none, its
    ``actual_length`` counting the bytes the device took. devid, direction and
    ep are 0 in replies of the Linux server; readers must not rely on them.
    """

    seqnum: int
    status: int = 0
    actual_length: int = 0
    start_frame: int = 0
    number_of_packets: int = 0
    error_count: int = 0
    data: bytes = b""
    iso_packets: tuple[IsoPacketDescriptor, ...] = ()
    devid: int = 0
    direction: int = 0
    ep: int = 0

    def encode(self) -> bytes:
        for name in ("status", "actual_length", "start_frame", "number_of_packets", "error_count"):
            _s32(name, getattr(self, name))
        if self.data and len(self.data) != self.actual_length:
            raise LocalProtocolError(
                f"RET_SUBMIT data must be actual_length ({self.actual_length}) bytes, got {len(self.data)}"
            )
        if self.iso_packets and len(self.iso_packets) != self.number_of_packets:
            raise LocalProtocolError(
                f"number_of_packets is {self.number_of_packets} but {len(self.iso_packets)} ISO descriptors were given"
            )
        head = _basic(UrbCommand.RET_SUBMIT, self.seqnum, self.devid, self.direction, self.ep)
        body = _RET_SUBMIT.pack(
            self.status, self.actual_length, self.start_frame, self.number_of_packets, self.error_count
        )
        return head + body + self.data + b"".join(p.encode() for p in self.iso_packets)


@dataclasses.dataclass(frozen=True, slots=True)
class CmdUnlink:
    """USBIP_CMD_UNLINK: cancel the submit ``unlink_seqnum``; ``seqnum`` is the unlink's own."""

    seqnum: int
    devid: int
    unlink_seqnum: int

    def encode(self) -> bytes:
        _u32("unlink_seqnum", self.unlink_seqnum)
        head = _basic(UrbCommand.CMD_UNLINK, self.seqnum, self.devid, 0, 0)
        return head + struct.pack(">I24x", self.unlink_seqnum)


@dataclasses.dataclass(frozen=True, slots=True)
class RetUnlink:
    """USBIP_RET_UNLINK: ``seqnum`` is the CMD_UNLINK's.

    ``status`` is -ECONNRESET when the submit was cancelled (no RET_SUBMIT
    follows for it, ever) and 0 when it had already completed.
    """

    seqnum: int
    status: int = 0
    devid: int = 0
    direction: int = 0
    ep: int = 0

    def encode(self) -> bytes:
        _s32("status", self.status)
        head = _basic(UrbCommand.RET_UNLINK, self.seqnum, self.devid, self.direction, self.ep)
        return head + _UNLINK_BODY.pack(self.status)


UrbMessage = CmdSubmit | RetSubmit | CmdUnlink | RetUnlink
Message = OpMessage | UrbMessage


def check_op_header(raw: bytes) -> tuple[int, int]:
    """Version-check an 8-byte op_common header; returns (code, status)."""
    version, code, status = _OP_HEADER.unpack(raw)
    if version != USBIP_VERSION:
        raise RemoteProtocolError(
            f"expected USB/IP version 0x{USBIP_VERSION:04x}, got 0x{version:04x}", discarded=OP_HEADER_SIZE
        )
    return code, status


def unpack_basic(raw: bytes) -> tuple[int, int, int, int, int]:
    """(command, seqnum, devid, direction, ep) of a 48-byte URB header."""
    command, seqnum, devid, direction, ep = _BASIC.unpack_from(raw)
    return command, seqnum, devid, direction, ep


def unpack_cmd_submit(raw: bytes) -> tuple[int, int, int, int, int, bytes]:
    """(transfer_flags, transfer_buffer_length, start_frame, number_of_packets, interval, setup)."""
    flags, length, start, packets, interval, setup = _CMD_SUBMIT.unpack_from(raw, _BASIC.size)
    return flags, length, start, packets, interval, setup


def unpack_ret_submit(raw: bytes) -> tuple[int, int, int, int, int]:
    """(status, actual_length, start_frame, number_of_packets, error_count)."""
    status, actual, start, packets, errors = _RET_SUBMIT.unpack_from(raw, _BASIC.size)
    return status, actual, start, packets, errors


def unpack_unlink_status(raw: bytes) -> int:
    """The signed status of a RET_UNLINK."""
    (word,) = _UNLINK_BODY.unpack_from(raw, _BASIC.size)
    return int(word)


def unpack_unlink_seqnum(raw: bytes) -> int:
    """The unsigned unlink_seqnum of a CMD_UNLINK."""
    (word,) = struct.unpack_from(">I", raw, _BASIC.size)
    return int(word)
