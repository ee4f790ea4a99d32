"""EF.SOD: the LDS security object and the CMS signature around it (passive authentication).

EF.SOD is ``77`` around a CMS ContentInfo (RFC 5652) of type signedData whose
encapsulated content, of type ``2.23.136.1.1.1``, is the DER of::

    LDSSecurityObject ::= SEQUENCE {
        version             INTEGER,
        hashAlgorithm       AlgorithmIdentifier,
        dataGroupHashValues SEQUENCE OF SEQUENCE { dataGroupNumber INTEGER, hashValue OCTET STRING },
        ldsVersionInfo      LDSVersionInfo OPTIONAL }

:func:`parse_sod` walks that DER far enough to get the hash algorithm and the
hashes. :func:`parse_signed_sod` reads the rest of the SignedData as well (Doc
9303 Part 10 section 4.6.2, Part 11)::

    SignedData ::= SEQUENCE {
        version           INTEGER,
        digestAlgorithms  SET OF AlgorithmIdentifier,
        encapContentInfo  SEQUENCE { eContentType OID, eContent [0] EXPLICIT OCTET STRING },
        certificates      [0] IMPLICIT SET OF Certificate OPTIONAL,   -- the document signer's
        crls              [1] IMPLICIT ... OPTIONAL,
        signerInfos       SET OF SignerInfo }

    SignerInfo ::= SEQUENCE {
        version            INTEGER,
        sid                issuerAndSerialNumber SEQUENCE | subjectKeyIdentifier [0] IMPLICIT OCTET STRING,
        digestAlgorithm    AlgorithmIdentifier,
        signedAttrs        [0] IMPLICIT SET OF Attribute OPTIONAL,   -- contentType, messageDigest
        signatureAlgorithm AlgorithmIdentifier,
        signature          OCTET STRING,
        unsignedAttrs      [1] IMPLICIT SET OF Attribute OPTIONAL }

The signature covers the DER of ``signedAttrs`` with its tag changed from
``A0`` to ``31`` (SET OF): :attr:`SignerInfo.signed_attributes` holds exactly
those bytes. Checking the signature and the certificates needs a certificate
library and the country signing certificates; that is the daemon's part. This
module only takes the structure apart and, for simulators, puts it together in
two steps (:func:`prepare_signed_sod`: the caller signs the returned attributes
and hands the signature back to :meth:`SodToBeSigned.finish`), so it holds no
key and does no public-key arithmetic. Only definite-length encodings are read
(DER, as Doc 9303 requires); anything malformed raises
:class:`RemoteProtocolError`.
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


def _signed_data(data: bytes) -> tuple[Tlv, ...]:
    """The elements of the SignedData inside EF.SOD."""
    content_info = parse_single(parse_single(data, LdsFile.SOD.tag).value, _SEQUENCE)
    content_type, content = _children(content_info, 2, "ContentInfo")[:2]
    if decode_oid(_expect(content_type, _OID, "contentType").value) != OID_SIGNED_DATA:
        raise RemoteProtocolError("EF.SOD does not hold CMS signed data")
    (signed_data,) = _children(_expect(content, _EXPLICIT_0, "content"), 1, "content")[:1]
    return _children(_expect(signed_data, _SEQUENCE, "SignedData"), 3, "SignedData")


def _econtent(encap_info: Tlv) -> bytes:
    """The DER of the LDS security object inside encapContentInfo."""
    encap = _children(_expect(encap_info, _SEQUENCE, "encapContentInfo"), 2, "encapContentInfo")
    if decode_oid(_expect(encap[0], _OID, "eContentType").value) != OID_LDS_SECURITY_OBJECT:
        raise RemoteProtocolError("EF.SOD does not encapsulate an LDS security object")
    octets = parse_tlvs(_expect(encap[1], _EXPLICIT_0, "eContent").value)
    if len(octets) != 1:
        raise RemoteProtocolError("EF.SOD eContent is not one OCTET STRING")
    return _expect(octets[0], _OCTET_STRING, "eContent").value


def parse_sod(data: bytes) -> LdsSecurityObject:
    """The LDS security object inside EF.SOD (its signature is not checked here)."""
    return parse_lds_security_object(_econtent(_signed_data(data)[2]))


def encode_unsigned_sod(lso: LdsSecurityObject) -> bytes:
    """EF.SOD with ``lso`` in a CMS SignedData that has no certificates and no signer.

    For simulators and tests of the hash check only: a real reader must not
    accept it as verified, and :func:`parse_sod` does not claim it is.
    """
    return _encode_sod(
        lso, digest_algorithm=AlgorithmIdentifier(oid=lso.hash_algorithm_oid), certificates=b"", signer_infos=b""
    )


def _encode_sod(
    lso: LdsSecurityObject, *, digest_algorithm: AlgorithmIdentifier, certificates: bytes, signer_infos: bytes
) -> bytes:
    encap = encode_tlv(
        _SEQUENCE,
        encode_tlv(_OID, encode_oid(OID_LDS_SECURITY_OBJECT))
        + encode_tlv(_EXPLICIT_0, encode_tlv(_OCTET_STRING, lso.to_bytes())),
    )
    signed_data = encode_tlv(
        _SEQUENCE,
        _encode_integer(3)
        + encode_tlv(_SET, digest_algorithm.to_bytes())
        + encap
        + certificates
        + encode_tlv(_SET, signer_infos),
    )
    content_info = encode_tlv(
        _SEQUENCE, encode_tlv(_OID, encode_oid(OID_SIGNED_DATA)) + encode_tlv(_EXPLICIT_0, signed_data)
    )
    return encode_tlv(LdsFile.SOD.tag, content_info)


# -- the signer part ---------------------------------------------------------------

OID_CONTENT_TYPE: Final = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
OID_RSASSA_PSS: Final = "1.2.840.113549.1.1.10"
OID_MGF1: Final = "1.2.840.113549.1.1.8"
OID_ECDSA_WITH_SHA256: Final = "1.2.840.10045.4.3.2"

_NULL: Final = 0x05
_CONTEXT_1: Final = 0xA1
_SKI_TAG: Final = 0x80
"""subjectKeyIdentifier [0] IMPLICIT OCTET STRING: a primitive context tag."""
_EXPLICIT_2: Final = 0xA2
_EXPLICIT_3: Final = 0xA3


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AlgorithmIdentifier:
    """An X.509 AlgorithmIdentifier: the OID and the DER of its parameters (None when absent)."""

    oid: str
    parameters: bytes | None = None

    def to_bytes(self) -> bytes:
        return encode_tlv(_SEQUENCE, encode_tlv(_OID, encode_oid(self.oid)) + (self.parameters or b""))

    @property
    def hash_name(self) -> str | None:
        """hashlib name when this identifies a hash algorithm Doc 9303 lists, else None."""
        return HASH_ALGORITHMS.get(self.oid)


def _parse_algorithm(item: Tlv, what: str) -> AlgorithmIdentifier:
    parts = _children(_expect(item, _SEQUENCE, what), 1, what)
    if len(parts) > 2:
        raise RemoteProtocolError(f"EF.SOD: {what} has more than an OID and parameters")
    oid = decode_oid(_expect(parts[0], _OID, f"{what} OID").value)
    return AlgorithmIdentifier(oid=oid, parameters=parts[1].to_bytes() if len(parts) == 2 else None)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SignerIdentifier:
    """Which certificate signed: issuer Name (DER) and serial number, or a subject key identifier."""

    issuer: bytes | None = None
    """DER of the issuer's Name (a SEQUENCE), with :attr:`serial_number`."""
    serial_number: int | None = None
    subject_key_identifier: bytes | None = None

    def __post_init__(self) -> None:
        by_issuer = self.issuer is not None and self.serial_number is not None
        by_key = self.subject_key_identifier is not None
        if by_issuer == by_key or (not by_issuer and (self.issuer is not None or self.serial_number is not None)):
            raise LocalProtocolError(
                "a signer is identified by issuer and serial number, or by a subject key identifier: one of the two"
            )

    def to_bytes(self) -> bytes:
        """DER of the SignerIdentifier choice."""
        if self.subject_key_identifier is not None:
            return encode_tlv(_SKI_TAG, self.subject_key_identifier)
        return encode_tlv(_SEQUENCE, (self.issuer or b"") + _encode_integer(self.serial_number or 0))


def _parse_signer_id(item: Tlv) -> SignerIdentifier:
    if item.tag == _SKI_TAG:
        return SignerIdentifier(subject_key_identifier=item.value)
    parts = _children(_expect(item, _SEQUENCE, "issuerAndSerialNumber"), 2, "issuerAndSerialNumber")
    if len(parts) != 2:
        raise RemoteProtocolError("EF.SOD: issuerAndSerialNumber has more than an issuer and a serial number")
    issuer = _expect(parts[0], _SEQUENCE, "issuer").to_bytes()
    return SignerIdentifier(issuer=issuer, serial_number=_decode_integer(parts[1]))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SignerInfo:
    """One signer of EF.SOD: what it signed and how, for a certificate library to check."""

    version: int
    signer_id: SignerIdentifier
    digest_algorithm: AlgorithmIdentifier
    signed_attributes: bytes | None
    """DER of signedAttrs re-tagged as SET OF (``31``): the bytes the signature covers.
    None when the signer has no signed attributes (Doc 9303 requires them)."""
    content_type: str | None
    """The contentType attribute (``2.23.136.1.1.1`` on a valid document), None when absent."""
    message_digest: bytes | None
    """The messageDigest attribute: the digest of the eContent, None when absent."""
    signature_algorithm: AlgorithmIdentifier
    signature: bytes


def _single_value(attribute: tuple[Tlv, ...], what: str) -> Tlv:
    values = _expect(attribute[1], _SET, f"{what} values").children()
    if len(values) != 1:
        raise RemoteProtocolError(f"EF.SOD: the {what} attribute has {len(values)} values, expected 1")
    return values[0]


def _parse_signer_info(item: Tlv) -> SignerInfo:
    fields = _children(_expect(item, _SEQUENCE, "SignerInfo"), 5, "SignerInfo")
    version = _decode_integer(fields[0])
    signer_id = _parse_signer_id(fields[1])
    digest_algorithm = _parse_algorithm(fields[2], "digestAlgorithm")
    rest = list(fields[3:])
    signed_attributes: bytes | None = None
    content_type: str | None = None
    message_digest: bytes | None = None
    if rest[0].tag == _EXPLICIT_0:
        attrs = rest.pop(0)
        signed_attributes = encode_tlv(_SET, attrs.value)
        seen: set[str] = set()
        for attribute in attrs.children():
            parts = _children(_expect(attribute, _SEQUENCE, "Attribute"), 2, "Attribute")
            if len(parts) != 2:
                raise RemoteProtocolError("EF.SOD: an attribute has more than a type and its values")
            oid = decode_oid(_expect(parts[0], _OID, "attribute type").value)
            if oid in seen:
                raise RemoteProtocolError(f"EF.SOD: signed attribute {oid} appears twice")
            seen.add(oid)
            if oid == OID_CONTENT_TYPE:
                content_type = decode_oid(_expect(_single_value(parts, "contentType"), _OID, "contentType").value)
            elif oid == OID_MESSAGE_DIGEST:
                value = _single_value(parts, "messageDigest")
                message_digest = _expect(value, _OCTET_STRING, "messageDigest").value
    if len(rest) < 2:
        raise RemoteProtocolError("EF.SOD: SignerInfo has too few elements")
    signature_algorithm = _parse_algorithm(rest[0], "signatureAlgorithm")
    signature = _expect(rest[1], _OCTET_STRING, "signature").value
    if len(rest) > 3 or (len(rest) == 3 and rest[2].tag != _CONTEXT_1):
        raise RemoteProtocolError("EF.SOD: SignerInfo has unexpected elements after the signature")
    return SignerInfo(
        version=version,
        signer_id=signer_id,
        digest_algorithm=digest_algorithm,
        signed_attributes=signed_attributes,
        content_type=content_type,
        message_digest=message_digest,
        signature_algorithm=signature_algorithm,
        signature=signature,
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SignedSod:
    """Everything in EF.SOD that passive authentication checks."""

    lds_security_object: LdsSecurityObject
    econtent: bytes
    """DER of the LDS security object, as signed (messageDigest is its digest)."""
    digest_algorithms: tuple[AlgorithmIdentifier, ...]
    certificates: tuple[bytes, ...]
    """DER of each certificate carried (the document signer's, on a valid document)."""
    signers: tuple[SignerInfo, ...]
    """Empty on an unsigned EF.SOD."""

    @property
    def signed(self) -> bool:
        return bool(self.signers)


def parse_signed_sod(data: bytes) -> SignedSod:
    """The LDS security object and the signer part of EF.SOD (nothing is verified here)."""
    fields = _signed_data(data)
    _decode_integer(fields[0])
    digest_algorithms = tuple(
        _parse_algorithm(item, "digestAlgorithm") for item in _expect(fields[1], _SET, "digestAlgorithms").children()
    )
    econtent = _econtent(fields[2])
    lso = parse_lds_security_object(econtent)
    certificates: list[bytes] = []
    signers: list[SignerInfo] = []
    rest = list(fields[3:])
    if rest and rest[0].tag == _EXPLICIT_0:
        for cert in rest.pop(0).children():
            certificates.append(_expect(cert, _SEQUENCE, "certificate").to_bytes())
    if rest and rest[0].tag == _CONTEXT_1:
        rest.pop(0)  # crls: Doc 9303 does not use them in EF.SOD
    if rest:
        signer_infos = _expect(rest.pop(0), _SET, "signerInfos")
        signers = [_parse_signer_info(item) for item in signer_infos.children()]
    if rest:
        raise RemoteProtocolError("EF.SOD: SignedData has unexpected elements after signerInfos")
    return SignedSod(
        lds_security_object=lso,
        econtent=econtent,
        digest_algorithms=digest_algorithms,
        certificates=tuple(certificates),
        signers=tuple(signers),
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RsaPssParameters:
    """RSASSA-PSS-params (RFC 4055): hash, MGF1 hash, salt length (defaults SHA-1, SHA-1, 20)."""

    hash_oid: str = "1.3.14.3.2.26"
    mgf_hash_oid: str = "1.3.14.3.2.26"
    salt_length: int = 20

    def to_bytes(self) -> bytes:
        """DER of the parameters, every field written out."""
        mgf = AlgorithmIdentifier(
            oid=OID_MGF1, parameters=AlgorithmIdentifier(oid=self.mgf_hash_oid).to_bytes()
        ).to_bytes()
        return encode_tlv(
            _SEQUENCE,
            encode_tlv(_EXPLICIT_0, AlgorithmIdentifier(oid=self.hash_oid).to_bytes())
            + encode_tlv(_CONTEXT_1, mgf)
            + encode_tlv(_EXPLICIT_2, _encode_integer(self.salt_length)),
        )


def parse_pss_parameters(der: bytes | None) -> RsaPssParameters:
    """The RSASSA-PSS parameters of a signature algorithm (absent parameters take the defaults)."""
    if der is None:
        return RsaPssParameters()
    hash_oid, mgf_hash_oid, salt_length = "1.3.14.3.2.26", "1.3.14.3.2.26", 20
    for item in parse_single(der, _SEQUENCE).children():
        inner_items = item.children() if item.constructed else ()
        if len(inner_items) != 1:
            raise RemoteProtocolError(f"EF.SOD: RSASSA-PSS-params field {item.tag:X} does not hold one element")
        inner = inner_items[0]
        if item.tag == _EXPLICIT_0:
            hash_oid = _parse_algorithm(inner, "PSS hashAlgorithm").oid
        elif item.tag == _CONTEXT_1:
            mgf = _parse_algorithm(inner, "PSS maskGenAlgorithm")
            if mgf.oid != OID_MGF1 or mgf.parameters is None:
                raise RemoteProtocolError("EF.SOD: the PSS mask generation function is not MGF1 with a hash")
            mgf_hash_oid = _parse_algorithm(parse_single(mgf.parameters, _SEQUENCE), "MGF1 hash").oid
        elif item.tag == _EXPLICIT_2:
            salt_length = _decode_integer(inner)
        elif item.tag == _EXPLICIT_3:
            if _decode_integer(inner) != 1:
                raise RemoteProtocolError("EF.SOD: the PSS trailer field is not 1")
        else:
            raise RemoteProtocolError(f"EF.SOD: unexpected tag {item.tag:X} in RSASSA-PSS-params")
    if not 0 <= salt_length <= 1024:
        raise RemoteProtocolError(f"EF.SOD: PSS salt length {salt_length} is out of range")
    return RsaPssParameters(hash_oid=hash_oid, mgf_hash_oid=mgf_hash_oid, salt_length=salt_length)


def _attribute(oid: str, value: bytes) -> bytes:
    return encode_tlv(_SEQUENCE, encode_tlv(_OID, encode_oid(oid)) + encode_tlv(_SET, value))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class SodToBeSigned:
    """A signed EF.SOD waiting for its signature: sign :attr:`signed_attributes`, then :meth:`finish`."""

    lds_security_object: LdsSecurityObject
    certificates: tuple[bytes, ...]
    signer_id: SignerIdentifier
    digest_algorithm: AlgorithmIdentifier
    signature_algorithm: AlgorithmIdentifier
    signed_attributes: bytes
    """DER SET OF the contentType and messageDigest attributes: what the signature covers."""

    def __repr__(self) -> str:
        return f"SodToBeSigned({self.digest_algorithm.hash_name}, {self.signature_algorithm.oid})"

    def finish(self, signature: bytes) -> bytes:
        """The whole EF.SOD with ``signature`` (computed by the caller over :attr:`signed_attributes`)."""
        signer_info = encode_tlv(
            _SEQUENCE,
            _encode_integer(3 if self.signer_id.subject_key_identifier is not None else 1)
            + self.signer_id.to_bytes()
            + self.digest_algorithm.to_bytes()
            + encode_tlv(_EXPLICIT_0, parse_single(self.signed_attributes, _SET).value)
            + self.signature_algorithm.to_bytes()
            + encode_tlv(_OCTET_STRING, signature),
        )
        certificates = encode_tlv(_EXPLICIT_0, b"".join(self.certificates)) if self.certificates else b""
        return _encode_sod(
            self.lds_security_object,
            digest_algorithm=self.digest_algorithm,
            certificates=certificates,
            signer_infos=signer_info,
        )


def prepare_signed_sod(
    lso: LdsSecurityObject,
    *,
    certificates: tuple[bytes, ...],
    signer_id: SignerIdentifier,
    signature_algorithm: AlgorithmIdentifier,
    digest_algorithm: str | None = None,
    message_digest: bytes | None = None,
) -> SodToBeSigned:
    """First step of building a signed EF.SOD (for simulators and tests).

    ``digest_algorithm`` (a hashlib name Doc 9303 lists; the LDS security
    object's own by default) digests the eContent into the messageDigest
    attribute; ``message_digest`` overrides that value, to build a document
    whose signer signed some other content.
    """
    name = digest_algorithm or lso.hash_name
    oids = {n: oid for oid, n in HASH_ALGORITHMS.items()}
    if name not in oids:
        raise LocalProtocolError(f"{name!r} is not a digest algorithm Doc 9303 lists")
    econtent = lso.to_bytes()
    digest = hashlib.new(name, econtent).digest() if message_digest is None else message_digest
    attributes = sorted(
        (
            _attribute(OID_CONTENT_TYPE, encode_tlv(_OID, encode_oid(OID_LDS_SECURITY_OBJECT))),
            _attribute(OID_MESSAGE_DIGEST, encode_tlv(_OCTET_STRING, digest)),
        )
    )
    return SodToBeSigned(
        lds_security_object=lso,
        certificates=certificates,
        signer_id=signer_id,
        digest_algorithm=AlgorithmIdentifier(oid=oids[name]),
        signature_algorithm=signature_algorithm,
        signed_attributes=encode_tlv(_SET, b"".join(attributes)),
    )
