"""USB devices as byte streams: a bulk OUT / bulk IN pair through pyusb, on the local bus or over USB/IP.

Theory of operation
-------------------
``usb://VID:PID?serial=S`` finds the device on this machine's bus (pyusb's
libusb backend); ``usbip://HOST:PORT[/BUSID][?vid=&pid=&serial=]`` finds it on
a USB/IP server (:mod:`.usbip_backend`, a pyusb backend of our own), so the
same pyusb code drives a scanner on the gateway and one exported by a
window's thin client. Either way the device is found by VID:PID and serial
number, never by bus address, so a replugged device is found again wherever
it lands.

:class:`UsbLink` offers what :class:`~hallgw_daemon.transports.link.Link`
offers (``read``, ``write``, ``close``), so a driver written for a serial
module runs unchanged over USB: the device's packets travel over its first
bulk OUT and bulk IN endpoints as they are. (The AS608's own USB framing is
not public; a vendor framing would be a wrapper here, not a driver change.)

pyusb blocks, so a reader thread and a writer thread do the transfers. A bulk
read waits in slices of :data:`READ_SLICE_MS`, so closing the link ends it
promptly. ``ENODEV`` (unplugged), a lost USB/IP connection or any other
transfer error closes the link (:class:`LinkClosedError`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from typing import Any, Final

import usb.backend.libusb1
import usb.core
import usb.util

from hallgw_daemon.transports.link import LinkClosedError, LinkOpenError, LinkUrl
from hallgw_daemon.transports.usbip_backend import UsbIpBackend, UsbUrl, find_device, parse_usb_url

READ_SIZE: Final = 4096
READ_SLICE_MS: Final = 200
WRITE_TIMEOUT_MS: Final = 2000


def _describe(url: UsbUrl) -> str:
    parts = []
    if url.vendor_id is not None and url.product_id is not None:
        parts.append(f"{url.vendor_id:04x}:{url.product_id:04x}")
    if url.serial:
        parts.append(f"serial {url.serial}")
    if url.busid:
        parts.append(f"busid {url.busid}")
    where = f" on {url.host}:{url.port}" if url.scheme == "usbip" else " on the local bus"
    return (" ".join(parts) or "any device") + where


class UsbLink:
    """A USB device's bulk pair as a byte stream (see the module docstring)."""

    def __init__(self, url: LinkUrl, device: Any, backend: Any, ep_out: Any, ep_in: Any) -> None:
        self.url = url
        self.device = device
        self._backend = backend
        self._out = ep_out
        self._in = ep_in
        self._reader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="usb-read")
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="usb-write")
        self._closing = threading.Event()
        self._lost: str | None = None

    def _fail(self, err: Exception) -> LinkClosedError:
        self._lost = self._lost or str(err)
        return LinkClosedError(f"{self.url.display()}: {err}")

    def _read_blocking(self) -> bytes:
        while not self._closing.is_set():
            try:
                data = self._in.read(READ_SIZE, timeout=READ_SLICE_MS)
            except usb.core.USBTimeoutError:
                continue
            except (usb.core.USBError, OSError, ValueError) as err:
                raise self._fail(err) from err
            if len(data):
                return bytes(data)
        raise LinkClosedError(f"{self.url.display()}: closed")

    async def read(self) -> bytes:
        """Some bytes (at least one); LinkClosedError when the device is gone."""
        if self._lost is not None:
            raise LinkClosedError(f"{self.url.display()}: {self._lost}")
        return await asyncio.get_running_loop().run_in_executor(self._reader, self._read_blocking)

    def _write_blocking(self, data: bytes) -> None:
        try:
            written = self._out.write(data, timeout=WRITE_TIMEOUT_MS)
        except (usb.core.USBError, OSError, ValueError) as err:
            raise self._fail(err) from err
        if written != len(data):
            raise self._fail(OSError(f"short write: {written} of {len(data)} bytes"))

    async def write(self, data: bytes) -> None:
        """Write all of ``data``; LinkClosedError when the device is gone."""
        if self._closing.is_set() or self._lost is not None:
            raise LinkClosedError(f"{self.url.display()}: {self._lost or 'closed'}")
        await asyncio.get_running_loop().run_in_executor(self._writer, self._write_blocking, data)

    def _release(self) -> None:
        self._reader.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        with contextlib.suppress(Exception):
            usb.util.dispose_resources(self.device)
        if isinstance(self._backend, UsbIpBackend):
            with contextlib.suppress(Exception):
                self._backend.close()

    async def close(self) -> None:
        if self._closing.is_set():
            return
        self._closing.set()
        await asyncio.get_running_loop().run_in_executor(None, self._release)

    def __repr__(self) -> str:
        return f"UsbLink({self.url.display()!r})"


def _bulk_pair(device: Any) -> tuple[Any, Any]:
    config = device.get_active_configuration()
    interface = config[(0, 0)]

    def bulk(direction: int) -> Any:
        return usb.util.find_descriptor(
            interface,
            custom_match=lambda ep: (
                usb.util.endpoint_direction(ep.bEndpointAddress) == direction
                and usb.util.endpoint_type(ep.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK
            ),
        )

    ep_out, ep_in = bulk(usb.util.ENDPOINT_OUT), bulk(usb.util.ENDPOINT_IN)
    if ep_out is None or ep_in is None:
        raise LinkOpenError("the device has no bulk OUT and bulk IN endpoint pair on interface 0")
    usb.util.claim_interface(device, interface.bInterfaceNumber)
    return ep_out, ep_in


def _open(url: LinkUrl) -> UsbLink:
    parsed = parse_usb_url(url.path)
    backend: Any
    if parsed.scheme == "usbip":
        backend = UsbIpBackend.from_url(parsed)
    else:
        backend = usb.backend.libusb1.get_backend()
        if backend is None:
            raise LinkOpenError(f"{url.display()}: libusb is not available (install libusb-1.0-0)")
    try:
        device = find_device(backend, vendor_id=parsed.vendor_id, product_id=parsed.product_id, serial=parsed.serial)
        if device is None:
            raise LinkOpenError(f"{url.display()}: no USB device {_describe(parsed)}")
        try:
            device.get_active_configuration()
        except usb.core.USBError:
            device.set_configuration()
        ep_out, ep_in = _bulk_pair(device)
    except usb.core.USBError as err:
        if isinstance(backend, UsbIpBackend):
            backend.close()
        raise LinkOpenError(f"{url.display()}: {err}") from err
    except LinkOpenError:
        if isinstance(backend, UsbIpBackend):
            backend.close()
        raise
    return UsbLink(url, device, backend, ep_out, ep_in)


async def open_usb(url: LinkUrl, *, timeout: float = 2.0) -> UsbLink:
    """Open the USB device ``url`` names; LinkOpenError when it is not there."""
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.to_thread(_open, url)
    except TimeoutError as err:
        raise LinkOpenError(f"{url.display()}: no answer within {timeout} s") from err
