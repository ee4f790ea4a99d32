"""The printer-side parser: tickets read back, every split point, unknown commands and garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import NEED_DATA
from hallgw_protocols.escpos import (
    Align,
    Alignment,
    ChineseMode,
    Cut,
    ErrorCorrection,
    EscPosParser,
    Event,
    Feed,
    Init,
    LineFeed,
    Mode,
    PrintMode,
    Qr,
    QrModel,
    Size,
    StatusKind,
    StatusRequest,
    Text,
    Ticket,
    qr_code,
    render_ticket,
    text_line,
)
from hallgw_protocols.escpos.parser import MAX_TEXT_RUN

TICKET = Ticket(
    "A023",
    "7",
    "2026-11-27 09:30",
    "https://hall.example.gov.cn/q/A023",
    ("请耐心等候：（）", "Please wait"),
)


def parse(data: bytes) -> tuple[list[Event], EscPosParser]:
    parser = EscPosParser()
    return parser.feed(data), parser


def lines_of(events: list[Event]) -> list[str]:
    """Printed lines: text runs joined up to each line feed."""
    lines: list[str] = []
    current = ""
    for event in events:
        if isinstance(event, Text):
            current += event.text
        elif isinstance(event, LineFeed):
            lines.append(current)
            current = ""
    return lines


def test_ticket_reads_back_exactly() -> None:
    events, parser = parse(render_ticket(TICKET))
    assert lines_of(events) == list(TICKET.text_lines())
    assert [e for e in events if isinstance(e, Qr)] == [
        Qr(data=TICKET.qr.encode(), size=6, error_correction=ErrorCorrection.M, model=QrModel.MODEL_2)
    ]
    assert events[:2] == [Init(), Align(alignment=Alignment.CENTER)]
    assert events[-3:] == [Align(alignment=Alignment.LEFT), Feed(lines=6), Cut()]
    assert Size(width=3, height=3) in events and Size(width=1, height=1) in events
    chinese = {e.text: e.chinese for e in events if isinstance(e, Text)}
    assert chinese == {
        "排队号": True,
        "A023": False,
        "窗口：7": True,
        "取号时间：2026-11-27 09:30": True,
        "请耐心等候：（）": True,
        "Please wait": False,
    }
    assert (parser.skipped_commands, parser.unknown_commands, parser.buffered) == (0, 0, 0)
    assert not parser.chinese  # every Chinese run is closed again


def test_every_split_point_gives_the_same_events() -> None:
    wire = render_ticket(TICKET) + b"\x10\x04\x04\x10\x04\x02"
    whole, _ = parse(wire)
    for cut_at in range(1, len(wire)):
        parser = EscPosParser()
        assert parser.feed(wire[:cut_at]) + parser.feed(wire[cut_at:]) == whole, cut_at


def test_byte_at_a_time() -> None:
    wire = render_ticket(TICKET)
    parser = EscPosParser()
    events = [event for byte in wire for event in parser.feed(bytes([byte]))]
    assert events == parse(wire)[0]


def test_full_width_punctuation_round_trip() -> None:
    text = "：（）【】《》，。！？“”、；"
    events, _ = parse(text_line(text))
    assert events == [ChineseMode(enabled=True), Text(text=text, chinese=True), LineFeed(), ChineseMode(enabled=False)]


def test_raw_gb18030_without_chinese_mode_is_mojibake() -> None:
    # What python-escpos sends: on a printer left out of Chinese mode it is code page 437.
    events, _ = parse("受理".encode("gb18030") + b"\n")
    assert events[0] == Text(text="╩▄└φ", chinese=False)


def test_four_byte_codes_and_bad_trail_bytes_decode_in_chinese_mode() -> None:
    events, _ = parse(b"\x1c\x26" + "㐀".encode("gb18030") + b"\x81\x20A\n")
    assert events[1] == Text(text="㐀\ufffd A", chinese=True)


def test_status_requests_between_data() -> None:
    events, parser = parse(b"AB\x10\x04\x01CD\x10\x04\x04\x10\x04\x03\x10\x04\x07\x01\n")
    assert events == [
        Text(text="AB"),
        StatusRequest(kind=StatusKind.PRINTER),
        Text(text="CD"),
        StatusRequest(kind=StatusKind.PAPER_SENSOR),
        StatusRequest(kind=StatusKind.ERROR_CAUSE),
        LineFeed(),
    ]
    assert parser.skipped_commands == 1  # DLE EOT 7 a: Epson's ink status, consumed whole


@pytest.mark.parametrize(
    ("wire", "event"),
    [
        ("1d 56 00", Cut()),
        ("1d 56 30", Cut()),
        ("1d 56 01", Cut(partial=True)),
        ("1d 56 31", Cut(partial=True)),
        ("1d 56 41 05", Cut(feed=5)),
        ("1d 56 42 00", Cut(partial=True, feed=0)),
        ("1b 61 31", Align(alignment=Alignment.CENTER)),
        ("1b 61 32", Align(alignment=Alignment.RIGHT)),
        ("1b 21 38", Mode(mode=PrintMode.EMPHASIZED | PrintMode.DOUBLE_HEIGHT | PrintMode.DOUBLE_WIDTH)),
        ("1d 21 70", Size(width=8, height=1)),
        ("1b 64 03", Feed(lines=3)),
    ],
)
def test_single_commands(wire: str, event: Event) -> None:
    assert parse(bytes.fromhex(wire))[0] == [event]


def test_qr_settings_persist_until_init() -> None:
    wire = qr_code("one", size=4, error_correction=ErrorCorrection.Q, model=QrModel.MODEL_1)
    wire += b"\x1d\x28\x6b\x03\x00\x31\x51\x30"  # print the stored symbol again
    wire += b"\x1b\x40\x1d\x28\x6b\x03\x00\x31\x51\x30"  # after ESC @ nothing is stored
    events, parser = parse(wire)
    first = Qr(data=b"one", size=4, error_correction=ErrorCorrection.Q, model=QrModel.MODEL_1)
    assert events == [first, first, Init()]
    assert parser.skipped_commands == 1


def test_known_commands_without_events_are_skipped_whole() -> None:
    raster = b"\x1d\x76\x30\x00\x02\x00\x03\x00" + b"\x41" * 6  # 2 x 3 bytes of "A" as image data
    pdf417 = b"\x1d\x28\x6b\x04\x00\x30\x41\x00\x00"
    barcode = b"\x1d\x6b\x04A023\x00" + b"\x1d\x6b\x49\x03{BA"
    others = b"\x1b\x45\x01\x1b\x2d\x01\x1b\x74\x00\x1bD\x08\x10\x00\x1b*\x00\x02\x00\xff\xff\x1c\x21\x08"
    events, parser = parse(raster + pdf417 + barcode + others + b"ok\n")
    assert events == [Text(text="ok"), LineFeed()]
    assert parser.skipped_commands == 10 and parser.unknown_commands == 0


def test_a_raster_image_larger_than_the_buffer_streams_past() -> None:
    parser = EscPosParser(buffer_cap=64)
    size = 48 * 100
    header = b"\x1d\x76\x30\x00" + (48).to_bytes(2, "little") + (100).to_bytes(2, "little")
    body = bytes(range(256)) * (size // 256) + bytes(size % 256)
    events: list[Event] = []
    data = header + body + b"after\n"
    for offset in range(0, len(data), 50):
        events += parser.feed(data[offset : offset + 50])
    assert events == [Text(text="after"), LineFeed()]
    assert parser.dropped_bytes == 0


def test_unknown_commands_and_stray_controls_are_counted() -> None:
    events, parser = parse(b"\x1b\xfe\x1d\xfe\x1c\xfe\x10\x00\x07\r\x1d\x56\x07ok\n")
    assert events == [Text(text="ok"), LineFeed()]
    # ESC FE, GS FE, FS FE, a lone DLE, NUL, BEL, GS V 07; CR is ignored without a count
    assert parser.unknown_commands == 7


def test_long_text_is_emitted_in_runs() -> None:
    events, _ = parse(b"x" * (MAX_TEXT_RUN + 10))
    assert events == [Text(text="x" * MAX_TEXT_RUN)]


def test_incomplete_commands_wait() -> None:
    parser = EscPosParser()
    for partial in (b"\x1b", b"\x1d\x28\x6b\x05\x00\x31\x50\x30ab", b"\x10\x04", b"\x1c\x26\xb4"):
        parser = EscPosParser()
        assert parser.feed(partial)[:0] == []
        assert parser.next_event() is NEED_DATA
    assert parser.chinese  # FS & was taken; the lead byte waits for its trail


def test_buffer_cap_drops_the_oldest_bytes() -> None:
    parser = EscPosParser(buffer_cap=32)
    parser.receive_data(b"\x1d\x28\x6b\xff\x00" + b"z" * 40)
    assert parser.dropped_bytes == 13 and parser.buffered == 32


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_garbage_never_raises_and_splits_never_matter(data: bytes, chunk: int) -> None:
    whole = EscPosParser(buffer_cap=1024)
    expected = whole.feed(data)
    parser = EscPosParser(buffer_cap=1024)
    events: list[Event] = []
    for offset in range(0, len(data), chunk):
        events += parser.feed(data[offset : offset + chunk])
    assert events == expected
    counters = (parser.skipped_commands, parser.unknown_commands, parser.buffered, parser.chinese)
    assert counters == (whole.skipped_commands, whole.unknown_commands, whole.buffered, whole.chinese)
    assert parser.buffered <= 1024


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200).map(lambda b: bytes(x for x in b if x not in (0x10, 0x1B, 0x1C, 0x1D))))
def test_a_ticket_after_noise_without_long_commands_reads_back(noise: bytes) -> None:
    # Noise without a command prefix cannot start a command that swallows what follows;
    # a line feed ends any text run.
    parser = EscPosParser()
    parser.feed(noise + b"\n")
    events = parser.feed(render_ticket(TICKET))
    assert lines_of(events)[-len(TICKET.text_lines()) :] == list(TICKET.text_lines())
