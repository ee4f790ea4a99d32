"""A USB/IP server exporting virtual USB devices (reference/usbip.md).

:class:`UsbIpServer` listens on TCP (127.0.0.1, port 0 picks a free one) and
speaks the Linux usbip protocol, version 0x0111, through the codec in
:mod:`hallgw_protocols.usbip`. The daemon's pyusb backend, or Linux's own
``usbip attach``, reaches the devices it exports as if they hung on a remote
machine's bus.

Theory of operation:

* **Devices.** A :class:`VirtualUsbDevice` is a set of descriptors (VID, PID,
  strings, one configuration with one vendor-class interface holding a bulk
  OUT and a bulk IN endpoint) and a :class:`UsbBehaviour` that does the
  device's work. :meth:`UsbIpServer.plug` exports it under a busid such as
  ``1-1`` with a fresh device number; :meth:`UsbIpServer.unplug` closes the
  importer's connection (what a Linux server does when the device goes away)
  and takes it off the list. A replugged device gets a new devnum, and a new
  busid when asked for one.
* **Operation phase.** Each connection carries one request. OP_REQ_DEVLIST
  lists the exported devices that nobody has imported (as newer Linux usbipd
  does) and closes. OP_REQ_IMPORT attaches one client at a time: an unknown
  busid gets ST_NODEV, a device already imported ST_DEV_BUSY, and the
  connection closes; on success the same socket carries the URB phase.
* **Control transfers** on endpoint 0 are answered by the server for the
  standard requests: GET_DESCRIPTOR (device, configuration, string and the
  LANGID table), SET/GET_CONFIGURATION, SET/GET_INTERFACE, GET_STATUS,
  CLEAR/SET_FEATURE(ENDPOINT_HALT), SET_ADDRESS, and the hub-class port reset
  a Linux server intercepts. Other requests go to the behaviour; when it
  returns None the request stalls (status -EPIPE), as a real device does.
  IN replies are cut to wLength.
* **Bulk transfers.** OUT data is handed to :meth:`UsbBehaviour.bulk_out`
  and acknowledged with its length. An IN submit waits, as a device NAKs,
  until :meth:`UsbBehaviour.bulk_in` produces data; meanwhile it can be
  unlinked: the server cancels the wait and answers RET_UNLINK(-ECONNRESET),
  never a RET_SUBMIT for it afterwards. An unlink that comes after the
  completion gets status 0. A behaviour that raises :class:`EndpointStall`
  halts the endpoint until the host clears the halt.
* **Garbage** (a bad header, a devid that is not this device's) drops the
  connection, as the Linux server does, rather than guessing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import socket
from typing import Final

from hallgw_protocols import RemoteProtocolError, Role
from hallgw_protocols.usbip import (
    CmdSubmit,
    CmdUnlink,
    ConfigurationDescriptor,
    DescriptorType,
    DeviceDescriptor,
    DeviceInfo,
    DevlistEntry,
    Direction,
    EndpointDescriptor,
    InterfaceDescriptor,
    InterfaceInfo,
    OperationParser,
    OpRepDevlist,
    OpRepImport,
    OpReqDevlist,
    OpReqImport,
    OpStatus,
    Request,
    RequestType,
    RetSubmit,
    RetUnlink,
    SetupPacket,
    Speed,
    TransferType,
    UrbParser,
    devid_of,
    encode_langid_descriptor,
    encode_string_descriptor,
)

READ_SIZE: Final = 1 << 16
VENDOR_CLASS: Final = 0xFF
CONFIGURATION_VALUE: Final = 1
STRING_MANUFACTURER: Final = 1
STRING_PRODUCT: Final = 2
STRING_SERIAL: Final = 3
HUB_PORT_RESET: Final = (0x23, 0x03, 4)
"""bmRequestType, bRequest and wValue of SET_FEATURE(PORT_RESET), which a Linux server intercepts."""


class EndpointStall(Exception):
    """Raised by a behaviour to stall (halt) the bulk endpoint it was asked to serve."""


class UsbBehaviour:
    """What a virtual device does with its transfers. Subclass and override.

    The default device accepts and drops OUT data, never produces IN data,
    and stalls every non-standard control request.
    """

    def bulk_out(self, data: bytes) -> None:
        """One bulk OUT transfer from the host (may raise :class:`EndpointStall`)."""

    async def bulk_in(self, max_length: int) -> bytes:
        """Wait for data and return at most ``max_length`` bytes of it.

        Must be cancel-safe: the server cancels it when the host unlinks the
        URB. Take the data only after the last ``await``, so a cancelled call
        has taken nothing. May raise :class:`EndpointStall`.
        """
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    def control(self, setup: SetupPacket, data: bytes) -> bytes | None:
        """A control request the server does not answer itself: IN data (or b""), or None to stall."""
        return None

    def reset(self) -> None:
        """The host reset the device, or a new client imported it."""


class EchoBehaviour(UsbBehaviour):
    """Every byte written to bulk OUT comes back on bulk IN, in order.

    ``in_limit`` caps how much one IN transfer returns (like a device that
    sends one packet per transfer); by default a transfer takes what there is.
    """

    def __init__(self, *, in_limit: int | None = None) -> None:
        self.in_limit = in_limit
        self._buffer = bytearray()
        self._ready = asyncio.Event()
        self.out_transfers = 0
        self.in_transfers = 0

    def bulk_out(self, data: bytes) -> None:
        self.out_transfers += 1
        if data:
            self._buffer += data
            self._ready.set()

    async def bulk_in(self, max_length: int) -> bytes:
        while not self._buffer:
            self._ready.clear()
            await self._ready.wait()
        count = max_length if self.in_limit is None else min(max_length, self.in_limit)
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        self.in_transfers += 1
        return data

    def reset(self) -> None:
        self._buffer.clear()


@dataclasses.dataclass(frozen=True)
class VirtualUsbDevice:
    """The descriptors of a virtual device and the behaviour behind them."""

    vendor_id: int
    product_id: int
    serial_number: str
    behaviour: UsbBehaviour = dataclasses.field(default_factory=UsbBehaviour)
    manufacturer: str = "hallgw"
    product: str = "Virtual USB device"
    bcd_device: int = 0x0100
    speed: Speed = Speed.FULL
    max_packet_size: int = 64
    """wMaxPacketSize of both bulk endpoints (64 at full speed, 512 at high speed)."""
    out_endpoint: int = 0x01
    in_endpoint: int = 0x81

    def __post_init__(self) -> None:
        if self.out_endpoint & 0x80 or not self.in_endpoint & 0x80:
            raise ValueError(
                f"expected an OUT endpoint address below 0x80 and an IN one above, "
                f"got 0x{self.out_endpoint:02x} and 0x{self.in_endpoint:02x}"
            )
        if not 1 <= self.out_endpoint & 0x0F <= 15 or not 1 <= self.in_endpoint & 0x0F <= 15:
            raise ValueError("bulk endpoints are numbered 1..15 (0 is the control endpoint)")

    def device_descriptor(self) -> DeviceDescriptor:
        return DeviceDescriptor(
            idVendor=self.vendor_id,
            idProduct=self.product_id,
            bcdDevice=self.bcd_device,
            bcdUSB=0x0200,
            bMaxPacketSize0=64,
            iManufacturer=STRING_MANUFACTURER,
            iProduct=STRING_PRODUCT,
            iSerialNumber=STRING_SERIAL,
            bNumConfigurations=1,
        )

    def configuration(self) -> ConfigurationDescriptor:
        def bulk(address: int) -> EndpointDescriptor:
            return EndpointDescriptor(
                bEndpointAddress=address, bmAttributes=TransferType.BULK, wMaxPacketSize=self.max_packet_size
            )

        interface = InterfaceDescriptor(
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bInterfaceClass=VENDOR_CLASS,
            endpoints=(bulk(self.in_endpoint), bulk(self.out_endpoint)),
        )
        return ConfigurationDescriptor(
            bConfigurationValue=CONFIGURATION_VALUE, bmAttributes=0x80, bMaxPower=50, interfaces=(interface,)
        )

    def strings(self) -> dict[int, str]:
        return {
            STRING_MANUFACTURER: self.manufacturer,
            STRING_PRODUCT: self.product,
            STRING_SERIAL: self.serial_number,
        }


@dataclasses.dataclass
class _Export:
    device: VirtualUsbDevice
    busid: str
    busnum: int
    devnum: int
    session: _Session | None = None

    def info(self, configuration: int) -> DeviceInfo:
        descriptor = self.device.device_descriptor()
        return DeviceInfo(
            path=f"/sys/devices/platform/hallgw-usbip/usb{self.busnum}/{self.busid}",
            busid=self.busid,
            busnum=self.busnum,
            devnum=self.devnum,
            speed=self.device.speed,
            idVendor=descriptor.idVendor,
            idProduct=descriptor.idProduct,
            bcdDevice=descriptor.bcdDevice,
            bDeviceClass=descriptor.bDeviceClass,
            bDeviceSubClass=descriptor.bDeviceSubClass,
            bDeviceProtocol=descriptor.bDeviceProtocol,
            bConfigurationValue=configuration,
            bNumConfigurations=1,
            bNumInterfaces=1,
        )


_STALL: Final = -errno.EPIPE


class _Session:
    """One imported device on one connection: the URB phase."""

    def __init__(self, export: _Export, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.export = export
        self.device = export.device
        self.reader = reader
        self.writer = writer
        self.configuration = 0
        self.halted: set[int] = set()
        self.pending: dict[int, asyncio.Task[None]] = {}
        self._descriptor = self.device.device_descriptor().encode()
        self._config = self.device.configuration().encode()
        self._strings = {i: encode_string_descriptor(s) for i, s in self.device.strings().items()}
        self._endpoints = {self.device.in_endpoint, self.device.out_endpoint}
        self.closed = False

    async def run(self, initial: bytes) -> None:
        parser = UrbParser(Role.DEVICE)
        self.device.behaviour.reset()
        devid = devid_of(self.export.busnum, self.export.devnum)
        data = initial
        try:
            while True:
                parser.receive_data(data)
                while isinstance(message := parser.next_event(), CmdSubmit | CmdUnlink):
                    if message.devid != devid:
                        return  # the Linux server drops a connection that names another device
                    if isinstance(message, CmdSubmit):
                        self._submit(message)
                    else:
                        self._unlink(message)
                await self.writer.drain()
                data = await self.reader.read(READ_SIZE)
                if not data:
                    return
        except (RemoteProtocolError, ConnectionError):
            return
        finally:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for task in self.pending.values():
            task.cancel()
        self.pending.clear()
        self.writer.close()
        if self.export.session is self:
            self.export.session = None

    def _send(self, message: RetSubmit | RetUnlink) -> None:
        if not self.closed:
            self.writer.write(message.encode())

    # -- URBs ---------------------------------------------------------------------------------
    def _submit(self, cmd: CmdSubmit) -> None:
        if cmd.ep == 0:
            status, data = self._control(SetupPacket.parse(cmd.setup), cmd)
            actual = len(data) if cmd.direction == Direction.IN else (cmd.transfer_buffer_length if status == 0 else 0)
            self._send(RetSubmit(seqnum=cmd.seqnum, status=status, actual_length=actual, data=data))
            return
        address = cmd.endpoint_address
        if address not in self._endpoints or self.configuration == 0 or address in self.halted:
            self._send(RetSubmit(seqnum=cmd.seqnum, status=_STALL))
            return
        if cmd.direction == Direction.OUT:
            try:
                self.device.behaviour.bulk_out(cmd.data)
            except EndpointStall:
                self.halted.add(address)
                self._send(RetSubmit(seqnum=cmd.seqnum, status=_STALL))
                return
            self._send(RetSubmit(seqnum=cmd.seqnum, actual_length=len(cmd.data)))
            return
        if cmd.seqnum in self.pending:
            raise RemoteProtocolError(f"seqnum {cmd.seqnum} is already pending: expected a new one")
        self.pending[cmd.seqnum] = asyncio.get_running_loop().create_task(self._complete_in(cmd))

    async def _complete_in(self, cmd: CmdSubmit) -> None:
        # Everything after the await runs in one step: either the data is taken
        # and sent here, or the task was cancelled by an unlink and took nothing.
        try:
            if cmd.transfer_buffer_length == 0:
                data = b""
            else:
                data = (await self.device.behaviour.bulk_in(cmd.transfer_buffer_length))[: cmd.transfer_buffer_length]
        except EndpointStall:
            self.halted.add(cmd.endpoint_address)
            self._send(RetSubmit(seqnum=cmd.seqnum, status=_STALL))
        except Exception:  # a behaviour bug: fail this URB as a protocol error on the bus would
            self._send(RetSubmit(seqnum=cmd.seqnum, status=-errno.EPROTO))
            raise
        else:
            self._send(RetSubmit(seqnum=cmd.seqnum, actual_length=len(data), data=data))
        finally:
            self.pending.pop(cmd.seqnum, None)

    def _unlink(self, cmd: CmdUnlink) -> None:
        task = self.pending.pop(cmd.unlink_seqnum, None)
        if task is not None and not task.done():
            task.cancel()
            self._send(RetUnlink(seqnum=cmd.seqnum, status=-errno.ECONNRESET))
        else:
            self._send(RetUnlink(seqnum=cmd.seqnum, status=0))

    # -- control requests ---------------------------------------------------------------------
    def _control(self, setup: SetupPacket, cmd: CmdSubmit) -> tuple[int, bytes]:
        key = (setup.bmRequestType, setup.bRequest, setup.wValue)
        if key == HUB_PORT_RESET:
            self.halted.clear()
            self.device.behaviour.reset()
            return 0, b""
        answer = self._standard(setup) if setup.request_type is RequestType.STANDARD else None
        if answer is None:
            answer = self.device.behaviour.control(setup, cmd.data)
        if answer is None:
            return _STALL, b""
        return 0, answer[: setup.wLength] if setup.is_in else b""

    def _standard(self, setup: SetupPacket) -> bytes | None:  # noqa: PLR0911, PLR0912 - one case per request
        request, kind = setup.bRequest, setup.bmRequestType
        if kind == 0x80 and request == Request.GET_DESCRIPTOR:
            return self._descriptor_for(setup.wValue >> 8, setup.wValue & 0xFF)
        if kind == 0x00 and request == Request.SET_CONFIGURATION:
            if setup.wValue not in (0, CONFIGURATION_VALUE):
                return None
            self.configuration = setup.wValue
            self.halted.clear()
            return b""
        if kind == 0x80 and request == Request.GET_CONFIGURATION:
            return bytes([self.configuration])
        if kind == 0x00 and request == Request.SET_ADDRESS:
            return b""
        if kind == 0x01 and request == Request.SET_INTERFACE:
            if self.configuration == 0 or (setup.wIndex, setup.wValue) != (0, 0):
                return None
            self.halted.clear()
            return b""
        if kind == 0x81 and request == Request.GET_INTERFACE:
            return b"\x00" if self.configuration and setup.wIndex == 0 else None
        if request == Request.GET_STATUS and kind in (0x80, 0x81):
            return b"\x00\x00"
        if request == Request.GET_STATUS and kind == 0x82:
            if setup.wIndex not in self._endpoints and setup.wIndex & 0x7F != 0:
                return None
            return b"\x01\x00" if setup.wIndex in self.halted else b"\x00\x00"
        if kind == 0x02 and request in (Request.CLEAR_FEATURE, Request.SET_FEATURE) and setup.wValue == 0:
            if setup.wIndex & 0x7F == 0:
                return b""
            if setup.wIndex not in self._endpoints:
                return None
            if request == Request.CLEAR_FEATURE:
                self.halted.discard(setup.wIndex)
            else:
                self.halted.add(setup.wIndex)
            return b""
        return None

    def _descriptor_for(self, dtype: int, index: int) -> bytes | None:
        if dtype == DescriptorType.DEVICE:
            return self._descriptor
        if dtype == DescriptorType.CONFIGURATION:
            return self._config if index == 0 else None
        if dtype == DescriptorType.STRING:
            return encode_langid_descriptor() if index == 0 else self._strings.get(index)
        return None


class UsbIpServer:
    """The USB/IP server. See module docstring."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, busnum: int = 1) -> None:
        self.host = host
        self._requested_port = port
        self.busnum = busnum
        self._exports: dict[str, _Export] = {}
        self._next_devnum = 2
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self._requested_port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for export in self._exports.values():
            if export.session is not None:
                export.session.close()
        # Closing each socket ends its handler (its read sees EOF). Cancelling a
        # handler instead makes asyncio's stream callback log the cancellation.
        for writer in list(self._connections.values()):
            writer.close()
        if self._connections:
            _, stuck = await asyncio.wait(list(self._connections), timeout=2.0)
            for task in stuck:
                task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> UsbIpServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- plugging -----------------------------------------------------------------------------
    def plug(self, device: VirtualUsbDevice, *, busid: str | None = None) -> str:
        """Export ``device``; returns its busid (the lowest free ``<busnum>-<port>`` unless given)."""
        if busid is None:
            port = 1
            while f"{self.busnum}-{port}" in self._exports:
                port += 1
            busid = f"{self.busnum}-{port}"
        elif busid in self._exports:
            raise ValueError(f"busid {busid!r} is already exported: expected a free one")
        if not 0 < len(busid.encode()) < 32:
            raise ValueError(f"expected a busid of 1..31 bytes, got {len(busid.encode())}")
        devnum = self._next_devnum
        self._next_devnum = self._next_devnum % 255 + 1
        self._exports[busid] = _Export(device=device, busid=busid, busnum=self.busnum, devnum=devnum)
        return busid

    def unplug(self, busid: str) -> VirtualUsbDevice:
        """Take the device off the list and close its importer's connection."""
        export = self._exports.pop(busid, None)
        if export is None:
            raise KeyError(f"no device is exported at busid {busid!r}")
        if export.session is not None:
            export.session.close()
        return export.device

    def exported(self) -> dict[str, VirtualUsbDevice]:
        return {busid: e.device for busid, e in self._exports.items()}

    def is_attached(self, busid: str) -> bool:
        export = self._exports.get(busid)
        return export is not None and export.session is not None

    # -- connections --------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections[task] = writer
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await self._operation(reader, writer)
        except (ConnectionError, RemoteProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            if task is not None:
                self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _operation(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = OperationParser(Role.DEVICE)
        while True:
            request = parser.next_event()
            if isinstance(request, OpReqDevlist | OpReqImport):
                break
            data = await reader.read(READ_SIZE)
            if not data:
                return
            parser.receive_data(data)
        if isinstance(request, OpReqDevlist):
            writer.write(self._devlist().encode())
            await writer.drain()
            return
        export = self._exports.get(request.busid)
        if export is None:
            writer.write(OpRepImport(status=OpStatus.NODEV).encode())
        elif export.session is not None:
            writer.write(OpRepImport(status=OpStatus.DEV_BUSY).encode())
        else:
            session = _Session(export, reader, writer)
            export.session = session
            writer.write(OpRepImport(status=OpStatus.OK, device=export.info(session.configuration)).encode())
            await session.run(parser.remainder())
            return
        await writer.drain()

    def _devlist(self) -> OpRepDevlist:
        return OpRepDevlist(
            devices=tuple(
                DevlistEntry(device=e.info(0), interfaces=(InterfaceInfo(VENDOR_CLASS),))
                for e in self._exports.values()
                if e.session is None
            )
        )
