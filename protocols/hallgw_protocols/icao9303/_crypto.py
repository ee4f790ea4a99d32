"""The block-cipher steps BAC and secure messaging share (reference/protocols.md 3.3-3.5).

Two-key 3DES in CBC mode with a zero IV, ISO/IEC 9797-1 padding method 2 and
MAC algorithm 3 (the "retail MAC"). ``cryptography`` deprecates 8-byte DES
keys, so the single-DES steps of the retail MAC use the 8-byte key repeated as
a 3DES key, which computes the same permutation (stack-notes addendum).
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

BLOCK: Final = 8
KEY_SIZE: Final = 16
_ZERO_IV: Final = bytes(BLOCK)


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2: ``80`` then ``00`` up to a multiple of 8 bytes."""
    data += b"\x80"
    return data + bytes(-len(data) % BLOCK)


def unpad(data: bytes) -> bytes:
    """Remove method-2 padding; the chip is at fault if it is not there."""
    stripped = data.rstrip(b"\x00")
    if not data or len(data) % BLOCK or not stripped.endswith(b"\x80") or len(data) - len(stripped) >= BLOCK:
        raise RemoteProtocolError("decrypted data does not end with ISO 9797-1 method 2 padding")
    return stripped[:-1]


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise LocalProtocolError(f"a two-key 3DES key has {KEY_SIZE} bytes, not {len(key)}")


def _check_blocks(data: bytes) -> None:
    if len(data) % BLOCK:
        raise LocalProtocolError(f"3DES-CBC needs whole 8-byte blocks, not {len(data)} bytes")


def _two_key(key: bytes) -> TripleDES:
    # K1 K2 K1 spelled out: cryptography deprecates passing 16-byte keys.
    return TripleDES(key + key[:BLOCK])


def encrypt(key: bytes, data: bytes) -> bytes:
    """Two-key 3DES-CBC with IV 0 over whole blocks (no padding added)."""
    _check_key(key)
    _check_blocks(data)
    encryptor = Cipher(_two_key(key), modes.CBC(_ZERO_IV)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def decrypt(key: bytes, data: bytes) -> bytes:
    """Inverse of :func:`encrypt`."""
    _check_key(key)
    _check_blocks(data)
    decryptor = Cipher(_two_key(key), modes.CBC(_ZERO_IV)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _des(key8: bytes) -> TripleDES:
    return TripleDES(key8 * 3)


def retail_mac(key: bytes, message: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 over ``message`` padded with method 2 (8 bytes)."""
    _check_key(key)
    ka, kb = key[:BLOCK], key[BLOCK:]
    cbc = Cipher(_des(ka), modes.CBC(_ZERO_IV)).encryptor()
    chained = (cbc.update(pad(message)) + cbc.finalize())[-BLOCK:]
    step = Cipher(_des(kb), modes.ECB()).decryptor()  # noqa: S305 - one block, as MAC algorithm 3 defines
    chained = step.update(chained) + step.finalize()
    last = Cipher(_des(ka), modes.ECB()).encryptor()  # noqa: S305 - one block, as MAC algorithm 3 defines
    return last.update(chained) + last.finalize()


def adjust_parity(key: bytes) -> bytes:
    """Set the low bit of each byte so that every byte has odd parity (DES key parity)."""
    return bytes((b & 0xFE) | ((b >> 1).bit_count() + 1) % 2 for b in key)
