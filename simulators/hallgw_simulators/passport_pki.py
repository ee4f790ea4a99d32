"""A test PKI for the simulated passports: a country signing CA and the document signers it issues.

Passive authentication (Doc 9303 Part 11, Part 12) checks a chain of two
certificates: the Country Signing CA (CSCA, self-signed, distributed to
readers out of band) issues Document Signer (DS) certificates, and a DS key
signs each document's EF.SOD. :func:`passport_pki` builds that chain for the
ICAO specimen state Utopia: X.509 wants a two-letter country code, so the
certificates say ``C=UT`` while the MRZ says ``UTO``.

Keys are ECDSA P-256 derived from a fixed seed (:func:`derive_ec_key`) and
signatures are deterministic (RFC 6979), so certificates and signed EF.SODs
come out the same in every run; the PKI is built once per process. Validity
runs from 2020 to 2040, so every document of the deck verifies on any day a
test runs. :meth:`CountrySigningAuthority.issue_document_signer` issues other
signers (another validity, an RSA key with PKCS#1 v1.5 or PSS) for tests of
the reader's checks; :func:`make_csca` makes an unrelated CSCA, so a test can
show that a document signed under one country's CA does not verify under
another. :func:`write_csca_pem` writes the CSCA certificate where a daemon
configuration can point at it.

Nothing here is secret: the private keys follow from public seeds.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
from pathlib import Path
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from hallgw_protocols.icao9303 import AlgorithmIdentifier, RsaPssParameters, SignerIdentifier
from hallgw_protocols.icao9303.sod import OID_ECDSA_WITH_SHA256, OID_RSASSA_PSS

__all__ = [
    "COUNTRY",
    "VALID_FROM",
    "VALID_UNTIL",
    "CountrySigningAuthority",
    "DocumentSigner",
    "PassportPki",
    "SignerKind",
    "csca_pem",
    "derive_ec_key",
    "make_csca",
    "passport_pki",
    "write_csca_pem",
]

COUNTRY: Final = "UT"
"""Country code of the test PKI's certificates (Utopia, ``UTO`` in the MRZ)."""
VALID_FROM: Final = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
VALID_UNTIL: Final = datetime.datetime(2040, 12, 31, 23, 59, 59, tzinfo=datetime.UTC)

OID_SHA256: Final = "2.16.840.1.101.3.4.2.1"
OID_SHA256_WITH_RSA: Final = "1.2.840.113549.1.1.11"
_NULL: Final = b"\x05\x00"

SignerKind = Literal["ecdsa", "rsa", "rsa-pss"]
"""ECDSA P-256 with SHA-256, RSA 2048 PKCS#1 v1.5 with SHA-256, or RSA 2048 PSS with SHA-256."""

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def derive_ec_key(seed: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key that follows from ``seed`` (the same key in every run)."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    scalar = int.from_bytes(hashlib.sha512(f"hallsim/pki/{seed}".encode()).digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


@functools.cache
def _rsa_key(seed: str) -> rsa.RSAPrivateKey:
    # RSA keys cannot be derived cheaply from a seed: one per seed and process.
    del seed
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(country: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hall Simulator Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _sign_certificate(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.Certificate:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return builder.sign(key, hashes.SHA256())


def _serial(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(f"hallsim/pki/serial/{seed}".encode()).digest()[:15], "big") | 1


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DocumentSigner:
    """A DS certificate and its key: signs the signed attributes of an EF.SOD."""

    certificate: x509.Certificate
    private_key: PrivateKey
    kind: SignerKind = "ecdsa"

    def __repr__(self) -> str:
        return f"DocumentSigner({self.certificate.subject.rfc4514_string()!r}, {self.kind})"

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def signer_id(self) -> SignerIdentifier:
        """issuerAndSerialNumber of the certificate, as EF.SOD names its signer."""
        return SignerIdentifier(
            issuer=self.certificate.issuer.public_bytes(), serial_number=self.certificate.serial_number
        )

    @property
    def signature_algorithm(self) -> AlgorithmIdentifier:
        if self.kind == "ecdsa":
            return AlgorithmIdentifier(oid=OID_ECDSA_WITH_SHA256)
        if self.kind == "rsa":
            return AlgorithmIdentifier(oid=OID_SHA256_WITH_RSA, parameters=_NULL)
        params = RsaPssParameters(hash_oid=OID_SHA256, mgf_hash_oid=OID_SHA256, salt_length=32)
        return AlgorithmIdentifier(oid=OID_RSASSA_PSS, parameters=params.to_bytes())

    def sign(self, data: bytes) -> bytes:
        """The signature of ``data`` with this signer's algorithm (DER for ECDSA)."""
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        if self.kind == "rsa":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CountrySigningAuthority:
    """A self-signed CSCA certificate and its key."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    seed: str

    def __repr__(self) -> str:
        return f"CountrySigningAuthority({self.certificate.subject.rfc4514_string()!r})"

    @property
    def country(self) -> str:
        (attribute,) = self.certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
        return str(attribute.value)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue_document_signer(
        self,
        name: str = "Document Signer 1",
        *,
        not_before: datetime.datetime = VALID_FROM,
        not_after: datetime.datetime = VALID_UNTIL,
        kind: SignerKind = "ecdsa",
    ) -> DocumentSigner:
        """A DS certificate for ``name`` issued by this CSCA (ECDSA keys follow from the names)."""
        seed = f"{self.seed}/ds/{name}"
        key: PrivateKey = derive_ec_key(seed) if kind == "ecdsa" else _rsa_key(seed)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(self.country, name))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(_serial(f"{seed}/{kind}/{not_before.isoformat()}/{not_after.isoformat()}"))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key()), critical=False
            )
        )
        return DocumentSigner(certificate=_sign_certificate(builder, self.private_key), private_key=key, kind=kind)


def make_csca(
    country: str = COUNTRY,
    *,
    seed: str = "csca",
    not_before: datetime.datetime = VALID_FROM,
    not_after: datetime.datetime = VALID_UNTIL,
) -> CountrySigningAuthority:
    """A self-signed CSCA for ``country`` (two letters) whose key follows from ``seed``."""
    key = derive_ec_key(f"{country}/{seed}")
    name = _name(country, f"CSCA {country} {seed}")
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial(f"{country}/{seed}"))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return CountrySigningAuthority(
        certificate=_sign_certificate(builder, key), private_key=key, seed=f"{country}/{seed}"
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PassportPki:
    """The deck's CSCA and the DS that signs every document of the deck."""

    csca: CountrySigningAuthority
    document_signer: DocumentSigner


@functools.cache
def passport_pki() -> PassportPki:
    """The test PKI (built once per process; the same certificates in every run)."""
    csca = make_csca()
    return PassportPki(csca=csca, document_signer=csca.issue_document_signer())


def csca_pem() -> bytes:
    """The test CSCA certificate, PEM encoded."""
    return passport_pki().csca.pem()


def write_csca_pem(path: Path, csca: CountrySigningAuthority | None = None) -> Path:
    """Write ``csca`` (the test CSCA by default) as PEM to ``path``, or into it when it is a directory."""
    authority = csca or passport_pki().csca
    if path.is_dir():
        path = path / f"csca-{authority.country.lower()}.pem"
    path.write_bytes(authority.pem())
    return path
