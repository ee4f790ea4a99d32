"""The USB/IP server, spoken to with the codec over a real 127.0.0.1 socket."""

from __future__ import annotations

import asyncio
import contextlib
import errno
from collections.abc import AsyncIterator

import pytest

from hallgw_protocols import NEED_DATA, Role
from hallgw_protocols.usbip import (
    CmdSubmit,
    CmdUnlink,
    DeviceDescriptor,
    Direction,
    InterfaceInfo,
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
    parse_configuration,
    parse_langid_descriptor,
    parse_string_descriptor,
)
from hallgw_simulators.usbip_server import (
    EchoBehaviour,
    EndpointStall,
    UsbBehaviour,
    UsbIpServer,
    VirtualUsbDevice,
)

VID, PID = 0x2109, 0x7638
TIMEOUT = 5.0


class VendorBehaviour(EchoBehaviour):
    """Echo, plus one vendor request (0xC0/0x01 returns 'hi') and a switch that stalls bulk OUT."""

    def __init__(self) -> None:
        super().__init__()
        self.stall_next_out = False
        self.vendor_out: list[bytes] = []

    def bulk_out(self, data: bytes) -> None:
        if self.stall_next_out:
            self.stall_next_out = False
            raise EndpointStall
        super().bulk_out(data)

    def control(self, setup: SetupPacket, data: bytes) -> bytes | None:
        if (setup.bmRequestType, setup.bRequest) == (0xC0, 0x01):
            return b"hi there"
        if (setup.bmRequestType, setup.bRequest) == (0x40, 0x02):
            self.vendor_out.append(data)
            return b""
        return None


def scanner(behaviour: UsbBehaviour | None = None, serial: str = "FP0001") -> VirtualUsbDevice:
    return VirtualUsbDevice(
        vendor_id=VID,
        product_id=PID,
        serial_number=serial,
        behaviour=behaviour or VendorBehaviour(),
        manufacturer="Hall Sim",
        product="Sim FP",
    )


@pytest.fixture
async def server() -> AsyncIterator[UsbIpServer]:
    async with UsbIpServer(port=0) as srv:
        yield srv


class Client:
    """A USB/IP client made of the codec and an asyncio stream."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, devid: int) -> None:
        self.reader, self.writer, self.devid = reader, writer, devid
        self.parser = UrbParser(Role.HOST)
        self.seqnum = 0

    def next_seqnum(self) -> int:
        self.seqnum += 3  # the Linux client's counter skips values: the server must not care
        return self.seqnum

    async def send(self, message: CmdSubmit | CmdUnlink) -> None:
        self.parser.sent(message)
        self.writer.write(message.encode())
        await self.writer.drain()

    async def receive(self) -> RetSubmit | RetUnlink:
        async with asyncio.timeout(TIMEOUT):
            while True:
                event = self.parser.next_event()
                if isinstance(event, RetSubmit | RetUnlink):
                    return event
                data = await self.reader.read(65536)
                if not data:
                    raise ConnectionResetError("server closed the connection")
                self.parser.receive_data(data)

    async def control(self, setup: SetupPacket, data: bytes = b"") -> RetSubmit:
        direction = Direction.IN if setup.is_in else Direction.OUT
        await self.send(
            CmdSubmit(
                seqnum=self.next_seqnum(),
                devid=self.devid,
                direction=direction,
                ep=0,
                transfer_buffer_length=setup.wLength,
                transfer_flags=TransferFlags.DIR_IN if setup.is_in else 0,
                setup=setup.encode(),
                data=data,
            )
        )
        reply = await self.receive()
        assert isinstance(reply, RetSubmit)
        return reply

    def bulk(self, address: int, *, data: bytes = b"", length: int = 0) -> CmdSubmit:
        is_in = bool(address & 0x80)
        return CmdSubmit(
            seqnum=self.next_seqnum(),
            devid=self.devid,
            direction=Direction.IN if is_in else Direction.OUT,
            ep=address & 0x0F,
            transfer_buffer_length=length if is_in else len(data),
            transfer_flags=TransferFlags.DIR_IN if is_in else 0,
            data=data,
        )

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


async def operation(
    server: UsbIpServer, request: OpReqDevlist | OpReqImport
) -> tuple[object, asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request.encode())
    parser = OperationParser(Role.HOST)
    async with asyncio.timeout(TIMEOUT):
        while (reply := parser.next_event()) is NEED_DATA:
            data = await reader.read(65536)
            assert data, "server closed before replying"
            parser.receive_data(data)
    return reply, reader, writer


async def devlist(server: UsbIpServer) -> OpRepDevlist:
    reply, reader, writer = await operation(server, OpReqDevlist())
    async with asyncio.timeout(TIMEOUT):
        assert await reader.read() == b""  # one request per connection: the server closes
    writer.close()
    assert isinstance(reply, OpRepDevlist)
    return reply


async def attach(server: UsbIpServer, busid: str) -> Client:
    reply, reader, writer = await operation(server, OpReqImport(busid))
    assert isinstance(reply, OpRepImport) and reply.status == 0 and reply.device is not None
    assert reply.device.busid == busid
    return Client(reader, writer, reply.device.devid)


async def test_devlist_shows_exported_devices(server: UsbIpServer) -> None:
    assert (await devlist(server)).devices == ()
    first = server.plug(scanner())
    second = server.plug(scanner(serial="FP0002"))
    assert (first, second) == ("1-1", "1-2")
    reply = await devlist(server)
    assert [e.device.busid for e in reply.devices] == ["1-1", "1-2"]
    entry = reply.devices[0]
    assert (entry.device.idVendor, entry.device.idProduct, entry.device.busnum) == (VID, PID, 1)
    assert entry.device.speed == Speed.FULL
    assert entry.device.bNumInterfaces == 1 and entry.interfaces == (InterfaceInfo(0xFF),)
    assert reply.devices[0].device.devnum != reply.devices[1].device.devnum


async def test_import_and_enumerate_like_a_host(server: UsbIpServer) -> None:
    busid = server.plug(scanner())
    client = await attach(server, busid)
    try:
        # The device descriptor, asked for with a wLength of 64 as some hubs do.
        reply = await client.control(SetupPacket(0x80, 0x06, 0x0100, 0, 64))
        assert reply.status == 0 and reply.actual_length == 18
        descriptor = DeviceDescriptor.parse(reply.data)
        assert (descriptor.idVendor, descriptor.idProduct, descriptor.iSerialNumber) == (VID, PID, 3)

        header = await client.control(SetupPacket(0x80, 0x06, 0x0200, 0, 9))
        assert header.actual_length == 9  # cut to wLength
        total = int.from_bytes(header.data[2:4], "little")
        full = await client.control(SetupPacket(0x80, 0x06, 0x0200, 0, total))
        config = parse_configuration(full.data)
        (intf,) = config.interfaces
        assert intf.bInterfaceClass == 0xFF
        assert sorted((ep.bEndpointAddress, ep.bmAttributes, ep.wMaxPacketSize) for ep in intf.endpoints) == [
            (0x01, 2, 64),
            (0x81, 2, 64),
        ]

        langids = await client.control(SetupPacket(0x80, 0x06, 0x0300, 0, 254))
        assert parse_langid_descriptor(langids.data) == (0x0409,)
        strings = [await client.control(SetupPacket(0x80, 0x06, 0x0300 | i, 0x0409, 254)) for i in (1, 2, 3)]
        assert [parse_string_descriptor(r.data) for r in strings] == ["Hall Sim", "Sim FP", "FP0001"]

        missing = await client.control(SetupPacket(0x80, 0x06, 0x0309, 0x0409, 254))
        assert (missing.status, missing.actual_length, missing.data) == (-errno.EPIPE, 0, b"")
        qualifier = await client.control(SetupPacket(0x80, 0x06, 0x0600, 0, 10))
        assert qualifier.status == -errno.EPIPE  # a full-speed device has no qualifier

        assert (await client.control(SetupPacket(0x80, 0x08, 0, 0, 1))).data == b"\x00"
        assert (await client.control(SetupPacket(0x00, 0x09, 1))).status == 0
        assert (await client.control(SetupPacket(0x80, 0x08, 0, 0, 1))).data == b"\x01"
        assert (await client.control(SetupPacket(0x00, 0x09, 7))).status == -errno.EPIPE
        assert (await client.control(SetupPacket(0x01, 0x0B, 0, 0))).status == 0
        assert (await client.control(SetupPacket(0x01, 0x0B, 1, 0))).status == -errno.EPIPE
        assert (await client.control(SetupPacket(0x81, 0x0A, 0, 0, 1))).data == b"\x00"
        assert (await client.control(SetupPacket(0x80, 0x00, 0, 0, 2))).data == b"\x00\x00"
    finally:
        await client.close()


async def test_vendor_control_requests_go_to_the_behaviour(server: UsbIpServer) -> None:
    behaviour = VendorBehaviour()
    client = await attach(server, server.plug(scanner(behaviour)))
    try:
        reply = await client.control(SetupPacket(0xC0, 0x01, 0, 0, 2))
        assert (reply.status, reply.data) == (0, b"hi")  # cut to wLength
        out = await client.control(SetupPacket(0x40, 0x02, 0, 0, 3), b"abc")
        assert (out.status, out.actual_length) == (0, 3)
        assert behaviour.vendor_out == [b"abc"]
        unknown = await client.control(SetupPacket(0xC0, 0x05, 0, 0, 4))
        assert unknown.status == -errno.EPIPE
    finally:
        await client.close()


async def test_bulk_echo_and_pending_in(server: UsbIpServer) -> None:
    client = await attach(server, server.plug(scanner()))
    try:
        unconfigured = client.bulk(0x01, data=b"x")
        await client.send(unconfigured)
        assert (await client.receive()).status == -errno.EPIPE  # no configuration yet
        await client.control(SetupPacket(0x00, 0x09, 1))

        read = client.bulk(0x81, length=64)
        await client.send(read)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.receive()  # the IN URB waits: the device has nothing to say
        packet = bytes.fromhex("EF 01 FF FF FF FF 01 00 03 01 00 05")
        write = client.bulk(0x01, data=packet)
        await client.send(write)
        replies = {r.seqnum: r for r in [await client.receive(), await client.receive()]}
        assert replies[write.seqnum] == RetSubmit(seqnum=write.seqnum, actual_length=12)
        assert replies[read.seqnum] == RetSubmit(seqnum=read.seqnum, actual_length=12, data=packet)

        big = bytes(i % 251 for i in range(36_864))
        await client.send(client.bulk(0x01, data=big))
        assert await client.receive() == RetSubmit(seqnum=client.seqnum, actual_length=len(big))
        got = b""
        while len(got) < len(big):
            cmd = client.bulk(0x81, length=64)
            await client.send(cmd)
            reply = await client.receive()
            assert isinstance(reply, RetSubmit) and reply.actual_length <= 64
            got += reply.data
        assert got == big
    finally:
        await client.close()


async def test_unlink_pending_and_completed(server: UsbIpServer) -> None:
    behaviour = VendorBehaviour()
    client = await attach(server, server.plug(scanner(behaviour)))
    try:
        await client.control(SetupPacket(0x00, 0x09, 1))
        read = client.bulk(0x81, length=64)
        await client.send(read)
        await asyncio.sleep(0.05)
        unlink = CmdUnlink(seqnum=client.next_seqnum(), devid=client.devid, unlink_seqnum=read.seqnum)
        await client.send(unlink)
        assert await client.receive() == RetUnlink(seqnum=unlink.seqnum, status=-errno.ECONNRESET)
        # The cancelled read took nothing: the next write is read whole by the next read.
        await client.send(client.bulk(0x01, data=b"after"))
        await client.receive()
        second = client.bulk(0x81, length=64)
        await client.send(second)
        reply = await client.receive()
        assert isinstance(reply, RetSubmit) and (reply.seqnum, reply.data) == (second.seqnum, b"after")
        # Unlinking what has completed (or was never sent) answers 0.
        late = CmdUnlink(seqnum=client.next_seqnum(), devid=client.devid, unlink_seqnum=second.seqnum)
        await client.send(late)
        assert await client.receive() == RetUnlink(seqnum=late.seqnum, status=0)
        assert client.parser.pending == 0
    finally:
        await client.close()


async def test_stall_and_clear_halt(server: UsbIpServer) -> None:
    behaviour = VendorBehaviour()
    client = await attach(server, server.plug(scanner(behaviour)))
    try:
        await client.control(SetupPacket(0x00, 0x09, 1))
        behaviour.stall_next_out = True
        await client.send(client.bulk(0x01, data=b"a"))
        assert (await client.receive()).status == -errno.EPIPE
        await client.send(client.bulk(0x01, data=b"b"))
        assert (await client.receive()).status == -errno.EPIPE  # halted until cleared
        assert (await client.control(SetupPacket(0x82, 0x00, 0, 0x01, 2))).data == b"\x01\x00"
        assert (await client.control(SetupPacket(0x02, 0x01, 0, 0x01))).status == 0
        assert (await client.control(SetupPacket(0x82, 0x00, 0, 0x01, 2))).data == b"\x00\x00"
        await client.send(client.bulk(0x01, data=b"c"))
        assert (await client.receive()).status == 0
        assert (await client.control(SetupPacket(0x02, 0x01, 0, 0x05))).status == -errno.EPIPE  # no such endpoint
    finally:
        await client.close()


async def test_one_importer_at_a_time(server: UsbIpServer) -> None:
    busid = server.plug(scanner())
    client = await attach(server, busid)
    try:
        assert server.is_attached(busid)
        reply, reader, writer = await operation(server, OpReqImport(busid))
        assert reply == OpRepImport(status=OpStatus.DEV_BUSY)
        async with asyncio.timeout(TIMEOUT):
            assert await reader.read() == b""
        writer.close()
        assert (await devlist(server)).devices == ()  # an imported device is not listed
        missing, _, writer = await operation(server, OpReqImport("9-9"))
        assert missing == OpRepImport(status=OpStatus.NODEV)
        writer.close()
    finally:
        await client.close()
    # Once the importer is gone, the device is free again.
    for _ in range(500):
        if not server.is_attached(busid):
            break
        await asyncio.sleep(0.01)
    again = await attach(server, busid)
    await again.close()


async def test_unplug_closes_the_importer_and_replug_moves_the_device(server: UsbIpServer) -> None:
    device = scanner()
    busid = server.plug(device)
    client = await attach(server, busid)
    await client.control(SetupPacket(0x00, 0x09, 1))
    read = client.bulk(0x81, length=64)
    await client.send(read)
    old_devid = client.devid
    assert server.unplug(busid) is device
    with pytest.raises(ConnectionResetError):
        await client.receive()
    await client.close()
    assert (await devlist(server)).devices == ()
    reply, _, writer = await operation(server, OpReqImport(busid))
    assert reply == OpRepImport(status=OpStatus.NODEV)
    writer.close()

    server.plug(scanner(serial="FP0009"), busid="1-4")
    (entry,) = (await devlist(server)).devices
    assert entry.device.busid == "1-4" and entry.device.devid != old_devid
    again = await attach(server, "1-4")
    reply3 = await again.control(SetupPacket(0x80, 0x06, 0x0303, 0x0409, 254))
    assert parse_string_descriptor(reply3.data) == "FP0009"
    await again.close()


async def test_garbage_and_wrong_devid_drop_the_connection(server: UsbIpServer) -> None:
    busid = server.plug(scanner())
    # Bad version in the operation phase: no reply, the connection closes.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(bytes.fromhex("01 00 80 05 00 00 00 00"))
    async with asyncio.timeout(TIMEOUT):
        assert await reader.read() == b""
    writer.close()
    # A URB naming another device.
    client = await attach(server, busid)
    client.devid = devid_of(7, 7)
    await client.send(client.bulk(0x01, data=b"x"))
    with pytest.raises(ConnectionResetError):
        await client.receive()
    await client.close()
    # An unknown URB command.
    client = await attach(server, busid)
    client.writer.write((9).to_bytes(4, "big") + bytes(44))
    with pytest.raises(ConnectionResetError):
        await client.receive()
    await client.close()


def test_device_description_is_checked() -> None:
    with pytest.raises(ValueError, match="OUT endpoint address below 0x80"):
        VirtualUsbDevice(vendor_id=1, product_id=2, serial_number="s", out_endpoint=0x81)
    with pytest.raises(ValueError, match=r"numbered 1\.\.15"):
        VirtualUsbDevice(vendor_id=1, product_id=2, serial_number="s", in_endpoint=0x80)


async def test_plug_refuses_a_taken_busid(server: UsbIpServer) -> None:
    server.plug(scanner(), busid="2-1")
    with pytest.raises(ValueError, match="already exported"):
        server.plug(scanner(), busid="2-1")
    with pytest.raises(KeyError):
        server.unplug("3-3")
