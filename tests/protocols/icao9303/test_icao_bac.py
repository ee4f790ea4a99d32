"""BAC against the worked example of Doc 9303 Part 11 Appendix D (reference/protocols.md 3.6)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303 import (
    BacDeniedError,
    BacKeys,
    MutualAuthentication,
    ResponseApdu,
    SessionKeys,
    parse_challenge,
    parse_mrz,
)
from hallgw_protocols.icao9303._crypto import adjust_parity, decrypt, encrypt, pad, retail_mac, unpad
from hallgw_protocols.icao9303.apdu import get_challenge, select_application
from hallgw_protocols.icao9303.bac import derive_key, key_seed

MRZ_INFORMATION = "L898902C<369080619406236"
K_SEED = bytes.fromhex("239AB9CB282DAF66231DC5A4DF6BFBAE")
K_ENC = bytes.fromhex("AB94FDECF2674FDFB9B391F85D7F76F2")
K_MAC = bytes.fromhex("7962D9ECE03D1ACD4C76089DCE131543")
RND_IC = bytes.fromhex("4608F91988702212")
RND_IFD = bytes.fromhex("781723860C06C226")
K_IFD = bytes.fromhex("0B795240CB7049B01C19B33E32804F0B")
S = bytes.fromhex("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B")
E_IFD = bytes.fromhex("72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2")
M_IFD = bytes.fromhex("5F1448EEA8AD90A7")
E_IC = bytes.fromhex("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F")
M_IC = bytes.fromhex("2F2D235D074D7449")
R = bytes.fromhex("4608F91988702212781723860C06C2260B4F80323EB3191CB04970CB4052790B")
K_IC = bytes.fromhex("0B4F80323EB3191CB04970CB4052790B")
KS_ENC = bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = bytes.fromhex("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226

AUTH = MutualAuthentication(keys=BacKeys(k_enc=K_ENC, k_mac=K_MAC), rnd_icc=RND_IC, rnd_ifd=RND_IFD, k_ifd=K_IFD)


def test_key_seed_and_keys() -> None:
    assert key_seed(MRZ_INFORMATION) == K_SEED
    keys = BacKeys.from_mrz_information(MRZ_INFORMATION)
    assert keys.k_enc == K_ENC
    assert keys.k_mac == K_MAC
    assert "AB94" not in repr(keys).upper()


def test_parity_adjustment_of_the_reference_halves() -> None:
    assert adjust_parity(bytes.fromhex("AB94FCEDF2664EDF")) == K_ENC[:8]
    assert adjust_parity(bytes.fromhex("B9B291F85D7F77F2")) == K_ENC[8:]
    assert derive_key(K_SEED, 1) == K_ENC
    assert all(b.bit_count() % 2 == 1 for b in adjust_parity(bytes(range(256))))


def test_keys_from_a_parsed_mrz_use_its_seed_input() -> None:
    mrz = parse_mrz("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")
    assert BacKeys.from_mrz(mrz) == BacKeys.from_mrz_information("L898902C36" + "7408122" + "1204159")


def test_external_authenticate_command() -> None:
    assert AUTH.e_ifd == E_IFD
    assert decrypt(K_ENC, E_IFD) == S
    assert AUTH.m_ifd == M_IFD
    assert AUTH.command().to_bytes() == bytes.fromhex("0082000028") + E_IFD + M_IFD + b"\x28"


def test_chip_answer_and_session_keys() -> None:
    # The chip's side of the example, computed with the same primitives.
    assert encrypt(K_ENC, R) == E_IC
    assert retail_mac(K_MAC, E_IC) == M_IC
    assert R[16:] == K_IC
    session = AUTH.complete(ResponseApdu(data=E_IC + M_IC))
    assert session == SessionKeys(ks_enc=KS_ENC, ks_mac=KS_MAC, ssc=SSC)
    assert session == SessionKeys.derive(k_ifd=K_IFD, k_icc=K_IC, rnd_ifd=RND_IFD, rnd_icc=RND_IC)
    assert bytes(a ^ b for a, b in zip(K_IFD, K_IC, strict=True)).hex().upper() == "0036D272F5C350ACAC50C3F572D23600"


def test_plain_commands_of_the_transcript() -> None:
    assert select_application().to_bytes() == bytes.fromhex("00A4040C07A0000002471001")
    assert get_challenge().to_bytes() == bytes.fromhex("0084000008")
    assert parse_challenge(ResponseApdu.from_bytes(bytes.fromhex("4608F919887022129000"))) == RND_IC
    with pytest.raises(RemoteProtocolError):
        parse_challenge(ResponseApdu(data=RND_IC[:7]))
    with pytest.raises(RemoteProtocolError):
        parse_challenge(ResponseApdu(data=b"", sw1=0x6D, sw2=0x00))


@pytest.mark.parametrize("sw", [(0x63, 0x00), (0x69, 0x82)])
def test_wrong_mrz_is_denied(sw: tuple[int, int]) -> None:
    with pytest.raises(BacDeniedError, match="re-scan"):
        AUTH.complete(ResponseApdu(data=b"", sw1=sw[0], sw2=sw[1]))


def test_other_bad_answers() -> None:
    with pytest.raises(RemoteProtocolError):
        AUTH.complete(ResponseApdu(data=E_IC + M_IC, sw1=0x6A, sw2=0x80))
    with pytest.raises(RemoteProtocolError):
        AUTH.complete(ResponseApdu(data=E_IC))
    # A chip that authenticates but does not echo our RND.IFD.
    wrong = RND_IC + bytes(8) + K_IC
    e = encrypt(K_ENC, wrong)
    with pytest.raises(RemoteProtocolError, match="echo"):
        AUTH.complete(ResponseApdu(data=e + retail_mac(K_MAC, e)))


@settings(max_examples=80, deadline=None)
@given(index=st.integers(0, 39), bit=st.integers(0, 7))
def test_any_flipped_bit_in_the_answer_is_caught(index: int, bit: int) -> None:
    data = bytearray(E_IC + M_IC)
    data[index] ^= 1 << bit
    with pytest.raises(RemoteProtocolError) as err:
        AUTH.complete(ResponseApdu(data=bytes(data)))
    assert not isinstance(err.value, BacDeniedError)


def test_misuse_is_local() -> None:
    with pytest.raises(LocalProtocolError):
        MutualAuthentication(keys=AUTH.keys, rnd_icc=RND_IC[:4], rnd_ifd=RND_IFD, k_ifd=K_IFD)
    with pytest.raises(LocalProtocolError):
        BacKeys(k_enc=K_ENC[:8], k_mac=K_MAC)
    with pytest.raises(LocalProtocolError):
        encrypt(K_ENC, b"123")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=40))
def test_padding_round_trips(data: bytes) -> None:
    padded = pad(data)
    assert len(padded) % 8 == 0
    assert len(padded) > len(data)
    assert unpad(padded) == data


@pytest.mark.parametrize("bad", [b"", b"\x00" * 8, b"1234567\x81", b"\x80" + bytes(8), b"1234\x80\x00\x00"])
def test_bad_padding_is_the_chips_fault(bad: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        unpad(bad)
