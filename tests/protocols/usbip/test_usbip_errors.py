"""The stream parsers refuse what breaks the protocol, say what they expected, and stay refused."""

from __future__ import annotations

import pytest

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.usbip import (
    CmdSubmit,
    CmdUnlink,
    DeviceInfo,
    DevlistEntry,
    Direction,
    OperationParser,
    OpRepImport,
    OpReqImport,
    RetSubmit,
    RetUnlink,
    UrbParser,
)


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


def _op_error(role: Role, wire: bytes, expected: str) -> RemoteProtocolError:
    parser = OperationParser(role)
    parser.receive_data(wire)
    with pytest.raises(RemoteProtocolError, match=expected) as info:
        parser.next_event()
    with pytest.raises(RemoteProtocolError, match="broke earlier"):
        parser.next_event()
    return info.value


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("01 00 80 05 00 00 00 00", "expected USB/IP version 0x0111, got 0x0100"),
        ("01 06 80 05 00 00 00 00", "got 0x0106"),
        ("01 11 80 02 00 00 00 00", "expected OP_REQ_DEVLIST .* got 0x8002"),
        ("01 11 00 05 00 00 00 00", "got 0x0005"),
        ("01 11 80 05 00 00 00 01", "expected status 0 in a request, got 1"),
        ("01 11 80 03 00 00 00 00" + "41" * 32, "no terminating NUL"),
        ("01 11 80 03 00 00 00 00" + "FF" + "00" * 31, "not UTF-8"),
    ],
)
def test_server_refuses_bad_requests(wire: str, expected: str) -> None:
    err = _op_error(Role.DEVICE, hx(wire), expected)
    assert err.discarded == len(hx(wire))


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("01 11 80 05 00 00 00 00", "expected OP_REP_DEVLIST .* got 0x8005"),
        ("01 11 00 05 00 00 00 01", "expected status 0 in OP_REP_DEVLIST"),
        ("01 11 00 05 00 00 00 00 FF FF FF FF", "announces 4294967295 devices"),
        ("00 00 00 03 00 00 00 00", "version"),
    ],
)
def test_client_refuses_bad_replies(wire: str, expected: str) -> None:
    _op_error(Role.HOST, hx(wire), expected)


def test_operation_parser_stops_after_one_message() -> None:
    parser = OperationParser(Role.DEVICE)
    parser.receive_data(OpReqImport("1-1").encode() + OpReqImport("1-2").encode())
    assert parser.next_event() == OpReqImport("1-1")
    assert parser.next_event() is NEED_DATA
    assert parser.remainder() == OpReqImport("1-2").encode()


def test_operation_buffer_cap() -> None:
    parser = OperationParser(Role.HOST, cap=100)
    with pytest.raises(RemoteProtocolError, match="at most 100 buffered bytes") as info:
        parser.receive_data(bytes(101))
    assert info.value.discarded == 101
    with pytest.raises(RemoteProtocolError, match="broke earlier"):
        parser.receive_data(b"x")


def test_encoders_refuse_inconsistent_messages() -> None:
    device = DeviceInfo(busid="1-1", busnum=1, devnum=2, speed=2, idVendor=1, idProduct=2, bNumInterfaces=1)
    with pytest.raises(LocalProtocolError, match="bNumInterfaces 1 but 0 interface blocks"):
        DevlistEntry(device=device).encode()
    with pytest.raises(LocalProtocolError, match="busid must be at most 31 bytes"):
        OpReqImport("x" * 32).encode()
    with pytest.raises(LocalProtocolError, match="exactly when its status is 0"):
        OpRepImport(status=0)
    with pytest.raises(LocalProtocolError, match="exactly when its status is 0"):
        OpRepImport(status=2, device=device)
    with pytest.raises(LocalProtocolError, match=r"transfer_buffer_length \(4\) bytes, got 3"):
        CmdSubmit(seqnum=1, devid=1, direction=Direction.OUT, ep=1, transfer_buffer_length=4, data=b"abc").encode()
    with pytest.raises(LocalProtocolError, match=r"ep must be in 0\.\.15"):
        CmdSubmit(seqnum=1, devid=1, direction=Direction.IN, ep=16, transfer_buffer_length=4).encode()
    with pytest.raises(LocalProtocolError, match="actual_length"):
        RetSubmit(seqnum=1, actual_length=5, data=b"abc").encode()


def _header(command: int, seqnum: int = 1, direction: int = 0, ep: int = 0, rest: str = "") -> bytes:
    head = b"".join(x.to_bytes(4, "big") for x in (command, seqnum, 0x00010002, direction, ep))
    body = hx(rest)
    return head + body + bytes(28 - len(body))


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (_header(3), "expected USBIP_CMD_SUBMIT \\(1\\) or USBIP_CMD_UNLINK \\(2\\), got command 3"),
        (_header(0x01110000 | 0x8003), "got command"),  # an OP request in the URB phase
        (_header(1, direction=2), "expected direction 0 \\(OUT\\) or 1 \\(IN\\)"),
        (_header(1, ep=16), "expected endpoint number 0..15"),
        (_header(1, rest="00000000 FFFFFFFF"), "transfer_buffer_length 0..4194304 .* got -1"),
        (_header(1, rest="00000000 7FFFFFFF"), "got 2147483647"),
    ],
)
def test_server_refuses_bad_commands(wire: bytes, expected: str) -> None:
    parser = UrbParser(Role.DEVICE)
    parser.receive_data(wire)
    with pytest.raises(RemoteProtocolError, match=expected):
        parser.next_event()
    with pytest.raises(RemoteProtocolError, match="broke earlier"):
        parser.next_event()


def test_server_refuses_too_many_iso_packets() -> None:
    parser = UrbParser(Role.DEVICE, iso_endpoints={0x81})
    parser.receive_data(_header(1, direction=1, ep=1, rest="00000000 00000010 00000000 00000401"))
    with pytest.raises(RemoteProtocolError, match=r"number_of_packets 0\.\.1024 on an ISO endpoint, got 1025"):
        parser.next_event()


def test_non_iso_number_of_packets_is_not_validated() -> None:
    # The K-doc says 0xFFFFFFFF for non-ISO, Linux sends 0: accept both.
    parser = UrbParser(Role.DEVICE)
    parser.receive_data(_header(1, direction=1, ep=1, rest="00000200 00000010 00000000 FFFFFFFF"))
    cmd = parser.next_event()
    assert isinstance(cmd, CmdSubmit) and cmd.number_of_packets == -1


IN_SUBMIT = CmdSubmit(seqnum=7, devid=1, direction=Direction.IN, ep=1, transfer_buffer_length=16)


def test_client_refuses_unknown_seqnum() -> None:
    parser = UrbParser(Role.HOST)
    parser.receive_data(RetSubmit(seqnum=7).encode())
    with pytest.raises(RemoteProtocolError, match="RET_SUBMIT for seqnum 7: expected the seqnum of a pending submit"):
        parser.next_event()


def test_client_refuses_more_data_than_asked() -> None:
    parser = UrbParser(Role.HOST)
    parser.sent(IN_SUBMIT)
    parser.receive_data(RetSubmit(seqnum=7, actual_length=17, data=bytes(17)).encode())
    with pytest.raises(RemoteProtocolError, match="actual_length 17: expected at most the 16 bytes"):
        parser.next_event()


def test_client_refuses_negative_actual_length() -> None:
    parser = UrbParser(Role.HOST)
    parser.sent(IN_SUBMIT)
    parser.receive_data(RetSubmit(seqnum=7, actual_length=-1).encode())
    with pytest.raises(RemoteProtocolError, match="actual_length >= 0"):
        parser.next_event()


def test_client_refuses_commands() -> None:
    parser = UrbParser(Role.HOST)
    parser.receive_data(IN_SUBMIT.encode())
    with pytest.raises(RemoteProtocolError, match="expected USBIP_RET_SUBMIT \\(3\\) or USBIP_RET_UNLINK \\(4\\)"):
        parser.next_event()


def test_ret_submit_before_ret_unlink_is_accepted() -> None:
    """The Linux server sends the completion first when the unlink came too late."""
    parser = UrbParser(Role.HOST)
    parser.sent(IN_SUBMIT)
    parser.sent(CmdUnlink(seqnum=8, devid=1, unlink_seqnum=7))
    parser.receive_data(RetSubmit(seqnum=7, actual_length=2, data=b"ok").encode() + RetUnlink(seqnum=8).encode())
    assert parser.next_event() == RetSubmit(seqnum=7, actual_length=2, data=b"ok")
    assert parser.next_event() == RetUnlink(seqnum=8)
    assert parser.next_event() is NEED_DATA
    assert parser.pending == 0


def test_sent_is_for_the_client_only() -> None:
    with pytest.raises(LocalProtocolError):
        UrbParser(Role.DEVICE).sent(IN_SUBMIT)
    parser = UrbParser(Role.HOST)
    parser.sent(IN_SUBMIT)
    with pytest.raises(LocalProtocolError, match="already pending"):
        parser.sent(IN_SUBMIT)
