"""Transports to devices, opened from a URL.

Byte streams: ``serial:///dev/ttyUSB0?baud=115200`` or ``tcp://127.0.0.1:7001``
(a simulator or a serial-over-IP converter) open a :class:`Link`;
``usb://VID:PID?serial=S`` and ``usbip://HOST:PORT?vid=&pid=&serial=`` open a
:class:`UsbLink` (a bulk endpoint pair through pyusb, locally or over USB/IP).
Drivers never see which it is. Kiosks: ``kiosk://ID`` opens a
:class:`KioskLink` on the daemon's one MQTT connection (:class:`KioskHub`).
Smart-card readers: ``pcsc://READER NAME``
opens a :class:`PcscReader` of pcscd. Cameras: ``camera://INDEX``,
``camera:///PATH`` (a device, a video file, an image sequence) or a stream URL
(``http://``, ``rtsp://``) open a :class:`CameraSource` grabbing frames off
the event loop. Form printers: ``ipp://HOST:PORT/printers/QUEUE`` opens an
:class:`IppQueue`, a CUPS queue. :func:`open_transport` opens whichever
the URL names; a driver checks it got the kind it speaks.
"""

from hallgw_daemon.transports.camera import (
    CameraGoneError,
    CameraOpenError,
    CameraSource,
    CameraTimeoutError,
    Frame,
    open_camera,
    parse_camera_url,
)
from hallgw_daemon.transports.ipp import IppGoneError, IppOpenError, IppQueue, open_ipp
from hallgw_daemon.transports.kiosk import KioskHub, KioskLink, install_hub, open_kiosk
from hallgw_daemon.transports.link import Link, LinkClosedError, LinkOpenError, LinkUrl, open_link, parse_link_url
from hallgw_daemon.transports.pcsc import (
    CardAbsentError,
    CardChannel,
    CardIoError,
    CardRemovedError,
    PcscReader,
    open_pcsc,
)
from hallgw_daemon.transports.usb import UsbLink, open_usb
from hallgw_daemon.transports.usbip_backend import UsbIpBackend, UsbUrl, find_device, parse_usb_url

IPP_OPEN_TIMEOUT = 5.0
"""Asking a CUPS server for its queue takes longer than opening a port."""
CAMERA_OPEN_TIMEOUT = 5.0
"""A network camera's stream takes longer to start than a serial port to open."""

ByteStream = Link | UsbLink
"""A transport that moves bytes: ``read``, ``write``, ``close``."""
Transport = Link | UsbLink | PcscReader | KioskLink | CameraSource | IppQueue
"""Anything a driver can be attached to."""


async def open_transport(url: LinkUrl, *, timeout: float = 2.0) -> Transport:
    """Open the transport ``url`` names; LinkOpenError when it cannot."""
    if url.scheme == "pcsc":
        return await open_pcsc(url, timeout=timeout)
    if url.scheme in ("usb", "usbip"):
        return await open_usb(url, timeout=timeout)
    if url.scheme == "kiosk":
        return await open_kiosk(url, timeout=timeout)
    if url.scheme == "ipp":
        return await open_ipp(url, timeout=max(timeout, IPP_OPEN_TIMEOUT))
    if url.scheme == "camera":
        return await open_camera(parse_camera_url(url.path), timeout=max(timeout, CAMERA_OPEN_TIMEOUT))
    return await open_link(url, timeout=timeout)


__all__ = [
    "ByteStream",
    "CameraGoneError",
    "CameraOpenError",
    "CameraSource",
    "CameraTimeoutError",
    "CardAbsentError",
    "CardChannel",
    "CardIoError",
    "CardRemovedError",
    "Frame",
    "IppGoneError",
    "IppOpenError",
    "IppQueue",
    "KioskHub",
    "KioskLink",
    "Link",
    "LinkClosedError",
    "LinkOpenError",
    "LinkUrl",
    "PcscReader",
    "Transport",
    "UsbIpBackend",
    "UsbLink",
    "UsbUrl",
    "find_device",
    "install_hub",
    "open_camera",
    "open_ipp",
    "open_link",
    "open_pcsc",
    "open_transport",
    "open_usb",
    "parse_camera_url",
    "parse_link_url",
    "parse_usb_url",
]
