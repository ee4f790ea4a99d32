"""Files of the Logical Data Structure: EF.COM, DG1 and DG2 (reference/protocols.md 3.7).

Parsers take a whole file as read from the chip and raise
:class:`RemoteProtocolError` on anything malformed; the ``encode_*`` functions
build the same files for simulators and tests.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303.mrz import Mrz, parse_mrz
from hallgw_protocols.icao9303.tlv import Tlv, encode_tlv, parse_single

_DG_TAGS: Final = (0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70)


class LdsFile(enum.Enum):
    """Elementary files of the eMRTD application: value is (file identifier, tag)."""

    COM = (0x011E, 0x60)
    SOD = (0x011D, 0x77)
    DG1 = (0x0101, 0x61)
    DG2 = (0x0102, 0x75)
    DG3 = (0x0103, 0x63)
    DG4 = (0x0104, 0x76)
    DG5 = (0x0105, 0x65)
    DG6 = (0x0106, 0x66)
    DG7 = (0x0107, 0x67)
    DG8 = (0x0108, 0x68)
    DG9 = (0x0109, 0x69)
    DG10 = (0x010A, 0x6A)
    DG11 = (0x010B, 0x6B)
    DG12 = (0x010C, 0x6C)
    DG13 = (0x010D, 0x6D)
    DG14 = (0x010E, 0x6E)
    DG15 = (0x010F, 0x6F)
    DG16 = (0x0110, 0x70)

    @property
    def fid(self) -> int:
        return self.value[0]

    @property
    def tag(self) -> int:
        return self.value[1]

    @property
    def sfi(self) -> int:
        """Short file identifier: the low byte of the FID for every LDS1 file."""
        return self.fid & 0xFF

    @property
    def dg_number(self) -> int | None:
        """1..16 for a data group, None for EF.COM and EF.SOD."""
        return self.fid - 0x0100 if 0x0101 <= self.fid <= 0x0110 else None

    @classmethod
    def from_tag(cls, tag: int) -> LdsFile:
        try:
            return _BY_TAG[tag]
        except KeyError:
            raise RemoteProtocolError(f"{tag:X} is not the tag of an LDS file") from None

    @classmethod
    def data_group(cls, number: int) -> LdsFile:
        if not 1 <= number <= len(_DG_TAGS):
            raise LocalProtocolError("data groups are numbered 1 to 16")
        return _BY_TAG[_DG_TAGS[number - 1]]


_BY_TAG: Final[dict[int, LdsFile]] = {f.tag: f for f in LdsFile}

TAG_LDS_VERSION: Final = 0x5F01
TAG_UNICODE_VERSION: Final = 0x5F36
TAG_TAG_LIST: Final = 0x5C
TAG_MRZ: Final = 0x5F1F


def _ascii_digits(item: Tlv, size: int, what: str) -> str:
    text = item.value.decode("ascii", errors="replace")
    if len(item.value) != size or not text.isdigit():
        raise RemoteProtocolError(f"EF.COM {what} is not {size} ASCII digits")
    return text


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class EfCom:
    """EF.COM: LDS and Unicode versions and the data groups present.

    Versions are dotted: LDS ``"0106"`` is ``"1.6"``, Unicode ``"040000"`` is ``"4.0.0"``.
    """

    lds_version: str
    unicode_version: str
    data_groups: tuple[LdsFile, ...]

    def __post_init__(self) -> None:
        if any(f.dg_number is None for f in self.data_groups):
            raise LocalProtocolError("EF.COM lists data groups only")
        for version, parts in ((self.lds_version, 2), (self.unicode_version, 3)):
            numbers = version.split(".")
            if len(numbers) != parts or not all(n.isdigit() and int(n) < 100 for n in numbers):
                raise LocalProtocolError("versions are dotted numbers below 100 (1.6, 4.0.0)")


def _undot(version: str) -> bytes:
    return "".join(f"{int(n):02d}" for n in version.split(".")).encode("ascii")


def _dot(digits: str) -> str:
    return ".".join(str(int(digits[i : i + 2])) for i in range(0, len(digits), 2))


def parse_ef_com(data: bytes) -> EfCom:
    com = parse_single(data, LdsFile.COM.tag)
    return EfCom(
        lds_version=_dot(_ascii_digits(com.child(TAG_LDS_VERSION), 4, "LDS version")),
        unicode_version=_dot(_ascii_digits(com.child(TAG_UNICODE_VERSION), 6, "Unicode version")),
        data_groups=tuple(LdsFile.from_tag(t) for t in com.child(TAG_TAG_LIST).value),
    )


def encode_ef_com(com: EfCom) -> bytes:
    body = encode_tlv(TAG_LDS_VERSION, _undot(com.lds_version))
    body += encode_tlv(TAG_UNICODE_VERSION, _undot(com.unicode_version))
    body += encode_tlv(TAG_TAG_LIST, bytes(f.tag for f in com.data_groups))
    return encode_tlv(LdsFile.COM.tag, body)


def parse_dg1(data: bytes) -> Mrz:
    """The MRZ stored in DG1, parsed and checked like a printed one."""
    item = parse_single(data, LdsFile.DG1.tag).child(TAG_MRZ)
    try:
        text = item.value.decode("ascii")
    except UnicodeDecodeError:
        raise RemoteProtocolError("the MRZ in DG1 is not ASCII") from None
    if any(c.isspace() for c in text):
        raise RemoteProtocolError("the MRZ in DG1 contains whitespace")
    return parse_mrz(text)


def encode_dg1(mrz: Mrz) -> bytes:
    return encode_tlv(LdsFile.DG1.tag, encode_tlv(TAG_MRZ, mrz.data.encode("ascii")))
