"""EF.SOD: the DER walk to the LDS security object, on structures built here."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303 import LdsSecurityObject, encode_unsigned_sod, parse_sod
from hallgw_protocols.icao9303.sod import decode_oid, encode_oid, parse_lds_security_object
from hallgw_protocols.icao9303.tlv import encode_tlv

SHA256 = "2.16.840.1.101.3.4.2.1"
DG1 = b"\x61\x03\x5f\x1f\x00"
DG2 = b"\x75\x02\x7f\x61"


@pytest.mark.parametrize(
    ("dotted", "der"),
    [
        ("2.16.840.1.101.3.4.2.1", "608648016503040201"),
        ("1.3.14.3.2.26", "2B0E03021A"),
        ("1.2.840.113549.1.7.2", "2A864886F70D010702"),
        ("2.23.136.1.1.1", "6781080101 01".replace(" ", "")),
    ],
)
def test_oids(dotted: str, der: str) -> None:
    assert encode_oid(dotted).hex().upper() == der
    assert decode_oid(bytes.fromhex(der)) == dotted


def test_hand_built_lds_security_object() -> None:
    h1 = hashlib.sha256(DG1).digest()
    h2 = hashlib.sha256(DG2).digest()
    der = bytes.fromhex(
        "3060"  # LDSSecurityObject
        "020100"  # version 0
        "300B0609608648016503040201"  # sha256, parameters absent
        "304E"  # dataGroupHashValues
        "3025020101" + "0420" + h1.hex() + "3025020102" + "0420" + h2.hex()  # DG1, DG2
    )
    lso = parse_lds_security_object(der)
    assert lso == LdsSecurityObject(hash_algorithm_oid=SHA256, hashes=((1, h1), (2, h2)))
    assert lso.to_bytes() == der
    assert lso.hash_name == "sha256"
    assert lso.matches(1, DG1)
    assert lso.matches(2, DG2)
    assert not lso.matches(2, DG2 + b"\x00")
    assert not lso.matches(3, DG2)


def test_sod_round_trip_through_cms() -> None:
    lso = LdsSecurityObject(
        hash_algorithm_oid="1.3.14.3.2.26",
        hashes=((1, hashlib.sha1(DG1).digest()), (2, hashlib.sha1(DG2).digest())),  # noqa: S324 - Doc 9303 allows SHA-1
    )
    raw = encode_unsigned_sod(lso)
    assert raw[0] == 0x77
    assert bytes.fromhex("06092A864886F70D010702") in raw
    assert bytes.fromhex("0606678108010101") in raw
    assert parse_sod(raw) == lso
    # A tampered data group is caught by the hash check.
    assert parse_sod(raw).matches(2, DG2)
    assert not parse_sod(raw).matches(1, DG1.replace(b"\x00", b"\x01"))


def test_sod_errors() -> None:
    lso = LdsSecurityObject(hash_algorithm_oid=SHA256, hashes=((1, bytes(32)),))
    raw = encode_unsigned_sod(lso)
    with pytest.raises(RemoteProtocolError, match="signed data"):
        parse_sod(raw.replace(encode_oid("1.2.840.113549.1.7.2"), encode_oid("1.2.840.113549.1.7.1")))
    with pytest.raises(RemoteProtocolError, match="LDS security object"):
        parse_sod(raw.replace(encode_oid("2.23.136.1.1.1"), encode_oid("2.23.136.1.1.2")))
    pair = encode_tlv(0x30, bytes.fromhex("020101") + encode_tlv(0x04, bytes(32)))
    duplicated = encode_tlv(
        0x30,
        bytes.fromhex("020100300B0609608648016503040201") + encode_tlv(0x30, pair + pair),
    )
    with pytest.raises(RemoteProtocolError, match="twice"):
        parse_lds_security_object(duplicated)
    with pytest.raises(RemoteProtocolError, match="too few"):
        parse_lds_security_object(bytes.fromhex("3003020100"))
    unknown = LdsSecurityObject(hash_algorithm_oid="1.2.3", hashes=((1, bytes(4)),))
    with pytest.raises(RemoteProtocolError, match="hash algorithm"):
        unknown.matches(1, DG1)
    with pytest.raises(LocalProtocolError):
        LdsSecurityObject(hash_algorithm_oid=SHA256, hashes=((17, bytes(32)),))


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_corrupted_sod_never_raises_anything_but_remote_errors(data: st.DataObject) -> None:
    lso = LdsSecurityObject(hash_algorithm_oid=SHA256, hashes=((1, bytes(32)), (2, bytes(range(32)))))
    raw = bytearray(encode_unsigned_sod(lso))
    for _ in range(data.draw(st.integers(1, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    with contextlib.suppress(RemoteProtocolError):
        parse_sod(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
