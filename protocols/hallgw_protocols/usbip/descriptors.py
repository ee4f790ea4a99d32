"""USB descriptors and the SETUP packet (USB 2.0 chapter 9; reference/usbip.md 3.11).

Both ends of a USB/IP link need these: the server answers GET_DESCRIPTOR with
them and the client parses them to build what pyusb reads. They travel as raw
USB bytes, so every multi-byte field here is **little-endian**, unlike the
big-endian USB/IP headers around them.

Field names are those of chapter 9 (``bLength``, ``idVendor``...), the names
pyusb and libusb use as well, so a parsed descriptor can be handed to pyusb
as it is.

A configuration is encoded and parsed whole: the 9-byte configuration
descriptor, then each interface descriptor followed by its class-specific
descriptors and its endpoint descriptors (each endpoint followed by its own
class-specific descriptors). ``wTotalLength`` and ``bNumInterfaces`` are
computed on encode. Bytes that are not a standard descriptor are kept, in
order, in the ``extra_descriptors`` of the descriptor they follow, as libusb
does.
"""

from __future__ import annotations

import dataclasses
import enum
import struct
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError


class DescriptorType(enum.IntEnum):
    """bDescriptorType values (the high byte of wValue in GET_DESCRIPTOR)."""

    DEVICE = 1
    CONFIGURATION = 2
    STRING = 3
    INTERFACE = 4
    ENDPOINT = 5
    DEVICE_QUALIFIER = 6
    OTHER_SPEED_CONFIGURATION = 7
    INTERFACE_POWER = 8
    OTG = 9
    DEBUG = 0x0A
    INTERFACE_ASSOCIATION = 0x0B
    BOS = 0x0F


class Request(enum.IntEnum):
    """Standard request codes (bRequest of a standard-type SETUP packet)."""

    GET_STATUS = 0x00
    CLEAR_FEATURE = 0x01
    SET_FEATURE = 0x03
    SET_ADDRESS = 0x05
    GET_DESCRIPTOR = 0x06
    SET_DESCRIPTOR = 0x07
    GET_CONFIGURATION = 0x08
    SET_CONFIGURATION = 0x09
    GET_INTERFACE = 0x0A
    SET_INTERFACE = 0x0B
    SYNCH_FRAME = 0x0C


class RequestType(enum.IntEnum):
    """Bits 6-5 of bmRequestType."""

    STANDARD = 0
    CLASS = 1
    VENDOR = 2
    RESERVED = 3


class Recipient(enum.IntEnum):
    """Bits 4-0 of bmRequestType."""

    DEVICE = 0
    INTERFACE = 1
    ENDPOINT = 2
    OTHER = 3


class TransferType(enum.IntEnum):
    """Bits 1-0 of an endpoint's bmAttributes."""

    CONTROL = 0
    ISOCHRONOUS = 1
    BULK = 2
    INTERRUPT = 3


FEATURE_ENDPOINT_HALT: Final = 0
"""wValue of CLEAR_FEATURE / SET_FEATURE addressed to an endpoint."""
LANGID_EN_US: Final = 0x0409
SETUP_SIZE: Final = 8
DEVICE_DESCRIPTOR_SIZE: Final = 18
CONFIGURATION_DESCRIPTOR_SIZE: Final = 9
INTERFACE_DESCRIPTOR_SIZE: Final = 9
ENDPOINT_DESCRIPTOR_SIZE: Final = 7
AUDIO_ENDPOINT_DESCRIPTOR_SIZE: Final = 9
"""Audio-class endpoints append bRefresh and bSynchAddress."""
MAX_STRING_CHARS: Final = 126
"""A string descriptor's bLength is one byte: (255 - 2) // 2 UTF-16 code units."""

_SETUP: Final = struct.Struct("<BBHHH")
_DEVICE: Final = struct.Struct("<BBHBBBBHHHBBBB")
_CONFIGURATION: Final = struct.Struct("<BBHBBBBB")
_INTERFACE: Final = struct.Struct("<BBBBBBBBB")
_ENDPOINT: Final = struct.Struct("<BBBBHB")


def _u8(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} must fit in one byte (0..255), got {value}")


def _u16(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise LocalProtocolError(f"{name} must fit in 16 bits (0..65535), got {value}")


@dataclasses.dataclass(frozen=True, slots=True)
class SetupPacket:
    """The 8-byte SETUP stage of a control transfer (wValue, wIndex, wLength little-endian)."""

    bmRequestType: int
    bRequest: int
    wValue: int = 0
    wIndex: int = 0
    wLength: int = 0

    @property
    def is_in(self) -> bool:
        """True for device-to-host (bit 7 of bmRequestType)."""
        return bool(self.bmRequestType & 0x80)

    @property
    def request_type(self) -> RequestType:
        return RequestType((self.bmRequestType >> 5) & 0x03)

    @property
    def recipient(self) -> int:
        """Bits 4-0 of bmRequestType; see :class:`Recipient` for the defined values."""
        return self.bmRequestType & 0x1F

    def encode(self) -> bytes:
        _u8("bmRequestType", self.bmRequestType)
        _u8("bRequest", self.bRequest)
        _u16("wValue", self.wValue)
        _u16("wIndex", self.wIndex)
        _u16("wLength", self.wLength)
        return _SETUP.pack(self.bmRequestType, self.bRequest, self.wValue, self.wIndex, self.wLength)

    @classmethod
    def parse(cls, data: bytes) -> SetupPacket:
        if len(data) != SETUP_SIZE:
            raise RemoteProtocolError(f"a SETUP packet is {SETUP_SIZE} bytes, got {len(data)}")
        return cls(*_SETUP.unpack(data))


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceDescriptor:
    """The 18-byte device descriptor."""

    idVendor: int
    idProduct: int
    bcdDevice: int = 0x0100
    bcdUSB: int = 0x0200
    bDeviceClass: int = 0
    bDeviceSubClass: int = 0
    bDeviceProtocol: int = 0
    bMaxPacketSize0: int = 64
    iManufacturer: int = 0
    iProduct: int = 0
    iSerialNumber: int = 0
    bNumConfigurations: int = 1
    bLength: int = DEVICE_DESCRIPTOR_SIZE
    bDescriptorType: int = DescriptorType.DEVICE

    def encode(self) -> bytes:
        for name in ("bcdUSB", "idVendor", "idProduct", "bcdDevice"):
            _u16(name, getattr(self, name))
        for name in (
            "bDeviceClass",
            "bDeviceSubClass",
            "bDeviceProtocol",
            "bMaxPacketSize0",
            "iManufacturer",
            "iProduct",
            "iSerialNumber",
            "bNumConfigurations",
        ):
            _u8(name, getattr(self, name))
        return _DEVICE.pack(
            DEVICE_DESCRIPTOR_SIZE,
            DescriptorType.DEVICE,
            self.bcdUSB,
            self.bDeviceClass,
            self.bDeviceSubClass,
            self.bDeviceProtocol,
            self.bMaxPacketSize0,
            self.idVendor,
            self.idProduct,
            self.bcdDevice,
            self.iManufacturer,
            self.iProduct,
            self.iSerialNumber,
            self.bNumConfigurations,
        )

    @classmethod
    def parse(cls, data: bytes) -> DeviceDescriptor:
        if len(data) < DEVICE_DESCRIPTOR_SIZE:
            raise RemoteProtocolError(
                f"a device descriptor is {DEVICE_DESCRIPTOR_SIZE} bytes, got {len(data)}", discarded=len(data)
            )
        (
            length,
            dtype,
            bcd_usb,
            dclass,
            dsub,
            dproto,
            mps0,
            vid,
            pid,
            bcd_dev,
            i_man,
            i_prod,
            i_ser,
            n_cfg,
        ) = _DEVICE.unpack_from(data)
        if length != DEVICE_DESCRIPTOR_SIZE or dtype != DescriptorType.DEVICE:
            raise RemoteProtocolError(
                f"expected a device descriptor (bLength 18, type 1), got bLength {length}, type {dtype}",
                discarded=len(data),
            )
        return cls(
            idVendor=vid,
            idProduct=pid,
            bcdDevice=bcd_dev,
            bcdUSB=bcd_usb,
            bDeviceClass=dclass,
            bDeviceSubClass=dsub,
            bDeviceProtocol=dproto,
            bMaxPacketSize0=mps0,
            iManufacturer=i_man,
            iProduct=i_prod,
            iSerialNumber=i_ser,
            bNumConfigurations=n_cfg,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class EndpointDescriptor:
    """A 7-byte endpoint descriptor (9 bytes with bRefresh and bSynchAddress when ``bLength`` is 9)."""

    bEndpointAddress: int
    bmAttributes: int = TransferType.BULK
    wMaxPacketSize: int = 64
    bInterval: int = 0
    bRefresh: int = 0
    bSynchAddress: int = 0
    extra_descriptors: bytes = b""
    bLength: int = ENDPOINT_DESCRIPTOR_SIZE
    bDescriptorType: int = DescriptorType.ENDPOINT

    @property
    def is_in(self) -> bool:
        return bool(self.bEndpointAddress & 0x80)

    @property
    def number(self) -> int:
        """The endpoint number (0-15) as USB/IP carries it, without the direction bit."""
        return self.bEndpointAddress & 0x0F

    @property
    def transfer_type(self) -> TransferType:
        return TransferType(self.bmAttributes & 0x03)

    def encode(self) -> bytes:
        if self.bLength not in (ENDPOINT_DESCRIPTOR_SIZE, AUDIO_ENDPOINT_DESCRIPTOR_SIZE):
            raise LocalProtocolError(f"an endpoint descriptor's bLength is 7 or 9, got {self.bLength}")
        for name in ("bEndpointAddress", "bmAttributes", "bInterval", "bRefresh", "bSynchAddress"):
            _u8(name, getattr(self, name))
        _u16("wMaxPacketSize", self.wMaxPacketSize)
        out = _ENDPOINT.pack(
            self.bLength,
            DescriptorType.ENDPOINT,
            self.bEndpointAddress,
            self.bmAttributes,
            self.wMaxPacketSize,
            self.bInterval,
        )
        if self.bLength == AUDIO_ENDPOINT_DESCRIPTOR_SIZE:
            out += bytes([self.bRefresh, self.bSynchAddress])
        return out + self.extra_descriptors


@dataclasses.dataclass(frozen=True, slots=True)
class InterfaceDescriptor:
    """A 9-byte interface descriptor (one alternate setting) with its endpoints.

    ``bNumEndpoints`` is the length of ``endpoints`` on encode.
    """

    bInterfaceNumber: int = 0
    bAlternateSetting: int = 0
    bInterfaceClass: int = 0xFF
    bInterfaceSubClass: int = 0
    bInterfaceProtocol: int = 0
    iInterface: int = 0
    endpoints: tuple[EndpointDescriptor, ...] = ()
    extra_descriptors: bytes = b""
    bLength: int = INTERFACE_DESCRIPTOR_SIZE
    bDescriptorType: int = DescriptorType.INTERFACE

    @property
    def bNumEndpoints(self) -> int:
        return len(self.endpoints)

    def encode(self) -> bytes:
        for name in (
            "bInterfaceNumber",
            "bAlternateSetting",
            "bInterfaceClass",
            "bInterfaceSubClass",
            "bInterfaceProtocol",
            "iInterface",
        ):
            _u8(name, getattr(self, name))
        _u8("bNumEndpoints", len(self.endpoints))
        head = _INTERFACE.pack(
            INTERFACE_DESCRIPTOR_SIZE,
            DescriptorType.INTERFACE,
            self.bInterfaceNumber,
            self.bAlternateSetting,
            len(self.endpoints),
            self.bInterfaceClass,
            self.bInterfaceSubClass,
            self.bInterfaceProtocol,
            self.iInterface,
        )
        return head + self.extra_descriptors + b"".join(ep.encode() for ep in self.endpoints)


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigurationDescriptor:
    """A configuration with its interface descriptors (every alternate setting, in order).

    ``wTotalLength`` and ``bNumInterfaces`` (the number of distinct
    ``bInterfaceNumber`` values) are computed from the content.
    """

    bConfigurationValue: int = 1
    iConfiguration: int = 0
    bmAttributes: int = 0x80
    bMaxPower: int = 50
    interfaces: tuple[InterfaceDescriptor, ...] = ()
    extra_descriptors: bytes = b""
    bLength: int = CONFIGURATION_DESCRIPTOR_SIZE
    bDescriptorType: int = DescriptorType.CONFIGURATION

    @property
    def bNumInterfaces(self) -> int:
        return len({i.bInterfaceNumber for i in self.interfaces})

    @property
    def wTotalLength(self) -> int:
        return len(self.encode())

    def encode(self) -> bytes:
        for name in ("bConfigurationValue", "iConfiguration", "bmAttributes", "bMaxPower"):
            _u8(name, getattr(self, name))
        _u8("bNumInterfaces", self.bNumInterfaces)
        body = self.extra_descriptors + b"".join(i.encode() for i in self.interfaces)
        total = CONFIGURATION_DESCRIPTOR_SIZE + len(body)
        _u16("wTotalLength", total)
        head = _CONFIGURATION.pack(
            CONFIGURATION_DESCRIPTOR_SIZE,
            DescriptorType.CONFIGURATION,
            total,
            self.bNumInterfaces,
            self.bConfigurationValue,
            self.iConfiguration,
            self.bmAttributes,
            self.bMaxPower,
        )
        return head + body

    def alternates(self, number: int) -> tuple[InterfaceDescriptor, ...]:
        """The alternate settings of interface ``bInterfaceNumber == number``, in order."""
        return tuple(i for i in self.interfaces if i.bInterfaceNumber == number)

    def interface_numbers(self) -> tuple[int, ...]:
        """The distinct interface numbers, in order of first appearance."""
        return tuple(dict.fromkeys(i.bInterfaceNumber for i in self.interfaces))


def configuration_total_length(header: bytes) -> int:
    """wTotalLength from the first 9 bytes of a configuration descriptor."""
    if len(header) < CONFIGURATION_DESCRIPTOR_SIZE:
        raise RemoteProtocolError(
            f"a configuration descriptor header is {CONFIGURATION_DESCRIPTOR_SIZE} bytes, got {len(header)}"
        )
    length, dtype, total = struct.unpack_from("<BBH", header)
    if length != CONFIGURATION_DESCRIPTOR_SIZE or dtype != DescriptorType.CONFIGURATION:
        raise RemoteProtocolError(
            f"expected a configuration descriptor (bLength 9, type 2), got bLength {length}, type {dtype}"
        )
    if total < CONFIGURATION_DESCRIPTOR_SIZE:
        raise RemoteProtocolError(f"wTotalLength {total} is shorter than the 9-byte configuration descriptor")
    return int(total)


class _ConfigurationWalk:
    """Collects the descriptors of a configuration as they come, into the tree."""

    def __init__(self) -> None:
        self.config_extra = bytearray()
        self.interfaces: list[InterfaceDescriptor] = []
        self.endpoints: list[EndpointDescriptor] = []
        self.interface: InterfaceDescriptor | None = None
        self.endpoint: EndpointDescriptor | None = None
        self.intf_extra = bytearray()
        self.ep_extra = bytearray()

    def close_endpoint(self) -> None:
        if self.endpoint is not None:
            self.endpoints.append(dataclasses.replace(self.endpoint, extra_descriptors=bytes(self.ep_extra)))
            self.ep_extra.clear()
            self.endpoint = None

    def close_interface(self) -> None:
        self.close_endpoint()
        if self.interface is not None:
            self.interfaces.append(
                dataclasses.replace(
                    self.interface, endpoints=tuple(self.endpoints), extra_descriptors=bytes(self.intf_extra)
                )
            )
            self.endpoints.clear()
            self.intf_extra.clear()
            self.interface = None

    def add(self, chunk: bytes, pos: int) -> None:
        length, dtype = chunk[0], chunk[1]
        if dtype == DescriptorType.INTERFACE and length >= INTERFACE_DESCRIPTOR_SIZE:
            self.close_interface()
            _, _, number, alt, _n_eps, cls_, sub, proto, i_intf = _INTERFACE.unpack_from(chunk)
            self.interface = InterfaceDescriptor(
                bInterfaceNumber=number,
                bAlternateSetting=alt,
                bInterfaceClass=cls_,
                bInterfaceSubClass=sub,
                bInterfaceProtocol=proto,
                iInterface=i_intf,
            )
        elif dtype == DescriptorType.ENDPOINT and length >= ENDPOINT_DESCRIPTOR_SIZE:
            if self.interface is None:
                raise RemoteProtocolError(f"endpoint descriptor at offset {pos} precedes every interface descriptor")
            self.close_endpoint()
            _, _, address, attrs, mps, interval = _ENDPOINT.unpack_from(chunk)
            audio = length >= AUDIO_ENDPOINT_DESCRIPTOR_SIZE
            self.endpoint = EndpointDescriptor(
                bEndpointAddress=address,
                bmAttributes=attrs,
                wMaxPacketSize=mps,
                bInterval=interval,
                bRefresh=chunk[7] if audio else 0,
                bSynchAddress=chunk[8] if audio else 0,
                bLength=AUDIO_ENDPOINT_DESCRIPTOR_SIZE if audio else ENDPOINT_DESCRIPTOR_SIZE,
            )
        elif self.endpoint is not None:
            self.ep_extra += chunk
        elif self.interface is not None:
            self.intf_extra += chunk
        else:
            self.config_extra += chunk


def parse_configuration(data: bytes) -> ConfigurationDescriptor:
    """Parse a whole configuration (``wTotalLength`` bytes) into its tree.

    Raises :class:`RemoteProtocolError` when the bytes are short, a descriptor's
    bLength runs past the end or is below 2, or an endpoint precedes every
    interface. Bytes past wTotalLength are ignored.
    """
    total = configuration_total_length(data)
    if len(data) < total:
        raise RemoteProtocolError(f"expected wTotalLength {total} bytes of configuration, got {len(data)}")
    _, _, _, _, value, i_cfg, attrs, power = _CONFIGURATION.unpack_from(data)
    walk = _ConfigurationWalk()
    pos = CONFIGURATION_DESCRIPTOR_SIZE
    while pos < total:
        length = data[pos]
        if length < 2 or pos + length > total:
            raise RemoteProtocolError(
                f"descriptor at offset {pos} has bLength {length}: expected 2..{total - pos} (wTotalLength {total})"
            )
        walk.add(bytes(data[pos : pos + length]), pos)
        pos += length
    walk.close_interface()
    return ConfigurationDescriptor(
        bConfigurationValue=value,
        iConfiguration=i_cfg,
        bmAttributes=attrs,
        bMaxPower=power,
        interfaces=tuple(walk.interfaces),
        extra_descriptors=bytes(walk.config_extra),
    )


def encode_string_descriptor(text: str) -> bytes:
    """String descriptor for ``text`` (UTF-16LE, at most 126 code units)."""
    body = text.encode("utf-16-le")
    if len(body) > 2 * MAX_STRING_CHARS:
        raise LocalProtocolError(f"a string descriptor holds at most {MAX_STRING_CHARS} UTF-16 code units")
    return bytes([2 + len(body), DescriptorType.STRING]) + body


def parse_string_descriptor(data: bytes) -> str:
    """The text of a string descriptor (index != 0)."""
    if len(data) < 2 or data[1] != DescriptorType.STRING:
        raise RemoteProtocolError("expected a string descriptor (type 3)", discarded=len(data))
    end = min(data[0], len(data)) & 0xFE
    try:
        return bytes(data[2:end]).decode("utf-16-le")
    except UnicodeDecodeError:
        raise RemoteProtocolError("string descriptor is not valid UTF-16LE", discarded=len(data)) from None


def encode_langid_descriptor(langids: tuple[int, ...] = (LANGID_EN_US,)) -> bytes:
    """String descriptor 0: the table of supported LANGIDs."""
    if len(langids) > MAX_STRING_CHARS:
        raise LocalProtocolError(f"at most {MAX_STRING_CHARS} LANGIDs fit in string descriptor 0")
    for lang in langids:
        _u16("LANGID", lang)
    return bytes([2 + 2 * len(langids), DescriptorType.STRING]) + b"".join(struct.pack("<H", x) for x in langids)


def parse_langid_descriptor(data: bytes) -> tuple[int, ...]:
    """The LANGIDs of string descriptor 0."""
    if len(data) < 2 or data[1] != DescriptorType.STRING:
        raise RemoteProtocolError("expected string descriptor 0 (type 3)", discarded=len(data))
    end = min(data[0], len(data))
    return tuple(struct.unpack_from("<H", data, off)[0] for off in range(2, end - 1, 2))
