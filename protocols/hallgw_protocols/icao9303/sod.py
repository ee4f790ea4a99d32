"""EF.SOD: the data group hashes of the LDS security object (passive authentication's hash part).

EF.SOD is ``77`` around a CMS ContentInfo (RFC 5652) of type signedData whose
encapsulated content, of type ``2.23.136.1.1.1``, is the DER of::

    LDSSecurityObject ::= SEQUENCE {
        version             INTEGER,
        hashAlgorithm       AlgorithmIdentifier,
        dataGroupHashValues SEQUENCE OF SEQUENCE { dataGroupNumber INTEGER, hashValue OCTET STRING },
        ldsVersionInfo      LDSVersionInfo OPTIONAL }

This module walks that DER far enough to get the hash algorithm and the hashes.
It does not check the CMS signature or the document signer certificate: that
needs a certificate library and the country signing certificates. Only
definite-length encodings are read (DER, as Doc 9303 requires).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303.lds import LdsFile
from hallgw_protocols.icao9303.tlv import Tlv, encode_tlv, parse_single, parse_tlvs

OID_SIGNED_DATA: Final = "1.2.840.113549.1.7.2"
OID_LDS_SECURITY_OBJECT: Final = "2.23.136.1.1.1"
HASH_ALGORITHMS: Final = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
"""Hash algorithm OIDs Doc 9303 allows, by hashlib name."""

_SEQUENCE: Final = 0x30
_SET: Final = 0x31
_INTEGER: Final = 0x02
_OCTET_STRING: Final = 0x04
_OID: Final = 0x06
_EXPLICIT_0: Final = 0xA0


def decode_oid(raw: bytes) -> str:
    """Dotted form of a DER OBJECT IDENTIFIER's contents."""
    if not raw or raw[-1] & 0x80:
        raise RemoteProtocolError("malformed object identifier")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = value << 7 | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def encode_oid(dotted: str) -> bytes:
    """DER contents of an OBJECT IDENTIFIER."""
    try:
        arcs = [int(a) for a in dotted.split(".")]
    except ValueError:
        raise LocalProtocolError("an OID is dotted decimal") from None
    if len(arcs) < 2 or arcs[0] > 2 or any(a < 0 for a in arcs):
        raise LocalProtocolError("an OID is dotted decimal with at least two arcs")
    out = b""
    for arc in (40 * arcs[0] + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += bytes(reversed(chunk))
    return out


def _decode_integer(item: Tlv) -> int:
    if item.tag != _INTEGER or not item.value:
        raise RemoteProtocolError("expected a DER INTEGER")
    return int.from_bytes(item.value, "big", signed=True)


def _encode_integer(value: int) -> bytes:
    return encode_tlv(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _expect(item: Tlv, tag: int, what: str) -> Tlv:
    if item.tag != tag:
        raise RemoteProtocolError(f"EF.SOD: {what} has tag {item.tag:X}, expected {tag:X}")
    return item


def _children(item: Tlv, at_least: int, what: str) -> tuple[Tlv, ...]:
    children = item.children()
    if len(children) < at_least:
        raise RemoteProtocolError(f"EF.SOD: {what} has too few elements")
    return children


def _numbers_ok(hashes: tuple[tuple[int, bytes], ...] | list[tuple[int, bytes]]) -> bool:
    numbers = [n for n, _ in hashes]
    return all(1 <= n <= 16 for n in numbers) and len(set(numbers)) == len(numbers)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LdsSecurityObject:
    """Hash algorithm and the (data group number, hash) pairs the document signer signed."""

    hash_algorithm_oid: str
    hashes: tuple[tuple[int, bytes], ...]
    version: int = 0

    def __post_init__(self) -> None:
        if not _numbers_ok(self.hashes):
            raise LocalProtocolError("data group numbers must be 1..16, each at most once")

    @property
    def hash_name(self) -> str | None:
        """hashlib name of the algorithm, or None when Doc 9303 does not list it."""
        return HASH_ALGORITHMS.get(self.hash_algorithm_oid)

    def digest(self, data: bytes) -> bytes:
        name = self.hash_name
        if name is None:
            raise RemoteProtocolError("EF.SOD uses a hash algorithm Doc 9303 does not list")
        return hashlib.new(name, data).digest()

    def expected_hash(self, dg_number: int) -> bytes | None:
        return dict(self.hashes).get(dg_number)

    def matches(self, dg_number: int, file: bytes) -> bool:
        """Whether ``file`` (the whole data group as read) hashes to the stored value.

        False when the data group is not listed: a file the signer did not cover is not verified.
        """
        expected = self.expected_hash(dg_number)
        return expected is not None and self.digest(file) == expected

    def to_bytes(self) -> bytes:
        """DER of the LDSSecurityObject."""
        algorithm = encode_tlv(_SEQUENCE, encode_tlv(_OID, encode_oid(self.hash_algorithm_oid)))
        pairs = b"".join(
            encode_tlv(_SEQUENCE, _encode_integer(n) + encode_tlv(_OCTET_STRING, h)) for n, h in self.hashes
        )
        return encode_tlv(_SEQUENCE, _encode_integer(self.version) + algorithm + encode_tlv(_SEQUENCE, pairs))


def parse_lds_security_object(der: bytes) -> LdsSecurityObject:
    root = parse_single(der, _SEQUENCE)
    version, algorithm, pairs = _children(root, 3, "LDSSecurityObject")[:3]
    algorithm_parts = _children(_expect(algorithm, _SEQUENCE, "hashAlgorithm"), 1, "hashAlgorithm")
    hashes: list[tuple[int, bytes]] = []
    for pair in _expect(pairs, _SEQUENCE, "dataGroupHashValues").children():
        number, value = _children(_expect(pair, _SEQUENCE, "DataGroupHash"), 2, "DataGroupHash")[:2]
        hashes.append((_decode_integer(number), _expect(value, _OCTET_STRING, "dataGroupHashValue").value))
    if not _numbers_ok(hashes):
        raise RemoteProtocolError("EF.SOD lists a data group number outside 1..16 or twice")
    return LdsSecurityObject(
        version=_decode_integer(version),
        hash_algorithm_oid=decode_oid(_expect(algorithm_parts[0], _OID, "hash algorithm").value),
        hashes=tuple(hashes),
    )


def parse_sod(data: bytes) -> LdsSecurityObject:
    """The LDS security object inside EF.SOD (its signature is not checked here)."""
    content_info = parse_single(parse_single(data, LdsFile.SOD.tag).value, _SEQUENCE)
    content_type, content = _children(content_info, 2, "ContentInfo")[:2]
    if decode_oid(_expect(content_type, _OID, "contentType").value) != OID_SIGNED_DATA:
        raise RemoteProtocolError("EF.SOD does not hold CMS signed data")
    (signed_data,) = _children(_expect(content, _EXPLICIT_0, "content"), 1, "content")[:1]
    fields = _children(_expect(signed_data, _SEQUENCE, "SignedData"), 3, "SignedData")
    encap = _children(_expect(fields[2], _SEQUENCE, "encapContentInfo"), 2, "encapContentInfo")
    if decode_oid(_expect(encap[0], _OID, "eContentType").value) != OID_LDS_SECURITY_OBJECT:
        raise RemoteProtocolError("EF.SOD does not encapsulate an LDS security object")
    octets = parse_tlvs(_expect(encap[1], _EXPLICIT_0, "eContent").value)
    if len(octets) != 1:
        raise RemoteProtocolError("EF.SOD eContent is not one OCTET STRING")
    return parse_lds_security_object(_expect(octets[0], _OCTET_STRING, "eContent").value)


def encode_unsigned_sod(lso: LdsSecurityObject) -> bytes:
    """EF.SOD with ``lso`` in a CMS SignedData that has no certificates and no signer.

    For simulators and tests of the hash check only: a real reader must not
    accept it as verified, and :func:`parse_sod` does not claim it is.
    """
    algorithm = encode_tlv(_SEQUENCE, encode_tlv(_OID, encode_oid(lso.hash_algorithm_oid)))
    encap = encode_tlv(
        _SEQUENCE,
        encode_tlv(_OID, encode_oid(OID_LDS_SECURITY_OBJECT))
        + encode_tlv(_EXPLICIT_0, encode_tlv(_OCTET_STRING, lso.to_bytes())),
    )
    signed_data = encode_tlv(
        _SEQUENCE, _encode_integer(3) + encode_tlv(_SET, algorithm) + encap + encode_tlv(_SET, b"")
    )
    content_info = encode_tlv(
        _SEQUENCE, encode_tlv(_OID, encode_oid(OID_SIGNED_DATA)) + encode_tlv(_EXPLICIT_0, signed_data)
    )
    return encode_tlv(LdsFile.SOD.tag, content_info)
