"""The test PKI and the signed EF.SODs of the passport deck."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from hallgw_protocols.icao9303 import LdsFile, parse_signed_sod
from hallgw_simulators.passport_deck import build_passport_deck, make_document
from hallgw_simulators.passport_pki import csca_pem, make_csca, passport_pki, write_csca_pem

DECK = build_passport_deck()


def test_pki_is_the_same_every_time() -> None:
    pki = passport_pki()
    assert passport_pki() is pki
    again = make_csca()
    assert again.certificate == pki.csca.certificate  # derived key, deterministic signature
    assert again.issue_document_signer().certificate == pki.document_signer.certificate
    assert make_csca("ZZ").certificate != pki.csca.certificate


def test_chain_and_validity() -> None:
    pki = passport_pki()
    ds, csca = pki.document_signer.certificate, pki.csca.certificate
    ds.verify_directly_issued_by(csca)
    csca.verify_directly_issued_by(csca)
    for cert in (ds, csca):
        assert cert.not_valid_before_utc <= dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        assert cert.not_valid_after_utc >= dt.datetime(2040, 12, 31, tzinfo=dt.UTC)
    assert csca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "UT" in repr(pki.csca)
    assert "BEGIN" not in repr(pki)


def test_deck_documents_are_signed_by_the_document_signer() -> None:
    signer = passport_pki().document_signer
    public_key = signer.certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    for doc in DECK.values():
        sod = parse_signed_sod(doc.file(LdsFile.SOD))
        assert doc.signed
        assert sod.certificates == (signer.certificate_der,)
        (info,) = sod.signers
        assert info.signer_id == signer.signer_id
        assert info.signed_attributes is not None
        public_key.verify(info.signature, info.signed_attributes, ec.ECDSA(hashes.SHA256()))
        assert sod.lds_security_object.matches(1, doc.file(LdsFile.DG1))


def test_deck_files_are_the_same_in_every_build() -> None:
    again = build_passport_deck()
    assert all(dict(again[doc_id].files) == dict(doc.files) for doc_id, doc in DECK.items())


def test_unsigned_and_bad_signature_options() -> None:
    mrz = DECK["td3-uto-1"].mrz
    unsigned = make_document("u", mrz, signed=False)
    assert not parse_signed_sod(unsigned.file(LdsFile.SOD)).signers
    bad = make_document("b", mrz, bad_signature=True)
    (info,) = parse_signed_sod(bad.file(LdsFile.SOD)).signers
    assert info.signed_attributes is not None
    key = passport_pki().document_signer.certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    with pytest.raises(InvalidSignature):
        key.verify(info.signature, info.signed_attributes, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(ValueError, match="unsigned"):
        make_document("x", mrz, signed=False, bad_signature=True)


def test_write_csca_pem(tmp_path: Path) -> None:
    path = write_csca_pem(tmp_path / "csca.pem")
    assert path.read_bytes() == csca_pem()
    assert x509.load_pem_x509_certificate(path.read_bytes()) == passport_pki().csca.certificate
    in_dir = write_csca_pem(tmp_path)
    assert in_dir == tmp_path / "csca-ut.pem"
