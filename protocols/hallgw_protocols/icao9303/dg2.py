"""DG2: the face, down to the ISO/IEC 19794-5:2005 facial record and its image.

Nesting (reference/protocols.md 3.7)::

    75 DG2
      7F61 biometric information group template
        02 number of instances
        7F60 biometric information template (one per instance)
          A1 biometric header template
          5F2E (or 7F2E) biometric data block: the 19794-5 record
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303.lds import LdsFile
from hallgw_protocols.icao9303.tlv import Tlv, encode_tlv, parse_single

TAG_GROUP: Final = 0x7F61
TAG_INSTANCES: Final = 0x02
TAG_TEMPLATE: Final = 0x7F60
TAG_HEADER: Final = 0xA1
TAG_BDB: Final = 0x5F2E
TAG_BDB_CONSTRUCTED: Final = 0x7F2E

FORMAT_ID: Final = b"FAC\x00"
VERSION: Final = b"010\x00"
RECORD_HEADER_SIZE: Final = 14
FACIAL_INFO_SIZE: Final = 20
FEATURE_POINT_SIZE: Final = 8
IMAGE_INFO_SIZE: Final = 12

# The ICAO header version, face type, format owner (JTC1 SC37) and format type (face).
DEFAULT_HEADER: Final = bytes.fromhex("80020101" + "810102" + "820100" + "87020101" + "88020008")


class ImageDataType(enum.IntEnum):
    """Image data type byte of the 19794-5 image information."""

    JPEG = 0
    JPEG2000 = 1


class ImageFormat(enum.Enum):
    """What the image bytes start with (general file signatures, not from the Doc 9303 sources)."""

    JPEG = "jpeg"
    JP2 = "jp2"
    """JPEG 2000 in its JP2 file format."""
    J2K = "j2k"
    """A raw JPEG 2000 codestream."""


_SIGNATURES: Final = (
    (b"\xff\xd8\xff", ImageFormat.JPEG),
    (b"\x00\x00\x00\x0cjP  ", ImageFormat.JP2),
    (b"\xff\x4f\xff\x51", ImageFormat.J2K),
)


def sniff_image(image: bytes) -> ImageFormat | None:
    """The image format by its leading signature, or None."""
    for signature, fmt in _SIGNATURES:
        if image.startswith(signature):
            return fmt
    return None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FaceImage:
    """One facial image of a 19794-5 record, with the header fields a reader needs."""

    data_type: ImageDataType
    """What the record declares."""
    width: int
    height: int
    image: bytes = dataclasses.field(repr=False)
    face_image_type: int = 1
    colour_space: int = 1
    source_type: int = 0
    device_type: int = 0
    quality: int = 0
    gender: int = 0
    eye_colour: int = 0
    hair_colour: int = 0
    expression: int = 0
    feature_points: tuple[bytes, ...] = ()
    """Raw 8-byte feature point entries."""

    def __post_init__(self) -> None:
        for name, limit in (("width", 0xFFFF), ("height", 0xFFFF), ("device_type", 0xFFFF), ("quality", 0xFFFF)):
            if not 0 <= getattr(self, name) <= limit:
                raise LocalProtocolError(f"{name} out of range")
        for name in ("face_image_type", "colour_space", "source_type", "gender", "eye_colour", "hair_colour"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise LocalProtocolError(f"{name} out of byte range")
        if not 0 <= self.expression <= 0xFFFF:
            raise LocalProtocolError("expression out of range")
        if any(len(p) != FEATURE_POINT_SIZE for p in self.feature_points) or len(self.feature_points) > 0xFFFF:
            raise LocalProtocolError("feature points are 8-byte entries")

    @property
    def sniffed(self) -> ImageFormat | None:
        return sniff_image(self.image)

    @property
    def is_jpeg2000(self) -> bool:
        """Whether the image must be converted to serve it as JPEG.

        The signature decides where it is recognised (some chips mislabel the
        data type); otherwise the declared data type does.
        """
        sniffed = self.sniffed
        if sniffed is not None:
            return sniffed is not ImageFormat.JPEG
        return self.data_type is ImageDataType.JPEG2000

    def to_bytes(self) -> bytes:
        """This image's facial information block (facial info, feature points, image info, image)."""
        length = FACIAL_INFO_SIZE + FEATURE_POINT_SIZE * len(self.feature_points) + IMAGE_INFO_SIZE + len(self.image)
        return (
            length.to_bytes(4, "big")
            + len(self.feature_points).to_bytes(2, "big")
            + bytes((self.gender, self.eye_colour, self.hair_colour))
            + bytes(3)  # feature mask
            + self.expression.to_bytes(2, "big")
            + bytes(6)  # pose angles and their uncertainty
            + b"".join(self.feature_points)
            + bytes((self.face_image_type, self.data_type))
            + self.width.to_bytes(2, "big")
            + self.height.to_bytes(2, "big")
            + bytes((self.colour_space, self.source_type))
            + self.device_type.to_bytes(2, "big")
            + self.quality.to_bytes(2, "big")
            + self.image
        )


def _u(data: bytes, offset: int, size: int) -> int:
    return int.from_bytes(data[offset : offset + size], "big")


def parse_facial_record(record: bytes) -> tuple[FaceImage, ...]:
    """Every image of an ISO/IEC 19794-5:2005 facial record."""
    if len(record) < RECORD_HEADER_SIZE or record[:4] != FORMAT_ID:
        raise RemoteProtocolError("biometric data block is not a 19794-5 facial record (no FAC header)")
    if record[4:8] != VERSION:
        raise RemoteProtocolError("19794-5 facial record version is not 010")
    if _u(record, 8, 4) != len(record):
        raise RemoteProtocolError("19794-5 record length disagrees with the biometric data block")
    count = _u(record, 12, 2)
    if count == 0:
        raise RemoteProtocolError("19794-5 record holds no facial image")
    images: list[FaceImage] = []
    offset = RECORD_HEADER_SIZE
    for _ in range(count):
        if offset + FACIAL_INFO_SIZE > len(record):
            raise RemoteProtocolError("19794-5 facial information block truncated")
        block_length = _u(record, offset, 4)
        points = _u(record, offset + 4, 2)
        image_info = offset + FACIAL_INFO_SIZE + FEATURE_POINT_SIZE * points
        end = offset + block_length
        if image_info + IMAGE_INFO_SIZE > end or end > len(record):
            raise RemoteProtocolError("19794-5 facial information block length is inconsistent")
        info = record[image_info : image_info + IMAGE_INFO_SIZE]
        try:
            data_type = ImageDataType(info[1])
        except ValueError:
            raise RemoteProtocolError(f"19794-5 image data type {info[1]} is neither JPEG nor JPEG 2000") from None
        images.append(
            FaceImage(
                data_type=data_type,
                width=_u(info, 2, 2),
                height=_u(info, 4, 2),
                image=record[image_info + IMAGE_INFO_SIZE : end],
                face_image_type=info[0],
                colour_space=info[6],
                source_type=info[7],
                device_type=_u(info, 8, 2),
                quality=_u(info, 10, 2),
                gender=record[offset + 6],
                eye_colour=record[offset + 7],
                hair_colour=record[offset + 8],
                expression=_u(record, offset + 12, 2),
                feature_points=tuple(
                    record[p : p + FEATURE_POINT_SIZE]
                    for p in range(offset + FACIAL_INFO_SIZE, image_info, FEATURE_POINT_SIZE)
                ),
            )
        )
        offset = end
    if offset != len(record):
        raise RemoteProtocolError("bytes follow the last image of the 19794-5 record")
    return tuple(images)


def encode_facial_record(images: tuple[FaceImage, ...]) -> bytes:
    if not images:
        raise LocalProtocolError("a facial record holds at least one image")
    blocks = b"".join(image.to_bytes() for image in images)
    length = RECORD_HEADER_SIZE + len(blocks)
    return FORMAT_ID + VERSION + length.to_bytes(4, "big") + len(images).to_bytes(2, "big") + blocks


def _bdb(template: Tlv) -> bytes:
    for item in template.children():
        # Both tags hold the record itself as their value (JMRTD reads 7F2E the same way).
        if item.tag in (TAG_BDB, TAG_BDB_CONSTRUCTED):
            return item.value
    raise RemoteProtocolError("biometric information template has no biometric data block")


def parse_dg2(data: bytes) -> tuple[FaceImage, ...]:
    """Every facial image of DG2, in order."""
    group = parse_single(data, LdsFile.DG2.tag).child(TAG_GROUP)
    count_item = group.child(TAG_INSTANCES)
    if len(count_item.value) != 1:
        raise RemoteProtocolError("DG2 instance count is not one byte")
    templates = [item for item in group.children() if item.tag == TAG_TEMPLATE]
    if len(templates) != count_item.value[0] or not templates:
        raise RemoteProtocolError("DG2 instance count disagrees with its biometric information templates")
    images: list[FaceImage] = []
    for template in templates:
        images.extend(parse_facial_record(_bdb(template)))
    return tuple(images)


def encode_dg2(images: tuple[FaceImage, ...]) -> bytes:
    """DG2 with one biometric information template holding ``images``."""
    template = encode_tlv(TAG_HEADER, DEFAULT_HEADER) + encode_tlv(TAG_BDB, encode_facial_record(images))
    group = encode_tlv(TAG_INSTANCES, b"\x01") + encode_tlv(TAG_TEMPLATE, template)
    return encode_tlv(LdsFile.DG2.tag, encode_tlv(TAG_GROUP, group))
