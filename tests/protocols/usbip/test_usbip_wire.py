"""USB/IP messages against byte layouts written out by hand from reference/usbip.md sections 2, 3 and 5.

Every expected byte string below was typed from the field tables (offset,
size, big-endian header words, little-endian SETUP and descriptors), not
produced by the encoder.
"""

from __future__ import annotations

import pytest

from hallgw_protocols import NEED_DATA, Role
from hallgw_protocols.usbip import (
    CmdSubmit,
    CmdUnlink,
    DeviceInfo,
    DevlistEntry,
    Direction,
    InterfaceInfo,
    IsoPacketDescriptor,
    OperationParser,
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
    UrbParser,
    devid_of,
)

PATH = "/sys/devices/pci0000:00/0000:00:01.2/usb1/1-1"


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


def zfill(text: bytes, size: int) -> bytes:
    return text + bytes(size - len(text))


# The device block of 5.2, field by field (312 bytes).
DEVICE_BLOCK = (
    zfill(PATH.encode(), 256)  # 0x000 path
    + zfill(b"1-1", 32)  # 0x100 busid
    + hx("00 00 00 01")  # 0x120 busnum 1
    + hx("00 00 00 02")  # 0x124 devnum 2
    + hx("00 00 00 03")  # 0x128 speed 3 (high)
    + hx("21 09")  # 0x12C idVendor (BE)
    + hx("76 38")  # 0x12E idProduct (BE)
    + hx("01 00")  # 0x130 bcdDevice (BE)
    + hx("00 00 00")  # 0x132 class, subclass, protocol
    + hx("01 01 01")  # 0x135 bConfigurationValue, bNumConfigurations, bNumInterfaces
)
SCANNER = DeviceInfo(
    path=PATH,
    busid="1-1",
    busnum=1,
    devnum=2,
    speed=Speed.HIGH,
    idVendor=0x2109,
    idProduct=0x7638,
    bcdDevice=0x0100,
    bConfigurationValue=1,
    bNumConfigurations=1,
    bNumInterfaces=1,
)
DEVID = hx("00 01 00 02")


def test_device_block_layout() -> None:
    assert len(DEVICE_BLOCK) == 0x138
    assert DEVICE_BLOCK[0x100:0x104] == b"1-1\0"
    assert SCANNER.encode() == DEVICE_BLOCK
    assert DeviceInfo.parse(DEVICE_BLOCK) == SCANNER
    assert SCANNER.devid == devid_of(1, 2) == 0x00010002


def test_op_req_devlist() -> None:
    wire = hx("01 11 80 05 00 00 00 00")
    assert OpReqDevlist().encode() == wire
    parser = OperationParser(Role.DEVICE)
    parser.receive_data(wire)
    assert parser.next_event() == OpReqDevlist()
    assert parser.done


def test_op_rep_devlist_one_device_one_interface() -> None:
    wire = hx("01 11 00 05 00 00 00 00 00 00 00 01") + DEVICE_BLOCK + hx("FF 00 00 00")
    assert len(wire) == 328
    message = OpRepDevlist(devices=(DevlistEntry(device=SCANNER, interfaces=(InterfaceInfo(0xFF),)),))
    assert message.encode() == wire
    parser = OperationParser(Role.HOST)
    # Byte by byte: the parser must wait for the interface block after the device block.
    for i, b in enumerate(wire):
        parser.receive_data(bytes([b]))
        result = parser.next_event()
        if i < len(wire) - 1:
            assert result is NEED_DATA
    assert result == message


def test_op_rep_devlist_second_device_starts_after_all_previous_interfaces() -> None:
    two_intf = DeviceInfo(busid="1-2", busnum=1, devnum=3, speed=2, idVendor=1, idProduct=2, bNumInterfaces=2)
    wire = (
        hx("01 11 00 05 00 00 00 00 00 00 00 03")
        + DEVICE_BLOCK
        + hx("FF 00 00 00")
        + two_intf.encode()
        + hx("03 01 02 00 08 06 50 00")
    )
    third = DeviceInfo(busid="2-1", busnum=2, devnum=1, speed=3, idVendor=3, idProduct=4)
    wire += third.encode()
    # Device 2 starts at 0x0C + 2*0x138 + 4*(1 + 2).
    assert wire[0x0C + 2 * 0x138 + 12 + 0x100 : 0x0C + 2 * 0x138 + 12 + 0x104] == b"2-1\0"
    parser = OperationParser(Role.HOST)
    parser.receive_data(wire)
    reply = parser.next_event()
    assert isinstance(reply, OpRepDevlist)
    assert [e.device.busid for e in reply.devices] == ["1-1", "1-2", "2-1"]
    assert reply.devices[1].interfaces == (InterfaceInfo(3, 1, 2), InterfaceInfo(8, 6, 0x50))
    assert reply.devices[2].interfaces == ()


def test_op_rep_devlist_empty() -> None:
    wire = hx("01 11 00 05 00 00 00 00 00 00 00 00")
    assert OpRepDevlist().encode() == wire
    parser = OperationParser(Role.HOST)
    parser.receive_data(wire)
    assert parser.next_event() == OpRepDevlist()


def test_op_req_import() -> None:
    wire = hx(
        "01 11 80 03 00 00 00 00  31 2D 31 00 00 00 00 00"
        "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"
        "00 00 00 00 00 00 00 00"
    )
    assert len(wire) == 40
    assert OpReqImport(busid="1-1").encode() == wire
    parser = OperationParser(Role.DEVICE)
    parser.receive_data(wire[:39])
    assert parser.next_event() is NEED_DATA
    parser.receive_data(wire[39:] + hx("00 00 00 01"))  # the first bytes of a CMD_SUBMIT ride along
    assert parser.next_event() == OpReqImport(busid="1-1")
    assert parser.next_event() is NEED_DATA
    assert parser.remainder() == hx("00 00 00 01")


def test_op_rep_import_success() -> None:
    wire = hx("01 11 00 03 00 00 00 00") + DEVICE_BLOCK
    assert len(wire) == 320
    assert wire[0x108:0x10B] == b"1-1" and wire[0x13F] == 1  # busid and bNumInterfaces per 5.3
    assert OpRepImport(status=0, device=SCANNER).encode() == wire
    parser = OperationParser(Role.HOST)
    parser.receive_data(wire)
    assert parser.next_event() == OpRepImport(status=0, device=SCANNER)


@pytest.mark.parametrize(
    ("status", "wire"),
    [
        (OpStatus.NODEV, "01 11 00 03 00 00 00 04"),
        (OpStatus.DEV_BUSY, "01 11 00 03 00 00 00 02"),
        (OpStatus.NA, "01 11 00 03 00 00 00 01"),
    ],
)
def test_op_rep_import_failures(status: OpStatus, wire: str) -> None:
    assert OpRepImport(status=status).encode() == hx(wire)
    parser = OperationParser(Role.HOST)
    parser.receive_data(hx(wire))
    assert parser.next_event() == OpRepImport(status=status)


# -- URB phase: the worked example of section 5 -------------------------------------------------

GET_DEVICE_DESCRIPTOR_CMD = hx(
    "00 00 00 01  00 00 00 01  00 01 00 02  00 00 00 01"
    "00 00 00 00  00 00 02 00  00 00 00 12  00 00 00 00"
    "00 00 00 00  00 00 00 00  80 06 00 01  00 00 12 00"
)
DEVICE_DESCRIPTOR = hx("12 01 00 02  00 00 00 40  09 21 38 76  00 01 01 02 03 01")
GET_DEVICE_DESCRIPTOR_RET = (
    hx(
        "00 00 00 03  00 00 00 01  00 00 00 00  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 12  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
    )
    + DEVICE_DESCRIPTOR
)


def test_cmd_submit_get_descriptor() -> None:
    setup = SetupPacket(0x80, 0x06, 0x0100, 0, 18)
    assert setup.encode() == hx("80 06 00 01 00 00 12 00")
    cmd = CmdSubmit(
        seqnum=1,
        devid=0x00010002,
        direction=Direction.IN,
        ep=0,
        transfer_buffer_length=18,
        transfer_flags=TransferFlags.DIR_IN,
        setup=setup.encode(),
    )
    assert cmd.encode() == GET_DEVICE_DESCRIPTOR_CMD
    server = UrbParser(Role.DEVICE)
    server.receive_data(GET_DEVICE_DESCRIPTOR_CMD)
    assert server.next_event() == cmd
    assert SetupPacket.parse(cmd.setup) == setup


def test_ret_submit_get_descriptor() -> None:
    ret = RetSubmit(seqnum=1, actual_length=18, data=DEVICE_DESCRIPTOR)
    assert ret.encode() == GET_DEVICE_DESCRIPTOR_RET
    client = UrbParser(Role.HOST)
    client.sent(CmdSubmit(seqnum=1, devid=0x00010002, direction=Direction.IN, ep=0, transfer_buffer_length=18))
    client.receive_data(GET_DEVICE_DESCRIPTOR_RET[:50])
    assert client.next_event() is NEED_DATA
    client.receive_data(GET_DEVICE_DESCRIPTOR_RET[50:])
    assert client.next_event() == ret
    assert client.pending == 0


GENIMG = hx("EF 01 FF FF  FF FF 01 00  03 01 00 05")


def test_bulk_out_submit_and_reply() -> None:
    cmd_wire = (
        hx(
            "00 00 00 01  00 00 00 02  00 01 00 02  00 00 00 00"
            "00 00 00 01  00 00 00 00  00 00 00 0C  00 00 00 00"
            "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
        )
        + GENIMG
    )
    cmd = CmdSubmit(seqnum=2, devid=0x00010002, direction=Direction.OUT, ep=1, transfer_buffer_length=12, data=GENIMG)
    assert cmd.encode() == cmd_wire
    assert cmd.endpoint_address == 0x01
    server = UrbParser(Role.DEVICE)
    server.receive_data(cmd_wire[:48])
    assert server.next_event() is NEED_DATA  # the OUT data is part of the message
    server.receive_data(cmd_wire[48:])
    assert server.next_event() == cmd

    ret_wire = hx(
        "00 00 00 03  00 00 00 02  00 00 00 00  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 0C  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
    )
    ret = RetSubmit(seqnum=2, actual_length=12)
    assert ret.encode() == ret_wire
    client = UrbParser(Role.HOST)
    client.sent(cmd)
    client.receive_data(ret_wire)
    assert client.next_event() == ret  # no data follows the reply to an OUT submit


ACK_OK = hx("EF 01 FF FF  FF FF 07 00  03 00 00 0A")
BULK_IN_CMD = hx(
    "00 00 00 01  00 00 00 03  00 01 00 02  00 00 00 01"
    "00 00 00 01  00 00 02 00  00 00 00 40  00 00 00 00"
    "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
)
BULK_IN_CMD_MSG = CmdSubmit(
    seqnum=3,
    devid=0x00010002,
    direction=Direction.IN,
    ep=1,
    transfer_buffer_length=64,
    transfer_flags=TransferFlags.DIR_IN,
)


def test_bulk_in_short_read() -> None:
    assert BULK_IN_CMD_MSG.encode() == BULK_IN_CMD
    assert BULK_IN_CMD_MSG.endpoint_address == 0x81
    ret_wire = (
        hx(
            "00 00 00 03  00 00 00 03  00 00 00 00  00 00 00 00"
            "00 00 00 00  00 00 00 00  00 00 00 0C  00 00 00 00"
            "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
        )
        + ACK_OK
    )
    ret = RetSubmit(seqnum=3, actual_length=12, data=ACK_OK)
    assert ret.encode() == ret_wire
    client = UrbParser(Role.HOST)
    client.sent(BULK_IN_CMD_MSG)
    client.receive_data(ret_wire)
    assert client.next_event() == ret


def test_stall_reply() -> None:
    wire = hx(
        "00 00 00 03  00 00 00 03  00 00 00 00  00 00 00 00"
        "00 00 00 00  FF FF FF E0  00 00 00 00  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
    )
    assert RetSubmit(seqnum=3, status=-32).encode() == wire
    client = UrbParser(Role.HOST)
    client.sent(BULK_IN_CMD_MSG)
    client.receive_data(wire)
    assert client.next_event() == RetSubmit(seqnum=3, status=-32)


def test_unlink_and_its_reply() -> None:
    cmd_wire = hx(
        "00 00 00 02  00 00 00 04  00 01 00 02  00 00 00 00"
        "00 00 00 00  00 00 00 03  00 00 00 00  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
    )
    unlink = CmdUnlink(seqnum=4, devid=0x00010002, unlink_seqnum=3)
    assert unlink.encode() == cmd_wire
    server = UrbParser(Role.DEVICE)
    server.receive_data(cmd_wire)
    assert server.next_event() == unlink

    ret_wire = hx(
        "00 00 00 04  00 00 00 04  00 00 00 00  00 00 00 00"
        "00 00 00 00  FF FF FF 98  00 00 00 00  00 00 00 00"
        "00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
    )
    assert RetUnlink(seqnum=4, status=-104).encode() == ret_wire
    client = UrbParser(Role.HOST)
    client.sent(BULK_IN_CMD_MSG)
    client.sent(unlink)
    assert client.pending == 1
    client.receive_data(ret_wire)
    assert client.next_event() == RetUnlink(seqnum=4, status=-104)
    assert client.pending == 0  # the cancelled submit is forgotten: no RET_SUBMIT may follow


def test_kernel_doc_interrupt_capture() -> None:
    """The K-doc wire capture quoted in 5.8: an interrupt IN with start_frame -1 and interval 4."""
    wire = hx(
        "00000001 00000d05 0001000f 00000001 00000001 0000020000000040 ffffffff 00000000 00000004 0000000000000000"
    )
    server = UrbParser(Role.DEVICE)
    server.receive_data(wire)
    cmd = server.next_event()
    assert cmd == CmdSubmit(
        seqnum=0xD05,
        devid=devid_of(1, 15),
        direction=Direction.IN,
        ep=1,
        transfer_buffer_length=64,
        transfer_flags=0x200,
        start_frame=-1,
        number_of_packets=0,
        interval=4,
    )
    assert isinstance(cmd, CmdSubmit) and cmd.encode() == wire


def test_iso_descriptors_follow_only_on_iso_endpoints() -> None:
    packets = (IsoPacketDescriptor(0, 8), IsoPacketDescriptor(8, 8))
    cmd = CmdSubmit(
        seqnum=9,
        devid=1,
        direction=Direction.OUT,
        ep=2,
        transfer_buffer_length=16,
        number_of_packets=2,
        data=bytes(range(16)),
        iso_packets=packets,
    )
    wire = cmd.encode()
    assert wire[64:80] == hx("00 00 00 00  00 00 00 08  00 00 00 00  00 00 00 00")
    assert wire[80:96] == hx("00 00 00 08  00 00 00 08  00 00 00 00  00 00 00 00")
    server = UrbParser(Role.DEVICE, iso_endpoints={0x02})
    server.receive_data(wire)
    assert server.next_event() == cmd
    # The client side of the same URB: the reply to an ISO OUT carries descriptors and no data.
    reply = RetSubmit(
        seqnum=9,
        actual_length=16,
        number_of_packets=2,
        iso_packets=(IsoPacketDescriptor(0, 8, 8, 0), IsoPacketDescriptor(8, 8, 8, -18)),
        error_count=1,
    )
    client = UrbParser(Role.HOST)
    client.sent(cmd, iso=True)
    client.receive_data(reply.encode())
    assert client.next_event() == reply
