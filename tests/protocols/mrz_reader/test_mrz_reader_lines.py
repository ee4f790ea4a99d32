"""The MRZ reader line codec: framings, every error, split feeds and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.icao9303 import MrzFormat, parse_mrz
from hallgw_protocols.mrz_reader import (
    MAX_LINE,
    Framing,
    MrzEvent,
    MrzLineCollector,
    MrzReadError,
    MrzScan,
    encode_lines,
    encode_scan,
)

# ICAO Doc 9303 specimens (Utopia): not a person.
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
TD2 = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)


def feed_all(collector: MrzLineCollector, data: bytes, now: float = 0.0) -> list[MrzEvent]:
    return collector.feed(data, now)


def scans(events: list[MrzEvent]) -> list[tuple[str, ...]]:
    return [e.lines for e in events if isinstance(e, MrzScan)]


def errors(events: list[MrzEvent]) -> list[str]:
    return [e.message for e in events if isinstance(e, MrzReadError)]


@pytest.mark.parametrize("framing", list(Framing))
@pytest.mark.parametrize(("lines", "fmt"), [(TD3, MrzFormat.TD3), (TD1, MrzFormat.TD1), (TD2, MrzFormat.TD2)])
def test_every_framing_and_format(framing: Framing, lines: tuple[str, ...], fmt: MrzFormat) -> None:
    collector = MrzLineCollector()
    events = collector.feed(encode_scan(lines, framing=framing), 0.0)
    assert len(events) == 1
    scan = events[0]
    assert isinstance(scan, MrzScan)
    assert scan.lines == lines
    assert scan.format is fmt
    assert scan.text == "\n".join(lines)
    assert collector.scans == 1
    assert not collector.busy


def test_encoded_bytes() -> None:
    assert encode_scan(TD3, framing=Framing.CR) == f"{TD3[0]}\r{TD3[1]}\r".encode()
    assert encode_scan(TD3, framing=Framing.CRLF) == f"{TD3[0]}\r\n{TD3[1]}\r\n".encode()
    assert encode_scan(TD3, framing=Framing.LF) == f"{TD3[0]}\n{TD3[1]}\n".encode()
    assert encode_scan(TD3, framing=Framing.STX_ETX) == f"\x02{TD3[0]}\r{TD3[1]}\r\x03".encode()
    assert encode_lines(TD3[:1], framing=Framing.STX_ETX, close=False) == f"\x02{TD3[0]}\r".encode()


def test_the_specimen_parses_with_the_icao_codec() -> None:
    (scan,) = MrzLineCollector().feed(encode_scan(TD3), 0.0)
    assert isinstance(scan, MrzScan)
    assert parse_mrz(scan.text).format is MrzFormat.TD3


def test_padding_is_tolerated() -> None:
    data = b"\x00\x00  \x02 \t" + TD1[0].encode() + b"  \r\n\r\n\t" + TD1[1].encode() + b"\n\x00\n"
    data += b"   " + TD1[2].encode() + b"\t\r\x03\x00"
    events = MrzLineCollector().feed(data, 0.0)
    assert scans(events) == [TD1]
    assert errors(events) == []


def test_repr_never_shows_the_text() -> None:
    (scan,) = MrzLineCollector().feed(encode_scan(TD3), 0.0)
    assert repr(scan) == "MrzScan(TD3, 2 lines)"
    assert all(line not in repr(scan) and line[:10] not in repr(scan) for line in TD3)


def test_wrong_width_of_a_later_line() -> None:
    events = MrzLineCollector().feed(f"{TD3[0]}\r{TD3[1][:43]}\r".encode(), 0.0)
    assert errors(events) == ["line 2 has 43 characters; a TD3 line has 44"]
    assert isinstance(events[0], MrzReadError)
    assert events[0].discarded == 44 + 43


def test_wrong_width_of_the_first_line() -> None:
    events = MrzLineCollector().feed(b"ABC<<123\r", 0.0)
    assert errors(events) == ["line 1 has 8 characters; an MRZ line has 30 (TD1), 36 (TD2), 44 (TD3)"]


def test_characters_outside_the_alphabet() -> None:
    collector = MrzLineCollector()
    events = collector.feed(f"{TD3[0]}\r{TD3[1].lower()}\r".encode(), 0.0)
    assert errors(events) == ["line 2 has characters outside the MRZ alphabet (A-Z, 0-9, <)"]
    # The collector starts afresh: the next read is whole.
    assert scans(collector.feed(encode_scan(TD3), 0.1)) == [TD3]
    assert collector.errors == 1


def test_error_messages_hold_no_mrz_text() -> None:
    collector = MrzLineCollector()
    events = collector.feed(f"{TD3[0]}\r{TD3[1][:40]}é\r{TD3[0][:20]}\r".encode(), 0.0)
    events += collector.feed(TD3[0].encode() + b"\r", 0.5) + collector.expire(5.0)
    assert len(errors(events)) == 3
    for message in errors(events):
        assert not any(part in message for line in TD3 for part in (line[:8], line[5:13], line[-8:]))


def test_partial_read_then_silence() -> None:
    collector = MrzLineCollector(line_gap=0.5)
    assert collector.feed(TD3[0].encode() + b"\r", 10.0) == []
    assert collector.expire(10.4) == []
    assert collector.busy
    events = collector.expire(10.8)
    assert errors(events) == ["partial read: 1 of 2 lines, then 0.8 s of silence"]
    assert not collector.busy
    assert collector.expire(20.0) == []


def test_partial_read_noticed_by_the_next_feed() -> None:
    collector = MrzLineCollector()
    collector.feed(TD1[0].encode() + b"\r" + TD1[1].encode() + b"\r", 0.0)
    events = collector.feed(encode_scan(TD3), 3.0)
    assert errors(events) == ["partial read: 2 of 3 lines, then 3.0 s of silence"]
    assert scans(events) == [TD3]


def test_a_last_line_without_its_line_end_counts_after_the_gap() -> None:
    collector = MrzLineCollector()
    assert collector.feed(f"{TD3[0]}\r{TD3[1]}".encode(), 0.0) == []
    assert scans(collector.expire(1.5)) == [TD3]


def test_etx_and_stx_cut_a_partial_read() -> None:
    collector = MrzLineCollector()
    events = collector.feed(f"\x02{TD3[0]}\r\x03".encode(), 0.0)
    assert errors(events) == ["partial read: 1 of 2 lines before the end of the read (ETX)"]
    events = collector.feed(f"\x02{TD3[0]}\r".encode() + encode_scan(TD3, framing=Framing.STX_ETX), 0.1)
    assert errors(events) == ["partial read: 1 of 2 lines, then a new read began (STX)"]
    assert scans(events) == [TD3]


def test_over_long_line_is_dropped_and_the_buffer_stays_capped() -> None:
    collector = MrzLineCollector()
    events = collector.feed(b"A" * (MAX_LINE + 1), 0.0)
    assert errors(events) == [f"a line ran past {MAX_LINE} bytes without a line end; dropped it"]
    assert collector.buffered == 0
    assert collector.feed(b"B" * 10_000, 0.1) == []  # the rest of it, up to its line end
    assert collector.buffered == 0
    assert scans(collector.feed(b"\r" + encode_scan(TD3), 0.2)) == [TD3]


def test_split_at_every_byte_boundary() -> None:
    for framing in Framing:
        data = encode_scan(TD1, framing=framing) + encode_scan(TD3, framing=framing)
        for cut in range(len(data) + 1):
            collector = MrzLineCollector()
            events = collector.feed(data[:cut], 0.0) + collector.feed(data[cut:], 0.1)
            assert scans(events) == [TD1, TD3], (framing, cut)
            assert errors(events) == []


def test_byte_by_byte() -> None:
    collector = MrzLineCollector()
    events: list[MrzEvent] = []
    for index, byte in enumerate(encode_scan(TD2, framing=Framing.CRLF)):
        events += collector.feed(bytes((byte,)), index * 0.001)
    assert scans(events) == [TD2]


def test_encoder_and_constructor_errors() -> None:
    with pytest.raises(LocalProtocolError, match="TD3 MRZ has 2 lines of 44"):
        encode_scan(TD3[:1])
    with pytest.raises(LocalProtocolError, match="alphabet"):
        encode_scan((TD3[0].lower(), TD3[1]))
    with pytest.raises(LocalProtocolError, match="line 1 has 5 characters"):
        encode_scan(("ABCDE", "ABCDE"))
    with pytest.raises(LocalProtocolError, match="none"):
        encode_scan(())
    with pytest.raises(LocalProtocolError, match="line_gap"):
        MrzLineCollector(line_gap=0)
    with pytest.raises(LocalProtocolError, match="max_line"):
        MrzLineCollector(max_line=10)


MRZ_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


@st.composite
def mrz_lines(draw: st.DrawFn) -> tuple[str, ...]:
    fmt = draw(st.sampled_from(list(MrzFormat)))
    line = st.text(MRZ_CHARS, min_size=fmt.width, max_size=fmt.width)
    return tuple(draw(line) for _ in range(fmt.lines))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[start:point])
        start = point
    return pieces


@settings(max_examples=200, deadline=None)
@given(
    reads=st.lists(st.tuples(mrz_lines(), st.sampled_from(list(Framing))), min_size=1, max_size=4),
    cuts=st.lists(st.integers(0, 10_000), max_size=20),
)
def test_encode_then_feed_in_any_chunks(reads: list[tuple[tuple[str, ...], Framing]], cuts: list[int]) -> None:
    data = b"".join(encode_scan(lines, framing=framing) for lines, framing in reads)
    collector = MrzLineCollector()
    events: list[MrzEvent] = []
    for index, piece in enumerate(chunked(data, cuts)):
        events += collector.feed(piece, index * 0.01)
    events += collector.expire(1000.0)
    assert errors(events) == []
    assert scans(events) == [lines for lines, _ in reads]


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(st.tuples(st.binary(max_size=300), st.floats(0, 3)), max_size=20),
    max_line=st.integers(44, 200),
)
def test_garbage_never_raises_and_stays_within_the_cap(chunks: list[tuple[bytes, float]], max_line: int) -> None:
    collector = MrzLineCollector(max_line=max_line)
    now = 0.0
    for data, step in chunks:
        now += step
        for event in collector.feed(data, now):
            assert isinstance(event, (MrzScan, MrzReadError))
        assert collector.buffered <= max_line
    collector.expire(now + 10)
    assert not collector.busy
    # Whatever came before, a whole read after a line end and a pause comes through.
    assert scans(collector.feed(b"\r\x03" + encode_scan(TD3), now + 20)) == [TD3]
