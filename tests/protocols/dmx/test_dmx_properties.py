"""Property tests of the DMX USB Pro codec: round trips, and no byte stream makes it misbehave."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.dmx import (
    BREAK_TIMES,
    CHANNELS,
    MAB_TIMES,
    MAX_SERIAL,
    MAX_USER_CONFIG,
    MIN_SEND_CHANNELS,
    OUTPUT_RATES,
    DmxConnection,
    Event,
    FirmwareVersion,
    GetSerialNumber,
    GetWidgetParameters,
    ReceivedDmx,
    SendDmx,
    SerialNumber,
    SetWidgetParameters,
    WidgetParameters,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

byte = st.integers(0, 0xFF)
config = st.binary(max_size=MAX_USER_CONFIG)
requests: st.SearchStrategy[Event] = st.one_of(
    st.builds(GetWidgetParameters, user_config_size=st.integers(0, MAX_USER_CONFIG)),
    st.builds(
        SetWidgetParameters,
        break_time=st.sampled_from(BREAK_TIMES),
        mab_time=st.sampled_from(MAB_TIMES),
        output_rate=st.sampled_from(OUTPUT_RATES),
        user_config=config,
    ),
    st.just(GetSerialNumber()),
    # At least 24 levels: a shorter universe comes back padded (tested apart).
    st.builds(SendDmx, levels=st.binary(min_size=MIN_SEND_CHANNELS, max_size=CHANNELS), start_code=byte),
)
replies: st.SearchStrategy[Event] = st.one_of(
    st.builds(
        WidgetParameters,
        firmware=st.builds(FirmwareVersion, major=byte, minor=byte),
        break_time=byte,
        mab_time=byte,
        output_rate=byte,
        user_config=config,
    ),
    st.builds(SerialNumber, number=st.integers(0, MAX_SERIAL)),
    st.builds(ReceivedDmx, levels=st.binary(max_size=CHANNELS), start_code=byte, status=byte),
)


def drain_tolerant(conn: DmxConnection) -> list[Event]:
    events: list[Event] = []
    while True:
        try:
            event = conn.next_event()
        except RemoteProtocolError:
            continue
        if event is NEED_DATA:
            return events
        events.append(event)


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@FAST
@given(st.lists(requests, min_size=1, max_size=4), st.lists(st.integers(0, 5000), max_size=6))
def test_requests_round_trip_through_the_widget_however_they_are_cut(events: list[Event], cuts: list[int]) -> None:
    sender, receiver = DmxConnection(Role.HOST), DmxConnection(Role.DEVICE)
    wire = b"".join(sender.send(e) for e in events)
    got: list[Event] = []
    for piece in chunks(wire, cuts):
        receiver.receive_data(piece)
        got += drain_tolerant(receiver)
    assert got == events
    assert receiver.discarded_bytes == 0 and receiver.protocol_errors == 0


@FAST
@given(st.lists(replies, min_size=1, max_size=4), st.binary(max_size=64))
def test_replies_round_trip_after_noise_without_a_start_byte(events: list[Event], noise: bytes) -> None:
    noise = noise.replace(b"\x7e", b"")
    sender, receiver = DmxConnection(Role.DEVICE), DmxConnection(Role.HOST)
    receiver.receive_data(noise + b"".join(sender.send(e) for e in events))
    assert drain_tolerant(receiver) == events
    assert receiver.discarded_bytes == len(noise)


@FAST
@given(st.binary(min_size=1, max_size=MIN_SEND_CHANNELS - 1))
def test_short_universes_arrive_padded_to_24(levels: bytes) -> None:
    receiver = DmxConnection(Role.DEVICE)
    receiver.receive_data(DmxConnection(Role.HOST).send(SendDmx(levels=levels)))
    assert receiver.next_event() == SendDmx(levels=levels.ljust(MIN_SEND_CHANNELS, b"\x00"))


@FAST
@given(st.binary(max_size=3000), st.sampled_from([Role.HOST, Role.DEVICE]))
def test_any_bytes_never_crash_or_grow_the_buffer(data: bytes, role: Role) -> None:
    conn = DmxConnection(role, buffer_cap=1024)
    for offset in range(0, len(data), 97):
        conn.receive_data(data[offset : offset + 97])
        drain_tolerant(conn)
        assert conn.buffered <= 1024
    # Every byte is either still buffered, dropped, or part of a frame decoded into an event.
    assert conn.buffered + conn.discarded_bytes <= len(data)
