"""Passive authentication's signature part against the simulator's test PKI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hallgw_daemon.config import ConfigError
from hallgw_daemon.drivers.passive_auth import (
    CscaCertificateError,
    SignatureStatus,
    load_csca_certificates,
    verify_sod_bytes,
    verify_sod_signature,
)
from hallgw_protocols.icao9303 import LdsFile, LdsSecurityObject, parse_signed_sod, prepare_signed_sod
from hallgw_simulators.passport_deck import build_passport_deck, make_document
from hallgw_simulators.passport_pki import (
    VALID_FROM,
    VALID_UNTIL,
    CountrySigningAuthority,
    SignerKind,
    derive_ec_key,
    make_csca,
    passport_pki,
    write_csca_pem,
)

DECK = build_passport_deck()
DOC = DECK["td3-uto-1"]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
PKI = passport_pki()
CSCAS = (PKI.csca.certificate,)


def sod_of(doc_id: str = "td3-uto-1") -> bytes:
    return DECK[doc_id].file(LdsFile.SOD)


def check(
    raw: bytes, cscas: tuple[x509.Certificate, ...] = CSCAS, at: dt.datetime = NOW
) -> tuple[SignatureStatus, str]:
    result = verify_sod_signature(parse_signed_sod(raw), cscas, at=at)
    return result.status, result.message


@pytest.mark.parametrize("doc_id", list(DECK))
def test_every_deck_document_verifies(doc_id: str) -> None:
    result = verify_sod_signature(parse_signed_sod(sod_of(doc_id)), CSCAS, at=NOW)
    assert result.status is SignatureStatus.VERIFIED, result.message
    assert result.verified
    assert result.country == "UT"
    assert "verified" in result.message


def test_tampered_document_still_has_a_valid_signature() -> None:
    # The hash check catches the altered DG2; the signature covers the hashes as stored.
    doc = DECK["td3-deu-tampered"]
    sod = parse_signed_sod(doc.file(LdsFile.SOD))
    assert verify_sod_signature(sod, CSCAS, at=NOW).verified
    assert not sod.lds_security_object.matches(2, doc.file(LdsFile.DG2))


def test_no_csca_configured_is_not_verified() -> None:
    status, message = check(sod_of(), ())
    assert status is SignatureStatus.NOT_VERIFIED
    assert message == "not verified: no country signing certificate for UT is configured"


def test_a_csca_of_another_country_is_not_verified() -> None:
    other = make_csca("ZZ")
    status, message = check(sod_of(), (other.certificate,))
    assert status is SignatureStatus.NOT_VERIFIED
    assert "for UT" in message


def _rogue_csca() -> CountrySigningAuthority:
    """A CSCA with the real one's name and another key."""
    name = PKI.csca.certificate.subject
    key = derive_ec_key("rogue-key")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return CountrySigningAuthority(certificate=cert, private_key=key, seed="UT/rogue")


def test_a_signer_from_another_csca_of_the_same_name_is_invalid() -> None:
    rogue = _rogue_csca()
    doc = make_document("rogue", DOC.mrz, signer=rogue.issue_document_signer())
    status, message = check(doc.file(LdsFile.SOD))
    assert status is SignatureStatus.INVALID
    assert message == "invalid: the document signer certificate is not signed by the country signing certificate of UT"
    # With the rogue CSCA configured as well, the chain to it verifies.
    assert check(doc.file(LdsFile.SOD), (*CSCAS, rogue.certificate))[0] is SignatureStatus.VERIFIED


def test_a_signer_of_an_unconfigured_csca_is_not_verified() -> None:
    forged = make_csca("UT", seed="forged")
    doc = make_document("forged", DOC.mrz, signer=forged.issue_document_signer())
    assert check(doc.file(LdsFile.SOD))[0] is SignatureStatus.NOT_VERIFIED


def test_an_expired_csca_is_invalid() -> None:
    old = make_csca("UT", seed="old", not_after=dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
    signer = old.issue_document_signer(not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    doc = make_document("old-csca", DOC.mrz, signer=signer)
    status, message = check(doc.file(LdsFile.SOD), (old.certificate,))
    assert status is SignatureStatus.INVALID
    assert message.startswith("invalid: the country signing certificate is valid from 2020-01-01 to 2022-01-01")


def test_bad_signature_is_invalid() -> None:
    doc = make_document("bad-sig", DOC.mrz, bad_signature=True)
    assert doc.bad_signature
    status, message = check(doc.file(LdsFile.SOD))
    assert status is SignatureStatus.INVALID
    assert message == "invalid: the document signer's signature over EF.SOD does not verify"


def test_flipped_signature_byte_is_invalid() -> None:
    sod = parse_signed_sod(sod_of())
    signer = sod.signers[0]
    raw = sod_of()
    flipped = signer.signature[:-1] + bytes((signer.signature[-1] ^ 1,))
    status, _ = check(raw.replace(signer.signature, flipped))
    assert status is SignatureStatus.INVALID


def test_message_digest_mismatch_is_invalid() -> None:
    signer = PKI.document_signer
    lso = LdsSecurityObject(hash_algorithm_oid="2.16.840.1.101.3.4.2.1", hashes=((1, bytes(32)),))
    pending = prepare_signed_sod(
        lso,
        certificates=(signer.certificate_der,),
        signer_id=signer.signer_id,
        signature_algorithm=signer.signature_algorithm,
        message_digest=bytes(32),
    )
    raw = pending.finish(signer.sign(pending.signed_attributes))
    status, message = check(raw)
    assert status is SignatureStatus.INVALID
    assert message == "invalid: the signed message digest does not match the LDS security object"


def test_expired_document_signer_is_invalid() -> None:
    expired = PKI.csca.issue_document_signer(
        "Document Signer 2020",
        not_before=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
    )
    doc = make_document("expired-ds", DOC.mrz, signer=expired)
    status, message = check(doc.file(LdsFile.SOD))
    assert status is SignatureStatus.INVALID
    assert (
        message == "invalid: the document signer certificate is valid from 2020-01-01 to 2021-01-01, not on 2026-06-01"
    )
    # On a day inside its validity it verifies.
    assert check(doc.file(LdsFile.SOD), at=dt.datetime(2020, 6, 1))[0] is SignatureStatus.VERIFIED


@pytest.mark.parametrize("kind", ["rsa", "rsa-pss"])
def test_rsa_signers_verify(kind: SignerKind) -> None:
    signer = PKI.csca.issue_document_signer(f"Document Signer {kind}", kind=kind)
    doc = make_document(f"{kind}-doc", DOC.mrz, signer=signer)
    assert check(doc.file(LdsFile.SOD))[0] is SignatureStatus.VERIFIED
    bad = make_document(f"{kind}-bad", DOC.mrz, signer=signer, bad_signature=True)
    assert check(bad.file(LdsFile.SOD))[0] is SignatureStatus.INVALID


def test_unsigned_sod_is_invalid() -> None:
    doc = make_document("unsigned", DOC.mrz, signed=False)
    assert not doc.signed
    status, message = check(doc.file(LdsFile.SOD))
    assert status is SignatureStatus.INVALID
    assert message == "invalid: EF.SOD carries no signature"


def test_garbage_certificate_in_sod_is_invalid() -> None:
    sod = parse_signed_sod(sod_of())
    cert = sod.certificates[0]
    garbage = cert[:4] + bytes(len(cert) - 4)  # the same length, a SEQUENCE of zeros
    status, message = check(sod_of().replace(cert, garbage))
    assert status is SignatureStatus.INVALID
    assert message == "invalid: the document signer certificate in EF.SOD does not parse"


def test_garbage_sod_bytes_are_invalid_not_raised() -> None:
    result = verify_sod_bytes(b"\x77\x03\x30\x01\x00", CSCAS, at=NOW)
    assert result.status is SignatureStatus.INVALID
    assert verify_sod_bytes(sod_of(), CSCAS, at=NOW).verified


def test_load_pem_der_and_directories(tmp_path: Path) -> None:
    pem = write_csca_pem(tmp_path / "uto.pem")
    der_dir = tmp_path / "cscas"
    der_dir.mkdir()
    other = make_csca("ZZ")
    (der_dir / "zz.der").write_bytes(other.certificate.public_bytes(serialization.Encoding.DER))
    (der_dir / "README").write_text("not a certificate")
    into_dir = write_csca_pem(der_dir)
    assert into_dir.parent == der_dir
    loaded = load_csca_certificates([pem, der_dir])
    assert [c.subject for c in loaded] == [
        PKI.csca.certificate.subject,
        PKI.csca.certificate.subject,
        other.certificate.subject,
    ]
    assert verify_sod_signature(parse_signed_sod(sod_of()), loaded, at=NOW).verified


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CscaCertificateError, match=r"broken\.pem: expected X\.509 certificates"):
        load_csca_certificates([bad])
    junk = tmp_path / "junk.der"
    junk.write_bytes(b"\x30\x03\x02\x01\x00")
    with pytest.raises(ConfigError, match=r"junk\.der"):
        load_csca_certificates([junk])
    with pytest.raises(CscaCertificateError, match="no such CSCA certificate"):
        load_csca_certificates([tmp_path / "missing.pem"])
