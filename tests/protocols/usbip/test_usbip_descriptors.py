"""USB descriptors and SETUP packets against the bytes of reference/usbip.md 3.11 and 5.4-5.5."""

from __future__ import annotations

import pytest

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.usbip import (
    ConfigurationDescriptor,
    DeviceDescriptor,
    EndpointDescriptor,
    InterfaceDescriptor,
    Recipient,
    RequestType,
    SetupPacket,
    TransferType,
    configuration_total_length,
    encode_langid_descriptor,
    encode_string_descriptor,
    parse_configuration,
    parse_langid_descriptor,
    parse_string_descriptor,
)


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


SCANNER_DEVICE = DeviceDescriptor(
    idVendor=0x2109,
    idProduct=0x7638,
    bcdDevice=0x0100,
    bcdUSB=0x0200,
    bMaxPacketSize0=64,
    iManufacturer=1,
    iProduct=2,
    iSerialNumber=3,
)
SCANNER_CONFIG = ConfigurationDescriptor(
    bConfigurationValue=1,
    bmAttributes=0x80,
    bMaxPower=0x32,
    interfaces=(
        InterfaceDescriptor(
            bInterfaceClass=0xFF,
            endpoints=(
                EndpointDescriptor(bEndpointAddress=0x81, bmAttributes=2, wMaxPacketSize=64),
                EndpointDescriptor(bEndpointAddress=0x01, bmAttributes=2, wMaxPacketSize=64),
            ),
        ),
    ),
)
SCANNER_CONFIG_BYTES = hx(
    "09 02 20 00 01 01 00 80 32  09 04 00 00 02 FF 00 00 00  07 05 81 02 40 00 00  07 05 01 02 40 00 00"
)


def test_device_descriptor() -> None:
    wire = hx("12 01 00 02  00 00 00 40  09 21 38 76  00 01 01 02 03 01")
    assert SCANNER_DEVICE.encode() == wire
    assert DeviceDescriptor.parse(wire) == SCANNER_DEVICE


def test_configuration_descriptor() -> None:
    assert SCANNER_CONFIG.encode() == SCANNER_CONFIG_BYTES
    assert SCANNER_CONFIG.wTotalLength == 32 and SCANNER_CONFIG.bNumInterfaces == 1
    assert configuration_total_length(SCANNER_CONFIG_BYTES[:9]) == 32
    assert parse_configuration(SCANNER_CONFIG_BYTES) == SCANNER_CONFIG
    ep = SCANNER_CONFIG.interfaces[0].endpoints[0]
    assert ep.is_in and ep.number == 1 and ep.transfer_type is TransferType.BULK


def test_configuration_with_alternates_and_class_specific_bytes() -> None:
    # A config-level IAD-like blob, an interface with a class descriptor, an
    # audio endpoint (9 bytes) with its own class descriptor, then alt 1.
    wire = (
        hx("09 02 00 00 01 01 00 C0 00")
        + hx("04 24 01 02")  # before any interface: the configuration's extra
        + hx("09 04 00 00 01 01 02 00 04")
        + hx("05 24 01 00 01")  # the interface's extra
        + hx("09 05 82 05 C0 00 01 07 03")
        + hx("07 25 01 01 02 01 00")  # the endpoint's extra
        + hx("09 04 00 01 00 01 02 00 00")
    )
    wire = wire[:2] + len(wire).to_bytes(2, "little") + wire[4:]
    config = parse_configuration(wire)
    assert config.extra_descriptors == hx("04 24 01 02")
    assert config.bNumInterfaces == 1
    assert [(i.bInterfaceNumber, i.bAlternateSetting) for i in config.interfaces] == [(0, 0), (0, 1)]
    intf = config.interfaces[0]
    assert intf.extra_descriptors == hx("05 24 01 00 01") and intf.iInterface == 4
    (ep,) = intf.endpoints
    assert (ep.bLength, ep.bRefresh, ep.bSynchAddress, ep.bInterval) == (9, 7, 3, 1)
    assert ep.transfer_type is TransferType.ISOCHRONOUS
    assert ep.extra_descriptors == hx("07 25 01 01 02 01 00")
    assert config.alternates(0) == config.interfaces
    assert config.encode() == wire


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (hx("09 02 20 00 01 01 00 80"), "9 bytes"),
        (hx("09 02 20 00 01 01 00 80 32"), "wTotalLength 32"),
        (hx("09 02 0C 00 01 01 00 80 32 07 05 81"), "bLength 7"),
        (hx("09 02 0C 00 01 01 00 80 32 01 05 81"), "bLength 1"),
        (hx("09 02 10 00 01 01 00 80 32 07 05 81 02 40 00 00"), "precedes every interface"),
        (hx("12 01 20 00 01 01 00 80 32"), "expected a configuration descriptor"),
        (hx("09 02 04 00 01 01 00 80 32"), "wTotalLength 4"),
    ],
)
def test_bad_configurations_say_what_was_expected(wire: bytes, expected: str) -> None:
    with pytest.raises(RemoteProtocolError, match=expected):
        parse_configuration(wire)


def test_device_descriptor_errors() -> None:
    with pytest.raises(RemoteProtocolError, match="18 bytes"):
        DeviceDescriptor.parse(hx("12 01 00 02"))
    with pytest.raises(RemoteProtocolError, match="bLength 18, type 1"):
        DeviceDescriptor.parse(hx("12 02") + bytes(16))
    with pytest.raises(LocalProtocolError, match="idVendor"):
        DeviceDescriptor(idVendor=0x10000, idProduct=1).encode()


def test_string_descriptors() -> None:
    assert encode_langid_descriptor() == hx("04 03 09 04")
    assert parse_langid_descriptor(hx("04 03 09 04")) == (0x0409,)
    product = hx("0E 03 53 00 69 00 6D 00 20 00 46 00 50 00")
    assert encode_string_descriptor("Sim FP") == product
    assert parse_string_descriptor(product) == "Sim FP"
    # pyusb reads buf[2:bLength & 0xFE]: an odd bLength drops the stray byte.
    assert parse_string_descriptor(hx("07 03 41 00 42 00 43")) == "AB"
    assert parse_string_descriptor(encode_string_descriptor("指纹")) == "指纹"
    with pytest.raises(LocalProtocolError, match="126"):
        encode_string_descriptor("x" * 127)
    with pytest.raises(RemoteProtocolError, match="type 3"):
        parse_string_descriptor(hx("04 02 09 04"))


@pytest.mark.parametrize(
    ("setup", "wire"),
    [
        (SetupPacket(0x80, 0x06, 0x0100, 0, 18), "80 06 00 01 00 00 12 00"),
        (SetupPacket(0x80, 0x06, 0x0200, 0, 9), "80 06 00 02 00 00 09 00"),
        (SetupPacket(0x80, 0x06, 0x0300, 0, 0xFE), "80 06 00 03 00 00 FE 00"),
        (SetupPacket(0x80, 0x06, 0x0302, 0x0409, 0xFE), "80 06 02 03 09 04 FE 00"),
        (SetupPacket(0x00, 0x09, 1), "00 09 01 00 00 00 00 00"),
        (SetupPacket(0x80, 0x08, 0, 0, 1), "80 08 00 00 00 00 01 00"),
        (SetupPacket(0x01, 0x0B, 2, 3), "01 0B 02 00 03 00 00 00"),
        (SetupPacket(0x02, 0x01, 0, 0x81), "02 01 00 00 81 00 00 00"),
    ],
)
def test_setup_packets(setup: SetupPacket, wire: str) -> None:
    assert setup.encode() == hx(wire)
    assert SetupPacket.parse(hx(wire)) == setup


def test_setup_packet_fields() -> None:
    setup = SetupPacket(0xC1, 0x42)
    assert setup.is_in
    assert setup.request_type is RequestType.VENDOR
    assert setup.recipient == Recipient.INTERFACE
    with pytest.raises(RemoteProtocolError, match="8 bytes"):
        SetupPacket.parse(b"\x80\x06")
    with pytest.raises(LocalProtocolError, match="wLength"):
        SetupPacket(0x80, 6, 0, 0, 70000).encode()
