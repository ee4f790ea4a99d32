"""Real-time status bytes (DLE EOT n): the documented bit layout, both ways, and the host's pairing."""

from __future__ import annotations

import itertools

import pytest

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.escpos import (
    EscPosConnection,
    PrinterStatus,
    StatusKind,
    StatusReply,
    StatusRequest,
    is_status_byte,
)

P, C, E, S = StatusKind.PRINTER, StatusKind.OFFLINE_CAUSE, StatusKind.ERROR_CAUSE, StatusKind.PAPER_SENSOR


def status(*pairs: tuple[StatusKind, int]) -> PrinterStatus:
    return PrinterStatus.from_replies(StatusReply(kind=k, value=v) for k, v in pairs)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        # all quiet: every byte is just the fixed bits
        (((P, 0x12), (C, 0x12), (S, 0x12)), PrinterStatus()),
        (((P, 0x1A),), PrinterStatus(online=False)),
        (((P, 0x16),), PrinterStatus(drawer_pin3_high=True)),
        (((P, 0x32),), PrinterStatus(waiting_recovery=True)),
        (((P, 0x52),), PrinterStatus(feed_button=True)),
        (((C, 0x16),), PrinterStatus(cover_open=True)),
        (((C, 0x1A),), PrinterStatus(paper_feeding=True)),
        (((C, 0x32),), PrinterStatus(paper_out=True)),
        (((C, 0x52),), PrinterStatus(error=True)),
        (((S, 0x1E),), PrinterStatus(paper_near_end=True)),
        (((S, 0x72),), PrinterStatus(paper_out=True)),
        (((S, 0x7E),), PrinterStatus(paper_out=True, paper_near_end=True)),
        # one wire of a two-bit field is enough
        (((S, 0x16),), PrinterStatus(paper_near_end=True)),
        (((S, 0x32),), PrinterStatus(paper_out=True)),
        # the docs.rs example of a printer out of paper: (0x1A, 0x32, 0x7E)
        (
            ((P, 0x1A), (C, 0x32), (S, 0x7E)),
            PrinterStatus(online=False, paper_out=True, paper_near_end=True),
        ),
        # the error-cause byte is kept raw: it changes nothing here
        (((E, 0x5A),), PrinterStatus()),
    ],
)
def test_status_bits(pairs: tuple[tuple[StatusKind, int], ...], expected: PrinterStatus) -> None:
    assert status(*pairs) == expected


def test_merge_order_does_not_lose_paper_out() -> None:
    for order in itertools.permutations([(P, 0x1A), (C, 0x32), (S, 0x12)]):
        assert status(*order).paper_out


@pytest.mark.parametrize(
    ("value", "summary", "ready"),
    [
        (PrinterStatus(), "ready", True),
        (PrinterStatus(paper_near_end=True), "paper near end", True),
        (PrinterStatus(online=False), "offline", False),
        (PrinterStatus(error=True, online=False), "error", False),
        (PrinterStatus(cover_open=True, online=False), "cover open", False),
        (PrinterStatus(cover_open=True, paper_out=True, online=False), "paper out", False),
    ],
)
def test_summary_and_ready(value: PrinterStatus, summary: str, ready: bool) -> None:
    assert (value.summary, value.ready) == (summary, ready)


def test_device_replies_round_trip() -> None:
    fields = ("online", "cover_open", "paper_out", "paper_near_end", "error")
    for bits in itertools.product((False, True), repeat=len(fields)):
        state = PrinterStatus(**dict(zip(fields, bits, strict=True)))
        replies = [state.reply(kind) for kind in (P, C, S)]
        assert all(is_status_byte(r.value) for r in replies)
        back = PrinterStatus.from_replies(replies)
        assert back.online == state.online and back.cover_open == state.cover_open
        assert back.paper_out == state.paper_out and back.error == state.error
        # an empty roll also reads as past the near-end mark
        assert back.paper_near_end == (state.paper_near_end or state.paper_out)
    assert PrinterStatus().reply(E).value == 0x12


def test_fixed_bits() -> None:
    valid = [v for v in range(256) if is_status_byte(v)]
    assert len(valid) == 16  # four free bits
    assert all(v & 0x01 == 0 and v & 0x02 and v & 0x10 and not v & 0x80 for v in valid)
    for xon_xoff in (0x11, 0x13):
        assert not is_status_byte(xon_xoff)
    with pytest.raises(RemoteProtocolError):
        StatusReply(kind=P, value=0x00)
    with pytest.raises(LocalProtocolError):
        StatusReply(kind=P, value=0x112)


def test_host_pairs_answers_with_requests_in_order() -> None:
    host = EscPosConnection(Role.HOST)
    wire = b"".join(host.send(StatusRequest(kind=k)) for k in (S, C, P))
    assert wire == bytes.fromhex("10 04 04 10 04 02 10 04 01")
    assert host.pending == (S, C, P)
    assert host.next_event() is NEED_DATA
    host.receive_data(bytes([0x7E, 0x16]))
    assert host.next_event() == StatusReply(kind=S, value=0x7E)
    assert host.next_event() == StatusReply(kind=C, value=0x16)
    assert list(host.pending) == [P]
    host.receive_data(b"\x12")
    assert host.next_event() == StatusReply(kind=P, value=0x12)
    assert host.next_event() is NEED_DATA


def test_host_skips_noise_and_keeps_the_request() -> None:
    host = EscPosConnection(Role.HOST)
    host.send(StatusRequest(kind=P))
    host.receive_data(b"\x00\x13\xff\x1a")
    discarded = []
    for _ in range(3):
        with pytest.raises(RemoteProtocolError) as info:
            host.next_event()
        discarded.append(info.value.discarded)
    assert discarded == [1, 1, 1] and host.discarded_bytes == 3
    assert host.next_event() == StatusReply(kind=P, value=0x1A)


def test_host_drops_unasked_answers_and_abandons() -> None:
    host = EscPosConnection(Role.HOST)
    host.receive_data(b"\x12")
    with pytest.raises(RemoteProtocolError, match="no request pending"):
        host.next_event()
    host.send(StatusRequest(kind=P))
    host.abandon()
    host.receive_data(b"\x12")
    with pytest.raises(RemoteProtocolError):
        host.next_event()
    assert host.pending == ()


def test_roles_are_enforced() -> None:
    host = EscPosConnection(Role.HOST)
    device = EscPosConnection(Role.DEVICE)
    with pytest.raises(LocalProtocolError):
        host.send(StatusReply(kind=P, value=0x12))
    with pytest.raises(LocalProtocolError):
        device.send(StatusRequest(kind=P))
    with pytest.raises(LocalProtocolError):
        device.send_data(b"x")
    assert device.send(StatusReply(kind=P, value=0x1A)) == b"\x1a"
    assert host.send_data(b"\x1b@") == b"\x1b@"
    for _ in range(16):
        host.send(StatusRequest(kind=P))
    with pytest.raises(LocalProtocolError, match="unanswered"):
        host.send(StatusRequest(kind=P))


def test_device_parses_requests() -> None:
    device = EscPosConnection(Role.DEVICE)
    device.receive_data(b"\x10\x04\x02")
    assert device.next_event() == StatusRequest(kind=C)
    assert device.next_event() is NEED_DATA
