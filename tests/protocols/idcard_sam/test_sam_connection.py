"""The SAM connection: reference responses (section 1.4), the exchange table, resynchronisation."""

from __future__ import annotations

import functools
import operator

import pytest

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import (
    FIND_CARD_DATA,
    HOST_TRANSITIONS,
    MAX_BODY,
    PREAMBLE,
    SELECT_CARD_DATA,
    CardRead,
    Command,
    CommandCode,
    ExchangeState,
    ResidentCard,
    Response,
    SamConnection,
    SamId,
    Status,
    build_card_read,
    decode_text,
    parse_card_read,
    parse_sam_id,
)
from hallgw_protocols.idcard_sam.connection import DEFAULT_BUFFER_CAP, ExchangeInput


def chk(data: bytes) -> int:
    """Checksum worked out here, independently of the codec."""
    return functools.reduce(operator.xor, data, 0)


def host_awaiting(code: CommandCode) -> SamConnection:
    host = SamConnection(Role.HOST)
    host.send(Command.of(code))
    return host


def receive_one(conn: SamConnection, data: bytes) -> Command | Response:
    conn.receive_data(data)
    event = conn.next_event()
    assert isinstance(event, (Command, Response)), event
    return event


CARD = ResidentCard(
    name="测试样例",
    sex_code="2",
    nation_code="01",
    birth_date="19900307",
    address="示例省示例市示例路1号",
    id_number="11010519900307002X",
    issuing_authority="示例市公安局",
    valid_from="20200101",
    valid_until="20400101",
)
# Made-up WLT bytes with the preamble planted inside, as real photo data may carry it.
PHOTO = (bytes(range(256)) * 4)[:1000] + PREAMBLE * 4 + bytes(4)


# -- reference responses (1.4) ----------------------------------------------------------------

REFERENCE_RESPONSES: list[tuple[str, CommandCode, str, int, bytes]] = [
    ("generic ok", CommandCode.SAM_STATUS, "AA AA AA 96 69 00 04 00 00 90 94", 0x90, b""),
    ("reset ok", CommandCode.RESET_SAM, "AA AA AA 96 69 00 04 00 00 90 94", 0x90, b""),
    ("self-test failed", CommandCode.SAM_STATUS, "AA AA AA 96 69 00 04 00 00 60 64", 0x60, b""),
    ("find card ok", CommandCode.FIND_CARD, "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", 0x9F, FIND_CARD_DATA),
    ("no card", CommandCode.FIND_CARD, "AA AA AA 96 69 00 04 00 00 80 84", 0x80, b""),
    (
        "select ok",
        CommandCode.SELECT_CARD,
        "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C",
        0x90,
        SELECT_CARD_DATA,
    ),
    ("select failed", CommandCode.SELECT_CARD, "AA AA AA 96 69 00 04 00 00 81 85", 0x81, b""),
    ("read failed", CommandCode.READ_TEXT_PHOTO, "AA AA AA 96 69 00 04 00 00 41 45", 0x41, b""),
]


@pytest.mark.parametrize(
    ("code", "frame_hex", "sw3", "data"), [r[1:] for r in REFERENCE_RESPONSES], ids=[r[0] for r in REFERENCE_RESPONSES]
)
def test_host_decodes_reference_response(code: CommandCode, frame_hex: str, sw3: int, data: bytes) -> None:
    frame = bytes.fromhex(frame_hex)
    host = host_awaiting(code)
    event = receive_one(host, frame)
    assert isinstance(event, Response)
    assert (event.sw1, event.sw2, event.sw3, event.data) == (0, 0, sw3, data)
    assert event.status == Status(sw3)
    assert event.ok == (sw3 in (0x90, 0x9F))
    assert event.command is code
    assert host.state is ExchangeState.IDLE
    assert host.pending is None
    # The device side builds the very same bytes.
    assert SamConnection(Role.DEVICE).send(Response(sw3=sw3, data=data)) == frame


def test_error_status_with_nonzero_sw1_sw2_is_accepted() -> None:
    # Section 1.5: on some errors SW1/SW2 carry the card's status; do not require zeros.
    host = host_awaiting(CommandCode.READ_TEXT_PHOTO)
    body = bytes.fromhex("00 04 6A 82 41")
    event = receive_one(host, PREAMBLE + body + bytes([chk(body)]))
    assert isinstance(event, Response)
    assert (event.sw1, event.sw2, event.status) == (0x6A, 0x82, Status.READ_FAILED)


def test_sam_id_response_is_27_bytes() -> None:
    sam_id = SamId.from_parts(5, 1, 20230101, 123456789, 987654321)
    frame = SamConnection(Role.DEVICE).send(Response(sw3=0x90, data=sam_id.raw))
    assert len(frame) == 27
    assert frame[:10] == bytes.fromhex("AA AA AA 96 69 00 14 00 00 90")
    assert frame[10:26] == bytes.fromhex("0500 0100 D5AF3401 15CD5B07 B168DE3A")
    assert frame[26] == chk(frame[5:26])

    host = host_awaiting(CommandCode.READ_SAM_ID)
    event = receive_one(host, frame)
    assert isinstance(event, Response)
    assert event.command is CommandCode.READ_SAM_ID
    parsed = parse_sam_id(event.data)
    assert parsed == sam_id
    assert parsed.parts == (5, 1, 20230101, 123456789, 987654321)


def test_text_photo_read_is_1295_bytes_at_reference_offsets() -> None:
    text = CARD.to_text_block()
    data = build_card_read(CardRead(text=text, photo=PHOTO), with_fingerprint=False)
    frame = SamConnection(Role.DEVICE).send(Response(sw3=0x90, data=data))

    assert len(frame) == 1295
    assert frame[0:5] == PREAMBLE
    assert frame[5:7] == bytes.fromhex("05 08")
    assert frame[7:10] == bytes.fromhex("00 00 90")
    assert frame[10:12] == bytes.fromhex("01 00")
    assert frame[12:14] == bytes.fromhex("04 00")
    assert frame[14:270] == text
    assert frame[270:1294] == PHOTO
    assert frame[1294] == chk(frame[5:1294])

    host = host_awaiting(CommandCode.READ_TEXT_PHOTO)
    event = receive_one(host, frame)
    assert isinstance(event, Response)
    assert event.ok
    assert event.command is CommandCode.READ_TEXT_PHOTO
    read = parse_card_read(event.data, with_fingerprint=False)
    assert (read.text, read.photo, read.fingerprint) == (text, PHOTO, b"")
    assert decode_text(read.text) == CARD


@pytest.mark.parametrize(
    ("fp_size", "length_hex", "total"), [(1024, "09 0A", 2321), (512, "07 0A", 1809), (0, "05 0A", 1297)]
)
def test_text_photo_fingerprint_read_sizes_and_offsets(fp_size: int, length_hex: str, total: int) -> None:
    text = CARD.to_text_block()
    fingerprint = bytes((i * 7 + 3) & 0xFF for i in range(fp_size))
    data = build_card_read(CardRead(text=text, photo=PHOTO, fingerprint=fingerprint), with_fingerprint=True)
    frame = SamConnection(Role.DEVICE).send(Response(sw3=0x90, data=data))

    assert len(frame) == total
    assert frame[5:7] == bytes.fromhex(length_hex)
    assert frame[7:10] == bytes.fromhex("00 00 90")
    assert frame[10:12] == bytes.fromhex("01 00")
    assert frame[12:14] == bytes.fromhex("04 00")
    assert frame[14:16] == fp_size.to_bytes(2, "big")
    assert frame[16:272] == text
    assert frame[272:1296] == PHOTO
    assert frame[1296:-1] == fingerprint
    assert frame[-1] == chk(frame[5:-1])

    host = host_awaiting(CommandCode.READ_TEXT_PHOTO_FINGERPRINT)
    event = receive_one(host, frame)
    assert isinstance(event, Response)
    read = parse_card_read(event.data, with_fingerprint=True)
    assert (read.text, read.photo, read.fingerprint) == (text, PHOTO, fingerprint)


# -- the exchange table ---------------------------------------------------------------------------


def ok_frame() -> bytes:
    return Response(sw3=0x90).to_bytes()


def put_in(state: ExchangeState) -> SamConnection:
    host = SamConnection(Role.HOST)
    if state is ExchangeState.AWAITING_RESPONSE:
        host.send(Command.of(CommandCode.SAM_STATUS))
    assert host.state is state
    return host


def apply_input(host: SamConnection, what: ExchangeInput) -> None:
    """Drive one table input through the public API only."""
    if what is ExchangeInput.SEND_COMMAND:
        host.send(Command.of(CommandCode.FIND_CARD))
    elif what is ExchangeInput.RECEIVE_RESPONSE:
        host.receive_data(ok_frame())
        event = host.next_event()
        assert isinstance(event, Response)
    else:
        host.abandon()


ALL_PAIRS = [(s, i) for s in ExchangeState for i in ExchangeInput]


@pytest.mark.parametrize(("state", "what"), ALL_PAIRS, ids=[f"{s.value}-{i.value}" for s, i in ALL_PAIRS])
def test_every_state_input_pair(state: ExchangeState, what: ExchangeInput) -> None:
    host = put_in(state)
    if (state, what) in HOST_TRANSITIONS:
        apply_input(host, what)
        assert host.state is HOST_TRANSITIONS[(state, what)]
        return
    expected: type[Exception] = RemoteProtocolError if what is ExchangeInput.RECEIVE_RESPONSE else LocalProtocolError
    with pytest.raises(expected):
        apply_input(host, what)
    assert host.state is state  # a refused input changes nothing


def test_table_has_exactly_the_documented_missing_pairs() -> None:
    missing = set(ALL_PAIRS) - set(HOST_TRANSITIONS)
    assert missing == {
        (ExchangeState.AWAITING_RESPONSE, ExchangeInput.SEND_COMMAND),
        (ExchangeState.IDLE, ExchangeInput.RECEIVE_RESPONSE),
    }


def test_second_command_while_one_is_outstanding_is_a_local_error() -> None:
    host = host_awaiting(CommandCode.FIND_CARD)
    with pytest.raises(LocalProtocolError):
        host.send(Command.of(CommandCode.SELECT_CARD))
    assert host.pending is CommandCode.FIND_CARD
    # The answer still goes to the first command.
    event = receive_one(host, Response(sw3=0x9F, data=FIND_CARD_DATA).to_bytes())
    assert isinstance(event, Response)
    assert event.command is CommandCode.FIND_CARD


def test_unsolicited_response_is_a_remote_error_and_the_link_still_works() -> None:
    host = SamConnection(Role.HOST)
    frame = ok_frame()
    host.receive_data(frame)
    with pytest.raises(RemoteProtocolError) as info:
        host.next_event()
    assert info.value.discarded == len(frame)
    assert host.protocol_errors == 1
    assert host.discarded_bytes == len(frame)
    assert host.buffered == 0
    assert host.state is ExchangeState.IDLE

    host.send(Command.of(CommandCode.FIND_CARD))
    event = receive_one(host, bytes.fromhex("AA AA AA 96 69 00 04 00 00 80 84"))
    assert isinstance(event, Response)
    assert event.status is Status.FIND_CARD_FAILED
    assert event.command is CommandCode.FIND_CARD


def test_abandon_drops_buffered_bytes_and_allows_a_new_command() -> None:
    host = host_awaiting(CommandCode.READ_TEXT_PHOTO)
    late = Response(sw3=0x41).to_bytes()
    host.receive_data(late[:6])
    assert host.next_event() is NEED_DATA
    host.abandon()
    assert host.state is ExchangeState.IDLE
    assert host.pending is None
    assert host.buffered == 0
    assert host.discarded_bytes == 6

    host.send(Command.of(CommandCode.SAM_STATUS))
    # The rest of the late frame has no preamble: it cannot become the status answer.
    host.receive_data(late[6:])
    assert host.next_event() is NEED_DATA
    event = receive_one(host, ok_frame())
    assert isinstance(event, Response)
    assert event.command is CommandCode.SAM_STATUS


def test_abandon_while_idle_is_allowed() -> None:
    host = SamConnection(Role.HOST)
    host.abandon()
    assert host.state is ExchangeState.IDLE


def test_device_abandon_clears_the_buffer() -> None:
    device = SamConnection(Role.DEVICE)
    device.receive_data(Command.of(CommandCode.FIND_CARD).to_bytes()[:8])
    device.abandon()
    assert device.buffered == 0


def test_device_refuses_to_send_commands() -> None:
    with pytest.raises(LocalProtocolError):
        SamConnection(Role.DEVICE).send(Command.of(CommandCode.FIND_CARD))


def test_host_refuses_to_send_responses() -> None:
    host = SamConnection(Role.HOST)
    with pytest.raises(LocalProtocolError):
        host.send(Response(sw3=0x90))
    assert host.state is ExchangeState.IDLE


def test_device_answers_any_number_of_commands() -> None:
    device = SamConnection(Role.DEVICE)
    device.receive_data(Command.of(CommandCode.FIND_CARD).to_bytes() + Command.of(CommandCode.SELECT_CARD).to_bytes())
    first, second = device.next_event(), device.next_event()
    assert isinstance(first, Command)
    assert isinstance(second, Command)
    assert (first.code, second.code) == (CommandCode.FIND_CARD, CommandCode.SELECT_CARD)
    assert device.send(Response(sw3=0x9F, data=FIND_CARD_DATA))
    assert device.send(Response(sw3=0x90, data=SELECT_CARD_DATA))


def test_buffer_cap_below_one_frame_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        SamConnection(Role.HOST, buffer_cap=7 + MAX_BODY - 1)
    assert SamConnection(Role.HOST, buffer_cap=7 + MAX_BODY).buffer_cap == 7 + MAX_BODY


# -- resynchronisation ----------------------------------------------------------------------------


def big_read_frame() -> bytes:
    data = build_card_read(CardRead(text=CARD.to_text_block(), photo=PHOTO), with_fingerprint=False)
    return Response(sw3=0x90, data=data).to_bytes()


def test_garbage_before_a_frame_is_dropped_and_counted() -> None:
    host = host_awaiting(CommandCode.SAM_STATUS)
    garbage = b"\x00\xff\xaa\x96\x69\xaa\xaa\x13"
    event = receive_one(host, garbage + ok_frame())
    assert isinstance(event, Response)
    assert event.status is Status.OK
    assert host.discarded_bytes == len(garbage)
    assert host.protocol_errors == 0


def test_garbage_without_preamble_is_dropped_but_a_possible_preamble_start_is_kept() -> None:
    host = host_awaiting(CommandCode.SAM_STATUS)
    host.receive_data(b"\x01\x02\x03\xaa\xaa\xaa\x96")
    assert host.next_event() is NEED_DATA
    assert host.buffered == 4
    assert host.discarded_bytes == 3
    event = receive_one(host, ok_frame()[4:])
    assert isinstance(event, Response)


@pytest.mark.parametrize("split", range(1, 11))
def test_preamble_and_header_split_across_reads(split: int) -> None:
    host = host_awaiting(CommandCode.SAM_STATUS)
    frame = ok_frame()
    host.receive_data(b"\x55" + frame[:split])
    assert host.next_event() is NEED_DATA
    event = receive_one(host, frame[split:])
    assert event == Response(sw3=0x90)


def test_byte_at_a_time_delivery_of_a_whole_read() -> None:
    frame = big_read_frame()
    host = host_awaiting(CommandCode.READ_TEXT_PHOTO)
    events: list[Command | Response] = []
    for i in range(len(frame)):
        host.receive_data(frame[i : i + 1])
        event = host.next_event()
        if event is not NEED_DATA:
            assert not isinstance(event, type(NEED_DATA))
            events.append(event)
            assert i == len(frame) - 1
    assert len(events) == 1
    assert isinstance(events[0], Response)
    assert parse_card_read(events[0].data, with_fingerprint=False).photo == PHOTO
    assert host.discarded_bytes == 0


def test_preamble_inside_photo_data_does_not_break_framing() -> None:
    frame = big_read_frame()
    assert frame.count(PREAMBLE) > 1  # the photo carries the preamble too
    host = host_awaiting(CommandCode.READ_TEXT_PHOTO)
    event = receive_one(host, frame)
    assert isinstance(event, Response)
    assert len(event.data) == 4 + 256 + 1024
    assert host.discarded_bytes == 0
    assert host.protocol_errors == 0


def test_bad_checksum_then_a_good_frame() -> None:
    host = host_awaiting(CommandCode.SAM_STATUS)
    bad = bytearray(ok_frame())
    bad[-1] ^= 0x01
    host.receive_data(bytes(bad) + ok_frame())
    with pytest.raises(RemoteProtocolError, match="checksum") as info:
        host.next_event()
    assert info.value.discarded > 0
    assert host.state is ExchangeState.AWAITING_RESPONSE  # still waiting for the real answer
    event = host.next_event()
    assert event == Response(sw3=0x90)
    assert host.protocol_errors == 1
    assert host.discarded_bytes == len(bad)
    assert host.next_event() is NEED_DATA


def test_corrupted_payload_byte_is_detected() -> None:
    frame = bytearray(big_read_frame())
    frame[700] ^= 0x40
    host = host_awaiting(CommandCode.READ_TEXT_PHOTO)
    host.receive_data(bytes(frame))
    with pytest.raises(RemoteProtocolError):
        host.next_event()
    # No valid frame is left; everything is eventually dropped.
    while True:
        try:
            if host.next_event() is NEED_DATA:
                break
        except RemoteProtocolError:
            continue
    assert host.state is ExchangeState.AWAITING_RESPONSE


@pytest.mark.parametrize(
    ("role", "length"),
    [(Role.HOST, 0xFFFF), (Role.HOST, MAX_BODY + 1), (Role.HOST, 3), (Role.HOST, 0), (Role.DEVICE, 2)],
)
def test_absurd_length_field_is_rejected_at_once(role: Role, length: int) -> None:
    conn = SamConnection(role)
    if role is Role.HOST:
        conn.send(Command.of(CommandCode.SAM_STATUS))
    good = ok_frame() if role is Role.HOST else Command.of(CommandCode.SAM_STATUS).to_bytes()
    conn.receive_data(PREAMBLE + length.to_bytes(2, "big") + good)
    with pytest.raises(RemoteProtocolError, match="length") as info:
        conn.next_event()  # no waiting for 64 KiB that will never come
    assert info.value.discarded > 0
    event = conn.next_event()
    assert isinstance(event, Response if role is Role.HOST else Command)
    assert conn.discarded_bytes == 7
    assert conn.protocol_errors == 1


@pytest.mark.parametrize("cap", [7 + MAX_BODY, DEFAULT_BUFFER_CAP])
def test_buffer_never_exceeds_its_cap(cap: int) -> None:
    host = SamConnection(Role.HOST, buffer_cap=cap)
    host.send(Command.of(CommandCode.READ_TEXT_PHOTO))
    # A false preamble announcing the largest frame, then a flood that never completes it.
    host.receive_data(PREAMBLE + MAX_BODY.to_bytes(2, "big"))
    for _ in range(20):
        host.receive_data(b"\x11" * 1000)
        assert host.buffered <= cap
    assert host.discarded_bytes == 20 * 1000 + 7 - host.buffered
    assert host.buffered == min(cap, 20 * 1000 + 7)


def test_buffer_cap_holds_while_the_reader_keeps_up() -> None:
    cap = DEFAULT_BUFFER_CAP
    host = SamConnection(Role.HOST, buffer_cap=cap)
    host.send(Command.of(CommandCode.READ_TEXT_PHOTO))
    errors = 0
    for i in range(30):
        host.receive_data(PREAMBLE + MAX_BODY.to_bytes(2, "big") + bytes([i]) * 997)
        assert host.buffered <= cap
        while True:
            try:
                if host.next_event() is NEED_DATA:
                    break
            except RemoteProtocolError:
                errors += 1
        assert host.buffered <= cap
    assert errors > 0
    assert host.protocol_errors == errors


def test_one_oversized_chunk_keeps_only_the_newest_bytes() -> None:
    cap = 7 + MAX_BODY
    host = SamConnection(Role.HOST, buffer_cap=cap)
    host.send(Command.of(CommandCode.SAM_STATUS))
    host.receive_data(b"\x22" * (3 * cap) + ok_frame())
    assert host.buffered == cap
    assert host.discarded_bytes == 3 * cap + len(ok_frame()) - cap
    event = host.next_event()
    assert event == Response(sw3=0x90)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1000])
def test_stream_of_mixed_faults_recovers_every_good_frame(chunk: int) -> None:
    good = [Command(cmd=0x20, para=p) for p in range(1, 6)]
    bad_chk = bytearray(good[0].to_bytes())
    bad_chk[-1] ^= 0xFF
    stream = (
        b"\x00\x13"
        + good[0].to_bytes()
        + bytes(bad_chk)
        + good[1].to_bytes()
        + PREAMBLE
        + b"\xff\xff"
        + good[2].to_bytes()
        + b"\xaa\xaa\xaa"
        + good[3].to_bytes()
        + good[4].to_bytes()
    )
    device = SamConnection(Role.DEVICE)
    got: list[Command | Response] = []
    errors = 0
    for i in range(0, len(stream), chunk):
        device.receive_data(stream[i : i + chunk])
        while True:
            try:
                event = device.next_event()
            except RemoteProtocolError:
                errors += 1
                continue
            if event is NEED_DATA:
                break
            assert not isinstance(event, type(NEED_DATA))
            got.append(event)
    assert got == good
    assert errors == 2
    assert device.protocol_errors == 2
    assert device.discarded_bytes == 2 + len(bad_chk) + 7 + 3
