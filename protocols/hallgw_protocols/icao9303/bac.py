"""Basic Access Control (reference/protocols.md 3.3 and 3.4).

Theory of operation: the document keys K_enc and K_mac come from the MRZ
information (:class:`BacKeys`). The reader asks the chip for RND.IC (GET
CHALLENGE), chooses RND.IFD and K.IFD itself, and sends E.IFD ‖ M.IFD in
EXTERNAL AUTHENTICATE (:class:`MutualAuthentication`). The chip answers
E.IC ‖ M.IC; :meth:`MutualAuthentication.complete` checks it and derives the
secure-messaging keys and the initial send sequence counter (:class:`SessionKeys`).

Randomness is the caller's: this module only computes, so RND.IFD and K.IFD
are arguments (the daemon draws them with ``secrets.token_bytes``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303._crypto import KEY_SIZE, adjust_parity, decrypt, encrypt, retail_mac
from hallgw_protocols.icao9303.apdu import CommandApdu, ResponseApdu, external_authenticate
from hallgw_protocols.icao9303.mrz import Mrz

ENC_COUNTER: Final = 1
MAC_COUNTER: Final = 2
NONCE_SIZE: Final = 8
SEED_SIZE: Final = 16
SSC_SIZE: Final = 8
AUTH_DATA_SIZE: Final = 40
"""E.IFD (32) ‖ M.IFD (8), and likewise E.IC ‖ M.IC."""

DENIED_STATUS: Final = frozenset({0x6300, 0x6982})
"""Status words with which chips refuse EXTERNAL AUTHENTICATE (63 00 single source, 69 82 seen on real chips)."""


class BacDeniedError(RemoteProtocolError):
    """The chip refused BAC: the MRZ does not belong to this chip (re-scan the page)."""


def key_seed(mrz_information: str) -> bytes:
    """K_seed: the first 16 bytes of SHA-1 over the MRZ information."""
    # SHA-1 is what Doc 9303 prescribes for the BAC seed; it is key derivation, not a signature.
    return hashlib.sha1(mrz_information.encode("ascii"), usedforsecurity=False).digest()[:SEED_SIZE]


def derive_key(seed: bytes, counter: int) -> bytes:
    """The Doc 9303 KDF: SHA-1(seed ‖ counter as 32-bit BE), first 16 bytes, DES parity adjusted."""
    if len(seed) != SEED_SIZE:
        raise LocalProtocolError(f"a BAC key seed has {SEED_SIZE} bytes")
    digest = hashlib.sha1(seed + counter.to_bytes(4, "big"), usedforsecurity=False).digest()
    return adjust_parity(digest[:KEY_SIZE])


def _check_size(value: bytes, size: int, name: str) -> None:
    if len(value) != size:
        raise LocalProtocolError(f"{name} must have {size} bytes, not {len(value)}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BacKeys:
    """The document basic access keys K_enc and K_mac (two-key 3DES, parity adjusted)."""

    k_enc: bytes = dataclasses.field(repr=False)
    k_mac: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        _check_size(self.k_enc, KEY_SIZE, "K_enc")
        _check_size(self.k_mac, KEY_SIZE, "K_mac")

    @classmethod
    def from_seed(cls, seed: bytes) -> BacKeys:
        return cls(k_enc=derive_key(seed, ENC_COUNTER), k_mac=derive_key(seed, MAC_COUNTER))

    @classmethod
    def from_mrz_information(cls, mrz_information: str) -> BacKeys:
        """Keys from the 24-character (or longer, for long TD1 numbers) MRZ information."""
        if not mrz_information.isascii():
            raise LocalProtocolError("the MRZ information is ASCII")
        return cls.from_seed(key_seed(mrz_information))

    @classmethod
    def from_mrz(cls, mrz: Mrz) -> BacKeys:
        return cls.from_mrz_information(mrz.bac_seed_input)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SessionKeys:
    """Secure-messaging keys KS_enc, KS_mac and the initial send sequence counter."""

    ks_enc: bytes = dataclasses.field(repr=False)
    ks_mac: bytes = dataclasses.field(repr=False)
    ssc: int = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        _check_size(self.ks_enc, KEY_SIZE, "KS_enc")
        _check_size(self.ks_mac, KEY_SIZE, "KS_mac")
        if not 0 <= self.ssc < 1 << 64:
            raise LocalProtocolError("the send sequence counter has 8 bytes")

    @classmethod
    def derive(cls, *, k_ifd: bytes, k_icc: bytes, rnd_ifd: bytes, rnd_icc: bytes) -> SessionKeys:
        """Session keys from K.IFD ⊕ K.IC; SSC = last 4 bytes of RND.IC ‖ last 4 of RND.IFD."""
        _check_size(k_ifd, SEED_SIZE, "K.IFD")
        _check_size(k_icc, SEED_SIZE, "K.IC")
        _check_size(rnd_ifd, NONCE_SIZE, "RND.IFD")
        _check_size(rnd_icc, NONCE_SIZE, "RND.IC")
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_icc, strict=True))
        return cls(
            ks_enc=derive_key(seed, ENC_COUNTER),
            ks_mac=derive_key(seed, MAC_COUNTER),
            ssc=int.from_bytes(rnd_icc[4:] + rnd_ifd[4:], "big"),
        )


def parse_challenge(response: ResponseApdu) -> bytes:
    """RND.IC from the answer to GET CHALLENGE."""
    if not response.ok:
        raise RemoteProtocolError(f"GET CHALLENGE failed with status {response.sw:04X}")
    if len(response.data) != NONCE_SIZE:
        raise RemoteProtocolError(f"GET CHALLENGE returned {len(response.data)} bytes, not {NONCE_SIZE}")
    return response.data


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MutualAuthentication:
    """The reader's side of one BAC mutual authentication."""

    keys: BacKeys
    rnd_icc: bytes = dataclasses.field(repr=False)
    rnd_ifd: bytes = dataclasses.field(repr=False)
    k_ifd: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        _check_size(self.rnd_icc, NONCE_SIZE, "RND.IC")
        _check_size(self.rnd_ifd, NONCE_SIZE, "RND.IFD")
        _check_size(self.k_ifd, SEED_SIZE, "K.IFD")

    @property
    def e_ifd(self) -> bytes:
        """E.IFD = 3DES-CBC(K_enc, RND.IFD ‖ RND.IC ‖ K.IFD)."""
        return encrypt(self.keys.k_enc, self.rnd_ifd + self.rnd_icc + self.k_ifd)

    @property
    def m_ifd(self) -> bytes:
        """M.IFD = retail MAC(K_mac, E.IFD)."""
        return retail_mac(self.keys.k_mac, self.e_ifd)

    def command(self) -> CommandApdu:
        """The EXTERNAL AUTHENTICATE command carrying E.IFD ‖ M.IFD."""
        e_ifd = self.e_ifd
        return external_authenticate(e_ifd + retail_mac(self.keys.k_mac, e_ifd))

    def complete(self, response: ResponseApdu) -> SessionKeys:
        """Check the chip's E.IC ‖ M.IC and derive the session keys.

        Raises :class:`BacDeniedError` when the chip refused (wrong MRZ) and
        :class:`RemoteProtocolError` when its answer does not authenticate.
        """
        if response.sw in DENIED_STATUS:
            raise BacDeniedError("the chip refused access: the MRZ does not belong to this chip, re-scan the page")
        if not response.ok:
            raise RemoteProtocolError(f"EXTERNAL AUTHENTICATE failed with status {response.sw:04X}")
        if len(response.data) != AUTH_DATA_SIZE:
            raise RemoteProtocolError(f"EXTERNAL AUTHENTICATE returned {len(response.data)} bytes, not 40")
        e_icc, m_icc = response.data[:32], response.data[32:]
        if not hmac.compare_digest(retail_mac(self.keys.k_mac, e_icc), m_icc):
            raise RemoteProtocolError("the MAC of the chip's authentication answer is wrong")
        r = decrypt(self.keys.k_enc, e_icc)
        if r[:NONCE_SIZE] != self.rnd_icc or r[NONCE_SIZE : 2 * NONCE_SIZE] != self.rnd_ifd:
            raise RemoteProtocolError("the chip's authentication answer does not echo our challenge")
        return SessionKeys.derive(k_ifd=self.k_ifd, k_icc=r[16:], rnd_ifd=self.rnd_ifd, rnd_icc=self.rnd_icc)
