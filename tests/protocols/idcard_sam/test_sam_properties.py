"""Property tests of the SAM codec: round trips, and no byte stream makes it misbehave."""

from __future__ import annotations

import datetime
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import (
    LONG_TERM,
    MAX_BODY,
    PREAMBLE,
    TEXT_SIZE,
    CardText,
    Command,
    CommandCode,
    ExchangeState,
    ForeignPermanentResidentCard2017,
    ForeignPermanentResidentCard2023,
    ResidencePermitHMT,
    ResidentCard,
    Response,
    SamConnection,
    card_type_of,
    decode_text,
    parse_card_read,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Event = Command | Response

byte = st.integers(0, 0xFF)
commands = st.builds(Command, cmd=byte, para=byte, data=st.binary(max_size=300))
responses = st.builds(Response, sw1=byte, sw2=byte, sw3=byte, data=st.binary(max_size=300))
known_commands = st.sampled_from(list(CommandCode)).map(Command.of)


def frame_size(event: Event) -> int:
    """Bytes on the wire for an event: preamble, length, header bytes, data, checksum."""
    return 7 + (2 if isinstance(event, Command) else 3) + len(event.data) + 1


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given points (taken modulo its length)."""
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def drain(conn: SamConnection, limit: int) -> tuple[list[Event], int]:
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
        assert isinstance(event, (Command, Response))
        events.append(event)
    raise AssertionError(f"next_event did not settle within {limit} calls")


# -- (a) encode/decode round trips ------------------------------------------------------------


@FAST
@given(command=commands, cuts=st.lists(st.integers(0, 1000), max_size=6))
def test_command_round_trip_through_the_device(command: Command, cuts: list[int]) -> None:
    host = SamConnection(Role.HOST)
    device = SamConnection(Role.DEVICE)
    wire = host.send(command)
    assert len(wire) == frame_size(command)
    got: list[Event] = []
    for chunk in split(wire, cuts):
        device.receive_data(chunk)
        got += drain(device, 10)[0]
    assert got == [command]
    assert device.buffered == 0
    assert device.discarded_bytes == 0


@FAST
@given(command=commands, response=responses, cuts=st.lists(st.integers(0, 1000), max_size=6))
def test_response_round_trip_through_the_host(command: Command, response: Response, cuts: list[int]) -> None:
    host = SamConnection(Role.HOST)
    device = SamConnection(Role.DEVICE)
    host.send(command)
    wire = device.send(response)
    assert len(wire) == frame_size(response)
    got: list[Event] = []
    for chunk in split(wire, cuts):
        host.receive_data(chunk)
        got += drain(host, 10)[0]
    assert got == [response]
    assert isinstance(got[0], Response)
    assert got[0].command is command.code
    assert host.state is ExchangeState.IDLE


@FAST
@given(
    exchanges=st.lists(st.tuples(known_commands, responses), min_size=1, max_size=5),
    cuts=st.lists(st.integers(0, 5000), max_size=10),
)
def test_a_conversation_round_trips_in_both_directions(
    exchanges: list[tuple[Command, Response]], cuts: list[int]
) -> None:
    host = SamConnection(Role.HOST)
    device = SamConnection(Role.DEVICE)
    for command, response in exchanges:
        for chunk in split(host.send(command), cuts):
            device.receive_data(chunk)
        assert drain(device, 10) == ([command], 0)
        for chunk in split(device.send(response), cuts):
            host.receive_data(chunk)
        events, errors = drain(host, 10)
        assert (events, errors) == ([response], 0)
        assert isinstance(events[0], Response)
        assert events[0].command is command.code


# -- (b) arbitrary byte streams ----------------------------------------------------------------


@st.composite
def wire_pieces(draw: st.DrawFn) -> bytes:
    """One piece of a hostile stream: noise, or a real frame, whole, cut short or damaged."""
    kind = draw(st.sampled_from(["noise", "preamble", "whole", "truncated", "corrupted", "bad length"]))
    if kind == "noise":
        return draw(st.binary(max_size=40))
    if kind == "preamble":
        return PREAMBLE[: draw(st.integers(1, len(PREAMBLE)))]
    frame = draw(st.one_of(commands, responses)).to_bytes()
    if kind == "whole":
        return frame
    if kind == "truncated":
        return frame[: draw(st.integers(0, len(frame) - 1))]
    if kind == "bad length":
        return PREAMBLE + draw(st.integers(0, 0xFFFF)).to_bytes(2, "big") + frame[7:]
    damaged = bytearray(frame)
    damaged[draw(st.integers(0, len(frame) - 1))] ^= draw(st.integers(1, 0xFF))
    return bytes(damaged)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    role=st.sampled_from(Role),
    pieces=st.lists(wire_pieces(), max_size=12),
    cuts=st.lists(st.integers(0, 20000), max_size=12),
    sends=st.lists(st.booleans(), max_size=12),
    small_cap=st.booleans(),
)
def test_any_stream_yields_only_events_need_data_or_remote_errors(
    role: Role, pieces: list[bytes], cuts: list[int], sends: list[bool], small_cap: bool
) -> None:
    stream = b"".join(pieces)
    conn = SamConnection(role, buffer_cap=7 + MAX_BODY) if small_cap else SamConnection(role)
    decoded = 0
    errors = 0
    for i, chunk in enumerate(split(stream, cuts)):
        if role is Role.HOST and conn.state is ExchangeState.IDLE and (sends[i] if i < len(sends) else True):
            conn.send(Command.of(CommandCode.READ_TEXT_PHOTO))
        discarded_before, errors_before = conn.discarded_bytes, conn.protocol_errors
        conn.receive_data(chunk)
        assert conn.buffered <= conn.buffer_cap
        # Every call consumes at least one byte or settles, so len(stream) + 1 calls are plenty.
        events, chunk_errors = drain(conn, len(stream) + 2)
        errors += chunk_errors
        assert conn.discarded_bytes >= discarded_before
        assert conn.protocol_errors == errors_before + chunk_errors
        for event in events:
            assert isinstance(event, Response if role is Role.HOST else Command)
            # Bytes only ever leave the front of the buffer, so every frame is a piece of the stream.
            assert event.to_bytes() in stream
            decoded += frame_size(event)
    assert conn.protocol_errors == errors
    # Every byte fed is accounted for: decoded, dropped (and counted), or still buffered.
    assert decoded + conn.discarded_bytes + conn.buffered == len(stream)


@FAST
@given(
    frames=st.lists(commands, max_size=6),
    gaps=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\xaa", b"\x55")), min_size=7, max_size=7),
    cuts=st.lists(st.integers(0, 5000), max_size=10),
)
def test_noise_without_a_sync_byte_never_costs_a_frame(
    frames: list[Command], gaps: list[bytes], cuts: list[int]
) -> None:
    stream = gaps[0] + b"".join(f.to_bytes() + gap for f, gap in zip(frames, gaps[1:], strict=False))
    device = SamConnection(Role.DEVICE)
    got: list[Event] = []
    for chunk in split(stream, cuts):
        device.receive_data(chunk)
        events, errors = drain(device, len(stream) + 2)
        assert errors == 0
        got += events
    assert got == frames
    assert device.discarded_bytes + device.buffered == sum(len(g) for g in gaps[: len(frames) + 1])


@FAST
@given(st.binary(min_size=TEXT_SIZE, max_size=TEXT_SIZE))
def test_any_text_block_decodes_or_is_a_remote_error(block: bytes) -> None:
    try:
        card = decode_text(block)
    except RemoteProtocolError:
        return
    assert card.card_type is card_type_of(block)


@FAST
@given(
    data=st.one_of(
        st.binary(max_size=40),
        st.tuples(
            st.sampled_from([b"\x01\x00\x04\x00", b"\x01\x00\x04\x00\x02\x00", b"\x01\x00\x04\x00\x04\x00"]),
            st.integers(1270, 2310),
        ).map(lambda t: t[0] + bytes(t[1])),
    ),
    with_fingerprint=st.booleans(),
)
def test_any_card_read_parses_or_is_a_remote_error(data: bytes, with_fingerprint: bool) -> None:
    try:
        read = parse_card_read(data, with_fingerprint=with_fingerprint)
    except RemoteProtocolError:
        return
    assert len(read.text) + len(read.photo) + len(read.fingerprint) + (6 if with_fingerprint else 4) == len(data)


# -- (c) card fields through the text layouts --------------------------------------------------

# Any UCS-2 character (the BMP without surrogates). Trailing blanks are padding on the card,
# so a value that ends in one cannot come back; hypothesis values are trimmed the same way.
ucs2_char = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])


def text(chars: int) -> st.SearchStrategy[str]:
    return st.text(ucs2_char, max_size=chars).map(lambda s: s.rstrip(" \x00"))


dates = st.dates(min_value=datetime.date(1, 1, 1)).map(lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}")
end_dates = st.one_of(dates, st.just(LONG_TERM))

resident_cards = st.builds(
    ResidentCard,
    name=text(15),
    sex_code=text(1),
    nation_code=text(2),
    birth_date=dates,
    address=text(35),
    id_number=text(18),
    issuing_authority=text(15),
    valid_from=dates,
    valid_until=end_dates,
)
foreign_2017_cards = st.builds(
    ForeignPermanentResidentCard2017,
    english_name=text(60),
    sex_code=text(1),
    card_number=text(15),
    nationality=text(3),
    chinese_name=text(15),
    valid_from=dates,
    valid_until=end_dates,
    birth_date=dates,
    card_version=text(2),
    authority_code=text(4),
)
foreign_2023_cards = st.builds(
    ForeignPermanentResidentCard2023,
    chinese_name=text(15),
    sex_code=text(1),
    renewal_count=text(2),
    birth_date=dates,
    english_name=text(46),
    card_number=text(18),
    valid_from=dates,
    valid_until=end_dates,
    nationality=text(3),
    previous_card_link=text(3),
)
hmt_cards = st.builds(
    ResidencePermitHMT,
    name=text(15),
    sex_code=text(1),
    birth_date=dates,
    address=text(35),
    id_number=text(18),
    issuing_authority=text(15),
    valid_from=dates,
    valid_until=end_dates,
    travel_permit_number=text(9),
    issue_count=text(2),
)

MARKERS: dict[type, bytes] = {
    ResidentCard: " ".encode("utf-16-le"),
    ForeignPermanentResidentCard2017: b"I\x00",
    ForeignPermanentResidentCard2023: b"Y\x00",
    ResidencePermitHMT: b"J\x00",
}


@settings(max_examples=300, deadline=None)
@given(card=st.one_of(resident_cards, foreign_2017_cards, foreign_2023_cards, hmt_cards))
def test_card_fields_round_trip_through_the_text_block(card: CardText) -> None:
    block = card.to_text_block()
    assert len(block) == TEXT_SIZE
    assert block[248:250] == MARKERS[type(card)]
    assert decode_text(block) == card
