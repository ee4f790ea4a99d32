"""Secure messaging: the three worked exchanges of reference/protocols.md 3.6, and properties.

``Chip`` is a test-side card: the same primitives used in the other direction
(unwrap commands, wrap responses), so a round trip checks both ends agree.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303 import (
    CommandApdu,
    ResponseApdu,
    SecureMessaging,
    SessionKeys,
    SmState,
    UnprotectedStatusError,
    read_binary,
    select_file,
)
from hallgw_protocols.icao9303._crypto import pad
from hallgw_protocols.icao9303.sm import (
    SM_CLA_BITS,
    SSC_MODULUS,
    TAG_ENCRYPTED,
    TAG_LE,
    TAG_STATUS,
    decrypt_object,
    encrypted_object,
    mac_object,
    split_protected,
    verify_mac,
)
from hallgw_protocols.icao9303.tlv import encode_tlv

KEYS = SessionKeys(
    ks_enc=bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5"),
    ks_mac=bytes.fromhex("F1CB1F1FB5ADF208806B89DC579DC1F8"),
    ssc=0x887022120C06C226,
)

# (plain command, protected command, protected response, plain response data, SSC of the command MAC)
EXCHANGES = [
    (
        select_file(0x011E),
        "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
        "990290008E08FA855A5D4C50A8ED9000",
        "",
        0x887022120C06C227,
    ),
    (
        read_binary(0, 4),
        "0CB000000D9701048E08ED6705417E96BA5500",
        "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
        "60145F01",
        0x887022120C06C229,
    ),
    (
        read_binary(4, 0x12),
        "0CB000040D9701128E082EA28A70F3C7B53500",
        "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
        "04303130365F36063034303030305C026175",
        0x887022120C06C22B,
    ),
]


class Chip:
    """The card's side of secure messaging, for tests."""

    def __init__(self, keys: SessionKeys) -> None:
        self.keys = keys
        self.ssc = keys.ssc

    def unwrap_command(self, raw: bytes) -> CommandApdu:
        self.ssc = (self.ssc + 1) % SSC_MODULUS
        header, lc, body, trailer = raw[:4], raw[4], raw[5:-1], raw[-1:]
        assert header[0] & SM_CLA_BITS == SM_CLA_BITS
        assert (lc, trailer) == (len(body), b"\x00")
        objects, covered, mac = split_protected(body, (TAG_ENCRYPTED, TAG_LE))
        verify_mac(self.keys.ks_mac, self.ssc, pad(header) + covered, mac)
        data = decrypt_object(self.keys.ks_enc, objects[TAG_ENCRYPTED]) if TAG_ENCRYPTED in objects else b""
        le = (objects[TAG_LE][0] or 256) if TAG_LE in objects else None
        return CommandApdu(cla=header[0] & ~SM_CLA_BITS, ins=header[1], p1=header[2], p2=header[3], data=data, le=le)

    def wrap_response(self, response: ResponseApdu) -> bytes:
        self.ssc = (self.ssc + 1) % SSC_MODULUS
        sw = bytes((response.sw1, response.sw2))
        objects = encrypted_object(self.keys.ks_enc, response.data) if response.data else b""
        objects += encode_tlv(TAG_STATUS, sw)
        return objects + mac_object(self.keys.ks_mac, self.ssc, objects) + sw


def test_reference_exchanges_byte_for_byte() -> None:
    sm = SecureMessaging(KEYS)
    for plain, protected, response, data, ssc in EXCHANGES:
        assert sm.wrap(plain).hex().upper() == protected
        assert sm.ssc == ssc
        answer = sm.unwrap(bytes.fromhex(response))
        assert sm.ssc == ssc + 1
        assert answer == ResponseApdu(data=bytes.fromhex(data), sw1=0x90, sw2=0x00)
    assert sm.state is SmState.READY


def test_chip_side_reproduces_the_reference_bytes() -> None:
    chip = Chip(KEYS)
    for plain, protected, response, data, _ in EXCHANGES:
        assert chip.unwrap_command(bytes.fromhex(protected)) == plain
        assert chip.wrap_response(ResponseApdu(data=bytes.fromhex(data))).hex().upper() == response


def test_reassembled_ef_com() -> None:
    assert bytes.fromhex(EXCHANGES[1][3] + EXCHANGES[2][3]) == bytes.fromhex("60145F0104") + b"0106" + bytes.fromhex(
        "5F3606"
    ) + b"040000" + bytes.fromhex("5C026175")


def test_order_of_calls_is_enforced() -> None:
    sm = SecureMessaging(KEYS)
    with pytest.raises(LocalProtocolError):
        sm.unwrap(bytes.fromhex(EXCHANGES[0][2]))
    sm.wrap(select_file(0x011E))
    with pytest.raises(LocalProtocolError):
        sm.wrap(select_file(0x011E))


def test_failure_ends_the_session() -> None:
    sm = SecureMessaging(KEYS)
    sm.wrap(select_file(0x011E))
    with pytest.raises(UnprotectedStatusError) as err:
        sm.unwrap(bytes.fromhex("6988"))
    assert err.value.sw == 0x6988
    assert sm.state is SmState.FAILED
    with pytest.raises(LocalProtocolError, match="BAC again"):
        sm.wrap(select_file(0x011E))


def test_mismatched_plain_status_is_caught() -> None:
    sm = SecureMessaging(KEYS)
    sm.wrap(select_file(0x011E))
    with pytest.raises(RemoteProtocolError, match="status word differs"):
        sm.unwrap(bytes.fromhex(EXCHANGES[0][2][:-4] + "6A82"))


def test_command_too_long_for_a_short_apdu_is_local() -> None:
    sm = SecureMessaging(KEYS)
    with pytest.raises(LocalProtocolError):
        sm.wrap(CommandApdu(cla=0, ins=0xD6, p1=0, p2=0, data=bytes(250)))
    assert sm.state is SmState.READY
    assert sm.ssc == KEYS.ssc
    with pytest.raises(LocalProtocolError):
        sm.wrap(CommandApdu(cla=0, ins=0xB1, p1=0, p2=0, le=4))


def test_ssc_wraps_around() -> None:
    keys = SessionKeys(ks_enc=KEYS.ks_enc, ks_mac=KEYS.ks_mac, ssc=SSC_MODULUS - 1)
    sm, chip = SecureMessaging(keys), Chip(keys)
    chip.unwrap_command(sm.wrap(read_binary(0, 4)))
    assert sm.ssc == 0
    assert sm.unwrap(chip.wrap_response(ResponseApdu(data=b"abcd"))).data == b"abcd"


byte = st.integers(0, 0xFF)
commands = st.builds(
    CommandApdu,
    cla=st.sampled_from([0x00, 0x80]),
    ins=byte.map(lambda b: b & 0xFE),
    p1=byte,
    p2=byte,
    data=st.binary(max_size=223),
    le=st.none() | st.integers(1, 256),
)
responses = st.builds(ResponseApdu, data=st.binary(max_size=231), sw1=byte, sw2=byte)
FAST = settings(max_examples=60, deadline=None)


@FAST
@given(exchanges=st.lists(st.tuples(commands, responses), min_size=1, max_size=4), ssc=st.integers(0, SSC_MODULUS - 1))
def test_wrap_then_unwrap_round_trips(exchanges: list[tuple[CommandApdu, ResponseApdu]], ssc: int) -> None:
    keys = SessionKeys(ks_enc=KEYS.ks_enc, ks_mac=KEYS.ks_mac, ssc=ssc)
    sm, chip = SecureMessaging(keys), Chip(keys)
    for command, response in exchanges:
        assert chip.unwrap_command(sm.wrap(command)) == command
        assert sm.unwrap(chip.wrap_response(response)) == response
    assert sm.ssc == chip.ssc == (ssc + 2 * len(exchanges)) % SSC_MODULUS


@st.composite
def corruptions(draw: st.DrawFn, raw: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "append", "replace"]))
    if kind == "flip":
        index = draw(st.integers(0, len(raw) - 1))
        return raw[:index] + bytes((raw[index] ^ (1 << draw(st.integers(0, 7))),)) + raw[index + 1 :]
    if kind == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    if kind == "append":
        index = draw(st.integers(0, len(raw)))
        return raw[:index] + draw(st.binary(min_size=1, max_size=9)) + raw[index:]
    start = draw(st.integers(0, len(raw) - 1))
    end = draw(st.integers(start + 1, len(raw)))
    replacement = draw(st.binary(min_size=end - start, max_size=end - start))
    return raw[:start] + replacement + raw[end:]


@FAST
@given(command=commands, response=responses, data=st.data())
def test_any_corrupted_response_is_a_remote_error(
    command: CommandApdu, response: ResponseApdu, data: st.DataObject
) -> None:
    sm, chip = SecureMessaging(KEYS), Chip(KEYS)
    chip.unwrap_command(sm.wrap(command))
    raw = chip.wrap_response(response)
    corrupted = data.draw(corruptions(raw))
    if corrupted == raw:
        return
    with pytest.raises(RemoteProtocolError):
        sm.unwrap(corrupted)
    assert sm.state is SmState.FAILED


@FAST
@given(garbage=st.binary(max_size=80))
def test_garbage_responses_are_remote_errors(garbage: bytes) -> None:
    sm = SecureMessaging(KEYS)
    sm.wrap(read_binary(0, 4))
    with pytest.raises(RemoteProtocolError):
        sm.unwrap(garbage)
