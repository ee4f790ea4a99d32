"""The DMX USB Pro codec: frames byte for byte from the widget API layout, reassembly and resynchronisation."""

from __future__ import annotations

import pytest

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.dmx import (
    MAX_FRAME,
    DmxConnection,
    Event,
    FirmwareVersion,
    Frame,
    GetSerialNumber,
    GetWidgetParameters,
    Label,
    ReceivedDmx,
    SendDmx,
    SerialNumber,
    SetWidgetParameters,
    WidgetMessage,
    WidgetParameters,
    levels_to_bytes,
)

# Typed from the layout in the widget API specification 1.44: 7E label len-LSB len-MSB data E7.
GET_PARAMS = bytes.fromhex("7E 03 02 00 00 00 E7")
GET_PARAMS_WITH_CONFIG = bytes.fromhex("7E 03 02 00 04 01 E7")  # 260 bytes of user configuration
PARAMS_REPLY = bytes.fromhex("7E 03 05 00 2C 01 09 01 28 E7")  # firmware 1.44, break 9, MAB 1, 40/s
SET_PARAMS = bytes.fromhex("7E 04 07 00 02 00 0A 02 1E AA BB E7")
GET_SERIAL = bytes.fromhex("7E 0A 00 00 E7")
SERIAL_REPLY = bytes.fromhex("7E 0A 04 00 78 56 34 12 E7")  # 12345678, lowest digit pair first
SEND_3 = bytes.fromhex("7E 06 19 00 00 FF 80 01") + bytes(21) + b"\xe7"  # 3 levels padded to 24
RECEIVED = bytes.fromhex("7E 05 05 00 00 00 0A 14 1E E7")


def drain(conn: DmxConnection) -> list[Event]:
    events: list[Event] = []
    while (event := conn.next_event()) is not NEED_DATA:
        events.append(event)
    return events


def host() -> DmxConnection:
    return DmxConnection(Role.HOST)


def widget() -> DmxConnection:
    return DmxConnection(Role.DEVICE)


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (GetWidgetParameters(), GET_PARAMS),
        (GetWidgetParameters(user_config_size=260), GET_PARAMS_WITH_CONFIG),
        (SetWidgetParameters(break_time=10, mab_time=2, output_rate=30, user_config=b"\xaa\xbb"), SET_PARAMS),
        (GetSerialNumber(), GET_SERIAL),
        (SendDmx(levels=b"\xff\x80\x01"), SEND_3),
    ],
)
def test_host_requests_go_out_byte_for_byte(event: Event, wire: bytes) -> None:
    assert host().send(event) == wire


@pytest.mark.parametrize(
    ("event", "wire"),
    [
        (
            WidgetParameters(firmware=FirmwareVersion(major=1, minor=44), break_time=9, mab_time=1, output_rate=40),
            PARAMS_REPLY,
        ),
        (SerialNumber(number=12345678), SERIAL_REPLY),
        (ReceivedDmx(levels=b"\x0a\x14\x1e"), RECEIVED),
    ],
)
def test_widget_replies_go_out_byte_for_byte_and_come_back_typed(event: Event, wire: bytes) -> None:
    assert widget().send(event) == wire
    receiver = host()
    receiver.receive_data(wire)
    assert drain(receiver) == [event]
    assert receiver.discarded_bytes == 0


def test_the_widget_decodes_each_request() -> None:
    receiver = widget()
    receiver.receive_data(GET_PARAMS + GET_PARAMS_WITH_CONFIG + SET_PARAMS + GET_SERIAL + SEND_3)
    assert drain(receiver) == [
        GetWidgetParameters(),
        GetWidgetParameters(user_config_size=260),
        SetWidgetParameters(break_time=10, mab_time=2, output_rate=30, user_config=b"\xaa\xbb"),
        GetSerialNumber(),
        SendDmx(levels=b"\xff\x80\x01" + bytes(21)),  # the widget sees the padding
    ]
    assert receiver.frames_in == 5


def test_a_full_universe_is_513_data_bytes() -> None:
    wire = host().send(SendDmx(levels=bytes(range(256)) * 2))
    assert wire[:4] == bytes.fromhex("7E 06 01 02") and len(wire) == 4 + 513 + 1
    assert wire[4] == 0 and wire[5:-1] == bytes(range(256)) * 2


def test_reply_values_read_as_documented() -> None:
    params = WidgetParameters.from_data(bytes.fromhex("2C 01 09 01 28"))
    assert str(params.firmware) == "1.44" and params.firmware.major == 1
    assert params.break_us == pytest.approx(96.03) and params.mab_us == pytest.approx(10.67)
    assert SerialNumber(number=42).text == "00000042"
    assert SerialNumber(number=42).data() == bytes.fromhex("42 00 00 00")
    status = ReceivedDmx(status=3)
    assert status.queue_overflow and status.overrun
    assert FirmwareVersion.parse("2.7") == FirmwareVersion(major=2, minor=7)


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([0, 255, 7], b"\x00\xff\x07"),
        ({1: 10, 4: 40}, b"\x0a\x00\x00\x28"),
        ({512: 1}, bytes(511) + b"\x01"),
        (b"\x01\x02", b"\x01\x02"),
    ],
)
def test_levels_by_sequence_or_by_1_based_channel(levels: dict[int, int] | list[int] | bytes, expected: bytes) -> None:
    assert levels_to_bytes(levels) == expected
    assert SendDmx.of(levels).levels == expected


@pytest.mark.parametrize(
    ("levels", "message"),
    [
        ([], "1..512 channels, got 0"),
        ({}, "1..512 channels, got 0"),
        ([0] * 513, "1..512 channels, got 513"),
        ([0, 256], "level of channel 2 must be an integer 0..255"),
        ([-1], "level of channel 1"),
        ([True], "level of channel 1"),
        ({0: 5}, "numbered from 1"),
        ({513: 5}, "numbered from 1"),
        ({3: 300}, "level of channel 3"),
    ],
)
def test_bad_levels_are_refused_with_a_clear_message(levels: dict[int, int] | list[int], message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        levels_to_bytes(levels)


def test_events_validate_on_construction() -> None:
    with pytest.raises(LocalProtocolError, match=r"break_time must be 9..127"):
        SetWidgetParameters(break_time=8)
    with pytest.raises(LocalProtocolError, match=r"output_rate must be 0..40"):
        SetWidgetParameters(output_rate=41)
    with pytest.raises(LocalProtocolError, match=r"user_config_size must be 0..508"):
        GetWidgetParameters(user_config_size=509)
    with pytest.raises(LocalProtocolError, match=r"1..512 channels"):
        SendDmx(levels=b"")
    with pytest.raises(LocalProtocolError, match=r"serial number"):
        SerialNumber(number=100_000_000)
    with pytest.raises(LocalProtocolError, match=r"longer than the 600"):
        Frame(label=6, data=bytes(601))


def test_roles_refuse_what_they_never_send() -> None:
    with pytest.raises(LocalProtocolError, match=r"the host does not send SerialNumber"):
        host().send(SerialNumber(number=1))
    with pytest.raises(LocalProtocolError, match=r"the device does not send SendDmx"):
        widget().send(SendDmx(levels=b"\x01"))
    # Raw messages go both ways.
    assert host().send(WidgetMessage(label=8, payload=b"\x01")) == bytes.fromhex("7E 08 01 00 01 E7")


def test_unknown_labels_come_out_raw_not_as_errors() -> None:
    receiver = host()
    receiver.receive_data(bytes.fromhex("7E 09 02 00 AB CD E7 7E 4D 00 00 E7"))
    events = drain(receiver)
    assert events == [WidgetMessage(label=9, payload=b"\xab\xcd"), WidgetMessage(label=0x4D)]
    assert isinstance(events[0], WidgetMessage) and events[0].known is Label.RECEIVED_DMX_CHANGE_OF_STATE
    assert receiver.protocol_errors == 0


@pytest.mark.parametrize("wire", [SERIAL_REPLY, PARAMS_REPLY, SEND_3 + GET_SERIAL])
def test_fragmented_at_every_split_point(wire: bytes) -> None:
    role = Role.DEVICE if wire[1] == Label.OUTPUT_ONLY_SEND_DMX else Role.HOST
    whole = DmxConnection(role)
    whole.receive_data(wire)
    expected = drain(whole)
    for split in range(1, len(wire)):
        receiver = DmxConnection(role)
        receiver.receive_data(wire[:split])
        first = drain(receiver)
        receiver.receive_data(wire[split:])
        assert first + drain(receiver) == expected, split
        assert receiver.discarded_bytes == 0 and receiver.buffered == 0


def test_byte_at_a_time_delivery() -> None:
    receiver = host()
    for index, byte in enumerate(SERIAL_REPLY):
        receiver.receive_data(bytes([byte]))
        assert (drain(receiver) != []) == (index == len(SERIAL_REPLY) - 1)


def test_garbage_before_a_frame_is_dropped_and_counted() -> None:
    receiver = host()
    receiver.receive_data(b"\x00\x55\xe7\x13")
    assert receiver.next_event() is NEED_DATA
    assert receiver.buffered == 0 and receiver.discarded_bytes == 4
    receiver.receive_data(b"\x99\x98" + SERIAL_REPLY + b"\x01")
    assert drain(receiver) == [SerialNumber(number=12345678)]
    assert receiver.discarded_bytes == 7
    assert receiver.protocol_errors == 0


def test_an_over_long_length_costs_one_byte_and_resyncs() -> None:
    receiver = host()
    receiver.receive_data(bytes.fromhex("7E 03 59 02") + SERIAL_REPLY)  # length 601
    with pytest.raises(RemoteProtocolError, match=r"data length 601 is over the maximum of 600") as info:
        receiver.next_event()
    assert info.value.discarded == 1
    assert drain(receiver) == [SerialNumber(number=12345678)]
    assert receiver.discarded_bytes == 4 and receiver.protocol_errors == 1


def test_a_missing_end_byte_drops_the_start_and_finds_the_next_frame() -> None:
    receiver = host()
    broken = SERIAL_REPLY[:-1] + b"\x00"
    receiver.receive_data(broken + PARAMS_REPLY)
    with pytest.raises(RemoteProtocolError, match=r"no end byte E7 after 4 data bytes") as info:
        receiver.next_event()
    assert info.value.discarded == 1
    assert drain(receiver) == [WidgetParameters.from_data(bytes.fromhex("2C 01 09 01 28"))]
    assert receiver.discarded_bytes == len(broken)


def test_a_truncated_frame_followed_by_a_good_one_yields_the_good_one() -> None:
    receiver = host()
    # The first reply lost its last three bytes: its "end" position lands inside the next frame.
    receiver.receive_data(SERIAL_REPLY[:-3] + SERIAL_REPLY)
    errors = 0
    events: list[Event] = []
    while True:
        try:
            event = receiver.next_event()
        except RemoteProtocolError:
            errors += 1
            continue
        if event is NEED_DATA:
            break
        events.append(event)
    assert events == [SerialNumber(number=12345678)] and errors == 1


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (bytes.fromhex("7E 0A 04 00 7A 56 34 12 E7"), "not BCD"),
        (bytes.fromhex("7E 0A 03 00 78 56 34 E7"), "carries 4 data bytes, got 3"),
        (bytes.fromhex("7E 03 04 00 2C 01 09 01 E7"), "at least 5 bytes"),
        (bytes.fromhex("7E 05 01 00 00 E7"), "status, a start code"),
    ],
)
def test_a_well_framed_but_malformed_reply_is_consumed_and_reported(wire: bytes, message: str) -> None:
    receiver = host()
    receiver.receive_data(wire + SERIAL_REPLY)
    with pytest.raises(RemoteProtocolError, match=message) as info:
        receiver.next_event()
    assert info.value.discarded == len(wire)
    assert drain(receiver) == [SerialNumber(number=12345678)]
    assert receiver.discarded_bytes == len(wire)


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (bytes.fromhex("7E 06 04 00 00 01 02 03 E7"), "start code and 24..512 levels, got 4 bytes"),
        (bytes.fromhex("7E 03 02 00 FD 01 E7"), "user_config_size must be 0..508"),
        (bytes.fromhex("7E 04 05 00 00 00 08 01 28 E7"), "break_time must be 9..127"),
        (bytes.fromhex("7E 04 06 00 02 00 09 01 28 00 E7"), "announces 2 configuration bytes, carries 1"),
        (bytes.fromhex("7E 0A 01 00 00 E7"), "carries 0 data bytes, got 1"),
    ],
)
def test_the_widget_reports_malformed_requests(wire: bytes, message: str) -> None:
    receiver = widget()
    receiver.receive_data(wire)
    with pytest.raises(RemoteProtocolError, match=message):
        receiver.next_event()
    assert receiver.next_event() is NEED_DATA and receiver.buffered == 0


def test_the_buffer_is_capped() -> None:
    with pytest.raises(LocalProtocolError, match=r"one whole frame"):
        DmxConnection(Role.HOST, buffer_cap=MAX_FRAME - 1)
    receiver = DmxConnection(Role.HOST, buffer_cap=MAX_FRAME)
    receiver.receive_data(bytes.fromhex("7E 03 58 02") + bytes(2000))  # a 600-byte frame that never ends
    assert receiver.buffered <= MAX_FRAME
    assert receiver.discarded_bytes + receiver.buffered == 2004


def test_clear_drops_a_late_reply() -> None:
    receiver = host()
    receiver.receive_data(SERIAL_REPLY[:6])
    receiver.clear()
    receiver.receive_data(SERIAL_REPLY[6:] + PARAMS_REPLY)
    assert [type(e) for e in drain(receiver)] == [WidgetParameters]
    assert receiver.discarded_bytes == len(SERIAL_REPLY)
