"""The travel-document chip reader: Basic Access Control and the LDS files over PC/SC.

Theory of operation
-------------------
A read (:meth:`DocumentReaderDriver.read_document`) gets a checked MRZ from
its caller. It waits for a card on the reader, then runs the whole chip
session as one blocking function on the reader's command thread
(:meth:`~hallgw_daemon.transports.PcscReader.session`), because every APDU is
a fraction of a millisecond and a hop to a thread per APDU would cost more
than the APDU:

1. SELECT the eMRTD application (a card without it is UNSUPPORTED_DOCUMENT);
2. BAC: GET CHALLENGE, EXTERNAL AUTHENTICATE with keys from the MRZ (a refusal
   is BAC_DENIED: the MRZ is not this chip's), session keys;
3. under secure messaging, read EF.COM, EF.SOD, DG1 and (when EF.COM lists it)
   DG2: SELECT, the first bytes for the TLV length, then READ BINARY in chunks
   of :data:`READ_CHUNK`.

A card taken out mid-read is DOCUMENT_REMOVED; a MAC that does not verify, a
status the protocol does not allow or a malformed file is CHIP_READ_FAILED.
The session always ends with a card reset, so the chip forgets its keys.

Then, on the same thread: DG1 is compared with the printed MRZ, each data group's
hash with EF.SOD, EF.SOD's signature is checked against the configured
country signing certificates (:mod:`.passive_auth`), and the DG2 face is
returned as JPEG (a JPEG 2000 face is converted with OpenCV).

Personal data (the MRZ, DG1, the face) lives only in the returned
:class:`DocumentRead`, whose repr holds none of it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import os
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

import cv2
import numpy as np
from cryptography import x509

from hallgw_daemon.core.errors import (
    BacDeniedError,
    ChipReadFailedError,
    DeviceOfflineError,
    DocumentRemovedError,
    LinkLostError,
    NoDocumentError,
    UnsupportedDocumentError,
)
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Direction, Driver, DriverContext, TraceRecord, reader_of, register_driver
from hallgw_daemon.drivers.passive_auth import SignatureStatus, verify_sod_signature
from hallgw_daemon.logging import get_logger
from hallgw_daemon.transports import (
    CardAbsentError,
    CardChannel,
    CardIoError,
    CardRemovedError,
    LinkClosedError,
    PcscReader,
    Transport,
)
from hallgw_protocols import NEED_DATA, RemoteProtocolError
from hallgw_protocols.icao9303 import (
    BacDeniedError as ChipBacDenied,
)
from hallgw_protocols.icao9303 import (
    BacKeys,
    CommandApdu,
    EfCom,
    FaceImage,
    ImageFormat,
    LdsFile,
    LdsSecurityObject,
    Mrz,
    MutualAuthentication,
    ResponseApdu,
    SecureMessaging,
    get_challenge,
    parse_challenge,
    parse_dg1,
    parse_dg2,
    parse_ef_com,
    parse_signed_sod,
    read_binary,
    select_application,
    select_file,
)
from hallgw_protocols.icao9303.tlv import object_size

log = get_logger(__name__)

READ_CHUNK: Final = 0xDF
"""Bytes per READ BINARY under secure messaging: the largest that keeps the protected answer in a short APDU."""
HEADER_PROBE: Final = 4
"""Bytes read first: enough for an LDS file's tag and a length of up to 2 bytes."""
MAX_FILE: Final = 0x7FFF
"""Largest file offset READ BINARY can address without SFI or odd INS (a larger file is refused)."""
FILE_NOT_FOUND: Final = 0x6A82
JPEG_QUALITY: Final = 92

ProgressFn = Callable[[str, str], None]


class HashCheck(enum.Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_LISTED = "not_listed"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Face:
    """The DG2 face as JPEG, and the format the chip stored."""

    jpeg: bytes
    width: int
    height: int
    chip_format: ImageFormat

    def __repr__(self) -> str:
        return f"Face({self.width}x{self.height}, {self.chip_format.name})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class DocumentRead:
    """A document as read and checked (personal data: never in a repr or a log)."""

    mrz: Mrz
    chip_mrz: Mrz | None
    chip_mrz_matches: bool
    face: Face | None
    data_groups: tuple[tuple[int, HashCheck], ...]
    signature: SignatureStatus
    signature_message: str
    present: tuple[int, ...]
    lds_version: str

    @property
    def hashes_ok(self) -> bool:
        return all(check is HashCheck.MATCH for _, check in self.data_groups)

    def __repr__(self) -> str:
        return f"DocumentRead({self.mrz.format.name}, hashes_ok={self.hashes_ok}, signature={self.signature.name})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class _ChipFiles:
    com: EfCom
    files: Mapping[LdsFile, bytes]


class _Session:
    """The blocking chip conversation, run on the reader's command thread."""

    def __init__(self, channel: CardChannel, ctx: DriverContext) -> None:
        self.channel = channel
        self.ctx = ctx
        self.sm: SecureMessaging | None = None

    def _trace(self, direction: Direction, summary: str, length: int) -> None:
        if self.ctx.taps:
            # APDUs under BAC carry personal data: the trace shows what was sent, never the bytes.
            rec = TraceRecord(direction=direction, summary=summary, length=length, masked=True)
            for tap in tuple(self.ctx.taps):
                tap(rec)

    def _send(self, raw: bytes, summary: str) -> bytes:
        self._trace(Direction.TO_DEVICE, summary, len(raw))
        answer = self.channel.transmit(raw)
        self._trace(Direction.FROM_DEVICE, f"{summary}: SW {answer[-2:].hex().upper()}", len(answer))
        return answer

    def plain(self, command: CommandApdu, summary: str) -> ResponseApdu:
        return ResponseApdu.from_bytes(self._send(command.to_bytes(), summary))

    def protected(self, command: CommandApdu, summary: str) -> ResponseApdu:
        assert self.sm is not None  # noqa: S101 - set by BAC before any protected command
        return self.sm.unwrap(self._send(self.sm.wrap(command), summary))

    def authenticate(self, mrz: Mrz) -> None:
        if not self.plain(select_application(), "SELECT eMRTD application").ok:
            raise UnsupportedDocumentError(
                "the card on the reader is not an ICAO travel document (no eMRTD application)",
                device_id=self.ctx.device_id,
            )
        rnd_icc = parse_challenge(self.plain(get_challenge(), "GET CHALLENGE"))
        auth = MutualAuthentication(
            keys=BacKeys.from_mrz(mrz), rnd_icc=rnd_icc, rnd_ifd=os.urandom(8), k_ifd=os.urandom(16)
        )
        keys = auth.complete(self.plain(auth.command(), "EXTERNAL AUTHENTICATE"))
        self.sm = SecureMessaging(keys)

    def read_file(self, which: LdsFile) -> bytes | None:
        """The whole file, or None when the chip does not have it."""
        selected = self.protected(select_file(which.fid), f"SELECT {which.name}")
        if selected.sw == FILE_NOT_FOUND:
            return None
        if not selected.ok:
            raise RemoteProtocolError(f"SELECT {which.name} failed with status {selected.sw:04X}")
        data = self._read(0, HEADER_PROBE, which)
        size = object_size(data)
        if size is NEED_DATA:
            raise RemoteProtocolError(f"{which.name} is shorter than its own header")
        assert isinstance(size, int)  # noqa: S101 - narrowed from NEED_DATA above
        if size > MAX_FILE:
            raise RemoteProtocolError(f"{which.name} is {size} bytes; files above {MAX_FILE} are not supported")
        while len(data) < size:
            chunk = self._read(len(data), min(READ_CHUNK, size - len(data)), which)
            if not chunk:
                raise RemoteProtocolError(f"{which.name} ended after {len(data)} of {size} bytes")
            data += chunk
        return data[:size]

    def _read(self, offset: int, length: int, which: LdsFile) -> bytes:
        resp = self.protected(read_binary(offset, length), f"READ BINARY {which.name} @{offset}+{length}")
        if not resp.ok and resp.sw != 0x6282:  # 6282: end of file reached before Le bytes
            raise RemoteProtocolError(f"READ BINARY of {which.name} failed with status {resp.sw:04X}")
        return resp.data

    def run(self, mrz: Mrz) -> _ChipFiles:
        self.authenticate(mrz)
        com_bytes = self.read_file(LdsFile.COM)
        if com_bytes is None:
            raise RemoteProtocolError("the chip has no EF.COM")
        com = parse_ef_com(com_bytes)
        files: dict[LdsFile, bytes] = {LdsFile.COM: com_bytes}
        wanted = [LdsFile.SOD, LdsFile.DG1] + ([LdsFile.DG2] if LdsFile.DG2 in com.data_groups else [])
        for which in wanted:
            data = self.read_file(which)
            if data is None:
                if which is LdsFile.DG2:
                    continue
                raise RemoteProtocolError(f"the chip has no {which.name}")
            files[which] = data
        return _ChipFiles(com=com, files=files)


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame marker, or None when there is none."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return (width, height) if width and height else None
        pos += 2 + length
    return None


def face_to_jpeg(face: FaceImage) -> Face | None:
    """The face as JPEG (decoded and re-encoded only when it is JPEG 2000); None when it does not decode."""
    fmt = face.sniffed or ImageFormat.JPEG
    if fmt is ImageFormat.JPEG and (size := jpeg_size(face.image)) is not None:
        return Face(jpeg=face.image, width=size[0], height=size[1], chip_format=fmt)
    pixels = cv2.imdecode(np.frombuffer(face.image, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.size == 0:
        return None
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    if fmt is ImageFormat.JPEG:
        return Face(jpeg=face.image, width=width, height=height, chip_format=fmt)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        return None
    return Face(jpeg=encoded.tobytes(), width=width, height=height, chip_format=fmt)


def check_hashes(lso: LdsSecurityObject, files: Mapping[LdsFile, bytes]) -> tuple[tuple[int, HashCheck], ...]:
    """Each data group read, against its hash in EF.SOD."""
    out = []
    for which, data in files.items():
        number = which.dg_number
        if number is None:
            continue
        if lso.expected_hash(number) is None:
            out.append((number, HashCheck.NOT_LISTED))
        else:
            out.append((number, HashCheck.MATCH if lso.matches(number, data) else HashCheck.MISMATCH))
    return tuple(sorted(out))


@register_driver
class DocumentReaderDriver(Driver):
    """A PC/SC reader for ICAO 9303 chips (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.DOCUMENT_READER
    cscas: ClassVar[tuple[x509.Certificate, ...]] = ()
    """Country signing certificates for passive authentication (``[documents]`` in the config)."""

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._reader: PcscReader | None = None

    @property
    def reader(self) -> PcscReader:
        if self._reader is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return self._reader

    def attach(self, transport: Transport) -> None:
        self._reader = reader_of(transport, self.ctx.device_id)

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        await self.probe(timeout=timeout)
        return {"reader": self.reader.name}

    async def probe(self, *, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self.reader.card_status()
        except LinkClosedError as err:
            raise DeviceOfflineError(str(err), device_id=self.ctx.device_id) from err
        except CardIoError as err:
            raise DeviceOfflineError(f"the reader does not answer: {err}", device_id=self.ctx.device_id) from err
        except TimeoutError as err:
            raise DeviceOfflineError("pcscd did not answer in time", device_id=self.ctx.device_id) from err

    async def wait_closed(self) -> str:
        return await self.reader.wait_gone()

    async def detach(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.close()

    async def read_document(self, mrz: Mrz, *, wait_until: float, progress: ProgressFn) -> DocumentRead:
        """Wait for the document until ``wait_until`` (loop time), then read and check its chip."""
        loop = asyncio.get_running_loop()
        device_id = self.ctx.device_id

        def run(channel: CardChannel) -> DocumentRead:
            # Connected: the document is there. The checks run on this thread right after the reads.
            loop.call_soon_threadsafe(
                progress, "READING_CHIP", "reading the chip: keep the document still on the reader"
            )
            return self._check(mrz, _Session(channel, self.ctx).run(mrz))

        try:
            try:
                # The document is usually there already: connect at once (one hop to the reader's thread).
                return await self.reader.session(run)
            except CardAbsentError:
                progress("WAITING_FOR_DOCUMENT", "place the document's data page on the reader")
                status = await self.reader.wait_for_card(wait_until - loop.time())
                if not status.present:
                    raise NoDocumentError("no document was placed on the reader in time", device_id=device_id) from None
                progress("DOCUMENT_FOUND", "document found: keep it still on the reader")
                return await self.reader.session(run)
        except ChipBacDenied as err:
            raise BacDeniedError(
                "the chip refused access: the MRZ does not belong to this document; re-scan its data page",
                device_id=device_id,
            ) from err
        except CardRemovedError as err:
            raise DocumentRemovedError(
                "the document was removed during the read: place it again", device_id=device_id
            ) from err
        except (RemoteProtocolError, CardIoError) as err:
            raise ChipReadFailedError(
                f"the chip's answer could not be read: {err}; place the document again", device_id=device_id
            ) from err
        except LinkClosedError as err:
            raise LinkLostError(f"the reader went away during the read: {err}", device_id=device_id) from err

    def _check(self, mrz: Mrz, chip: _ChipFiles) -> DocumentRead:
        """Everything after the session: compare, hash, verify, convert (CPU only)."""
        device_id = self.ctx.device_id
        files = chip.files
        try:
            sod = parse_signed_sod(files[LdsFile.SOD])
        except RemoteProtocolError as err:
            raise ChipReadFailedError(f"EF.SOD is malformed: {err}", device_id=device_id) from err
        lso = sod.lds_security_object
        try:
            chip_mrz: Mrz | None = parse_dg1(files[LdsFile.DG1])
        except RemoteProtocolError:
            chip_mrz = None  # reported as "does not match"; the reason is not logged (it is personal data)
        face = None
        if LdsFile.DG2 in files:
            try:
                images = parse_dg2(files[LdsFile.DG2])
            except RemoteProtocolError as err:
                raise ChipReadFailedError(f"DG2 is malformed: {err}", device_id=device_id) from err
            face = face_to_jpeg(images[0]) if images else None
            if face is None:
                log.warning("face image could not be decoded", device_id=device_id)
        signature = verify_sod_signature(sod, type(self).cscas, at=dt.datetime.now(dt.UTC))
        return DocumentRead(
            mrz=mrz,
            chip_mrz=chip_mrz,
            chip_mrz_matches=chip_mrz is not None and chip_mrz.lines == mrz.lines,
            face=face,
            data_groups=check_hashes(lso, files),
            signature=signature.status,
            signature_message=signature.message,
            present=tuple(n for f in chip.com.data_groups if (n := f.dg_number) is not None),
            lds_version=chip.com.lds_version,
        )


__all__ = [
    "DocumentRead",
    "DocumentReaderDriver",
    "Face",
    "HashCheck",
    "SignatureStatus",
    "face_to_jpeg",
]
