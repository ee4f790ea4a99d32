"""AS608 system parameters (reference/protocols.md section 2.5)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.fingerprint.as608 import StatusRegister, SystemParameters

# Built field by field from the layout table: status PWD|IMG_BUF_STAT, id 0009, 300 templates,
# level 3, default address, packet size code 2, N = 6.
BLOCK = bytes.fromhex("000C 0009 012C 0003 FFFFFFFF 0002 0006")


def test_block_decodes_field_by_field() -> None:
    params = SystemParameters.from_bytes(BLOCK)
    assert params.status == 0x000C
    assert params.flags == StatusRegister.PWD | StatusRegister.IMG_BUF_STAT
    assert params.password_verified
    assert params.image_valid
    assert not params.busy
    assert params.system_id == 9
    assert params.library_size == 300
    assert params.security_level == 3
    assert params.address == 0xFFFFFFFF
    assert params.packet_size == 128
    assert params.baud == 57600
    assert params.to_bytes() == BLOCK


@pytest.mark.parametrize(("code", "size"), [(0, 32), (1, 64), (2, 128), (3, 256)])
def test_packet_size_codes(code: int, size: int) -> None:
    block = BLOCK[:12] + code.to_bytes(2, "big") + BLOCK[14:]
    assert SystemParameters.from_bytes(block).packet_size == size


@pytest.mark.parametrize(("n", "baud"), [(1, 9600), (2, 19200), (4, 38400), (6, 57600), (12, 115200)])
def test_baud_multipliers(n: int, baud: int) -> None:
    assert SystemParameters.from_bytes(BLOCK[:14] + n.to_bytes(2, "big")).baud == baud


def test_reserved_status_bits_are_kept_but_not_flags() -> None:
    params = SystemParameters.from_bytes(b"\xf0\x01" + BLOCK[2:])
    assert params.status == 0xF001
    assert params.flags == StatusRegister.BUSY


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (BLOCK[:15], "16"),
        (BLOCK[:6] + b"\x00\x00" + BLOCK[8:], "security level"),
        (BLOCK[:6] + b"\x00\x06" + BLOCK[8:], "security level"),
        (BLOCK[:12] + b"\x00\x04" + BLOCK[14:], "packet size"),
        (BLOCK[:14] + b"\x00\x00", "baud"),
        (BLOCK[:14] + b"\x00\x0d", "baud"),
    ],
)
def test_bad_blocks_are_the_modules_fault(block: bytes, message: str) -> None:
    with pytest.raises(RemoteProtocolError, match=message):
        SystemParameters.from_bytes(block)


def test_bad_values_built_locally_are_our_fault() -> None:
    with pytest.raises(LocalProtocolError, match="security level"):
        SystemParameters(
            status=0,
            system_id=0,
            library_size=300,
            security_level=9,
            address=0,
            packet_size_code=2,
            baud_multiplier=6,
        )


sysparams = st.builds(
    SystemParameters,
    status=st.integers(0, 0xFFFF),
    system_id=st.integers(0, 0xFFFF),
    library_size=st.integers(0, 0xFFFF),
    security_level=st.integers(1, 5),
    address=st.integers(0, 0xFFFFFFFF),
    packet_size_code=st.integers(0, 3),
    baud_multiplier=st.integers(1, 12),
)


@settings(max_examples=100, deadline=None)
@given(params=sysparams)
def test_round_trip(params: SystemParameters) -> None:
    raw = params.to_bytes()
    assert len(raw) == 16
    assert SystemParameters.from_bytes(raw) == params
