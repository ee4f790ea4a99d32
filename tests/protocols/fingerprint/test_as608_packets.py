"""AS608 packets byte for byte against the worked packets of reference/protocols.md section 2.2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.fingerprint.as608 import (
    MAX_PAYLOAD,
    Confirmation,
    Instruction,
    Packet,
    PacketId,
    checksum,
    confirmation_text,
)

# (PID, payload, the whole packet as the reference prints it). Every row of the worked-packet table.
REFERENCE_PACKETS: list[tuple[PacketId, bytes, str]] = [
    (PacketId.COMMAND, b"\x01", "EF 01 FF FF FF FF 01 00 03 01 00 05"),
    (PacketId.COMMAND, b"\x02\x01", "EF 01 FF FF FF FF 01 00 04 02 01 00 08"),
    (PacketId.COMMAND, b"\x05", "EF 01 FF FF FF FF 01 00 03 05 00 09"),
    (PacketId.COMMAND, b"\x06\x01\x00\x00", "EF 01 FF FF FF FF 01 00 06 06 01 00 00 00 0E"),
    (PacketId.COMMAND, b"\x04\x01\x00\x00\x00\xa3", "EF 01 FF FF FF FF 01 00 08 04 01 00 00 00 A3 00 B1"),
    (PacketId.COMMAND, b"\x13\x00\x00\x00\x00", "EF 01 FF FF FF FF 01 00 07 13 00 00 00 00 00 1B"),
    (PacketId.COMMAND, b"\x0f", "EF 01 FF FF FF FF 01 00 03 0F 00 13"),
    (PacketId.COMMAND, b"\x1d", "EF 01 FF FF FF FF 01 00 03 1D 00 21"),
    (PacketId.COMMAND, b"\x0a", "EF 01 FF FF FF FF 01 00 03 0A 00 0E"),
    (PacketId.COMMAND, b"\x1f\x00", "EF 01 FF FF FF FF 01 00 04 1F 00 00 24"),
    (PacketId.ACK, b"\x00", "EF 01 FF FF FF FF 07 00 03 00 00 0A"),
    (PacketId.ACK, b"\x02", "EF 01 FF FF FF FF 07 00 03 02 00 0C"),
    (PacketId.ACK, b"\x00\x00\x05\x00\x64", "EF 01 FF FF FF FF 07 00 07 00 00 05 00 64 00 77"),
]


@pytest.mark.parametrize(("pid", "payload", "wire"), REFERENCE_PACKETS)
def test_reference_packets_encode_and_decode_byte_for_byte(pid: PacketId, payload: bytes, wire: str) -> None:
    raw = bytes.fromhex(wire)
    packet = Packet(pid=pid, payload=payload)
    assert packet.to_bytes() == raw
    assert Packet.from_bytes(raw) == packet
    assert checksum(pid, payload) == int.from_bytes(raw[-2:], "big")


def test_checksum_wraps_at_16_bits() -> None:
    # 01 + 01 2E (length 302) + 300 * FF = 76548 = 0x12B04: only the low 16 bits remain.
    assert checksum(0x01, b"\xff" * 300) == 0x2B04
    assert checksum(PacketId.END, b"\xff" * 256) == 0xFF0B


def test_data_packets_checksum_with_their_own_pid() -> None:
    data = Packet(pid=PacketId.DATA, payload=b"\x10\x20").to_bytes()
    end = Packet(pid=PacketId.END, payload=b"\x10\x20").to_bytes()
    assert int.from_bytes(end[-2:], "big") - int.from_bytes(data[-2:], "big") == PacketId.END - PacketId.DATA


def test_address_travels_big_endian() -> None:
    raw = Packet(pid=PacketId.COMMAND, payload=b"\x01", address=0x12345678).to_bytes()
    assert raw[2:6] == b"\x12\x34\x56\x78"
    assert Packet.from_bytes(raw).address == 0x12345678


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"\xef\x02" + b[2:], "header"),
        (lambda b: b[:6] + b"\x03" + b[7:], "packet identifier"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "checksum"),
        (lambda b: b[:8] + b"\x04" + b[9:], "length field"),
        (lambda b: b[:7] + b"\x01\x05" + b[9:], "length"),
        (lambda b: b[:5], "too short"),
    ],
)
def test_bad_packets_are_the_senders_fault(mutate: object, message: str) -> None:
    raw = bytes.fromhex("EF 01 FF FF FF FF 07 00 03 00 00 0A")
    assert callable(mutate)
    with pytest.raises(RemoteProtocolError, match=message):
        Packet.from_bytes(mutate(raw))


def test_invalid_packets_are_refused_as_our_fault() -> None:
    with pytest.raises(LocalProtocolError):
        Packet(pid=PacketId.COMMAND, payload=b"")
    with pytest.raises(LocalProtocolError):
        Packet(pid=PacketId.DATA, payload=bytes(MAX_PAYLOAD + 1))
    with pytest.raises(LocalProtocolError):
        Packet(pid=PacketId.COMMAND, payload=b"\x01", address=1 << 32)
    with pytest.raises(LocalProtocolError):
        Packet(pid=3, payload=b"\x01")  # type: ignore[arg-type]


def test_instruction_and_confirmation_values_match_the_reference() -> None:
    expected: list[tuple[int, int]] = [
        (Instruction.GEN_IMG, 0x01),
        (Instruction.IMG2TZ, 0x02),
        (Instruction.UP_IMAGE, 0x0A),
        (Instruction.READ_SYS_PARA, 0x0F),
        (Instruction.VFY_PWD, 0x13),
        (Instruction.PORT_CONTROL, 0x17),
        (Instruction.HANDSHAKE, 0x40),
        (Confirmation.NO_FINGER, 0x02),
        (Confirmation.IMAGE_TOO_MESSY, 0x06),
        (Confirmation.COMBINE_FAILED, 0x0A),
        (Confirmation.WRONG_PASSWORD, 0x13),
        (Confirmation.PASSWORD_REQUIRED, 0x21),
    ]
    for member, value in expected:
        assert int(member) == value


def test_every_confirmation_code_has_a_meaning() -> None:
    for code in Confirmation:
        assert not confirmation_text(code).startswith("unknown")
    assert confirmation_text(0x02) == "no finger on the sensor"
    assert confirmation_text(0x23) == "unknown confirmation code 0x23"


@settings(max_examples=100, deadline=None)
@given(
    pid=st.sampled_from(list(PacketId)),
    payload=st.binary(min_size=1, max_size=MAX_PAYLOAD),
    address=st.integers(0, 0xFFFFFFFF),
)
def test_packet_round_trip(pid: PacketId, payload: bytes, address: int) -> None:
    packet = Packet(pid=pid, payload=payload, address=address)
    raw = packet.to_bytes()
    assert len(raw) == 11 + len(payload)
    assert Packet.from_bytes(raw) == packet
