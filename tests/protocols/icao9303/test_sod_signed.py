"""EF.SOD's signer part: the two-step builder, the parser, and what corruption does to it."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303 import (
    AlgorithmIdentifier,
    LdsSecurityObject,
    RsaPssParameters,
    SignerIdentifier,
    encode_unsigned_sod,
    parse_pss_parameters,
    parse_signed_sod,
    parse_sod,
    prepare_signed_sod,
)
from hallgw_protocols.icao9303.sod import (
    OID_ECDSA_WITH_SHA256,
    OID_LDS_SECURITY_OBJECT,
    OID_RSASSA_PSS,
    encode_oid,
)
from hallgw_protocols.icao9303.tlv import encode_tlv, parse_single

SHA256 = "2.16.840.1.101.3.4.2.1"
SHA1 = "1.3.14.3.2.26"
# A Name: SEQUENCE { SET { SEQUENCE { countryName, PrintableString "UT" } } }
ISSUER = bytes.fromhex("300D310B3009060355040613025554")
CERT = encode_tlv(0x30, encode_tlv(0x30, b"\x02\x01\x07") + encode_tlv(0x04, b"not a real certificate"))
ECDSA = AlgorithmIdentifier(oid=OID_ECDSA_WITH_SHA256)


def lso_with(*hashes: tuple[int, bytes], algorithm: str = SHA256) -> LdsSecurityObject:
    return LdsSecurityObject(hash_algorithm_oid=algorithm, hashes=hashes)


LSO = lso_with((1, bytes(32)), (2, bytes(range(32))))


def build(
    lso: LdsSecurityObject = LSO,
    *,
    signer_id: SignerIdentifier | None = None,
    algorithm: AlgorithmIdentifier = ECDSA,
    signature: bytes = b"\x30\x06\x02\x01\x01\x02\x01\x02",
    certificates: tuple[bytes, ...] = (CERT,),
    **kwargs: object,
) -> tuple[bytes, bytes]:
    """(EF.SOD, the signed attributes the signature was meant to cover)."""
    pending = prepare_signed_sod(
        lso,
        certificates=certificates,
        signer_id=signer_id or SignerIdentifier(issuer=ISSUER, serial_number=0x1234),
        signature_algorithm=algorithm,
        **kwargs,  # type: ignore[arg-type]
    )
    return pending.finish(signature), pending.signed_attributes


def test_signed_sod_round_trip() -> None:
    raw, attributes = build()
    sod = parse_signed_sod(raw)
    assert sod.signed
    assert sod.lds_security_object == LSO
    assert sod.econtent == LSO.to_bytes()
    assert sod.digest_algorithms == (AlgorithmIdentifier(oid=SHA256),)
    assert sod.certificates == (CERT,)
    (signer,) = sod.signers
    assert signer.version == 1
    assert signer.signer_id == SignerIdentifier(issuer=ISSUER, serial_number=0x1234)
    assert signer.digest_algorithm.hash_name == "sha256"
    assert signer.signed_attributes == attributes
    assert attributes[0] == 0x31  # re-tagged as SET OF, as the signature covers it
    assert signer.content_type == OID_LDS_SECURITY_OBJECT
    assert signer.message_digest == hashlib.sha256(LSO.to_bytes()).digest()
    assert signer.signature_algorithm == ECDSA
    assert signer.signature == b"\x30\x06\x02\x01\x01\x02\x01\x02"
    # The old reader sees the same LDS security object.
    assert parse_sod(raw) == LSO


def test_signed_attributes_are_der_sorted_and_in_the_sod_as_a0() -> None:
    raw, attributes = build()
    items = parse_single(attributes, 0x31).children()
    encoded = [item.to_bytes() for item in items]
    assert encoded == sorted(encoded)
    assert encode_tlv(0xA0, parse_single(attributes, 0x31).value) in raw


def test_subject_key_identifier_and_other_digest() -> None:
    sid = SignerIdentifier(subject_key_identifier=bytes(range(20)))
    raw, _ = build(signer_id=sid, digest_algorithm="sha512")
    (signer,) = parse_signed_sod(raw).signers
    assert signer.version == 3
    assert signer.signer_id == sid
    assert signer.digest_algorithm.hash_name == "sha512"
    assert signer.message_digest == hashlib.sha512(LSO.to_bytes()).digest()


def test_message_digest_override() -> None:
    raw, _ = build(message_digest=b"\x01" * 32)
    assert parse_signed_sod(raw).signers[0].message_digest == b"\x01" * 32


def test_unsigned_sod_has_no_signers() -> None:
    sod = parse_signed_sod(encode_unsigned_sod(LSO))
    assert not sod.signed
    assert sod.signers == ()
    assert sod.certificates == ()
    assert sod.lds_security_object == LSO


def test_pss_parameters_round_trip_and_defaults() -> None:
    params = RsaPssParameters(hash_oid=SHA256, mgf_hash_oid=SHA256, salt_length=32)
    assert parse_pss_parameters(params.to_bytes()) == params
    assert parse_pss_parameters(None) == RsaPssParameters(hash_oid=SHA1, mgf_hash_oid=SHA1, salt_length=20)
    assert parse_pss_parameters(b"\x30\x00") == RsaPssParameters()
    pss = AlgorithmIdentifier(oid=OID_RSASSA_PSS, parameters=params.to_bytes())
    raw, _ = build(algorithm=pss)
    signer = parse_signed_sod(raw).signers[0]
    assert signer.signature_algorithm == pss
    assert parse_pss_parameters(signer.signature_algorithm.parameters) == params
    bad_mgf = AlgorithmIdentifier(oid="1.2.3.4").to_bytes()
    with pytest.raises(RemoteProtocolError, match="MGF1"):
        parse_pss_parameters(encode_tlv(0x30, encode_tlv(0xA1, bad_mgf)))
    with pytest.raises(RemoteProtocolError, match="trailer"):
        parse_pss_parameters(encode_tlv(0x30, encode_tlv(0xA3, b"\x02\x01\x02")))


def test_signer_identifier_needs_exactly_one_form() -> None:
    with pytest.raises(LocalProtocolError):
        SignerIdentifier()
    with pytest.raises(LocalProtocolError):
        SignerIdentifier(issuer=ISSUER)
    with pytest.raises(LocalProtocolError):
        SignerIdentifier(issuer=ISSUER, serial_number=1, subject_key_identifier=b"\x01")
    with pytest.raises(LocalProtocolError, match="digest algorithm"):
        build(digest_algorithm="md5")


def test_structural_errors() -> None:
    raw, _ = build()
    with pytest.raises(RemoteProtocolError, match="signature"):
        # The signature OCTET STRING re-tagged as a BIT STRING.
        parse_signed_sod(
            raw.replace(b"\x04\x08\x30\x06\x02\x01\x01\x02\x01\x02", b"\x03\x08\x30\x06\x02\x01\x01\x02\x01\x02")
        )
    digest = hashlib.sha256(LSO.to_bytes()).digest()
    attribute_oid = encode_tlv(0x06, encode_oid("1.2.840.113549.1.9.4"))
    good = encode_tlv(0x30, attribute_oid + encode_tlv(0x31, encode_tlv(0x04, digest)))
    assert parse_signed_sod(_rebuild_with_attributes(good)).signers[0].message_digest == digest
    two_values = encode_tlv(0x30, attribute_oid + encode_tlv(0x31, encode_tlv(0x04, digest) * 2))
    with pytest.raises(RemoteProtocolError, match="2 values, expected 1"):
        parse_signed_sod(_rebuild_with_attributes(two_values))
    with pytest.raises(RemoteProtocolError, match="appears twice"):
        parse_signed_sod(_rebuild_with_attributes(good + good))
    not_octets = encode_tlv(0x30, attribute_oid + encode_tlv(0x31, encode_tlv(0x02, b"\x01")))
    with pytest.raises(RemoteProtocolError, match="messageDigest has tag 2, expected 4"):
        parse_signed_sod(_rebuild_with_attributes(not_octets))


def _rebuild_with_attributes(message_digest_attribute: bytes) -> bytes:
    """EF.SOD whose signer's signed attributes are the contentType one and ``message_digest_attribute``."""
    content_type = encode_tlv(
        0x30,
        encode_tlv(0x06, encode_oid("1.2.840.113549.1.9.3"))
        + encode_tlv(0x31, encode_tlv(0x06, encode_oid(OID_LDS_SECURITY_OBJECT))),
    )
    signer_info = encode_tlv(
        0x30,
        b"\x02\x01\x01"
        + SignerIdentifier(issuer=ISSUER, serial_number=1).to_bytes()
        + AlgorithmIdentifier(oid=SHA256).to_bytes()
        + encode_tlv(0xA0, content_type + message_digest_attribute)
        + ECDSA.to_bytes()
        + encode_tlv(0x04, b"sig"),
    )
    unsigned = encode_unsigned_sod(LSO)
    # The unsigned SOD ends with an empty signerInfos SET (31 00): put the signer there.
    body = parse_single(unsigned, 0x77).value
    content_info = parse_single(body, 0x30).children()
    signed_data = content_info[1].children()[0].children()
    new_signed_data = encode_tlv(
        0x30, b"".join(item.to_bytes() for item in signed_data[:-1]) + encode_tlv(0x31, signer_info)
    )
    return encode_tlv(0x77, encode_tlv(0x30, content_info[0].to_bytes() + encode_tlv(0xA0, new_signed_data)))


@settings(max_examples=50, deadline=None)
@given(
    hashes=st.lists(st.binary(min_size=20, max_size=64), min_size=1, max_size=16),
    signature=st.binary(max_size=600),
    serial=st.integers(-(2**100), 2**160),
    certificates=st.lists(st.binary(max_size=300).map(lambda b: encode_tlv(0x30, b)), max_size=3),
    sha1=st.booleans(),
)
def test_round_trip_property(
    hashes: list[bytes], signature: bytes, serial: int, certificates: list[bytes], sha1: bool
) -> None:
    lso = lso_with(*enumerate(hashes, start=1), algorithm=SHA1 if sha1 else SHA256)
    raw, attributes = build(
        lso,
        signer_id=SignerIdentifier(issuer=ISSUER, serial_number=serial),
        signature=signature,
        certificates=tuple(certificates),
    )
    sod = parse_signed_sod(raw)
    assert sod.lds_security_object == lso
    assert sod.certificates == tuple(certificates)
    (signer,) = sod.signers
    assert signer.signature == signature
    assert signer.signed_attributes == attributes
    assert signer.signer_id.serial_number == serial


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupted_signed_sod_raises_only_remote_errors(data: st.DataObject) -> None:
    raw = bytearray(build()[0])
    for _ in range(data.draw(st.integers(0, 3))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = bytes(raw[: data.draw(st.integers(0, len(raw)))])
    with contextlib.suppress(RemoteProtocolError):
        parse_signed_sod(cut)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_remote_errors(blob: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_signed_sod(blob)
    with contextlib.suppress(RemoteProtocolError):
        parse_pss_parameters(blob)
