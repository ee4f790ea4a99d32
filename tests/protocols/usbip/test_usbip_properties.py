"""Property tests of the USB/IP codec: round trips in any chunking, and garbage never crashes a parser."""

from __future__ import annotations

import contextlib
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA, ProtocolError, RemoteProtocolError, Role
from hallgw_protocols.usbip import (
    CmdSubmit,
    CmdUnlink,
    ConfigurationDescriptor,
    DeviceDescriptor,
    DeviceInfo,
    DevlistEntry,
    Direction,
    EndpointDescriptor,
    InterfaceDescriptor,
    InterfaceInfo,
    IsoPacketDescriptor,
    OperationParser,
    OpRepDevlist,
    OpRepImport,
    OpReqDevlist,
    OpReqImport,
    RetSubmit,
    RetUnlink,
    SetupPacket,
    UrbParser,
    parse_configuration,
    parse_langid_descriptor,
    parse_string_descriptor,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
s32 = st.integers(-0x8000_0000, 0x7FFF_FFFF)
text = st.text(st.characters(min_codepoint=1, max_codepoint=0x7FF), max_size=10)

device_infos = st.builds(
    DeviceInfo,
    busid=text,
    busnum=u32,
    devnum=u32,
    speed=u32,
    idVendor=u16,
    idProduct=u16,
    bcdDevice=u16,
    bDeviceClass=u8,
    bDeviceSubClass=u8,
    bDeviceProtocol=u8,
    bConfigurationValue=u8,
    bNumConfigurations=u8,
    bNumInterfaces=st.integers(0, 4),
    path=text,
)


@st.composite
def devlist_entries(draw: st.DrawFn) -> DevlistEntry:
    device = draw(device_infos)
    interfaces = draw(
        st.lists(st.builds(InterfaceInfo, u8, u8, u8), min_size=device.bNumInterfaces, max_size=device.bNumInterfaces)
    )
    return DevlistEntry(device=device, interfaces=tuple(interfaces))


op_requests = st.one_of(st.just(OpReqDevlist()), st.builds(OpReqImport, busid=text))
op_replies = st.one_of(
    st.builds(OpRepDevlist, devices=st.lists(devlist_entries(), max_size=3).map(tuple)),
    st.builds(lambda d: OpRepImport(status=0, device=d), device_infos),
    st.builds(lambda s: OpRepImport(status=s), st.integers(1, 0xFFFF_FFFF)),
)

iso_packets = st.builds(IsoPacketDescriptor, u32, u32, u32, s32)


@st.composite
def submits(draw: st.DrawFn) -> tuple[CmdSubmit, bool]:
    direction = draw(st.sampled_from(Direction))
    iso = draw(st.booleans())
    data = draw(st.binary(max_size=300)) if direction == Direction.OUT else b""
    length = len(data) if direction == Direction.OUT else draw(st.integers(0, 5000))
    packets = draw(st.lists(iso_packets, max_size=4)) if iso else []
    cmd = CmdSubmit(
        seqnum=draw(u32),
        devid=draw(u32),
        direction=direction,
        ep=draw(st.integers(0, 15)),
        transfer_buffer_length=length,
        transfer_flags=draw(u32),
        start_frame=draw(s32),
        number_of_packets=len(packets) if iso else draw(s32),
        interval=draw(s32),
        setup=draw(st.binary(min_size=8, max_size=8)),
        data=data,
        iso_packets=tuple(packets),
    )
    return cmd, iso


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@FAST
@given(op_requests, st.lists(st.integers(0, 400), max_size=5))
def test_op_requests_round_trip(message: OpReqDevlist | OpReqImport, cuts: list[int]) -> None:
    parser = OperationParser(Role.DEVICE)
    results = []
    for piece in chunked(message.encode(), cuts):
        parser.receive_data(piece)
        results.append(parser.next_event())
    assert [r for r in results if r is not NEED_DATA] == [message]


@FAST
@given(op_replies, st.lists(st.integers(0, 2000), max_size=5))
def test_op_replies_round_trip(message: OpRepDevlist | OpRepImport, cuts: list[int]) -> None:
    parser = OperationParser(Role.HOST)
    results = []
    for piece in chunked(message.encode(), cuts):
        parser.receive_data(piece)
        results.append(parser.next_event())
    assert [r for r in results if r is not NEED_DATA] == [message]


@FAST
@given(st.lists(submits(), min_size=1, max_size=5), st.lists(st.integers(0, 2000), max_size=6))
def test_urb_commands_round_trip(commands: list[tuple[CmdSubmit, bool]], cuts: list[int]) -> None:
    # An endpoint is ISO or not for the whole stream: drop the submits that disagree.
    iso_eps = {cmd.endpoint_address for cmd, iso in commands if iso}
    kept = [cmd for cmd, iso in commands if (cmd.endpoint_address in iso_eps) == iso]
    unlink = CmdUnlink(seqnum=1, devid=2, unlink_seqnum=3)
    stream: list[CmdSubmit | CmdUnlink] = [*kept, unlink]
    parser = UrbParser(Role.DEVICE, iso_endpoints=iso_eps)
    out = []
    for piece in chunked(b"".join(m.encode() for m in stream), cuts):
        parser.receive_data(piece)
        while (event := parser.next_event()) is not NEED_DATA:
            out.append(event)
    assert out == stream


@FAST
@given(st.lists(submits(), min_size=1, max_size=5, unique_by=lambda c: c[0].seqnum), st.data())
def test_urb_replies_round_trip(commands: list[tuple[CmdSubmit, bool]], data: st.DataObject) -> None:
    parser = UrbParser(Role.HOST)
    replies: list[RetSubmit | RetUnlink] = []
    for cmd, iso in commands:
        parser.sent(cmd, iso=iso)
        if cmd.direction == Direction.IN:
            payload = data.draw(st.binary(max_size=min(cmd.transfer_buffer_length, 300)))
            actual = len(payload)
        else:
            payload, actual = b"", data.draw(st.integers(0, 0x7FFF_FFFF))
        packets = tuple(data.draw(st.lists(iso_packets, max_size=3))) if iso else ()
        replies.append(
            RetSubmit(
                seqnum=cmd.seqnum,
                status=data.draw(s32),
                actual_length=actual,
                start_frame=data.draw(s32),
                number_of_packets=len(packets) if iso else data.draw(s32),
                error_count=data.draw(s32),
                data=payload,
                iso_packets=packets,
            )
        )
    replies.append(RetUnlink(seqnum=99, status=-104))
    order = data.draw(st.permutations(replies))
    wire = b"".join(r.encode() for r in order)
    out = []
    for piece in chunked(wire, data.draw(st.lists(st.integers(0, len(wire)), max_size=6))):
        parser.receive_data(piece)
        while (event := parser.next_event()) is not NEED_DATA:
            out.append(event)
    assert out == list(order)
    assert parser.pending == 0


endpoints = st.builds(
    EndpointDescriptor,
    bEndpointAddress=u8,
    bmAttributes=u8,
    wMaxPacketSize=u16,
    bInterval=u8,
    extra_descriptors=st.just(b""),
)
# Class-specific descriptors: any type but INTERFACE (4) and ENDPOINT (5).
extras = st.lists(
    st.builds(
        lambda t, body: bytes([len(body) + 2, t]) + body, u8.filter(lambda t: t not in (4, 5)), st.binary(max_size=6)
    ),
    max_size=2,
).map(b"".join)


@st.composite
def configurations(draw: st.DrawFn) -> ConfigurationDescriptor:
    interfaces = []
    for _ in range(draw(st.integers(0, 3))):
        eps = [
            EndpointDescriptor(
                bEndpointAddress=draw(u8),
                bmAttributes=draw(u8),
                wMaxPacketSize=draw(u16),
                bInterval=draw(u8),
                extra_descriptors=draw(extras),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        interfaces.append(
            InterfaceDescriptor(
                bInterfaceNumber=draw(st.integers(0, 2)),
                bAlternateSetting=draw(u8),
                bInterfaceClass=draw(u8),
                iInterface=draw(u8),
                endpoints=tuple(eps),
                extra_descriptors=draw(extras),
            )
        )
    return ConfigurationDescriptor(
        bConfigurationValue=draw(u8),
        bmAttributes=draw(u8),
        bMaxPower=draw(u8),
        interfaces=tuple(interfaces),
        extra_descriptors=draw(extras),
    )


@FAST
@given(configurations())
def test_configuration_round_trip(config: ConfigurationDescriptor) -> None:
    assert parse_configuration(config.encode()) == config


@FAST
@given(
    st.builds(
        DeviceDescriptor,
        idVendor=u16,
        idProduct=u16,
        bcdDevice=u16,
        bcdUSB=u16,
        bDeviceClass=u8,
        bMaxPacketSize0=u8,
        iManufacturer=u8,
        iSerialNumber=u8,
        bNumConfigurations=u8,
    ),
    st.builds(SetupPacket, u8, u8, u16, u16, u16),
)
def test_device_descriptor_and_setup_round_trip(device: DeviceDescriptor, setup: SetupPacket) -> None:
    assert DeviceDescriptor.parse(device.encode()) == device
    assert SetupPacket.parse(setup.encode()) == setup


def drain(parser: OperationParser | UrbParser) -> None:
    for _ in range(1000):
        try:
            if parser.next_event() is NEED_DATA:
                return
        except RemoteProtocolError:
            return


@FAST
@given(st.sampled_from(Role), st.lists(st.binary(max_size=400), max_size=6))
def test_garbage_never_crashes_the_operation_parser(role: Role, pieces: list[bytes]) -> None:
    parser = OperationParser(role, cap=4096)
    for piece in pieces:
        try:
            parser.receive_data(piece)
        except RemoteProtocolError:
            break
        drain(parser)
    assert len(parser._buf.data) <= 4096


@FAST
@given(st.sampled_from(Role), st.lists(st.binary(max_size=400), max_size=6), st.data())
def test_garbage_never_crashes_the_urb_parser(role: Role, pieces: list[bytes], data: st.DataObject) -> None:
    parser = UrbParser(role, max_transfer=1024, iso_endpoints={0x81, 0x02})
    if role is Role.HOST:
        for seq in data.draw(st.lists(st.integers(0, 3), unique=True)):
            parser.sent(
                CmdSubmit(seqnum=seq, devid=0, direction=Direction(seq % 2), ep=1, transfer_buffer_length=0),
                iso=seq == 3,
            )
    for piece in pieces:
        try:
            parser.receive_data(piece)
        except RemoteProtocolError:
            break
        drain(parser)
    assert len(parser._buf.data) <= parser._buf.cap


@FAST
@given(st.binary(max_size=300))
def test_garbage_never_crashes_descriptor_parsers(blob: bytes) -> None:
    for parse in (parse_configuration, DeviceDescriptor.parse, parse_string_descriptor, parse_langid_descriptor):
        with contextlib.suppress(ProtocolError):
            parse(blob)
