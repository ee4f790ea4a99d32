"""Fingerprint images over the UART (reference/protocols.md section 2.6).

The image buffer is 256 x 288 (width x height), 8-bit grey inside the module
[2+]. Over the UART only the high nibble of each pixel is sent: one byte holds
two horizontally adjacent pixels of the same row, the left pixel in the high
nibble, rows from the top [2+]; 36,864 bytes in all, split into data packets of
the configured packet size (128 by default: 288 packets), the last one with
PID ``08``.

Expanding a nibble ``n`` to 8 bits gives ``n * 17`` (0 -> 0, 15 -> 255), so
white stays white; quantising keeps the high nibble, as the module does. Over
USB images are said to travel at 8 bits per pixel, but the USB framing is
[not found]: nothing here assumes it.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.fingerprint.as608.events import DataPacket
from hallgw_protocols.fingerprint.as608.sysparams import PACKET_SIZES

IMAGE_WIDTH: Final = 256
IMAGE_HEIGHT: Final = 288
UART_IMAGE_SIZE: Final = IMAGE_WIDTH * IMAGE_HEIGHT // 2
"""Bytes of a 4-bit image upload: 36,864."""
DEFAULT_PACKET_SIZE: Final = 128

_HIGH: Final = bytes((b >> 4) * 17 for b in range(256))
_LOW: Final = bytes((b & 0x0F) * 17 for b in range(256))
_KEEP_HIGH: Final = bytes(b & 0xF0 for b in range(256))
_HIGH_TO_LOW: Final = bytes(b >> 4 for b in range(256))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class GrayImage:
    """An 8-bit grayscale image, row-major from the top. The repr leaves the pixels out."""

    width: int
    height: int
    pixels: bytes

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise LocalProtocolError(f"image size {self.width}x{self.height} is empty")
        if len(self.pixels) != self.width * self.height:
            raise LocalProtocolError(f"{len(self.pixels)} pixels do not make a {self.width}x{self.height} image")

    def __repr__(self) -> str:
        return f"GrayImage({self.width}x{self.height})"


def quantise(pixels: bytes) -> bytes:
    """8-bit pixels as the host sees them after a 4-bit trip: high nibble kept, then expanded."""
    return pixels.translate(_KEEP_HIGH).translate(_HIGH)


def pack_4bit(image: GrayImage) -> bytes:
    """An 8-bit image as the module sends it: two pixels a byte, left pixel in the high nibble."""
    if image.width % 2:
        raise LocalProtocolError(f"width {image.width} is odd: pixels travel in pairs")
    left = image.pixels[0::2].translate(_KEEP_HIGH)
    right = image.pixels[1::2].translate(_HIGH_TO_LOW)
    # Left and right nibbles never overlap, so one big-integer OR combines every byte at once.
    return (int.from_bytes(left, "big") | int.from_bytes(right, "big")).to_bytes(len(left), "big")


def unpack_4bit(data: bytes, *, width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT) -> GrayImage:
    """The 4-bit stream of an upload as an 8-bit image; a wrong size is the module's fault."""
    if len(data) * 2 != width * height:
        raise RemoteProtocolError(f"image data of {len(data)} bytes, expected {width * height // 2}")
    pixels = bytearray(len(data) * 2)
    pixels[0::2] = data.translate(_HIGH)
    pixels[1::2] = data.translate(_LOW)
    return GrayImage(width=width, height=height, pixels=bytes(pixels))


def split_packets(data: bytes, packet_size: int = DEFAULT_PACKET_SIZE) -> list[DataPacket]:
    """``data`` as data packets of ``packet_size`` bytes (the last may be shorter), the last one marked."""
    if packet_size not in PACKET_SIZES.values():
        raise LocalProtocolError(f"packet size {packet_size} is not one of {sorted(PACKET_SIZES.values())}")
    if not data:
        raise LocalProtocolError("nothing to send: a transfer has at least one data packet")
    chunks = [data[i : i + packet_size] for i in range(0, len(data), packet_size)]
    return [DataPacket(data=chunk, last=i == len(chunks) - 1) for i, chunk in enumerate(chunks)]


def image_packets(image: GrayImage, packet_size: int = DEFAULT_PACKET_SIZE) -> list[DataPacket]:
    """The data packets a module sends for UpImage (device role)."""
    return split_packets(pack_4bit(image), packet_size)


class ImageAssembler:
    """Collects the data packets of one image upload and expands them (host role).

    Every packet but the last must carry exactly ``packet_size`` bytes and the
    total must be the image size: anything else means a lost or corrupted
    packet, and the image must be requested again rather than returned garbled.
    """

    def __init__(
        self, *, packet_size: int = DEFAULT_PACKET_SIZE, width: int = IMAGE_WIDTH, height: int = IMAGE_HEIGHT
    ) -> None:
        if packet_size not in PACKET_SIZES.values():
            raise LocalProtocolError(f"packet size {packet_size} is not one of {sorted(PACKET_SIZES.values())}")
        if width <= 0 or height <= 0 or width % 2:
            raise LocalProtocolError(f"image size {width}x{height} cannot travel two pixels a byte")
        self.packet_size = packet_size
        self.width = width
        self.height = height
        self.expected = width * height // 2
        self._parts: list[bytes] = []
        self._received = 0
        self._done = False

    @property
    def done(self) -> bool:
        """Whether the end packet has arrived and the image is whole."""
        return self._done

    @property
    def received(self) -> int:
        """Bytes of image data collected so far."""
        return self._received

    def add(self, packet: DataPacket) -> None:
        """Take the next data packet of the upload."""
        if self._done:
            raise RemoteProtocolError("data packet after the end packet of the image")
        size = len(packet.data)
        if not packet.last and size != self.packet_size:
            raise RemoteProtocolError(f"data packet of {size} bytes, the packet size is {self.packet_size}")
        if self._received + size > self.expected:
            raise RemoteProtocolError(f"image data overflows {self.expected} bytes")
        self._parts.append(packet.data)
        self._received += size
        if packet.last:
            if self._received != self.expected:
                raise RemoteProtocolError(f"image ended after {self._received} of {self.expected} bytes")
            self._done = True

    def image(self) -> GrayImage:
        """The whole image at 8 bits per pixel."""
        if not self._done:
            raise LocalProtocolError(f"the image is incomplete: {self._received} of {self.expected} bytes")
        return unpack_4bit(b"".join(self._parts), width=self.width, height=self.height)
