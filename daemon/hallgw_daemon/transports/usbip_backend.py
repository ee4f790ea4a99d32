"""A pyusb backend that reaches USB devices over USB/IP (reference/usbip.md section 8).

With ``usb.core.find(idVendor=..., idProduct=..., backend=UsbIpBackend(host, port))``
the daemon's pyusb code drives a device exported by a Linux machine's
``usbipd`` (after ``usbip bind -b BUSID`` there) or by the simulators'
USB/IP server, exactly as it drives one on the local bus.

Theory of operation:

* **Enumeration imports.** pyusb reads every descriptor from the backend,
  and OP_REP_DEVLIST carries only VID, PID and classes, so
  :meth:`UsbIpBackend.enumerate_devices` imports each listed device
  (OP_REQ_IMPORT) and reads its device and configuration descriptors over
  endpoint 0 before yielding it. The import holds the device exclusively, as
  on a Linux server, for as long as the yielded object lives: a device that
  ``find`` passes over is garbage at once, and its connection closes with it.
  Devices this backend has already imported are yielded again, not imported
  twice. Devices that refuse the import (busy) are skipped.
* **One connection per imported device**, blocking sockets, as pyusb is
  blocking (the daemon calls it from threads). A reader thread per
  connection parses the replies with the codec in role HOST and completes
  the waiter of each seqnum, so calls from several threads may be in flight
  at once (a bulk read pending while a write goes out).
* **Timeouts.** A transfer that does not complete in time is unlinked
  (CMD_UNLINK) and raises ``USBTimeoutError`` (errno ETIMEDOUT). If the
  completion won the race with the unlink, its data is returned instead, as
  libusb does. A timeout of 0 waits for ever.
* **Errors** follow libusb's mapping of the kernel status (section 4.2):
  -EPIPE is a stall (``USBError`` errno EPIPE), -ENODEV/-ESHUTDOWN a lost
  device. A closed or reset connection, or a reply that breaks the protocol,
  fails the pending call and every later one with ``USBError`` errno ENODEV,
  which is what an unplug looks like on the local bus.
* **Descriptor indexes** out of range raise ``IndexError``, always:
  pyusb walks alternate settings until it gets one, and loops for ever
  otherwise (stack notes item 4).

Not implemented: isochronous transfers (pyusb's NotImplementedError), and
kernel drivers (there are none on this side: never active, detach is a no-op).
"""

from __future__ import annotations

import array
import concurrent.futures
import contextlib
import dataclasses
import errno
import itertools
import socket
import threading
import urllib.parse
import weakref
from collections.abc import Iterator, Sequence
from typing import Any, Final, TypeVar

import usb.backend
import usb.core

from hallgw_protocols import NeedData, RemoteProtocolError, Role
from hallgw_protocols.usbip import (
    DEFAULT_PORT,
    CmdSubmit,
    CmdUnlink,
    ConfigurationDescriptor,
    DeviceDescriptor,
    DeviceInfo,
    Direction,
    EndpointDescriptor,
    InterfaceDescriptor,
    OperationParser,
    OpMessage,
    OpRepDevlist,
    OpRepImport,
    OpReqDevlist,
    OpReqImport,
    OpStatus,
    RetSubmit,
    RetUnlink,
    SetupPacket,
    Speed,
    TransferFlags,
    TransferType,
    UrbParser,
    configuration_total_length,
    parse_configuration,
)

READ_SIZE: Final = 1 << 16
DESCRIPTOR_TIMEOUT_MS: Final = 2000

# libusb error codes and texts, as pyusb's libusb1 backend reports them.
LIBUSB_ERROR_IO: Final = -1
LIBUSB_ERROR_NO_DEVICE: Final = -4
LIBUSB_ERROR_BUSY: Final = -6
LIBUSB_ERROR_TIMEOUT: Final = -7
LIBUSB_ERROR_OVERFLOW: Final = -8
LIBUSB_ERROR_PIPE: Final = -9
NO_DEVICE_TEXT: Final = "No such device (it may have been disconnected)"

_LINUX_TO_LIBUSB_SPEED: Final[dict[int, int]] = {
    Speed.UNKNOWN: 0,
    Speed.LOW: 1,
    Speed.FULL: 2,
    Speed.HIGH: 3,
    Speed.SUPER: 4,
    Speed.SUPER_PLUS: 5,
}


def no_device_error() -> usb.core.USBError:
    return usb.core.USBError(NO_DEVICE_TEXT, LIBUSB_ERROR_NO_DEVICE, errno.ENODEV)


def timeout_error() -> usb.core.USBTimeoutError:
    return usb.core.USBTimeoutError("Operation timed out", LIBUSB_ERROR_TIMEOUT, errno.ETIMEDOUT)


def status_error(status: int) -> usb.core.USBError | None:
    """The pyusb error for a RET_SUBMIT status (a negative Linux errno), or None for success."""
    if status in (0, -errno.EREMOTEIO):  # a short read is a success with a short count
        return None
    if status == -errno.EPIPE:
        return usb.core.USBError("Pipe error", LIBUSB_ERROR_PIPE, errno.EPIPE)
    if status in (-errno.ENODEV, -errno.ESHUTDOWN):
        return no_device_error()
    if status == -errno.EOVERFLOW:
        return usb.core.USBError("Overflow", LIBUSB_ERROR_OVERFLOW, errno.EOVERFLOW)
    if status == -errno.ETIMEDOUT:
        return timeout_error()
    return usb.core.USBError("Input/output error", LIBUSB_ERROR_IO, errno.EIO)


# -- URLs -----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class UsbUrl:
    """Where a USB device is: on a USB/IP server (``usbip``) or on the local bus (``usb``)."""

    scheme: str
    host: str | None = None
    port: int = DEFAULT_PORT
    busid: str | None = None
    vendor_id: int | None = None
    product_id: int | None = None
    serial: str | None = None


def _hex16(text: str, what: str, url: str) -> int:
    if len(text) != 4 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise ValueError(f"{url!r}: expected {what} as 4 hex digits, got {text!r}")
    return int(text, 16)


def _query(url: str, query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    out: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            raise ValueError(f"{url!r}: expected query keys among {', '.join(allowed)}, got {key!r}")
        if key in out:
            raise ValueError(f"{url!r}: query key {key!r} given twice")
        out[key] = value
    return out


def parse_usb_url(url: str) -> UsbUrl:
    """Parse ``usbip://HOST[:PORT][/BUSID][?vid=VVVV&pid=PPPP&serial=S]`` or ``usb://VVVV:PPPP[?serial=S]``.

    Without a busid a ``usbip`` URL names the server only: the device is then
    found by VID:PID (and serial). The default port is 3240.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as err:
        raise ValueError(f"{url!r}: {err}") from None
    if parts.fragment:
        raise ValueError(f"{url!r}: expected no fragment")
    if parts.scheme == "usbip":
        return _parse_usbip(url, parts)
    if parts.scheme == "usb":
        return _parse_usb(url, parts)
    raise ValueError(f"{url!r}: expected a usbip://HOST:PORT/BUSID or usb://VID:PID URL")


def _parse_usbip(url: str, parts: urllib.parse.SplitResult) -> UsbUrl:
    if not parts.hostname:
        raise ValueError(f"{url!r}: expected usbip://HOST[:PORT][/BUSID]")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ValueError(f"{url!r}: expected a port number 1..65535") from None
    busid = parts.path.strip("/") or None
    if busid is not None and (
        "/" in busid or len(busid.encode()) > 31 or any(not (c.isalnum() or c in "-.:") for c in busid)
    ):
        raise ValueError(f"{url!r}: expected a busid such as 1-1 or 3-2.4, got {busid!r}")
    query = _query(url, parts.query, ("vid", "pid", "serial"))
    vid = _hex16(query["vid"], "vid", url) if "vid" in query else None
    pid = _hex16(query["pid"], "pid", url) if "pid" in query else None
    if (vid is None) != (pid is None):
        raise ValueError(f"{url!r}: expected both vid and pid, or neither")
    return UsbUrl(
        scheme="usbip",
        host=parts.hostname,
        port=port,
        busid=busid,
        vendor_id=vid,
        product_id=pid,
        serial=query.get("serial") or None,
    )


def _parse_usb(url: str, parts: urllib.parse.SplitResult) -> UsbUrl:
    if parts.path not in ("", "/"):
        raise ValueError(f"{url!r}: expected usb://VID:PID with nothing after it but ?serial=")
    vid_text, sep, pid_text = parts.netloc.partition(":")
    if not sep:
        raise ValueError(f"{url!r}: expected usb://VID:PID, e.g. usb://2109:7638")
    query = _query(url, parts.query, ("serial",))
    return UsbUrl(
        scheme="usb",
        vendor_id=_hex16(vid_text, "VID", url),
        product_id=_hex16(pid_text, "PID", url),
        serial=query.get("serial") or None,
    )


# -- one imported device's connection ------------------------------------------------------------


class _Connection:
    """The URB phase of one import: a socket, a reader thread and a waiter per seqnum."""

    def __init__(self, sock: socket.socket, devid: int, busid: str, initial: bytes, unlink_timeout: float) -> None:
        self.sock = sock
        self.devid = devid
        self.unlink_timeout = unlink_timeout
        self._parser = UrbParser(Role.HOST)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._waiters: dict[int, concurrent.futures.Future[RetSubmit | RetUnlink]] = {}
        self._seqnums = itertools.count(1)
        self.dead = False
        sock.settimeout(None)
        self._parser.receive_data(initial)
        self._thread = threading.Thread(target=self._read_loop, name=f"usbip-{busid}", daemon=True)
        self._thread.start()

    # Reader thread.
    def _read_loop(self) -> None:
        try:
            while True:
                with self._lock:
                    while isinstance(event := self._parser.next_event(), RetSubmit | RetUnlink):
                        waiter = self._waiters.pop(event.seqnum, None)
                        if waiter is not None:
                            waiter.set_result(event)
                data = self.sock.recv(READ_SIZE)
                if not data:
                    return
                with self._lock:
                    self._parser.receive_data(data)
        except (OSError, RemoteProtocolError):
            return
        finally:
            self._fail()

    def _fail(self) -> None:
        with self._lock:
            self.dead = True
            waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_exception(no_device_error())
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2.0)

    # Caller threads.
    def _send(self, message: CmdSubmit | CmdUnlink) -> concurrent.futures.Future[RetSubmit | RetUnlink]:
        waiter: concurrent.futures.Future[RetSubmit | RetUnlink] = concurrent.futures.Future()
        with self._lock:
            if self.dead:
                raise no_device_error()
            self._waiters[message.seqnum] = waiter
            self._parser.sent(message)
        try:
            with self._send_lock:
                self.sock.sendall(message.encode())
        except OSError:
            raise no_device_error() from None
        return waiter

    def _next_seqnum(self) -> int:
        with self._lock:
            return next(self._seqnums)

    def submit(
        self,
        *,
        direction: Direction,
        ep: int,
        length: int,
        timeout_ms: int,
        data: bytes = b"",
        setup: bytes = bytes(8),
        interval: int = 0,
    ) -> RetSubmit:
        """Send one URB and wait for its completion; raises the pyusb error of its status."""
        cmd = CmdSubmit(
            seqnum=self._next_seqnum(),
            devid=self.devid,
            direction=direction,
            ep=ep,
            transfer_buffer_length=length,
            transfer_flags=TransferFlags.DIR_IN if direction == Direction.IN else 0,
            interval=interval,
            setup=setup,
            data=data,
        )
        waiter = self._send(cmd)
        try:
            reply = waiter.result(timeout_ms / 1000 if timeout_ms > 0 else None)
        except concurrent.futures.TimeoutError:
            reply = self._unlink(cmd.seqnum, waiter)
        if not isinstance(reply, RetSubmit):  # a submit's waiter only ever gets its RET_SUBMIT
            raise usb.core.USBError("expected RET_SUBMIT", LIBUSB_ERROR_IO, errno.EIO)
        error = status_error(reply.status)
        if error is not None:
            raise error
        return reply

    def _unlink(self, seqnum: int, waiter: concurrent.futures.Future[RetSubmit | RetUnlink]) -> RetSubmit | RetUnlink:
        unlink = CmdUnlink(seqnum=self._next_seqnum(), devid=self.devid, unlink_seqnum=seqnum)
        unlink_waiter = self._send(unlink)
        concurrent.futures.wait([waiter, unlink_waiter], self.unlink_timeout, concurrent.futures.FIRST_COMPLETED)
        # Replies are dispatched in order, so a RET_SUBMIT that beat the RET_UNLINK is already there.
        with self._lock:
            self._waiters.pop(seqnum, None)
            self._waiters.pop(unlink.seqnum, None)
        if waiter.done() and waiter.exception() is None:
            return waiter.result()
        if self.dead:
            raise no_device_error()
        raise timeout_error()


# -- what pyusb sees --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class UsbIpDeviceDescriptor:
    """The device descriptor with the bus position pyusb also reads."""

    bLength: int
    bDescriptorType: int
    bcdUSB: int
    bDeviceClass: int
    bDeviceSubClass: int
    bDeviceProtocol: int
    bMaxPacketSize0: int
    idVendor: int
    idProduct: int
    bcdDevice: int
    iManufacturer: int
    iProduct: int
    iSerialNumber: int
    bNumConfigurations: int
    bus: int
    address: int
    speed: int | None
    port_number: int | None = None
    port_numbers: tuple[int, ...] | None = None


class UsbIpDevice:
    """An imported device: pyusb's opaque ``dev``. Its connection closes when it is garbage."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        info: DeviceInfo,
        connection: _Connection,
        descriptor: DeviceDescriptor,
        configurations: tuple[ConfigurationDescriptor, ...],
    ) -> None:
        self.host = host
        self.port = port
        self.info = info
        self.busid = info.busid
        self.connection = connection
        self.descriptor = descriptor
        self.configurations = configurations
        self.pyusb_descriptor = UsbIpDeviceDescriptor(
            bLength=descriptor.bLength,
            bDescriptorType=descriptor.bDescriptorType,
            bcdUSB=descriptor.bcdUSB,
            bDeviceClass=descriptor.bDeviceClass,
            bDeviceSubClass=descriptor.bDeviceSubClass,
            bDeviceProtocol=descriptor.bDeviceProtocol,
            bMaxPacketSize0=descriptor.bMaxPacketSize0,
            idVendor=descriptor.idVendor,
            idProduct=descriptor.idProduct,
            bcdDevice=descriptor.bcdDevice,
            iManufacturer=descriptor.iManufacturer,
            iProduct=descriptor.iProduct,
            iSerialNumber=descriptor.iSerialNumber,
            bNumConfigurations=len(configurations),
            bus=info.busnum,
            address=info.devnum,
            speed=_LINUX_TO_LIBUSB_SPEED.get(info.speed),
        )
        self._finalizer = weakref.finalize(self, connection.close)

    @property
    def alive(self) -> bool:
        return not self.connection.dead

    def release(self) -> None:
        """Close the import now: the server frees the device for another client."""
        self._finalizer()

    def __repr__(self) -> str:
        ids = f"{self.descriptor.idVendor:04x}:{self.descriptor.idProduct:04x}"
        return f"<UsbIpDevice {self.host}:{self.port}/{self.busid} {ids}>"


@dataclasses.dataclass(eq=False)
class UsbIpHandle:
    """pyusb's ``dev_handle``: the device plus what this side remembers of its state."""

    device: UsbIpDevice
    configuration: int | None = None
    claimed: set[int] = dataclasses.field(default_factory=set)


_T = TypeVar("_T")


def _pick(items: Sequence[_T], index: int, what: str) -> _T:
    if not 0 <= index < len(items):
        raise IndexError(f"{what} index {index} is out of range (0..{len(items) - 1})")
    return items[index]


class UsbIpBackend(usb.backend.IBackend):  # type: ignore[misc]  # pyusb has no type hints
    """The pyusb backend. See module docstring.

    ``busid`` limits the backend to one exported device; without it every
    device the server lists is a candidate for ``usb.core.find``.
    """

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        busid: str | None = None,
        connect_timeout: float = 3.0,
        unlink_timeout: float = 1.0,
    ) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.busid = busid
        self.connect_timeout = connect_timeout
        self.unlink_timeout = unlink_timeout
        self._lock = threading.Lock()
        self._imported: weakref.WeakValueDictionary[str, UsbIpDevice] = weakref.WeakValueDictionary()

    @classmethod
    def from_url(cls, url: str | UsbUrl, **kwargs: float) -> UsbIpBackend:
        """The backend for a ``usbip://`` URL (VID, PID and serial are for ``find`` to match)."""
        parsed = parse_usb_url(url) if isinstance(url, str) else url
        if parsed.scheme != "usbip" or parsed.host is None:
            raise ValueError(f"expected a usbip:// URL, got scheme {parsed.scheme!r}")
        return cls(parsed.host, parsed.port, busid=parsed.busid, **kwargs)

    def close(self) -> None:
        """Release every device this backend imported."""
        for device in list(self._imported.values()):
            device.release()

    # -- operation phase --------------------------------------------------------------------------
    def _operation(self, request: OpReqDevlist | OpReqImport) -> tuple[OpMessage, socket.socket, bytes]:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError:
            raise no_device_error() from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            sock.sendall(request.encode())
            parser = OperationParser(Role.HOST)
            while isinstance(reply := parser.next_event(), NeedData):
                data = sock.recv(READ_SIZE)
                if not data:
                    raise no_device_error()
                parser.receive_data(data)
        except (OSError, RemoteProtocolError):
            sock.close()
            raise no_device_error() from None
        except usb.core.USBError:
            sock.close()
            raise
        return reply, sock, parser.remainder()

    def devlist(self) -> list[DeviceInfo]:
        """The devices the server lists (OP_REQ_DEVLIST), unimported."""
        reply, sock, _ = self._operation(OpReqDevlist())
        sock.close()
        if not isinstance(reply, OpRepDevlist):
            raise usb.core.USBError("expected OP_REP_DEVLIST", LIBUSB_ERROR_IO, errno.EIO)
        return [entry.device for entry in reply.devices]

    def import_device(self, busid: str) -> UsbIpDevice:
        """Import the device at ``busid`` and read its descriptors."""
        reply, sock, rest = self._operation(OpReqImport(busid))
        if not isinstance(reply, OpRepImport) or reply.device is None:
            sock.close()
            status = reply.status if isinstance(reply, OpRepImport) else OpStatus.ERROR
            if status == OpStatus.DEV_BUSY:
                raise usb.core.USBError("Resource busy", LIBUSB_ERROR_BUSY, errno.EBUSY)
            if status == OpStatus.NODEV:
                raise no_device_error()
            raise usb.core.USBError(f"import refused with status {status}", LIBUSB_ERROR_IO, errno.EIO)
        if reply.device.busid != busid:
            sock.close()
            raise usb.core.USBError(
                f"import of {busid!r} answered for {reply.device.busid!r}", LIBUSB_ERROR_IO, errno.EIO
            )
        connection = _Connection(sock, reply.device.devid, busid, rest, self.unlink_timeout)
        try:
            descriptor, configurations = self._read_descriptors(connection)
        except usb.core.USBError:
            connection.close()
            raise
        device = UsbIpDevice(
            host=self.host,
            port=self.port,
            info=reply.device,
            connection=connection,
            descriptor=descriptor,
            configurations=configurations,
        )
        with self._lock:
            self._imported[busid] = device
        return device

    @staticmethod
    def _read_descriptors(
        connection: _Connection,
    ) -> tuple[DeviceDescriptor, tuple[ConfigurationDescriptor, ...]]:
        def get(dtype: int, index: int, length: int) -> bytes:
            setup = SetupPacket(0x80, 0x06, (dtype << 8) | index, 0, length)
            reply = connection.submit(
                direction=Direction.IN, ep=0, length=length, timeout_ms=DESCRIPTOR_TIMEOUT_MS, setup=setup.encode()
            )
            return reply.data

        try:
            descriptor = DeviceDescriptor.parse(get(1, 0, 18))
            configurations = []
            for index in range(descriptor.bNumConfigurations):
                total = configuration_total_length(get(2, index, 9))
                configurations.append(parse_configuration(get(2, index, total)))
        except RemoteProtocolError as err:
            raise usb.core.USBError(f"bad descriptor: {err}", LIBUSB_ERROR_IO, errno.EIO) from None
        return descriptor, tuple(configurations)

    # -- IBackend: devices and descriptors ----------------------------------------------------------
    def enumerate_devices(self) -> Iterator[UsbIpDevice]:
        with self._lock:
            own = [d for d in self._imported.values() if d.alive and self.busid in (None, d.busid)]
        yield from own
        seen = {d.busid for d in own}
        try:
            listed = self.devlist()
        except usb.core.USBError:
            return  # the server is unreachable: no devices, as an empty bus
        for info in listed:
            if info.busid in seen or self.busid not in (None, info.busid):
                continue
            try:
                device = self.import_device(info.busid)
            except usb.core.USBError:
                continue  # taken by another client meanwhile, or gone
            yield device

    def get_parent(self, dev: UsbIpDevice) -> None:
        return None

    def get_device_descriptor(self, dev: UsbIpDevice) -> UsbIpDeviceDescriptor:
        return dev.pyusb_descriptor

    def get_configuration_descriptor(self, dev: UsbIpDevice, config: int) -> ConfigurationDescriptor:
        return _pick(dev.configurations, config, "configuration")

    def _interfaces(self, dev: UsbIpDevice, intf: int, config: int) -> tuple[InterfaceDescriptor, ...]:
        configuration = _pick(dev.configurations, config, "configuration")
        number = _pick(configuration.interface_numbers(), intf, "interface")
        return configuration.alternates(number)

    def get_interface_descriptor(self, dev: UsbIpDevice, intf: int, alt: int, config: int) -> InterfaceDescriptor:
        return _pick(self._interfaces(dev, intf, config), alt, "alternate setting")

    def get_endpoint_descriptor(
        self, dev: UsbIpDevice, ep: int, intf: int, alt: int, config: int
    ) -> EndpointDescriptor:
        interface = _pick(self._interfaces(dev, intf, config), alt, "alternate setting")
        return _pick(interface.endpoints, ep, "endpoint")

    # -- IBackend: handles ------------------------------------------------------------------------
    def open_device(self, dev: UsbIpDevice) -> UsbIpHandle:
        if not dev.alive:
            raise no_device_error()
        return UsbIpHandle(device=dev)

    def close_device(self, dev_handle: UsbIpHandle) -> None:
        """Nothing on the wire: the import stays for the next open, until the device object goes."""
        dev_handle.claimed.clear()

    def _control(self, handle: UsbIpHandle, setup: SetupPacket, data: bytes = b"", timeout: int = 1000) -> RetSubmit:
        return handle.device.connection.submit(
            direction=Direction.IN if setup.is_in else Direction.OUT,
            ep=0,
            length=setup.wLength,
            timeout_ms=timeout,
            setup=setup.encode(),
            data=data,
        )

    def set_configuration(self, dev_handle: UsbIpHandle, config_value: int) -> None:
        self._control(dev_handle, SetupPacket(0x00, 0x09, config_value))
        dev_handle.configuration = config_value

    def get_configuration(self, dev_handle: UsbIpHandle) -> int:
        reply = self._control(dev_handle, SetupPacket(0x80, 0x08, 0, 0, 1))
        if len(reply.data) != 1:
            raise usb.core.USBError("GET_CONFIGURATION returned no byte", LIBUSB_ERROR_IO, errno.EIO)
        dev_handle.configuration = reply.data[0]
        return reply.data[0]

    def set_interface_altsetting(self, dev_handle: UsbIpHandle, intf: int, altsetting: int) -> None:
        self._control(dev_handle, SetupPacket(0x01, 0x0B, altsetting, intf))

    def claim_interface(self, dev_handle: UsbIpHandle, intf: int) -> None:
        if not dev_handle.device.alive:
            raise no_device_error()
        dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: UsbIpHandle, intf: int) -> None:
        dev_handle.claimed.discard(intf)

    def clear_halt(self, dev_handle: UsbIpHandle, ep: int) -> None:
        self._control(dev_handle, SetupPacket(0x02, 0x01, 0, ep))

    def reset_device(self, dev_handle: UsbIpHandle) -> None:
        """The hub-class port reset a Linux server intercepts, then the configuration again (as libusb does)."""
        self._control(dev_handle, SetupPacket(0x23, 0x03, 4, dev_handle.device.info.devnum & 0xFF))
        if dev_handle.configuration:
            self.set_configuration(dev_handle, dev_handle.configuration)

    def is_kernel_driver_active(self, dev_handle: UsbIpHandle, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: UsbIpHandle, intf: int) -> None:
        return None

    def attach_kernel_driver(self, dev_handle: UsbIpHandle, intf: int) -> None:
        return None

    # -- IBackend: transfers ----------------------------------------------------------------------
    def ctrl_transfer(  # noqa: PLR0917 - pyusb's signature
        self,
        dev_handle: UsbIpHandle,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        is_in = bool(bmRequestType & 0x80)
        setup = SetupPacket(bmRequestType, bRequest, wValue, wIndex, len(data))
        reply = self._control(dev_handle, setup, b"" if is_in else bytes(data), timeout)
        if is_in:
            data[: len(reply.data)] = array.array("B", reply.data)
            return len(reply.data)
        return reply.actual_length

    def _write(self, handle: UsbIpHandle, ep: int, data: array.array[int], timeout: int, interval: int = 0) -> int:
        payload = data.tobytes()
        reply = handle.device.connection.submit(
            direction=Direction.OUT,
            ep=ep & 0x0F,
            length=len(payload),
            timeout_ms=timeout,
            data=payload,
            interval=interval,
        )
        return reply.actual_length

    def _read(self, handle: UsbIpHandle, ep: int, buff: array.array[int], timeout: int, interval: int = 0) -> int:
        size = len(buff) * buff.itemsize
        reply = handle.device.connection.submit(
            direction=Direction.IN, ep=ep & 0x0F, length=size, timeout_ms=timeout, interval=interval
        )
        count = len(reply.data)
        if buff.itemsize == 1:
            buff[:count] = array.array(buff.typecode, reply.data)
        else:
            memoryview(buff).cast("B")[:count] = reply.data
        return count

    def bulk_write(self, dev_handle: UsbIpHandle, ep: int, intf: int, data: array.array[int], timeout: int) -> int:
        return self._write(dev_handle, ep, data, timeout)

    def bulk_read(self, dev_handle: UsbIpHandle, ep: int, intf: int, buff: array.array[int], timeout: int) -> int:
        return self._read(dev_handle, ep, buff, timeout)

    def _interval(self, handle: UsbIpHandle, ep: int) -> int:
        """Positive, as a Linux server refuses interrupt URBs without one (section 3.12)."""
        for configuration in handle.device.configurations:
            for interface in configuration.interfaces:
                for endpoint in interface.endpoints:
                    if endpoint.bEndpointAddress == ep and endpoint.transfer_type is TransferType.INTERRUPT:
                        speed = handle.device.info.speed
                        if speed >= Speed.HIGH:
                            return 1 << (min(max(endpoint.bInterval, 1), 16) - 1)
                        return max(endpoint.bInterval, 1)
        return 1

    def intr_write(self, dev_handle: UsbIpHandle, ep: int, intf: int, data: array.array[int], timeout: int) -> int:
        return self._write(dev_handle, ep, data, timeout, self._interval(dev_handle, ep))

    def intr_read(self, dev_handle: UsbIpHandle, ep: int, intf: int, buff: array.array[int], timeout: int) -> int:
        return self._read(dev_handle, ep, buff, timeout, self._interval(dev_handle, ep))


def find_device(
    backend: UsbIpBackend,
    *,
    vendor_id: int | None = None,
    product_id: int | None = None,
    serial: str | None = None,
) -> Any:
    """``usb.core.find`` on ``backend`` by VID:PID and, when given, serial number; None when absent."""
    criteria: dict[str, int] = {}
    if vendor_id is not None:
        criteria["idVendor"] = vendor_id
    if product_id is not None:
        criteria["idProduct"] = product_id

    def match(device: Any) -> bool:
        if serial is None:
            return True
        try:
            return bool(device.serial_number == serial)
        except (usb.core.USBError, ValueError):
            return False

    return usb.core.find(backend=backend, custom_match=match, **criteria)
