"""The queue ticket: its exact bytes, and what it refuses before anything is printed."""

from __future__ import annotations

import pytest

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.escpos import Ticket, render_ticket


def test_ticket_bytes_are_exact() -> None:
    ticket = Ticket("A023", "7", "09:30", "Q1")
    gb = {text: text.encode("gb18030") for text in ("排队号", "窗口：", "取号时间：")}
    assert gb["窗口："] == bytes.fromhex("b4 b0 bf da a3 ba")
    expected = b"".join(
        [
            bytes.fromhex("1b 40 1b 61 01"),  # init, centre
            b"\x1c\x26" + gb["排队号"] + b"\n\x1c\x2e",
            bytes.fromhex("1d 21 22") + b"A023\n" + bytes.fromhex("1d 21 00"),  # triple size, then normal
            b"\x1c\x26" + gb["窗口："] + b"7\n\x1c\x2e",
            b"\x1c\x26" + gb["取号时间："] + b"09:30\n\x1c\x2e",
            bytes.fromhex("1d 28 6b 04 00 31 41 32 00 1d 28 6b 03 00 31 43 06 1d 28 6b 03 00 31 45 31"),
            bytes.fromhex("1d 28 6b 05 00 31 50 30") + b"Q1" + bytes.fromhex("1d 28 6b 03 00 31 51 30"),
            bytes.fromhex("1b 61 00 1b 64 06 1d 56 00"),  # left again, feed 6, full cut
        ]
    )
    assert render_ticket(ticket) == expected


def test_extra_lines_follow_the_time() -> None:
    ticket = Ticket("B7", "综合窗口 3", "2026-11-27 09:30", "https://x", ("请耐心等候", "Wait, please"))
    assert ticket.text_lines() == (
        "排队号",
        "B7",
        "窗口：综合窗口 3",
        "取号时间：2026-11-27 09:30",
        "请耐心等候",
        "Wait, please",
    )
    wire = render_ticket(ticket)
    assert b"Wait, please\n" in wire
    assert wire.index("请耐心等候".encode("gb18030")) < wire.index(b"Wait, please")


def test_a_ticket_without_qr_data_prints_no_qr_code() -> None:
    with_qr = render_ticket(Ticket("A1", "7", "09:30", "q"))
    without = render_ticket(Ticket("A1", "7", "09:30", ""))
    assert b"\x1d(k" in with_qr and b"\x1d(k" not in without
    assert without.endswith(with_qr[-8:])  # the same feed and cut


@pytest.mark.parametrize(
    "kwargs",
    [
        {"queue_number": ""},
        {"queue_number": "A" * 11},
        {"queue_number": "甲023"},
        {"window": ""},
        {"issued_at": ""},
        {"qr": "x" * 7090},
        {"window": "7\x1b@"},
        {"lines": ("ok", "bad\n")},
        {"lines": ("㐀",)},
        {"lines": ("x" * 65,)},
    ],
)
def test_bad_tickets_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"queue_number": "A1", "window": "7", "issued_at": "09:30", "qr": "q"}
    with pytest.raises(LocalProtocolError):
        Ticket(**(base | kwargs))  # type: ignore[arg-type]
