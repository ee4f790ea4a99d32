"""SAM frames byte for byte against reference/protocols.md sections 1.2, 1.3 and 1.5."""

from __future__ import annotations

import functools
import operator

import pytest

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import (
    MAX_BODY,
    PREAMBLE,
    Command,
    CommandCode,
    Response,
    SamConnection,
    Status,
    encode_frame,
    status_text,
    xor_checksum,
)

# Every row of the command table (1.3), with the full frame as the reference prints it.
REFERENCE_COMMANDS: list[tuple[CommandCode, bytes, str]] = [
    (CommandCode.RESET_SAM, b"", "AA AA AA 96 69 00 03 10 FF EC"),
    (CommandCode.SAM_STATUS, b"", "AA AA AA 96 69 00 03 11 FF ED"),
    (CommandCode.READ_SAM_ID, b"", "AA AA AA 96 69 00 03 12 FF EE"),
    (CommandCode.FIND_CARD, b"", "AA AA AA 96 69 00 03 20 01 22"),
    (CommandCode.SELECT_CARD, b"", "AA AA AA 96 69 00 03 20 02 21"),
    (CommandCode.READ_TEXT_PHOTO, b"", "AA AA AA 96 69 00 03 30 01 32"),
    (CommandCode.READ_APPENDED_ADDRESS, b"", "AA AA AA 96 69 00 03 30 03 30"),
    (CommandCode.READ_TEXT_PHOTO_FINGERPRINT, b"", "AA AA AA 96 69 00 03 30 10 23"),
    (CommandCode.READ_CARD_MID, b"", "AA AA AA 96 69 00 03 30 05 36"),
    (CommandCode.SET_BAUD_115200, b"", "AA AA AA 96 69 00 03 60 00 63"),
    (CommandCode.SET_BAUD_57600, b"", "AA AA AA 96 69 00 03 60 01 62"),
    (CommandCode.SET_BAUD_38400, b"", "AA AA AA 96 69 00 03 60 02 61"),
    (CommandCode.SET_BAUD_19200, b"", "AA AA AA 96 69 00 03 60 03 60"),
    (CommandCode.SET_BAUD_9600, b"", "AA AA AA 96 69 00 03 60 04 67"),
    (CommandCode.SET_MAX_RF_FRAME, b"\x50", "AA AA AA 96 69 00 04 61 FF 50 CA"),
]


def test_reference_table_covers_every_command_code() -> None:
    assert {code for code, _, _ in REFERENCE_COMMANDS} == set(CommandCode)


@pytest.mark.parametrize(("code", "data", "frame_hex"), REFERENCE_COMMANDS, ids=lambda v: getattr(v, "name", None))
def test_command_frame_matches_reference(code: CommandCode, data: bytes, frame_hex: str) -> None:
    expected = bytes.fromhex(frame_hex)
    command = Command.of(code, data)
    assert command.to_bytes() == expected
    # The host codec emits the same bytes and remembers which command is pending.
    host = SamConnection(Role.HOST)
    assert host.send(command) == expected
    assert host.pending is code


@pytest.mark.parametrize(("code", "data", "frame_hex"), REFERENCE_COMMANDS, ids=lambda v: getattr(v, "name", None))
def test_device_decodes_reference_command(code: CommandCode, data: bytes, frame_hex: str) -> None:
    device = SamConnection(Role.DEVICE)
    device.receive_data(bytes.fromhex(frame_hex))
    event = device.next_event()
    assert event == Command(cmd=code.cmd, para=code.para, data=data)
    assert isinstance(event, Command)
    assert event.code is code
    assert device.next_event() is NEED_DATA
    assert device.buffered == 0


@pytest.mark.parametrize("bad_hex", ["AA AA AA 96 69 00 03 20 01 21", "AA AA AA 96 69 00 03 20 00 22"])
def test_errata_find_card_frames_with_wrong_checksums_are_rejected(bad_hex: str) -> None:
    # Section 1.2 errata: public snippets carry these; the right frame is ...20 01 22.
    device = SamConnection(Role.DEVICE)
    device.receive_data(bytes.fromhex(bad_hex))
    with pytest.raises(RemoteProtocolError, match="checksum") as info:
        device.next_event()
    assert info.value.discarded > 0
    assert device.next_event() is NEED_DATA
    assert device.protocol_errors == 1


def test_checksum_covers_length_bytes_but_not_preamble() -> None:
    frame = Command.of(CommandCode.SET_MAX_RF_FRAME, b"\x50").to_bytes()
    assert frame[:5] == PREAMBLE
    assert frame[-1] == functools.reduce(operator.xor, frame[5:-1])
    assert xor_checksum(frame[5:-1]) == 0xCA
    assert xor_checksum(b"") == 0
    assert xor_checksum(b"\x0f\xf0") == 0xFF


def test_length_field_counts_everything_after_itself() -> None:
    frame = encode_frame(b"\x30\x01" + bytes(300))
    assert int.from_bytes(frame[5:7], "big") == 2 + 300 + 1
    assert len(frame) == 7 + 303


def test_encode_frame_refuses_a_body_over_the_cap() -> None:
    assert len(encode_frame(bytes(MAX_BODY - 1))) == 7 + MAX_BODY
    with pytest.raises(LocalProtocolError):
        encode_frame(bytes(MAX_BODY))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cmd": -1, "para": 0},
        {"cmd": 0x100, "para": 0},
        {"cmd": 0x30, "para": 0x100},
        {"cmd": 0x30, "para": 0x01, "data": bytes(MAX_BODY - 2)},
    ],
)
def test_command_validates_on_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        Command(**kwargs)  # type: ignore[arg-type]


def test_largest_command_is_accepted() -> None:
    command = Command(cmd=0x30, para=0x01, data=bytes(MAX_BODY - 3))
    assert int.from_bytes(command.to_bytes()[5:7], "big") == MAX_BODY


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sw3": 0x100},
        {"sw3": -1},
        {"sw3": 0x90, "sw1": 0x100},
        {"sw3": 0x90, "sw2": -1},
        {"sw3": 0x90, "data": bytes(MAX_BODY - 3)},
    ],
)
def test_response_validates_on_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        Response(**kwargs)  # type: ignore[arg-type]


def test_frames_are_frozen() -> None:
    command = Command.of(CommandCode.FIND_CARD)
    with pytest.raises(AttributeError):
        command.cmd = 0x11  # type: ignore[misc]


def test_unknown_command_pair_has_no_code() -> None:
    assert Command(cmd=0x77, para=0x01).code is None
    assert CommandCode.lookup(0x77, 0x01) is None
    assert CommandCode.lookup(0x20, 0x02) is CommandCode.SELECT_CARD


def test_response_status_and_ok() -> None:
    assert Response(sw3=0x90).ok
    assert Response(sw3=0x9F).ok
    assert not Response(sw3=0x80).ok
    assert Response(sw3=0x41).status is Status.READ_FAILED
    assert Response(sw3=0x55).status is None
    assert not Response(sw3=0x55).ok


def test_status_text_covers_every_status_and_unknown_codes() -> None:
    texts = {status: status_text(status) for status in Status}
    assert all(text and not text.startswith("unknown SAM status") for text in texts.values())
    assert status_text(0x80) == "no card found"
    assert status_text(0x55) == "unknown SAM status 0x55"


def test_only_the_two_success_codes_are_success() -> None:
    assert {s for s in Status if s.is_success} == {Status.OK, Status.FIND_CARD_OK}


def test_status_values_match_the_reference_table() -> None:
    assert sorted(int(s) for s in Status) == sorted(
        [0x90, 0x91, 0x9F, 0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81]
    )
