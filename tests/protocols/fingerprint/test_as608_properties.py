"""Property tests of the AS608 codec: round trips, and no byte stream makes it misbehave."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import (
    CHAR_BUFFERS,
    HEADER,
    Acknowledgement,
    AnyCommand,
    As608Connection,
    Command,
    DataPacket,
    DownloadChar,
    DownloadImage,
    Event,
    ExchangeState,
    GetImage,
    HandShake,
    ImageToChar,
    PortControl,
    ReadSystemParameters,
    RegisterModel,
    Search,
    SetSystemParameter,
    Store,
    SystemParameter,
    TemplateCount,
    UploadChar,
    UploadImage,
    VerifyPassword,
    command_payload,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

byte = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
buffers = st.sampled_from(list(CHAR_BUFFERS))
typed_commands: st.SearchStrategy[AnyCommand] = st.one_of(
    st.just(GetImage()),
    st.builds(ImageToChar, buffer_id=buffers),
    st.just(RegisterModel()),
    st.builds(Store, buffer_id=buffers, page_id=u16),
    st.builds(Search, buffer_id=buffers, start_page=u16, count=u16),
    st.builds(UploadChar, buffer_id=buffers),
    st.builds(DownloadChar, buffer_id=buffers),
    st.just(UploadImage()),
    st.just(DownloadImage()),
    st.builds(SetSystemParameter, parameter=st.sampled_from(list(SystemParameter)), value=byte),
    st.just(ReadSystemParameters()),
    st.builds(VerifyPassword, password=st.integers(0, 0xFFFFFFFF)),
    st.just(TemplateCount()),
    st.builds(PortControl, on=st.booleans()),
    st.just(HandShake()),
)
raw_commands = st.builds(Command, instruction=byte, parameters=st.binary(max_size=40))
# Acknowledgements that cannot open a data stream or be typed differently, whatever the command.
plain_acks = st.builds(Acknowledgement, confirmation=st.integers(1, 0xFF), data=st.binary(max_size=60))
data_packets = st.builds(DataPacket, data=st.binary(min_size=1, max_size=256), last=st.booleans())


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given points (taken modulo its length)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def drain(conn: As608Connection, limit: int) -> tuple[list[Event], int]:
    """Call ``next_event`` until NEED_DATA; only events and RemoteProtocolError are allowed."""
    events: list[Event] = []
    errors = 0
    for _ in range(limit):
        error: RemoteProtocolError | None = None
        try:
            event = conn.next_event()
        except RemoteProtocolError as err:
            error = err
        if error is not None:
            assert error.discarded > 0
            errors += 1
            continue
        if event is NEED_DATA:
            return events, errors
        assert not isinstance(event, type(NEED_DATA))
        events.append(event)
    raise AssertionError(f"next_event did not settle within {limit} calls")


@FAST
@given(command=st.one_of(typed_commands, raw_commands), cuts=st.lists(st.integers(0, 1000), max_size=6))
def test_command_round_trip_through_the_device(command: AnyCommand, cuts: list[int]) -> None:
    wire = As608Connection(Role.HOST).send(command)
    device = As608Connection(Role.DEVICE)
    got: list[Event] = []
    for chunk in split(wire, cuts):
        device.receive_data(chunk)
        got += drain(device, 10)[0]
    assert len(got) == 1
    assert not isinstance(got[0], (Acknowledgement, DataPacket))
    # A raw command with a known instruction and well-formed parameters comes back typed: same bytes.
    assert command_payload(got[0]) == command_payload(command)  # type: ignore[arg-type]
    if not isinstance(command, Command):
        assert got == [command]
    assert device.discarded_bytes == 0


@FAST
@given(command=typed_commands, ack=plain_acks, cuts=st.lists(st.integers(0, 1000), max_size=6))
def test_acknowledgement_round_trip_through_the_host(
    command: AnyCommand, ack: Acknowledgement, cuts: list[int]
) -> None:
    host = As608Connection(Role.HOST)
    host.send(command)
    wire = As608Connection(Role.DEVICE).send(ack)
    got: list[Event] = []
    for chunk in split(wire, cuts):
        host.receive_data(chunk)
        got += drain(host, 10)[0]
    assert got == [ack]
    assert isinstance(got[0], Acknowledgement)
    assert got[0].instruction == command.instruction
    assert host.state is ExchangeState.IDLE


@FAST
@given(packets=st.lists(data_packets, min_size=1, max_size=8), cuts=st.lists(st.integers(0, 3000), max_size=10))
def test_upload_stream_round_trips(packets: list[DataPacket], cuts: list[int]) -> None:
    packets = [DataPacket(data=p.data) for p in packets[:-1]] + [DataPacket(data=packets[-1].data, last=True)]
    host = As608Connection(Role.HOST)
    device = As608Connection(Role.DEVICE)
    host.send(UploadImage())
    wire = device.send(Acknowledgement(confirmation=0)) + b"".join(device.send(p) for p in packets)
    got: list[Event] = []
    for chunk in split(wire, cuts):
        host.receive_data(chunk)
        got += drain(host, 20)[0]
    assert got == [Acknowledgement(confirmation=0), *packets]
    assert host.state is ExchangeState.IDLE


@FAST
@given(
    role=st.sampled_from(list(Role)),
    command=typed_commands,
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=80),
            st.binary(max_size=40).map(lambda b: HEADER + b),
            st.builds(lambda p: As608Connection(Role.DEVICE).send(p), st.one_of(plain_acks, data_packets)),
            st.builds(lambda c: As608Connection(Role.HOST).send(c), typed_commands),
        ),
        max_size=12,
    ),
)
def test_any_byte_stream_yields_events_need_data_or_remote_errors(
    role: Role, command: AnyCommand, chunks: list[bytes]
) -> None:
    conn = As608Connection(role, buffer_cap=600)
    if role is Role.HOST:
        conn.send(command)
    for chunk in chunks:
        conn.receive_data(chunk)
        assert conn.buffered <= 600
        drain(conn, 2000)
    # Once drained, at most one partial packet is held.
    assert conn.buffered < 11 + 256


@FAST
@given(garbage=st.binary(max_size=200), ack=plain_acks)
def test_garbage_before_a_packet_never_hides_it(garbage: bytes, ack: Acknowledgement) -> None:
    host = As608Connection(Role.HOST)
    host.send(GetImage())
    wire = As608Connection(Role.DEVICE).send(ack)
    # Garbage may hold a header and a plausible length that swallows the packet: resync must still find it.
    host.receive_data(garbage + wire)
    events, _ = drain(host, 1000)
    if garbage.find(HEADER) < 0 and not garbage.endswith(HEADER[:1]):
        assert events == [ack]
    else:
        # A false header in the garbage may announce a length that reaches past the packet:
        # the codec waits for those bytes, as any length-framed reader must.
        assert events in ([ack], [])
