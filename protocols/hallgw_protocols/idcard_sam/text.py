"""The 256-byte text block of a card read, in its four layouts (section 1.6).

Every field is UCS-2 little-endian, padded with UCS-2 spaces. The character at
byte offset 248 names the layout: blank for the resident ID card, ``I`` and
``Y`` for the 2017 and 2023 foreign permanent resident ID cards, ``J`` for the
Hong Kong / Macao / Taiwan residence permit. The 'Y' offsets are
[single source]; the others are [2+].

Each layout is a table of (attribute, byte offset, characters); decoding and
encoding both walk the same table, so the two roles cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
from typing import ClassVar, Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

TEXT_SIZE: Final = 256
MARKER_OFFSET: Final = 248
LONG_TERM: Final = "长期"
"""Validity end of a card that does not expire."""

_DATE = re.compile(r"[0-9]{8}")  # ASCII only: r"\d" would also take full-width and other digits


def _is_calendar_date(value: str) -> bool:
    try:
        datetime.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return True


class CardType(enum.Enum):
    """The card layouts a SAM returns."""

    RESIDENT = " "
    FOREIGN_PERMANENT_2017 = "I"
    FOREIGN_PERMANENT_2023 = "Y"
    HMT_RESIDENCE_PERMIT = "J"


Field = tuple[str, int, int]
"""(attribute, byte offset, length in UCS-2 characters)."""


def _field(block: bytes, offset: int, chars: int, *, strip: bool = True) -> str:
    raw = block[offset : offset + 2 * chars]
    try:
        text = raw.decode("utf-16-le")
    except UnicodeDecodeError as err:
        raise RemoteProtocolError(f"text block bytes {offset}..{offset + 2 * chars} are not valid UCS-2") from err
    return text.rstrip(" \x00") if strip else text


def _put(block: bytearray, offset: int, chars: int, value: str, name: str) -> None:
    try:
        raw = value.encode("utf-16-le")
    except UnicodeEncodeError as err:
        raise LocalProtocolError(f"{name} holds a character UCS-2 cannot carry") from err
    if len(raw) > 2 * chars:
        raise LocalProtocolError(f"{name} is longer than {chars} characters")
    block[offset : offset + 2 * chars] = raw + " ".encode("utf-16-le") * (chars - len(raw) // 2)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Card:
    LAYOUT: ClassVar[tuple[Field, ...]]
    CARD_TYPE: ClassVar[CardType]
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("birth_date", "valid_from", "valid_until")

    def __post_init__(self) -> None:
        for name in self.DATE_FIELDS:
            value = getattr(self, name)
            if name == "valid_until" and value == LONG_TERM:
                continue
            if not (_DATE.fullmatch(value) and _is_calendar_date(value)):
                alternative = f" or {LONG_TERM}" if name == "valid_until" else ""
                raise ValueError(f"{name} must be a calendar date as 8 digits YYYYMMDD{alternative}")

    @property
    def card_type(self) -> CardType:
        return self.CARD_TYPE

    def to_text_block(self) -> bytes:
        """The 256-byte block a SAM would return for this card (device role)."""
        block = bytearray(" ".encode("utf-16-le") * (TEXT_SIZE // 2))
        for name, offset, chars in self.LAYOUT:
            _put(block, offset, chars, getattr(self, name), name)
        if self.CARD_TYPE is not CardType.RESIDENT:
            _put(block, MARKER_OFFSET, 1, self.CARD_TYPE.value, "card type marker")
        return bytes(block)

    @classmethod
    def _decode(cls, block: bytes) -> _Card:
        values = {name: _field(block, offset, chars) for name, offset, chars in cls.LAYOUT}
        try:
            return cls(**values)
        except ValueError as err:
            raise RemoteProtocolError(f"{cls.CARD_TYPE.name} text block: {err}") from err


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResidentCard(_Card):
    """Resident ID card (居民身份证)."""

    name: str
    sex_code: str
    nation_code: str
    birth_date: str
    address: str
    id_number: str
    issuing_authority: str
    valid_from: str
    valid_until: str

    CARD_TYPE: ClassVar[CardType] = CardType.RESIDENT
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("name", 0, 15), ("sex_code", 30, 1), ("nation_code", 32, 2), ("birth_date", 36, 8),
        ("address", 52, 35), ("id_number", 122, 18), ("issuing_authority", 158, 15),
        ("valid_from", 188, 8), ("valid_until", 204, 8),
    )  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ForeignPermanentResidentCard2017(_Card):
    """Foreign permanent resident ID card, 2017 layout (marker 'I')."""

    english_name: str
    sex_code: str
    card_number: str
    nationality: str
    chinese_name: str
    valid_from: str
    valid_until: str
    birth_date: str
    card_version: str
    authority_code: str

    CARD_TYPE: ClassVar[CardType] = CardType.FOREIGN_PERMANENT_2017
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("english_name", 0, 60), ("sex_code", 120, 1), ("card_number", 122, 15), ("nationality", 152, 3),
        ("chinese_name", 158, 15), ("valid_from", 188, 8), ("valid_until", 204, 8), ("birth_date", 220, 8),
        ("card_version", 236, 2), ("authority_code", 240, 4),
    )  # fmt: skip


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ForeignPermanentResidentCard2023(_Card):
    """Foreign permanent resident ID card, 2023 layout (marker 'Y', [single source] offsets).

    The English name is split on the card (characters 1-35 at offset 52, 36-46 at
    offset 220); here it is one string of up to 46 characters.
    """

    chinese_name: str
    sex_code: str
    renewal_count: str
    birth_date: str
    english_name: str
    card_number: str
    valid_from: str
    valid_until: str
    nationality: str
    previous_card_link: str

    CARD_TYPE: ClassVar[CardType] = CardType.FOREIGN_PERMANENT_2023
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("chinese_name", 0, 15), ("sex_code", 30, 1), ("renewal_count", 32, 2), ("birth_date", 36, 8),
        ("card_number", 122, 18), ("valid_from", 188, 8), ("valid_until", 204, 8),
        ("nationality", 242, 3), ("previous_card_link", 250, 3),
    )  # fmt: skip
    NAME_PARTS: ClassVar[tuple[tuple[int, int], tuple[int, int]]] = ((52, 35), (220, 11))

    def to_text_block(self) -> bytes:
        block = bytearray(_Card.to_text_block(self))
        (off1, n1), (off2, n2) = self.NAME_PARTS
        if len(self.english_name) > n1 + n2:
            raise LocalProtocolError(f"english_name is longer than {n1 + n2} characters")
        _put(block, off1, n1, self.english_name[:n1], "english_name")
        _put(block, off2, n2, self.english_name[n1:], "english_name")
        return bytes(block)

    @classmethod
    def _decode(cls, block: bytes) -> _Card:
        values = {name: _field(block, offset, chars) for name, offset, chars in cls.LAYOUT}
        (off1, n1), (off2, n2) = cls.NAME_PARTS
        values["english_name"] = (_field(block, off1, n1, strip=False) + _field(block, off2, n2)).rstrip(" \x00")
        try:
            return cls(**values)
        except ValueError as err:
            raise RemoteProtocolError(f"{cls.CARD_TYPE.name} text block: {err}") from err


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResidencePermitHMT(_Card):
    """Residence permit for Hong Kong, Macao and Taiwan residents (marker 'J')."""

    name: str
    sex_code: str
    birth_date: str
    address: str
    id_number: str
    issuing_authority: str
    valid_from: str
    valid_until: str
    travel_permit_number: str
    issue_count: str

    CARD_TYPE: ClassVar[CardType] = CardType.HMT_RESIDENCE_PERMIT
    LAYOUT: ClassVar[tuple[Field, ...]] = (
        ("name", 0, 15), ("sex_code", 30, 1), ("birth_date", 36, 8), ("address", 52, 35),
        ("id_number", 122, 18), ("issuing_authority", 158, 15), ("valid_from", 188, 8),
        ("valid_until", 204, 8), ("travel_permit_number", 220, 9), ("issue_count", 238, 2),
    )  # fmt: skip


CardText = ResidentCard | ForeignPermanentResidentCard2017 | ForeignPermanentResidentCard2023 | ResidencePermitHMT

_BY_MARKER: Final[dict[str, type[_Card]]] = {
    c.CARD_TYPE.value: c
    for c in (ResidentCard, ForeignPermanentResidentCard2017, ForeignPermanentResidentCard2023, ResidencePermitHMT)
}


def card_type_of(block: bytes) -> CardType:
    """The layout named by the marker at offset 248."""
    if len(block) != TEXT_SIZE:
        raise RemoteProtocolError(f"text block is {len(block)} bytes, expected {TEXT_SIZE}")
    marker = _field(block, MARKER_OFFSET, 1, strip=False)
    if marker in ("\x00", " "):
        return CardType.RESIDENT
    try:
        return CardType(marker)
    except ValueError:
        raise RemoteProtocolError(f"unknown card type marker {marker!r} at offset {MARKER_OFFSET}") from None


def decode_text(block: bytes) -> CardText:
    """Decode a 256-byte text block into the card of its layout."""
    card = _BY_MARKER[card_type_of(block).value]._decode(block)
    assert isinstance(card, CardText)  # noqa: S101 - every layout class is in the union
    return card
