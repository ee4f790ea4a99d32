"""Passive authentication, signature part: is EF.SOD signed by a document signer of a trusted country?

Doc 9303 Part 11 section 5.1 (and Part 12): the chip's EF.SOD is a CMS
SignedData over the LDS security object (the data group hashes). The reader

1. finds the Document Signer (DS) certificate that EF.SOD carries for its signer;
2. checks that the signed messageDigest attribute is the digest of the LDS
   security object and that the signed contentType names it;
3. checks the DS signature over the signed attributes (ECDSA, RSA PKCS#1 v1.5
   or RSA-PSS, as the signature algorithm says);
4. checks that the DS certificate is valid on the day of the read;
5. looks up the Country Signing CA (CSCA) certificate whose subject is the DS
   issuer among those the configuration names, and checks the DS certificate's
   signature with it and the CSCA's own validity.

:func:`verify_sod_signature` returns a :class:`SignatureCheck`: VERIFIED when
every step holds, NOT_VERIFIED when the chain cannot be followed to a
configured CSCA (none configured, or none for the signer's country: nothing
proves the document false, nothing proves it genuine), INVALID when any check
fails, with the reason in plain words. The chip's bytes never make it raise.
The hash of each data group against the LDS security object is the other half
of passive authentication (``LdsSecurityObject.matches``); it is not done here.

:func:`load_csca_certificates` reads the CSCA certificates the configuration
names (``documents.csca_certificates``): PEM or DER files, or directories of
them. A file that does not parse is a configuration error naming the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hmac
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from hallgw_daemon.config import ConfigError
from hallgw_protocols import ProtocolError
from hallgw_protocols.icao9303 import SignedSod, SignerInfo, parse_pss_parameters, parse_signed_sod
from hallgw_protocols.icao9303.sod import HASH_ALGORITHMS, OID_LDS_SECURITY_OBJECT, OID_RSASSA_PSS

__all__ = [
    "CERTIFICATE_SUFFIXES",
    "CscaCertificateError",
    "SignatureCheck",
    "SignatureStatus",
    "load_csca_certificates",
    "verify_sod_bytes",
    "verify_sod_signature",
]

CERTIFICATE_SUFFIXES: Final = frozenset({".pem", ".crt", ".cer", ".der"})
CACHED_SIGNERS: Final = 256
"""Document signer certificates (and their CSCA checks) kept parsed: a country uses few at a time."""
"""Files of a CSCA directory that are read; others (a README, a CRL) are skipped."""

_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_ECDSA: Final = {
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
"""ecdsa-with-SHA*: the signature is a DER Ecdsa-Sig-Value."""
_ECDSA_PLAIN: Final = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
"""BSI TR-03111 ecdsa-plain-SHA*: the signature is r and s side by side, as some states use."""
_EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
"""id-ecPublicKey given as the signature algorithm: ECDSA with the signer's digest algorithm."""
_RSA_PKCS1: Final = {
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
_RSA_ENCRYPTION: Final = "1.2.840.113549.1.1.1"
"""rsaEncryption given as the signature algorithm: PKCS#1 v1.5 with the signer's digest algorithm."""


class SignatureStatus(enum.Enum):
    VERIFIED = "verified"
    """The signature verifies up to a configured CSCA and every certificate is valid."""
    NOT_VERIFIED = "not_verified"
    """No configured CSCA for the signer's country: the signature could not be judged."""
    INVALID = "invalid"
    """A check failed: the document's data cannot be trusted."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """The outcome of the signature check, with a plain reason (no personal data)."""

    status: SignatureStatus
    message: str
    country: str | None = None
    """Country code of the document signer's issuer, when it could be read."""

    @property
    def verified(self) -> bool:
        return self.status is SignatureStatus.VERIFIED


class CscaCertificateError(ConfigError):
    """A configured CSCA certificate file cannot be used; the message names the file."""


# -- loading CSCA certificates ---------------------------------------------------------


def _load_file(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CscaCertificateError(f"{path}: cannot read the CSCA certificate file: {err.strerror}") from None
    try:
        if b"-----BEGIN" in data:
            certificates = x509.load_pem_x509_certificates(data)
        else:
            certificates = [x509.load_der_x509_certificate(data)]
    except (ValueError, UnsupportedAlgorithm):
        raise CscaCertificateError(
            f"{path}: expected X.509 certificates in PEM, or one certificate in DER; the file does not parse"
        ) from None
    return certificates


def load_csca_certificates(paths: Iterable[Path]) -> tuple[x509.Certificate, ...]:
    """Every certificate in ``paths``: files (PEM, possibly several, or DER) and directories of them.

    A directory contributes its files ending in ``.pem``, ``.crt``, ``.cer`` or
    ``.der``, in name order (not its subdirectories). Raises
    :class:`CscaCertificateError` naming the first path that is missing or does
    not parse.
    """
    certificates: list[x509.Certificate] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CERTIFICATE_SUFFIXES)
            for file in files:
                certificates += _load_file(file)
        elif path.exists():
            certificates += _load_file(path)
        else:
            raise CscaCertificateError(f"{path}: no such CSCA certificate file or directory")
    return tuple(certificates)


# -- verification ----------------------------------------------------------------------


class _Invalid(Exception):
    """A failed check, with the reason for the result's message."""


def _country(name: x509.Name) -> str | None:
    attributes = name.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    return str(attributes[0].value) if attributes else None


def _at_utc(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _valid_on(certificate: x509.Certificate, at: dt.datetime) -> bool:
    return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc


def _period(certificate: x509.Certificate) -> str:
    return (
        f"{certificate.not_valid_before_utc.date().isoformat()} to {certificate.not_valid_after_utc.date().isoformat()}"
    )


def _hash(name: str | None, what: str) -> hashes.HashAlgorithm:
    if name is None or name not in _HASHES:
        raise _Invalid(f"{what} is not a hash algorithm Doc 9303 allows")
    return _HASHES[name]()


@functools.lru_cache(maxsize=CACHED_SIGNERS)
def _load_der(der: bytes) -> x509.Certificate | None:
    """A certificate from EF.SOD; document signers are shared by many documents, so parsing is cached."""
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


@functools.lru_cache(maxsize=CACHED_SIGNERS)
def _issued_by(ds: x509.Certificate, csca: x509.Certificate) -> bool:
    """Whether ``csca`` signed ``ds`` (a pure function of the two certificates, so it is cached)."""
    try:
        ds.verify_directly_issued_by(csca)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _signer_certificate(sod: SignedSod, signer: SignerInfo) -> x509.Certificate:
    if not sod.certificates:
        raise _Invalid("EF.SOD carries no document signer certificate")
    sid = signer.signer_id
    for der in sod.certificates:
        certificate = _load_der(der)
        if certificate is None:
            raise _Invalid("the document signer certificate in EF.SOD does not parse")
        if sid.subject_key_identifier is not None:
            try:
                ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.subject_key_identifier:
                return certificate
        elif certificate.serial_number == sid.serial_number and certificate.issuer.public_bytes() == sid.issuer:
            return certificate
    raise _Invalid("EF.SOD carries no certificate for its signer (issuer and serial number do not match)")


def _check_signature(key: object, signer: SignerInfo, signed: bytes) -> None:
    """Raises InvalidSignature, or _Invalid when the algorithm does not fit the key."""
    oid = signer.signature_algorithm.oid
    signature = signer.signature
    if oid in _ECDSA or oid in _ECDSA_PLAIN or oid == _EC_PUBLIC_KEY:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise _Invalid(f"the signature algorithm {oid} does not fit the document signer's key")
        name = _ECDSA.get(oid) or _ECDSA_PLAIN.get(oid) or signer.digest_algorithm.hash_name
        if oid in _ECDSA_PLAIN:
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                raise _Invalid(f"a plain ECDSA signature on this curve has {2 * size} bytes, not {len(signature)}")
            r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            signature = encode_dss_signature(r, s)
        key.verify(signature, signed, ec.ECDSA(_hash(name, "the signature's hash")))
    elif oid in _RSA_PKCS1 or oid in {_RSA_ENCRYPTION, OID_RSASSA_PSS}:
        if not isinstance(key, rsa.RSAPublicKey):
            raise _Invalid(f"the signature algorithm {oid} does not fit the document signer's key")
        if oid == OID_RSASSA_PSS:
            params = parse_pss_parameters(signer.signature_algorithm.parameters)
            algorithm = _hash(HASH_ALGORITHMS.get(params.hash_oid), "the PSS hash")
            mgf = padding.MGF1(_hash(HASH_ALGORITHMS.get(params.mgf_hash_oid), "the PSS mask hash"))
            key.verify(signature, signed, padding.PSS(mgf=mgf, salt_length=params.salt_length), algorithm)
        else:
            name = _RSA_PKCS1.get(oid) or signer.digest_algorithm.hash_name
            key.verify(signature, signed, padding.PKCS1v15(), _hash(name, "the signature's hash"))
    else:
        raise _Invalid(f"the signature algorithm {oid} is not one Doc 9303 allows")


def _verify(sod: SignedSod, cscas: tuple[x509.Certificate, ...], at: dt.datetime) -> SignatureCheck:
    if not sod.signers:
        raise _Invalid("EF.SOD carries no signature")
    if len(sod.signers) > 1:
        raise _Invalid(f"EF.SOD has {len(sod.signers)} signers; Doc 9303 allows one")
    (signer,) = sod.signers
    ds = _signer_certificate(sod, signer)
    country = _country(ds.issuer)
    # The signed attributes bind the signature to this LDS security object.
    if signer.signed_attributes is None:
        raise _Invalid("the signer of EF.SOD has no signed attributes")
    if signer.content_type != OID_LDS_SECURITY_OBJECT:
        raise _Invalid("the signed content type is not the LDS security object")
    if signer.message_digest is None:
        raise _Invalid("the signed attributes hold no message digest")
    hasher = hashes.Hash(_hash(signer.digest_algorithm.hash_name, "the signer's digest algorithm"))
    hasher.update(sod.econtent)
    if not hmac.compare_digest(hasher.finalize(), signer.message_digest):
        raise _Invalid("the signed message digest does not match the LDS security object")
    try:
        _check_signature(ds.public_key(), signer, signer.signed_attributes)
    except InvalidSignature:
        raise _Invalid("the document signer's signature over EF.SOD does not verify") from None
    if not _valid_on(ds, at):
        raise _Invalid(f"the document signer certificate is valid from {_period(ds)}, not on {at.date().isoformat()}")
    candidates = [csca for csca in cscas if csca.subject == ds.issuer]
    if not candidates:
        return SignatureCheck(
            status=SignatureStatus.NOT_VERIFIED,
            message=f"not verified: no country signing certificate for {country or 'the issuer'} is configured",
            country=country,
        )
    reason = f"the document signer certificate is not signed by the country signing certificate of {country}"
    for csca in candidates:
        if not _issued_by(ds, csca):
            continue
        if not _valid_on(csca, at):
            reason = f"the country signing certificate is valid from {_period(csca)}, not on {at.date().isoformat()}"
            continue
        return SignatureCheck(
            status=SignatureStatus.VERIFIED,
            message=f"verified: signed by a document signer of {country}",
            country=country,
        )
    raise _Invalid(reason)


def verify_sod_signature(sod: SignedSod, cscas: Iterable[x509.Certificate], *, at: dt.datetime) -> SignatureCheck:
    """Check EF.SOD's signature chain up to one of ``cscas`` on the date ``at`` (see module docstring).

    ``at`` without a time zone is taken as UTC. Never raises for what the chip sent.
    """
    when = _at_utc(at)
    try:
        return _verify(sod, tuple(cscas), when)
    except _Invalid as reason:
        return SignatureCheck(status=SignatureStatus.INVALID, message=f"invalid: {reason}")
    except (ProtocolError, ValueError, TypeError, UnsupportedAlgorithm):
        # Malformed keys, parameters or certificates the checks above did not foresee.
        return SignatureCheck(status=SignatureStatus.INVALID, message="invalid: EF.SOD or its certificate is malformed")


def verify_sod_bytes(data: bytes, cscas: Iterable[x509.Certificate], *, at: dt.datetime) -> SignatureCheck:
    """:func:`verify_sod_signature` on the raw EF.SOD; an EF.SOD that does not parse is INVALID."""
    try:
        sod = parse_signed_sod(data)
    except ProtocolError as err:
        return SignatureCheck(status=SignatureStatus.INVALID, message=f"invalid: {err}")
    return verify_sod_signature(sod, cscas, at=at)
