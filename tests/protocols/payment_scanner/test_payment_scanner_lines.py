"""The payment scanner line codec: exact bytes, every framing, split feeds, every error, properties."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.payment_scanner import (
    MAX_LINE,
    TERMINATORS,
    CodeScan,
    Framing,
    ScanError,
    ScanEvent,
    ScanLineCollector,
    Terminator,
    encode_scan,
)

# Shaped like payment codes, issued by no wallet.
WECHAT = "134567890123456789"
ALIPAY = "28765432109876543210"


def codes(events: list[ScanEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, CodeScan)]


def errors(events: list[ScanEvent]) -> list[str]:
    return [e.message for e in events if isinstance(e, ScanError)]


def feed_chunks(collector: ScanLineCollector, *chunks: bytes, now: float = 0.0) -> list[ScanEvent]:
    events: list[ScanEvent] = []
    for chunk in chunks:
        events += collector.feed(chunk, now)
    return events


def test_encoded_bytes_are_exact() -> None:
    assert encode_scan(WECHAT) == WECHAT.encode() + b"\r"
    assert encode_scan(WECHAT, framing=Framing(terminator="cr")) == WECHAT.encode() + b"\r"
    assert encode_scan(WECHAT, framing=Framing(terminator="lf")) == WECHAT.encode() + b"\n"
    assert encode_scan(WECHAT, framing=Framing(terminator="crlf")) == WECHAT.encode() + b"\r\n"
    assert encode_scan(WECHAT, stx_etx=True) == b"\x02" + WECHAT.encode() + b"\x03\r"
    framed = encode_scan(WECHAT, framing=Framing(prefix="]Q1", suffix="#", terminator="crlf"), stx_etx=True)
    assert framed == b"\x02]Q1" + WECHAT.encode() + b"#\x03\r\n"
    assert encode_scan(WECHAT, stx_etx=True, terminated=False) == b"\x02" + WECHAT.encode()


@pytest.mark.parametrize("terminator", TERMINATORS)
@pytest.mark.parametrize("stx_etx", [False, True])
@pytest.mark.parametrize(("prefix", "suffix"), [("", ""), ("PAY:", ""), ("", " END"), ("]Q1", "~")])
def test_every_framing_split_at_every_position(terminator: Terminator, stx_etx: bool, prefix: str, suffix: str) -> None:
    framing = Framing(prefix=prefix, suffix=suffix, terminator=terminator)
    data = encode_scan(ALIPAY, framing=framing, stx_etx=stx_etx)
    for cut in range(len(data) + 1):
        collector = ScanLineCollector(framing)
        events = feed_chunks(collector, data[:cut], data[cut:])
        assert codes(events) == [ALIPAY], (cut, events)
        assert not errors(events)
        assert not collector.busy
    one_by_one = ScanLineCollector(framing)
    assert codes(feed_chunks(one_by_one, *(bytes([b]) for b in data * 3))) == [ALIPAY] * 3
    assert one_by_one.scans == 3
    assert one_by_one.errors == 0


@pytest.mark.parametrize("line_end", [b"\r", b"\n", b"\r\n"])
def test_any_terminator_takes_cr_lf_and_crlf(line_end: bytes) -> None:
    collector = ScanLineCollector()
    events = collector.feed(WECHAT.encode() + line_end + ALIPAY.encode() + line_end, 0.0)
    assert codes(events) == [WECHAT, ALIPAY]
    assert not errors(events)


def test_cr_then_lf_in_the_next_chunk_is_one_line_end() -> None:
    terminators: tuple[Terminator, ...] = ("any", "crlf")
    for terminator in terminators:
        collector = ScanLineCollector(Framing(terminator=terminator))
        first = collector.feed(WECHAT.encode() + b"\r", 0.0)
        second = collector.feed(b"\n" + ALIPAY.encode() + b"\r", 0.01)
        third = collector.feed(b"\n", 0.02)
        assert codes(first + second + third) == [WECHAT, ALIPAY]
        assert not errors(first + second + third)
        assert not collector.busy


def test_crlf_needs_both_bytes() -> None:
    collector = ScanLineCollector(Framing(terminator="crlf"))
    events = collector.feed(b"12\r3\r\n", 0.0)
    assert errors(events) == ["a line ended with CR alone; the scanner is set to end lines with CR LF"]
    assert codes(events) == ["3"]
    events = collector.feed(WECHAT.encode() + b"\n", 0.0)
    assert errors(events) == ["a line ended with LF; the scanner is set to end lines with CR LF"]
    assert events[0] == ScanError(message=errors(events)[0], discarded=len(WECHAT))
    assert not codes(events)


@pytest.mark.parametrize(
    ("terminator", "wrong", "message"),
    [
        ("cr", b"\n", "a line ended with LF; the scanner is set to end lines with CR"),
        ("lf", b"\r", "a line ended with CR; the scanner is set to end lines with LF"),
    ],
)
def test_a_strict_terminator_refuses_the_other_line_end(terminator: Terminator, wrong: bytes, message: str) -> None:
    collector = ScanLineCollector(Framing(terminator=terminator))
    events = collector.feed(WECHAT.encode() + wrong, 0.0)
    assert errors(events) == [message]
    right = Framing(terminator=terminator).line_end
    assert codes(collector.feed(WECHAT.encode() + right, 0.0)) == [WECHAT]


def test_etx_ends_a_line_without_a_terminator() -> None:
    collector = ScanLineCollector()
    events = collector.feed(b"\x02" + WECHAT.encode() + b"\x03\x02" + ALIPAY.encode() + b"\x03", 0.0)
    assert codes(events) == [WECHAT, ALIPAY]
    assert not collector.busy


def test_stx_inside_a_line_reports_the_unfinished_one() -> None:
    collector = ScanLineCollector()
    events = collector.feed(b"\x021345\x02" + WECHAT.encode() + b"\x03\r", 0.0)
    assert errors(events) == ["partial scan: 4 bytes without a line end, then a new frame began (STX)"]
    assert events[0] == ScanError(message=errors(events)[0], discarded=4)
    assert codes(events) == [WECHAT]


def test_nul_bytes_are_dropped() -> None:
    collector = ScanLineCollector()
    assert codes(collector.feed(b"\x00\x00" + WECHAT[:5].encode() + b"\x00" + WECHAT[5:].encode() + b"\r", 0.0)) == [
        WECHAT
    ]
    assert not collector.feed(b"\x00\x00", 0.0)
    assert not collector.busy


def test_empty_lines_are_skipped() -> None:
    collector = ScanLineCollector()
    assert collector.feed(b"\r\n\r\n\n\r\x02\x03\r", 0.0) == []
    assert collector.errors == 0


@pytest.mark.parametrize(
    ("framing", "line", "message"),
    [
        (
            Framing(prefix="PAY:"),
            b"PAX:" + WECHAT.encode(),
            "the line does not start with the configured prefix (4 chars)",
        ),
        (Framing(prefix="PAY:"), WECHAT.encode(), "the line does not start with the configured prefix (4 chars)"),
        (Framing(suffix="#"), WECHAT.encode(), "the line does not end with the configured suffix (1 chars)"),
        (Framing(prefix="<", suffix=">"), b"<>", "the line has no code between the prefix and the suffix"),
        (Framing(prefix="<<", suffix=">>"), b"<<>", "the line does not end with the configured suffix (2 chars)"),
        (
            Framing(),
            WECHAT[:9].encode() + b"\x7f" + WECHAT[9:].encode(),
            "the line has a byte outside printable ASCII (0x7F)",
        ),
        (Framing(), "1345678901234567８".encode(), "the line has a byte outside printable ASCII (0xEF)"),
        (Framing(), b"\x1b[A" + WECHAT.encode(), "the line has a byte outside printable ASCII (0x1B)"),
    ],
)
def test_bad_lines_are_errors_and_the_next_line_is_read(framing: Framing, line: bytes, message: str) -> None:
    collector = ScanLineCollector(framing)
    events = collector.feed(line + b"\r", 0.0)
    assert events == [ScanError(message=message, discarded=len(line))]
    assert WECHAT not in message and WECHAT[:8] not in message
    assert codes(collector.feed(encode_scan(ALIPAY, framing=framing), 0.0)) == [ALIPAY]
    assert collector.errors == 1
    assert collector.scans == 1


def test_an_overlong_line_is_reported_once_and_dropped_to_its_line_end() -> None:
    collector = ScanLineCollector(Framing(terminator="crlf"))
    events = collector.feed(b"7" * MAX_LINE, 0.0)
    assert events == []
    assert collector.buffered == MAX_LINE
    events = collector.feed(b"7" * 1000, 0.0)
    assert events == [
        ScanError(message=f"a line ran past {MAX_LINE} bytes without a line end; dropped it", discarded=MAX_LINE + 1)
    ]
    assert collector.buffered == 0
    assert collector.feed(b"\x1b\xff" * 10 + b"\r", 0.0) == []  # still the same line: not reported again
    assert collector.feed(b"\n" + encode_scan(WECHAT, framing=collector.framing), 0.0) == [CodeScan(text=WECHAT)]
    assert collector.errors == 1


def test_an_overlong_line_ending_in_cr_alone_resyncs_quietly() -> None:
    collector = ScanLineCollector(Framing(terminator="crlf"), max_line=20)
    events = collector.feed(b"1" * 30 + b"\r" + WECHAT.encode() + b"\r\n", 0.0)
    assert len(errors(events)) == 1
    assert codes(events) == [WECHAT]


def test_a_partial_line_expires_after_the_timeout() -> None:
    collector = ScanLineCollector(timeout=0.5)
    assert collector.feed(WECHAT[:10].encode(), 10.0) == []
    assert collector.busy
    assert collector.expire(10.4) == []
    assert collector.feed(WECHAT[10:12].encode(), 10.45) == []  # the age counts from the first byte
    (event,) = collector.expire(10.6)
    assert event == ScanError(message="partial scan: 12 bytes without a line end 0.6 s after it began", discarded=12)
    assert not collector.busy
    assert collector.expire(20.0) == []
    # The next feed reports an expired line before its own bytes.
    collector.feed(b"\x02" + WECHAT[:3].encode(), 30.0)
    events = collector.feed(encode_scan(ALIPAY), 31.0)
    assert errors(events) == ["partial scan: 3 bytes without a line end 1.0 s after it began"]
    assert codes(events) == [ALIPAY]


def test_stx_or_a_crlf_cr_alone_expire_too() -> None:
    collector = ScanLineCollector(Framing(terminator="crlf"), timeout=0.2)
    collector.feed(b"\x02", 0.0)
    assert errors(collector.expire(0.3)) == ["partial scan: 0 bytes without a line end 0.3 s after it began"]
    collector.feed(WECHAT.encode() + b"\r", 1.0)
    assert collector.busy
    assert len(collector.expire(1.5)) == 1
    assert collector.feed(b"\n", 1.6) == [
        ScanError(message="a line ended with LF; the scanner is set to end lines with CR LF", discarded=0)
    ]


def test_an_overflowed_line_expires_silently() -> None:
    collector = ScanLineCollector(timeout=0.2, max_line=20)
    assert len(collector.feed(b"9" * 25, 0.0)) == 1
    assert collector.expire(0.5) == []
    assert not collector.busy
    assert codes(collector.feed(encode_scan(WECHAT), 0.6)) == [WECHAT]


def test_settings_are_checked() -> None:
    with pytest.raises(LocalProtocolError, match="prefix is at most 16 printable ASCII"):
        Framing(prefix="\x02")
    with pytest.raises(LocalProtocolError, match="suffix is at most 16"):
        Framing(suffix="x" * 17)
    with pytest.raises(LocalProtocolError, match="suffix"):
        Framing(suffix="元")
    with pytest.raises(LocalProtocolError, match="terminator is one of any, cr, lf, crlf"):
        Framing(terminator="tab")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="timeout"):
        ScanLineCollector(timeout=0)
    with pytest.raises(LocalProtocolError, match="more than 4"):
        ScanLineCollector(Framing(prefix="ab", suffix="cd"), max_line=4)
    assert Framing().line_end == b"\r"


@pytest.mark.parametrize("code", ["", "1234\r5678", "12345678901234567８", "\x02123"])
def test_encode_refuses_what_a_scanner_cannot_send_without_quoting_it(code: str) -> None:
    with pytest.raises(LocalProtocolError) as caught:
        encode_scan(code)
    assert code not in str(caught.value) or not code


def test_events_never_show_the_code() -> None:
    scan = CodeScan(text=WECHAT)
    assert repr(scan) == "CodeScan(18 chars)"
    assert WECHAT not in repr(scan) and WECHAT not in str(scan)
    assert WECHAT not in repr([scan]) and WECHAT not in f"{scan}"


# -- properties ----------------------------------------------------------------------------
PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)
AFFIX = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    code=PRINTABLE,
    prefix=AFFIX,
    suffix=AFFIX,
    terminator=st.sampled_from(TERMINATORS),
    stx_etx=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=5),
)
def test_any_code_round_trips_however_it_is_cut(
    *, code: str, prefix: str, suffix: str, terminator: Terminator, stx_etx: bool, cuts: list[int]
) -> None:
    framing = Framing(prefix=prefix, suffix=suffix, terminator=terminator)
    data = encode_scan(code, framing=framing, stx_etx=stx_etx)
    bounds = sorted({0, len(data), *(min(c, len(data)) for c in cuts)})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    collector = ScanLineCollector(framing)
    assert feed_chunks(collector, *chunks) == [CodeScan(text=code)]


@settings(max_examples=300, deadline=None)
@given(
    noise=st.lists(st.binary(max_size=80), max_size=8),
    terminator=st.sampled_from(TERMINATORS),
    max_line=st.integers(min_value=24, max_value=64),
)
def test_noise_never_breaks_the_collector(noise: list[bytes], terminator: Terminator, max_line: int) -> None:
    """Whatever arrives, memory stays capped, and the next clean scan after a quiet spell is read."""
    framing = Framing(terminator=terminator)
    collector = ScanLineCollector(framing, timeout=0.5, max_line=max_line)
    now = 0.0
    for chunk in noise:
        for event in collector.feed(chunk, now):
            if isinstance(event, ScanError):
                assert event.discarded <= max_line + 1
        assert collector.buffered <= max_line
        now += 0.1
    collector.expire(now + 1.0)
    assert not collector.busy
    assert collector.feed(encode_scan("62" + "0" * 17, framing=framing), now + 1.0) == [CodeScan(text="62" + "0" * 17)]


@settings(max_examples=200, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=16, max_size=24), bad=st.sampled_from([b"\x7f", b"\x1b", b"\xa5"])
)
def test_error_messages_never_quote_the_line(digits: str, bad: bytes) -> None:
    for framing in (Framing(), Framing(prefix="P", suffix="S"), Framing(terminator="crlf")):
        collector = ScanLineCollector(framing, timeout=0.1)
        events = collector.feed(digits.encode() + bad + b"\r", 0.0) + collector.feed(digits.encode(), 1.0)
        events += collector.expire(2.0)
        for event in events:
            assert digits not in repr(event)
            assert digits[:6] not in repr(event)
