"""Stream links (serial ports and TCP sockets) behind one small interface."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from typing import Final
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

import serial
import serial_asyncio

from hallgw_daemon.transports.errors import LinkClosedError, LinkOpenError
from hallgw_protocols.kiosk import check_id

__all__ = [
    "BAUD_RATES",
    "Link",
    "LinkClosedError",
    "LinkOpenError",
    "LinkUrl",
    "open_link",
    "parse_kiosk_url",
    "parse_link_url",
]

READ_CHUNK: Final = 4096
BAUD_RATES: Final = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LinkUrl:
    """A parsed link URL."""

    scheme: str
    path: str = ""
    host: str = ""
    port: int = 0
    baud: int = 115200

    def display(self) -> str:
        if self.scheme == "serial":
            return f"serial://{self.path}?baud={self.baud}"
        if self.scheme == "pcsc":
            return f"pcsc://{self.path}"
        if self.scheme in ("usb", "usbip", "kiosk", "ipp"):
            return self.path
        if self.scheme == "camera":
            from hallgw_daemon.transports.camera import parse_camera_url  # noqa: PLC0415 - camera imports this module

            return parse_camera_url(self.path).display()  # never a stream's password
        return f"tcp://{self.host}:{self.port}"


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def _serial(url: str, parts: SplitResult) -> LinkUrl:
    query = parse_qs(parts.query)
    if not parts.path:
        raise ValueError(f"{url!r}: expected serial:///dev/NAME?baud=N")
    unknown = set(query) - {"baud"}
    if unknown:
        raise ValueError(f"{url!r}: unknown serial option(s) {sorted(unknown)}; only baud is supported")
    baud_text = query.get("baud", ["115200"])[-1]
    if not baud_text.isdigit() or int(baud_text) not in BAUD_RATES:
        raise ValueError(f"{url!r}: baud must be one of {BAUD_RATES}")
    return LinkUrl(scheme="serial", path=parts.path, baud=int(baud_text))


def _tcp(url: str, parts: SplitResult) -> LinkUrl:
    port = _port(parts)
    if not parts.hostname or not port:
        raise ValueError(f"{url!r}: expected tcp://HOST:PORT")
    return LinkUrl(scheme="tcp", host=parts.hostname, port=port)


def _pcsc(url: str, parts: SplitResult) -> LinkUrl:
    # The reader name as pcscd lists it; spaces may be written as is or %20-escaped.
    name = unquote(url[len("pcsc://") :]).strip()
    if not name or not name.isprintable():
        raise ValueError(f"{url!r}: expected pcsc://READER NAME (as pcsc_scan or `hallctl` lists it)")
    return LinkUrl(scheme="pcsc", path=name)


def _usb(url: str, parts: SplitResult) -> LinkUrl:
    from hallgw_daemon.transports.usbip_backend import parse_usb_url  # noqa: PLC0415 - keeps pyusb off serial-only paths

    parse_usb_url(url)  # raises ValueError saying what was expected
    return LinkUrl(scheme=parts.scheme, path=url)


def _kiosk(url: str, parts: SplitResult) -> LinkUrl:
    parse_kiosk_url(url)  # raises ValueError saying what was expected
    return LinkUrl(scheme="kiosk", path=url)


def _ipp(url: str, parts: SplitResult) -> LinkUrl:
    queue = parts.path.removeprefix("/printers/")
    if not parts.hostname or parts.query or not parts.path.startswith("/printers/") or not queue or "/" in queue:
        raise ValueError(f"{url!r}: expected ipp://HOST[:PORT]/printers/QUEUE (a CUPS queue)")
    return LinkUrl(scheme="ipp", host=parts.hostname, port=_port(parts) or 631, path=url)


def _camera(url: str, parts: SplitResult) -> LinkUrl:
    from hallgw_daemon.transports.camera import parse_camera_url  # noqa: PLC0415 - camera imports this module

    parse_camera_url(url)  # raises ValueError saying what was expected
    return LinkUrl(scheme="camera", path=url)


_PARSERS: Final[dict[str, Callable[[str, SplitResult], LinkUrl]]] = {
    "serial": _serial,
    "tcp": _tcp,
    "pcsc": _pcsc,
    "usb": _usb,
    "usbip": _usb,
    "kiosk": _kiosk,
    "ipp": _ipp,
    **dict.fromkeys(("camera", "http", "https", "rtsp", "rtsps"), _camera),
}


def parse_link_url(url: str) -> LinkUrl:
    """Parse and check a link URL; raises ValueError with what was expected."""
    parts = urlsplit(url)
    parser = _PARSERS.get(parts.scheme)
    if parser is not None:
        return parser(url, parts)
    shown = url if "@" not in parts.netloc else url.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1], 1)
    raise ValueError(f"{shown!r}: unsupported link scheme {parts.scheme!r}")  # never a password in a message


def parse_kiosk_url(url: str) -> str:
    """The kiosk id of ``kiosk://ID``; ValueError saying what was expected."""
    parts = urlsplit(url)
    kiosk_id = parts.netloc
    if parts.scheme != "kiosk" or parts.path not in ("", "/") or parts.query or not kiosk_id:
        raise ValueError(f"{url!r}: expected kiosk://KIOSK_ID (the kiosk's id in the MQTT topic tree)")
    try:
        check_id(kiosk_id, "kiosk id")
    except ValueError as err:
        raise ValueError(f"{url!r}: {err}") from None
    return kiosk_id


class Link:
    """A byte stream to one device."""

    def __init__(self, url: LinkUrl, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.url = url
        self._reader = reader
        self._writer = writer

    async def read(self) -> bytes:
        """Some bytes (at least one); raises LinkClosedError when the link is gone."""
        try:
            data = await self._reader.read(READ_CHUNK)
        except (OSError, serial.SerialException) as err:
            raise LinkClosedError(f"{self.url.display()}: {err}") from err
        if not data:
            raise LinkClosedError(f"{self.url.display()}: closed by the device")
        return data

    async def write(self, data: bytes) -> None:
        """Write all of ``data``; raises LinkClosedError when the link is gone."""
        if self._writer.is_closing():
            raise LinkClosedError(f"{self.url.display()}: closed")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, serial.SerialException, RuntimeError) as err:
            raise LinkClosedError(f"{self.url.display()}: {err}") from err

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)


async def open_link(url: str | LinkUrl, *, timeout: float = 2.0) -> Link:
    """Open the link a URL names; raises LinkOpenError when it cannot."""
    parsed = parse_link_url(url) if isinstance(url, str) else url
    try:
        async with asyncio.timeout(timeout):
            if parsed.scheme == "serial":
                reader, writer = await serial_asyncio.open_serial_connection(
                    url=parsed.path,
                    baudrate=parsed.baud,
                    bytesize=8,
                    parity="N",
                    stopbits=1,
                    xonxoff=False,
                    rtscts=False,
                    exclusive=True,
                )
            else:
                reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    import socket  # noqa: PLC0415 - only TCP links need it

                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, serial.SerialException, TimeoutError, ValueError) as err:
        raise LinkOpenError(f"{parsed.display()}: {err}") from err
    return Link(parsed, reader, writer)
