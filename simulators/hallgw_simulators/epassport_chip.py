"""A virtual e-passport chip: BAC, secure messaging and the LDS files of one document.

Theory of operation
-------------------
:class:`EpassportChip` is sans-IO: :meth:`~EpassportChip.transmit` takes a
command APDU as bytes and returns the response APDU, or None when the chip is
not there to answer (removed). It is the codec of ``hallgw_protocols.icao9303``
used in the card role (reference/protocols.md 3.4 to 3.7). Its state:

* **selected**: SELECT of the eMRTD AID (``00 A4 04 0C``) answers ``90 00`` and
  starts over (no challenge, no session, no file); another AID answers ``6A 82``.
* **challenged**: GET CHALLENGE (Le 8) answers RND.IC, drawn from the chip's
  seeded RNG. Only the last challenge counts, and once.
* **BAC**: EXTERNAL AUTHENTICATE checks M.IFD and decrypts E.IFD with the keys
  of the document's MRZ. A wrong MAC or a wrong echo of RND.IC (the reader has
  another MRZ) answers :attr:`EpassportChip.denied_sw` (``63 00``, or ``69 82``
  as some chips do); without a challenge it answers ``69 85``. Success answers
  E.IC ‖ M.IC and opens a secure-messaging session with the derived keys.
* **session**: every command must be protected (CLA bits ``0C``). A wrong MAC
  answers a bare ``69 88`` and a protected command missing its objects ``69 87``;
  both end the session, as does any plain command other than those above
  (``69 82``). Within the session:

  - SELECT FILE by identifier (``00 A4 02 0C``): ``90 00``, or ``6A 82`` for a
    file the document does not have.
  - READ BINARY at an offset (P1 bit 8 clear) or by short file identifier (P1
    ``80 | SFI``, which selects the file too): the bytes from the offset, at
    most Le, with ``90 00``; fewer than Le at the end of the file with ``62 82``;
    ``6B 00`` for an offset at or past the end; ``69 86`` with no file selected;
    ``67 00`` for Le above ``DF`` (the protected answer would not fit a short
    response); ``6A 82`` for an unknown short file identifier.
  - Errors inside the session are protected responses (DO'99' and a MAC).

* SELECT FILE or READ BINARY without a session: ``69 82`` (security status not
  satisfied). Unknown instructions: ``6D 00``; a malformed APDU: ``67 00``.

Faults (:class:`ChipFaults`) act on the next commands: ``removed`` (no answer at
all), ``remove_after`` (answer that many more commands, then be removed: a
document pulled out mid-read), ``refuse_bac`` (EXTERNAL AUTHENTICATE is denied
even with the right MRZ) and ``corrupt_next_mac`` (the next protected response
carries a wrong MAC). Power-on and reset clear the session, not the faults.
"""

from __future__ import annotations

import dataclasses
import enum
import hmac
import random
from typing import Final

from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.icao9303 import (
    EMRTD_AID,
    BacKeys,
    CommandApdu,
    LdsFile,
    ResponseApdu,
    SessionKeys,
)
from hallgw_protocols.icao9303._crypto import decrypt, encrypt, pad, retail_mac
from hallgw_protocols.icao9303.bac import AUTH_DATA_SIZE, NONCE_SIZE, SEED_SIZE
from hallgw_protocols.icao9303.sm import (
    SM_CLA_BITS,
    SSC_MODULUS,
    TAG_ENCRYPTED,
    TAG_LE,
    TAG_STATUS,
    decrypt_object,
    encrypted_object,
    mac_object,
    split_protected,
    verify_mac,
)
from hallgw_protocols.icao9303.tlv import encode_tlv
from hallgw_simulators.passport_deck import PassportDocument

ATR: Final = bytes.fromhex("3B80800101")
"""A minimal T=1 ATR with no historical bytes (pcscd accepts it; stack-notes section 5)."""

MAX_SM_READ: Final = 0xDF
"""The largest Le whose protected answer still fits a short response APDU."""

INS_SELECT: Final = 0xA4
INS_GET_CHALLENGE: Final = 0x84
INS_EXTERNAL_AUTHENTICATE: Final = 0x82
INS_READ_BINARY: Final = 0xB0


class Sw(enum.IntEnum):
    """The status words this chip answers."""

    OK = 0x9000
    END_OF_FILE = 0x6282
    BAC_DENIED = 0x6300
    WRONG_LENGTH = 0x6700
    NO_CURRENT_EF = 0x6986
    SECURITY_STATUS = 0x6982
    CONDITIONS_OF_USE = 0x6985
    SM_OBJECTS_MISSING = 0x6987
    SM_OBJECTS_INCORRECT = 0x6988
    NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


def _sw(sw: int, data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data=data, sw1=sw >> 8, sw2=sw & 0xFF)


@dataclasses.dataclass(slots=True)
class ChipFaults:
    """Faults on command; each is read when the next APDU arrives."""

    removed: bool = False
    """The chip is out of the field: no answer at all."""
    remove_after: int | None = None
    """Answer this many more APDUs, then be removed (a document pulled out mid-read)."""
    refuse_bac: bool = False
    """EXTERNAL AUTHENTICATE is denied even when the reader has the right MRZ."""
    corrupt_next_mac: bool = False
    """The next protected response carries a MAC with one bit flipped (then this clears)."""


class _SmError(Exception):
    """A protected command that does not verify; the session ends with ``sw``."""

    def __init__(self, sw: Sw) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


class _Session:
    """The card's side of secure messaging: unwrap commands, wrap responses."""

    def __init__(self, keys: SessionKeys) -> None:
        self.keys = keys
        self.ssc = keys.ssc

    def unwrap(self, command: CommandApdu) -> CommandApdu:
        """The plain command inside a protected one; :class:`_SmError` if it does not verify."""
        self.ssc = (self.ssc + 1) % SSC_MODULUS
        header = bytes((command.cla, command.ins, command.p1, command.p2))
        try:
            objects, covered, mac = split_protected(command.data, (TAG_ENCRYPTED, TAG_LE))
        except RemoteProtocolError:
            raise _SmError(Sw.SM_OBJECTS_MISSING) from None
        try:
            verify_mac(self.keys.ks_mac, self.ssc, pad(header) + covered, mac)
            data = decrypt_object(self.keys.ks_enc, objects[TAG_ENCRYPTED]) if TAG_ENCRYPTED in objects else b""
        except RemoteProtocolError:
            raise _SmError(Sw.SM_OBJECTS_INCORRECT) from None
        le = None
        if TAG_LE in objects:
            if len(objects[TAG_LE]) != 1:
                raise _SmError(Sw.SM_OBJECTS_INCORRECT)
            le = objects[TAG_LE][0] or 256
        return CommandApdu(
            cla=command.cla & ~SM_CLA_BITS, ins=command.ins, p1=command.p1, p2=command.p2, data=data, le=le
        )

    def wrap(self, response: ResponseApdu, *, corrupt_mac: bool = False) -> bytes:
        self.ssc = (self.ssc + 1) % SSC_MODULUS
        sw = bytes((response.sw1, response.sw2))
        objects = encrypted_object(self.keys.ks_enc, response.data) if response.data else b""
        objects += encode_tlv(TAG_STATUS, sw)
        mac = mac_object(self.keys.ks_mac, self.ssc, objects)
        if corrupt_mac:
            mac = mac[:-1] + bytes((mac[-1] ^ 0x01,))
        return objects + mac + sw


class EpassportChip:
    """What one document's chip answers (see the module docstring)."""

    def __init__(self, document: PassportDocument, *, seed: int | str = 0, denied_sw: int = Sw.BAC_DENIED) -> None:
        if denied_sw not in (Sw.BAC_DENIED, Sw.SECURITY_STATUS):
            raise ValueError("chips deny BAC with 63 00 or 69 82")
        self.document = document
        self.denied_sw = denied_sw
        self.faults = ChipFaults()
        self._keys = BacKeys.from_mrz(document.mrz)
        self._files = {f.fid: f for f in document.files}
        # A str seed is hashed with SHA-512 by random.Random: stable across runs.
        self._rng = random.Random(f"hallsim/{seed}/{document.doc_id}/chip")  # noqa: S311 - simulated, not secret
        self._rnd_icc: bytes | None = None
        self._session: _Session | None = None
        self._file: LdsFile | None = None

    @property
    def atr(self) -> bytes:
        return ATR

    @property
    def authenticated(self) -> bool:
        """Whether a secure-messaging session is open."""
        return self._session is not None

    @property
    def selected_file(self) -> LdsFile | None:
        return self._file

    def reset(self) -> None:
        """Power-on or warm reset: back to the state before SELECT (faults stay)."""
        self._rnd_icc = None
        self._session = None
        self._file = None

    def remove(self) -> None:
        """Take the document out of the field: no answers until :meth:`insert`."""
        self.faults.removed = True
        self.faults.remove_after = None
        self.reset()

    def insert(self) -> None:
        """Put the document back: it answers again, from the state after power-on."""
        self.faults.removed = False
        self.reset()

    def _random(self, size: int) -> bytes:
        return self._rng.randbytes(size)

    # -- the APDU entry point ----------------------------------------------------
    def transmit(self, apdu: bytes) -> bytes | None:
        """The response APDU to ``apdu``, or None when the chip is removed."""
        faults = self.faults
        if faults.remove_after is not None:
            if faults.remove_after <= 0:
                faults.removed, faults.remove_after = True, None
            else:
                faults.remove_after -= 1
        if faults.removed:
            self.reset()
            return None
        try:
            command = CommandApdu.from_bytes(apdu)
        except RemoteProtocolError:
            return _sw(Sw.WRONG_LENGTH).to_bytes()
        if command.cla & SM_CLA_BITS == SM_CLA_BITS:
            return self._protected(command)
        if command.cla != 0x00:
            return _sw(Sw.CLA_NOT_SUPPORTED).to_bytes()
        return self._plain(command).to_bytes()

    def _protected(self, command: CommandApdu) -> bytes:
        session = self._session
        if session is None:
            return _sw(Sw.SECURITY_STATUS).to_bytes()
        try:
            inner = session.unwrap(command)
        except _SmError as err:
            self._session = None
            return _sw(err.sw).to_bytes()
        response = self._in_session(inner)
        corrupt, self.faults.corrupt_next_mac = self.faults.corrupt_next_mac, False
        return session.wrap(response, corrupt_mac=corrupt)

    # -- plain commands ----------------------------------------------------------
    def _plain(self, command: CommandApdu) -> ResponseApdu:
        if command.ins == INS_SELECT and command.p1 == 0x04:
            return self._select_application(command)
        if command.ins == INS_GET_CHALLENGE:
            return self._get_challenge(command)
        if command.ins == INS_EXTERNAL_AUTHENTICATE:
            return self._external_authenticate(command)
        if command.ins in (INS_SELECT, INS_READ_BINARY):
            # Files are readable only under BAC; a plain command also ends a session.
            self._session = None
            return _sw(Sw.SECURITY_STATUS)
        return _sw(Sw.INS_NOT_SUPPORTED)

    def _select_application(self, command: CommandApdu) -> ResponseApdu:
        if command.data != EMRTD_AID:
            return _sw(Sw.NOT_FOUND)
        self.reset()
        return _sw(Sw.OK)

    def _get_challenge(self, command: CommandApdu) -> ResponseApdu:
        if command.p1 or command.p2:
            return _sw(Sw.WRONG_P1P2)
        if command.le != NONCE_SIZE or command.data:
            return _sw(Sw.WRONG_LENGTH)
        self._session = None
        self._rnd_icc = self._random(NONCE_SIZE)
        return _sw(Sw.OK, self._rnd_icc)

    def _external_authenticate(self, command: CommandApdu) -> ResponseApdu:
        rnd_icc, self._rnd_icc = self._rnd_icc, None
        self._session = None
        if command.p1 or command.p2:
            return _sw(Sw.WRONG_P1P2)
        if len(command.data) != AUTH_DATA_SIZE:
            return _sw(Sw.WRONG_LENGTH)
        if rnd_icc is None:
            return _sw(Sw.CONDITIONS_OF_USE)
        e_ifd, m_ifd = command.data[:32], command.data[32:]
        if self.faults.refuse_bac or not hmac.compare_digest(retail_mac(self._keys.k_mac, e_ifd), m_ifd):
            return _sw(self.denied_sw)
        s = decrypt(self._keys.k_enc, e_ifd)
        rnd_ifd, echoed, k_ifd = s[:NONCE_SIZE], s[NONCE_SIZE : 2 * NONCE_SIZE], s[2 * NONCE_SIZE :]
        if echoed != rnd_icc:
            return _sw(self.denied_sw)
        k_icc = self._random(SEED_SIZE)
        e_icc = encrypt(self._keys.k_enc, rnd_icc + rnd_ifd + k_icc)
        keys = SessionKeys.derive(k_ifd=k_ifd, k_icc=k_icc, rnd_ifd=rnd_ifd, rnd_icc=rnd_icc)
        self._session = _Session(keys)
        self._file = None
        return _sw(Sw.OK, e_icc + retail_mac(self._keys.k_mac, e_icc))

    # -- commands inside the session ---------------------------------------------
    def _in_session(self, command: CommandApdu) -> ResponseApdu:
        if command.cla != 0x00:
            return _sw(Sw.CLA_NOT_SUPPORTED)
        if command.ins == INS_SELECT:
            return self._select_file(command)
        if command.ins == INS_READ_BINARY:
            return self._read_binary(command)
        return _sw(Sw.INS_NOT_SUPPORTED)

    def _select_file(self, command: CommandApdu) -> ResponseApdu:
        if command.p1 == 0x04:
            return self._select_application(command)
        if (command.p1, command.p2) != (0x02, 0x0C):
            return _sw(Sw.WRONG_P1P2)
        if len(command.data) != 2:
            return _sw(Sw.WRONG_LENGTH)
        found = self._files.get(int.from_bytes(command.data, "big"))
        if found is None:
            return _sw(Sw.NOT_FOUND)
        self._file = found
        return _sw(Sw.OK)

    def _read_target(self, command: CommandApdu) -> tuple[LdsFile, int] | Sw:
        """The file and offset a READ BINARY addresses (selecting by SFI), or the error."""
        if not command.p1 & 0x80:
            if self._file is None:
                return Sw.NO_CURRENT_EF
            return self._file, command.p1 << 8 | command.p2
        if command.p1 & 0x60:
            return Sw.WRONG_P1P2
        by_sfi = next((f for f in self._files.values() if f.sfi == command.p1 & 0x1F), None)
        if by_sfi is None:
            return Sw.NOT_FOUND
        self._file = by_sfi
        return by_sfi, command.p2

    def _read_binary(self, command: CommandApdu) -> ResponseApdu:
        if command.data or command.le is None:
            return _sw(Sw.WRONG_LENGTH)
        target = self._read_target(command)
        if isinstance(target, Sw):
            return _sw(target)
        if command.le > MAX_SM_READ:
            return _sw(Sw.WRONG_LENGTH)
        file, offset = target
        content = self.document.file(file)
        if offset >= len(content):
            return _sw(Sw.WRONG_OFFSET)
        chunk = content[offset : offset + command.le]
        return _sw(Sw.OK if len(chunk) == command.le else Sw.END_OF_FILE, chunk)
