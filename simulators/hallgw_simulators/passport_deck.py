"""The passport deck: made-up travel documents whose chips a simulator can serve.

Every identity here is invented; the issuing states are real or the ICAO
specimen state ``UTO``, the people are not. Each :class:`PassportDocument`
holds the printed MRZ and the LDS files of its chip, built with the codec's
encoders: EF.COM, DG1 (the MRZ), DG2 (the face) and an EF.SOD whose data group
hashes match the files, signed by the document signer of the test PKI
(:mod:`hallgw_simulators.passport_pki`): a reader configured with that PKI's
CSCA certificate verifies the signature, one without it must say "not
verified". :func:`make_document` builds one from any MRZ and face, so a test
decides its own data; ``tampered`` lists data groups whose hash in EF.SOD is
computed over altered bytes, as on a chip whose file was changed after signing
(the signature still verifies: it covers the hashes as stored).
``bad_signature`` signs other content than the EF.SOD holds, so the signature
check fails; ``signed=False`` builds the unsigned EF.SOD of older tests (a
SignedData with no certificate and no signer).

The face images are real, decodable images of 24 x 32 grey pixels (an oval
with eyes and a mouth): :data:`FACE_JPEG` is a baseline JPEG made with
libjpeg-turbo's ``cjpeg -baseline -optimize -grayscale`` and :data:`FACE_JP2`
a JPEG 2000 file (JP2 boxes around a 2-level 5/3 codestream) made with
OpenJPEG's ``opj_compress``; both decode with ``djpeg`` and ``opj_decompress``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from typing import Final

from hallgw_protocols.icao9303 import (
    EfCom,
    FaceImage,
    ImageDataType,
    LdsFile,
    LdsSecurityObject,
    Mrz,
    MrzFormat,
    Sex,
    compose_mrz,
    encode_dg1,
    encode_dg2,
    encode_ef_com,
    encode_unsigned_sod,
    prepare_signed_sod,
)
from hallgw_protocols.icao9303.sod import HASH_ALGORITHMS
from hallgw_simulators.passport_pki import DocumentSigner, passport_pki

FACE_WIDTH: Final = 24
FACE_HEIGHT: Final = 32

FACE_JPEG: Final = bytes.fromhex(
    "FFD8FFE000104A46494600010100000100010000FFDB0043000D090A0B0A080D0B0A0B0E0E0D0F13201513121213271C"
    "1E17202E2931302E292D2C333A4A3E333646372C2D405741464C4E525352323E5A615A50604A51524FFFC0000B080020"
    "001801011100FFC40017000101010100000000000000000000000004050206FFC4002910000103020406010500000000"
    "00000000010203110012052131411314155191A12343526193D1FFDA0008010100003F00EA5D750D20AD6600F741EA2B"
    "BE7869B7B4E7E69CD3A8750168320FAA9F8BADC80DB56DE124A6E3913B4D4FF9F96FA7C7B3F36DD1E626A8610B720B6E"
    "DB79482AB4E40EF15AC4D06F439B111A6952F996FED7BF4AFF0095530C41BD6E6C0469AD39D690EA0A16241F541E9CBB"
    "E3889B7BC67E29CD3486901081007BAFFFD9"
)
"""A 24 x 32 grey baseline JPEG (306 bytes)."""

FACE_JP2: Final = bytes.fromhex(
    "0000000C6A5020200D0A870A00000014667479706A703220000000006A7032200000002D6A7032680000001669686472"
    "00000020000000180001070700000000000F636F6C7201000000000011000000986A703263FF4FFF5100290000000000"
    "18000000200000000000000000000000180000002000000000000000000001070101FF52000C00000001000104040001"
    "FF5C00074040484850FF640025000143726561746564206279204F70656E4A5045472076657273696F6E20322E352E30"
    "FF90000A0000000000230001FF93CB48140045D29FD9DFA3C288E895A046E677173F80FFD9"
)
"""The same face as a JPEG 2000 JP2 file (229 bytes)."""

GREY8: Final = 3
"""19794-5 colour space: 8-bit grey."""

_SENSITIVE_FIELDS: Final = ("document_number", "primary_identifier", "secondary_identifier", "optional_data")


def face_image(image: bytes = FACE_JPEG, *, jpeg2000: bool | None = None) -> FaceImage:
    """A 19794-5 full frontal image record for ``image`` (the data type follows its signature)."""
    if jpeg2000 is None:
        jpeg2000 = not image.startswith(b"\xff\xd8")
    return FaceImage(
        data_type=ImageDataType.JPEG2000 if jpeg2000 else ImageDataType.JPEG,
        width=FACE_WIDTH,
        height=FACE_HEIGHT,
        image=image,
        colour_space=GREY8,
    )


def _tamper(data: bytes) -> bytes:
    """Bytes that differ from ``data`` in its last byte: what the signer's hash is computed over."""
    return data[:-1] + bytes((data[-1] ^ 0x01,))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class PassportDocument:
    """One document: its printed MRZ and the files of its chip, by LDS file."""

    doc_id: str
    mrz: Mrz
    files: Mapping[LdsFile, bytes]
    tampered: frozenset[LdsFile] = frozenset()
    """Data groups whose EF.SOD hash does not match the file (a tampered chip)."""
    signed: bool = True
    """Whether EF.SOD carries a document signer's signature."""
    bad_signature: bool = False
    """Whether that signature was made over other content (it does not verify)."""

    @property
    def data_groups(self) -> tuple[LdsFile, ...]:
        return tuple(f for f in self.files if f.dg_number is not None)

    def file(self, which: LdsFile) -> bytes:
        return self.files[which]

    def sensitive_values(self) -> tuple[str, ...]:
        """MRZ lines, names and the document number: none may appear in a log."""
        values = [getattr(self.mrz, name) for name in _SENSITIVE_FIELDS]
        values += [
            part for name in ("primary_identifier", "secondary_identifier") for part in getattr(self.mrz, name).split()
        ]
        return tuple(dict.fromkeys(v for v in (*self.mrz.lines, *values) if v))

    def __repr__(self) -> str:
        # No personal fields, like the codec's Mrz.
        return f"PassportDocument({self.doc_id!r}, {self.mrz.format.name}, {self.mrz.issuing_state})"


def make_document(
    doc_id: str,
    mrz: Mrz,
    faces: tuple[FaceImage, ...] = (),
    *,
    hash_algorithm: str = "sha256",
    tampered: frozenset[LdsFile] = frozenset(),
    signed: bool = True,
    signer: DocumentSigner | None = None,
    bad_signature: bool = False,
) -> PassportDocument:
    """A chip's files for ``mrz`` and ``faces`` (the default face when empty), hashed into EF.SOD.

    ``hash_algorithm`` is a hashlib name Doc 9303 allows; each data group in
    ``tampered`` gets an EF.SOD hash over altered bytes. EF.SOD is signed by
    ``signer`` (the test PKI's document signer by default) unless ``signed``
    is False; ``bad_signature`` makes the signature cover other bytes than the
    signed attributes.
    """
    if not signed and (signer is not None or bad_signature):
        raise ValueError("an unsigned EF.SOD has no signer and no signature")
    oids = {name: oid for oid, name in HASH_ALGORITHMS.items()}
    if hash_algorithm not in oids:
        raise ValueError(f"{hash_algorithm!r} is not a hash algorithm Doc 9303 lists")
    dgs = {LdsFile.DG1: encode_dg1(mrz), LdsFile.DG2: encode_dg2(faces or (face_image(),))}
    if not tampered <= dgs.keys():
        raise ValueError("only present data groups can be tampered with")
    hashes = tuple(
        (number, hashlib.new(hash_algorithm, _tamper(data) if dg in tampered else data).digest())
        for dg, data in dgs.items()
        if (number := dg.dg_number) is not None
    )
    lso = LdsSecurityObject(hash_algorithm_oid=oids[hash_algorithm], hashes=hashes)
    com = encode_ef_com(EfCom(lds_version="1.7", unicode_version="4.0.0", data_groups=tuple(dgs)))
    sod = (
        _signed_sod(lso, signer or passport_pki().document_signer, bad_signature)
        if signed
        else encode_unsigned_sod(lso)
    )
    files = {LdsFile.COM: com, **dgs, LdsFile.SOD: sod}
    return PassportDocument(
        doc_id=doc_id, mrz=mrz, files=files, tampered=tampered, signed=signed, bad_signature=bad_signature
    )


def _signed_sod(lso: LdsSecurityObject, signer: DocumentSigner, bad_signature: bool) -> bytes:
    """EF.SOD signed by ``signer``; with ``bad_signature`` the signature covers other bytes."""
    pending = prepare_signed_sod(
        lso,
        certificates=(signer.certificate_der,),
        signer_id=signer.signer_id,
        signature_algorithm=signer.signature_algorithm,
    )
    covered = pending.signed_attributes
    if bad_signature:
        covered = b"not the signed attributes of this document" + covered
    return pending.finish(signer.sign(covered))


_TD3: Final = MrzFormat.TD3

_DOCUMENTS: Final = (
    make_document(
        "td3-uto-1",
        compose_mrz(
            format=_TD3,
            document_code="P",
            issuing_state="UTO",
            document_number="XK4019273",
            nationality="UTO",
            birth_date="880214",
            sex=Sex.FEMALE,
            expiry_date="330501",
            primary_identifier="TESTOVA HALLGREN",
            secondary_identifier="MIRELA ASTRID",
            optional_data="ZE7701458",
        ),
    ),
    make_document(
        # A JPEG 2000 face and SHA-1 hashes, as older chips have.
        "td3-nld-jp2",
        compose_mrz(
            format=_TD3,
            document_code="P",
            issuing_state="NLD",
            document_number="NT8R2Q5L1",
            nationality="NLD",
            birth_date="710930",
            sex=Sex.MALE,
            expiry_date="290118",
            primary_identifier="VAN DER PROEF",
            secondary_identifier="JOOST",
        ),
        (face_image(FACE_JP2),),
        hash_algorithm="sha1",
    ),
    make_document(
        # A document number shorter than 9 characters, filled with <.
        "td3-can-1",
        compose_mrz(
            format=_TD3,
            document_code="P",
            issuing_state="CAN",
            document_number="HX20417",
            nationality="CAN",
            birth_date="020607",
            sex=Sex.UNSPECIFIED,
            expiry_date="310607",
            primary_identifier="SAMPLEWOOD",
            secondary_identifier="RIVER JADE",
        ),
    ),
    make_document(
        "td1-uto-card",
        compose_mrz(
            format=MrzFormat.TD1,
            document_code="I",
            issuing_state="UTO",
            document_number="Q7B3D9041",
            nationality="UTO",
            birth_date="950322",
            sex=Sex.MALE,
            expiry_date="300322",
            primary_identifier="EXEMPLAR",
            secondary_identifier="TOMAS",
        ),
    ),
    make_document(
        # DG2 was replaced after signing: the hash check must catch it.
        "td3-deu-tampered",
        compose_mrz(
            format=_TD3,
            document_code="P",
            issuing_state="D",
            document_number="C01X7TZ93",
            nationality="D",
            birth_date="640812",
            sex=Sex.FEMALE,
            expiry_date="280812",
            primary_identifier="MUSTERFRAU PROBE",
            secondary_identifier="ERIKA GRETA",
        ),
        tampered=frozenset({LdsFile.DG2}),
    ),
)


class PassportDeck(Mapping[str, PassportDocument]):
    """The documents a simulated chip can be, by document id."""

    def __init__(self, documents: tuple[PassportDocument, ...]) -> None:
        self._documents = {doc.doc_id: doc for doc in documents}

    def __getitem__(self, doc_id: str) -> PassportDocument:
        return self._documents[doc_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._documents)

    def __len__(self) -> int:
        return len(self._documents)

    def describe(self) -> list[dict[str, str]]:
        """Ids, formats and issuing states only, safe to print."""
        return [
            {"id": doc.doc_id, "format": doc.mrz.format.name, "state": doc.mrz.issuing_state}
            for doc in self._documents.values()
        ]

    def sensitive_values(self) -> tuple[str, ...]:
        """Every MRZ line, name and number of the deck, for leak checks."""
        return tuple(v for doc in self._documents.values() for v in doc.sensitive_values())


def build_passport_deck() -> PassportDeck:
    """The built-in documents (their files are the same in every run)."""
    return PassportDeck(_DOCUMENTS)
