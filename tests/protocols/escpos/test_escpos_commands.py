"""ESC/POS builders against the documented bytes (reference/desk-notes.md section 3 and the manuals)."""

from __future__ import annotations

import pytest

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.escpos import (
    Alignment,
    ErrorCorrection,
    PrintMode,
    QrModel,
    align,
    character_size,
    cut,
    encode_gb,
    feed_lines,
    initialise,
    print_mode,
    qr_code,
    status_request,
    text_line,
)


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


def test_init_alignment_and_modes() -> None:
    assert initialise() == hx("1b 40")
    assert align(Alignment.LEFT) == hx("1b 61 00")
    assert align(Alignment.CENTER) == hx("1b 61 01")
    assert align(Alignment.RIGHT) == hx("1b 61 02")
    assert print_mode(PrintMode.DOUBLE_HEIGHT | PrintMode.DOUBLE_WIDTH) == hx("1b 21 30")
    assert print_mode(PrintMode.EMPHASIZED | PrintMode.UNDERLINE | PrintMode.FONT_B) == hx("1b 21 89")


@pytest.mark.parametrize(
    ("width", "height", "wire"),
    [
        (1, 1, "1d 21 00"),
        (2, 2, "1d 21 11"),
        (3, 3, "1d 21 22"),
        (2, 1, "1d 21 10"),
        (1, 8, "1d 21 07"),
        (8, 8, "1d 21 77"),
    ],
)
def test_character_size_nibbles(width: int, height: int, wire: str) -> None:
    assert character_size(width, height) == hx(wire)


@pytest.mark.parametrize(("width", "height"), [(0, 1), (1, 0), (9, 1), (1, 9)])
def test_character_size_out_of_range(width: int, height: int) -> None:
    with pytest.raises(LocalProtocolError):
        character_size(width, height)


def test_cut_bytes_match_python_escpos() -> None:
    # desk-notes: cut() = 1b 64 06 1d 56 00, cut("PART") = 1b 64 06 1d 56 01, cut(feed=False) = 1d 56 42 00
    assert feed_lines(6) + cut() == hx("1b 64 06 1d 56 00")
    assert feed_lines(6) + cut(partial=True) == hx("1b 64 06 1d 56 01")
    assert cut(partial=True, feed=0) == hx("1d 56 42 00")
    assert cut(feed=10) == hx("1d 56 41 0a")
    with pytest.raises(LocalProtocolError):
        cut(feed=256)


def test_status_requests() -> None:
    assert [status_request(n) for n in (1, 2, 3, 4)] == [hx(f"10 04 0{n}") for n in (1, 2, 3, 4)]
    for n in (0, 5, 7):
        with pytest.raises(LocalProtocolError):
            status_request(n)


def test_qr_code_matches_the_documented_sequence() -> None:
    url = "https://hall.example.gov.cn/q/A0023"  # 35 characters, as in the desk notes
    wire = qr_code(url, size=6, error_correction=ErrorCorrection.M)
    expected = (
        hx("1d 28 6b 04 00 31 41 32 00")
        + hx("1d 28 6b 03 00 31 43 06")
        + hx("1d 28 6b 03 00 31 45 31")
        + hx("1d 28 6b 26 00 31 50 30")
        + url.encode()
        + hx("1d 28 6b 03 00 31 51 30")
    )
    assert wire == expected
    assert len(wire) == 76  # "76 B for a 35-char URL"


def test_qr_code_settings_and_limits() -> None:
    wire = qr_code(b"x", size=16, error_correction=ErrorCorrection.H, model=QrModel.MODEL_1)
    assert wire.startswith(hx("1d 28 6b 04 00 31 41 31 00 1d 28 6b 03 00 31 43 10 1d 28 6b 03 00 31 45 33"))
    big = qr_code(b"a" * 7089)
    store = big.index(hx("31 50 30"))
    assert big[store - 2 : store] == (7092).to_bytes(2, "little")
    for bad in (b"", b"a" * 7090):
        with pytest.raises(LocalProtocolError):
            qr_code(bad)
    for size in (0, 17):
        with pytest.raises(LocalProtocolError):
            qr_code("x", size=size)


def test_chinese_line_is_wrapped_in_chinese_mode() -> None:
    # python-escpos writes ca dc c0 ed b1 e0 ba c5 a3 ba 41 30 32 33 0a with no FS & / FS . (desk-notes)
    assert text_line("受理编号：A023") == hx("1c 26 ca dc c0 ed b1 e0 ba c5 a3 ba 41 30 32 33 0a 1c 2e")


def test_full_width_punctuation_alone_is_not_question_marks() -> None:
    # python-escpos: "：（）\n" -> 3f 3f 3f 0a. It is GB2312 punctuation: a3 ba a3 a8 a3 a9.
    assert text_line("：（）") == hx("1c 26 a3 ba a3 a8 a3 a9 0a 1c 2e")


def test_latin_accents_go_through_chinese_mode_too() -> None:
    # "café": python-escpos sends 82 after ESC t 0, which a printer in Chinese mode reads as a GB lead byte.
    assert text_line("café 缴费") == hx("1c 26 63 61 66 a8 a6 20 bd c9 b7 d1 0a 1c 2e")
    assert text_line("A023") == b"A023\n"


def test_four_byte_gb18030_is_refused() -> None:
    # python-escpos prints "?" for Ext-A; we refuse before anything is printed.
    with pytest.raises(LocalProtocolError, match="four-byte"):
        encode_gb("㐀")
    with pytest.raises(LocalProtocolError):
        text_line("㐀 ext-A")


@pytest.mark.parametrize("bad", ["A\x1b@", "7\n8", "tab\there", "del\x7f", "c1\x85"])
def test_control_characters_cannot_inject_commands(bad: str) -> None:
    with pytest.raises(LocalProtocolError, match="control character"):
        text_line(bad)
