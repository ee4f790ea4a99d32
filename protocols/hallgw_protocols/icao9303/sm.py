"""Secure messaging with 3DES session keys after BAC (reference/protocols.md 3.5).

Theory of operation: :class:`SecureMessaging` is the reader's side of a
session. Every exchange is :meth:`~SecureMessaging.wrap` of a plain command
(the SSC is incremented, the data encrypted into DO'87', Le put in DO'97', and
a retail MAC over SSC, the masked header and those objects put in DO'8E'),
then :meth:`~SecureMessaging.unwrap` of the chip's answer (the SSC is
incremented again, DO'8E' checked over DO'87' and DO'99', DO'87' decrypted).

States: READY -> (wrap) -> AWAITING_RESPONSE -> (unwrap) -> READY. A response
that fails verification ends the session (FAILED): the chip drops secure
messaging on any error too, so the caller must run BAC again.
"""

from __future__ import annotations

import enum
import hmac
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303._crypto import BLOCK, decrypt, encrypt, pad, retail_mac, unpad
from hallgw_protocols.icao9303.apdu import MAX_SHORT_DATA, MAX_SHORT_LE, CommandApdu, ResponseApdu
from hallgw_protocols.icao9303.bac import SessionKeys
from hallgw_protocols.icao9303.tlv import encode_tlv, read_tlv

TAG_ENCRYPTED: Final = 0x87
TAG_LE: Final = 0x97
TAG_STATUS: Final = 0x99
TAG_MAC: Final = 0x8E
PADDING_INDICATOR: Final = 0x01
"""First byte of DO'87': the content is padded with ISO 9797-1 method 2."""
SM_CLA_BITS: Final = 0x0C
MAC_SIZE: Final = 8
SSC_MODULUS: Final = 1 << 64


class SmState(enum.Enum):
    READY = "ready"
    AWAITING_RESPONSE = "awaiting response"
    FAILED = "failed"


class UnprotectedStatusError(RemoteProtocolError):
    """The chip answered with a bare status word: it has left secure messaging (e.g. ``69 88``)."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"the chip answered {sw:04X} without secure messaging; the session is over")
        self.sw = sw


def ssc_bytes(ssc: int) -> bytes:
    return ssc.to_bytes(8, "big")


def encrypted_object(key: bytes, data: bytes) -> bytes:
    """DO'87': padding indicator and the 3DES-CBC encryption of the padded data."""
    return encode_tlv(TAG_ENCRYPTED, bytes((PADDING_INDICATOR,)) + encrypt(key, pad(data)))


def decrypt_object(key: bytes, content: bytes) -> bytes:
    """Plain data of a DO'87' content (indicator and ciphertext); the peer is at fault if malformed."""
    if not content or content[0] != PADDING_INDICATOR:
        raise RemoteProtocolError("DO'87' does not start with the padding indicator 01")
    ciphertext = content[1:]
    if not ciphertext or len(ciphertext) % BLOCK:
        raise RemoteProtocolError("DO'87' ciphertext is not a whole number of 8-byte blocks")
    return unpad(decrypt(key, ciphertext))


def le_object(le: int) -> bytes:
    """DO'97' for a short Le (256 is sent as 00)."""
    return encode_tlv(TAG_LE, bytes((le % MAX_SHORT_LE,)))


def mac_object(key: bytes, ssc: int, message: bytes) -> bytes:
    """DO'8E': retail MAC over pad(SSC ‖ message)."""
    return encode_tlv(TAG_MAC, retail_mac(key, ssc_bytes(ssc) + message))


def verify_mac(key: bytes, ssc: int, message: bytes, mac: bytes) -> None:
    if len(mac) != MAC_SIZE or not hmac.compare_digest(retail_mac(key, ssc_bytes(ssc) + message), mac):
        raise RemoteProtocolError("secure messaging MAC is wrong")


def split_protected(body: bytes, allowed: tuple[int, ...]) -> tuple[dict[int, bytes], bytes, bytes]:
    """Objects of a protected body, in ``allowed`` order, ending with DO'8E'.

    Returns (contents by tag, the bytes the MAC covers, the MAC).
    """
    objects: dict[int, bytes] = {}
    offset = 0
    order = [*allowed, TAG_MAC]
    while offset < len(body):
        start = offset
        item, offset = read_tlv(body, offset)
        if item.tag not in order:
            raise RemoteProtocolError(f"unexpected or out-of-order object {item.tag:X} in a protected APDU")
        order = order[order.index(item.tag) + 1 :]
        if item.tag == TAG_MAC:
            if offset != len(body):
                raise RemoteProtocolError("data follows DO'8E' in a protected APDU")
            return objects, body[:start], item.value
        objects[item.tag] = item.value
    raise RemoteProtocolError("protected APDU has no DO'8E' (MAC)")


class SecureMessaging:
    """The reader's side of a secure-messaging session (see the module docstring)."""

    def __init__(self, keys: SessionKeys) -> None:
        self._keys = keys
        self._ssc = keys.ssc
        self._state = SmState.READY

    @property
    def ssc(self) -> int:
        """The send sequence counter as last used."""
        return self._ssc

    @property
    def state(self) -> SmState:
        return self._state

    def _expect(self, state: SmState, action: str) -> None:
        if self._state is SmState.FAILED:
            raise LocalProtocolError(f"cannot {action}: the session failed; run BAC again")
        if self._state is not state:
            raise LocalProtocolError(f"cannot {action} while {self._state.value}")

    def wrap(self, command: CommandApdu) -> bytes:
        """The protected form of ``command``, as bytes for the wire."""
        self._expect(SmState.READY, "wrap a command")
        if command.ins & 1:
            # Odd INS codes carry BER-TLV data in DO'85'; no eMRTD command under BAC needs them.
            raise LocalProtocolError("odd INS codes (DO'85') are not supported")
        ssc = (self._ssc + 1) % SSC_MODULUS
        header = bytes((command.cla | SM_CLA_BITS, command.ins, command.p1, command.p2))
        objects = b""
        if command.data:
            objects += encrypted_object(self._keys.ks_enc, command.data)
        if command.le is not None:
            objects += le_object(command.le)
        body = objects + mac_object(self._keys.ks_mac, ssc, pad(header) + objects)
        if len(body) > MAX_SHORT_DATA:
            raise LocalProtocolError(f"protected command of {len(body)} bytes needs an extended APDU")
        self._ssc = ssc
        self._state = SmState.AWAITING_RESPONSE
        return header + bytes((len(body),)) + body + b"\x00"

    def unwrap(self, raw: bytes) -> ResponseApdu:
        """Verify and decrypt the chip's protected answer to the last wrapped command.

        Raises :class:`RemoteProtocolError` (the session is then over) when the
        answer is malformed, its MAC is wrong or its status words disagree.
        """
        self._expect(SmState.AWAITING_RESPONSE, "unwrap a response")
        self._ssc = (self._ssc + 1) % SSC_MODULUS
        self._state = SmState.FAILED
        if len(raw) < 2:
            raise RemoteProtocolError("response APDU shorter than its status word")
        body, sw = raw[:-2], raw[-2:]
        if not body:
            raise UnprotectedStatusError(int.from_bytes(sw, "big"))
        objects, covered, mac = split_protected(body, (TAG_ENCRYPTED, TAG_STATUS))
        verify_mac(self._keys.ks_mac, self._ssc, covered, mac)
        status = objects.get(TAG_STATUS)
        if status is None:
            raise RemoteProtocolError("protected response has no DO'99' (status)")
        if status != sw:
            raise RemoteProtocolError("the plain status word differs from the protected one")
        data = b""
        if TAG_ENCRYPTED in objects:
            data = decrypt_object(self._keys.ks_enc, objects[TAG_ENCRYPTED])
        self._state = SmState.READY
        return ResponseApdu(data=data, sw1=sw[0], sw2=sw[1])
