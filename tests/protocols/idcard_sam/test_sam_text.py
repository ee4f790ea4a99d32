"""The 256-byte text block in its four layouts, against the offsets of reference section 1.6."""

from __future__ import annotations

import itertools

import pytest

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.idcard_sam import (
    LONG_TERM,
    NATION,
    SEX,
    TEXT_SIZE,
    CardText,
    CardType,
    ForeignPermanentResidentCard2017,
    ForeignPermanentResidentCard2023,
    ResidencePermitHMT,
    ResidentCard,
    card_type_of,
    decode_text,
    nation_name,
    sex_name,
)

SPACE = " ".encode("utf-16-le")


def ucs2(value: str, chars: int) -> bytes:
    """A field as the card stores it: UCS-2 LE, space padded to ``chars`` characters."""
    raw = value.encode("utf-16-le")
    assert len(raw) <= 2 * chars
    return raw + SPACE * (chars - len(raw) // 2)


RESIDENT = ResidentCard(
    name="测试样例",
    sex_code="2",
    nation_code="01",
    birth_date="19900307",
    address="示例省示例市示例区示例路100号",
    id_number="11010519900307002X",
    issuing_authority="示例市公安局示例分局",
    valid_from="20200101",
    valid_until="20400101",
)
# Offsets and sizes copied from the reference tables, not from the codec's layout.
RESIDENT_FIELDS = [
    (0, 15, "测试样例"),
    (30, 1, "2"),
    (32, 2, "01"),
    (36, 8, "19900307"),
    (52, 35, "示例省示例市示例区示例路100号"),
    (122, 18, "11010519900307002X"),
    (158, 15, "示例市公安局示例分局"),
    (188, 8, "20200101"),
    (204, 8, "20400101"),
    (220, 18, ""),  # reserved, marker position 248 included
]

FOREIGN_2017 = ForeignPermanentResidentCard2017(
    english_name="EXAMPLE, MADEUP PERSON",
    sex_code="1",
    card_number="ZZZ990012345678",
    nationality="ZZZ",
    chinese_name="样例外侨",
    valid_from="20190601",
    valid_until="20290601",
    birth_date="19800229",
    card_version="02",
    authority_code="9900",
)
FOREIGN_2017_FIELDS = [
    (0, 60, "EXAMPLE, MADEUP PERSON"),
    (120, 1, "1"),
    (122, 15, "ZZZ990012345678"),
    (152, 3, "ZZZ"),
    (158, 15, "样例外侨"),
    (188, 8, "20190601"),
    (204, 8, "20290601"),
    (220, 8, "19800229"),
    (236, 2, "02"),
    (240, 4, "9900"),
    (248, 1, "I"),
    (250, 3, ""),
]

HMT = ResidencePermitHMT(
    name="港澳台样例",
    sex_code="1",
    birth_date="19951231",
    address="示例省示例市示例街道1栋2单元",
    id_number="830000199512310015",
    issuing_authority="示例市公安局",
    valid_from="20210315",
    valid_until="20260315",
    travel_permit_number="H99887766",
    issue_count="03",
)
HMT_FIELDS = [
    (0, 15, "港澳台样例"),
    (30, 1, "1"),
    (32, 2, ""),  # reserved: no ethnic code
    (36, 8, "19951231"),
    (52, 35, "示例省示例市示例街道1栋2单元"),
    (122, 18, "830000199512310015"),
    (158, 15, "示例市公安局"),
    (188, 8, "20210315"),
    (204, 8, "20260315"),
    (220, 9, "H99887766"),
    (238, 2, "03"),
    (242, 3, ""),
    (248, 1, "J"),
    (250, 3, ""),
]

NAME_HEAD = "MADEUP-EXAMPLE FOREIGNER WITH A VER"  # characters 1-35
NAME_TAIL = "Y LONG NAME"  # characters 36-46
FOREIGN_2023 = ForeignPermanentResidentCard2023(
    chinese_name="样例新版",
    sex_code="2",
    renewal_count="01",
    birth_date="20000101",
    english_name=NAME_HEAD + NAME_TAIL,
    card_number="933156200001010048",
    valid_from="20240110",
    valid_until="20340110",
    nationality="ZZZ",
    previous_card_link="A01",
)
FOREIGN_2023_FIELDS = [
    (0, 15, "样例新版"),
    (30, 1, "2"),
    (32, 2, "01"),
    (36, 8, "20000101"),
    (52, 35, NAME_HEAD),
    (122, 18, "933156200001010048"),
    (158, 15, ""),  # reserved
    (188, 8, "20240110"),
    (204, 8, "20340110"),
    (220, 11, NAME_TAIL),
    (242, 3, "ZZZ"),
    (248, 1, "Y"),
    (250, 3, "A01"),
]

CASES: list[tuple[CardText, CardType, list[tuple[int, int, str]]]] = [
    (RESIDENT, CardType.RESIDENT, RESIDENT_FIELDS),
    (FOREIGN_2017, CardType.FOREIGN_PERMANENT_2017, FOREIGN_2017_FIELDS),
    (HMT, CardType.HMT_RESIDENCE_PERMIT, HMT_FIELDS),
    (FOREIGN_2023, CardType.FOREIGN_PERMANENT_2023, FOREIGN_2023_FIELDS),
]
IDS = [card_type.name for _, card_type, _ in CASES]


def test_made_up_names_fill_the_2023_name_parts_exactly() -> None:
    assert (len(NAME_HEAD), len(NAME_TAIL)) == (35, 11)


@pytest.mark.parametrize(("card", "card_type", "fields"), CASES, ids=IDS)
def test_fields_tile_the_whole_block(card: CardText, card_type: CardType, fields: list[tuple[int, int, str]]) -> None:
    # The reference table rows leave no gap and no overlap: together they are the 256 bytes.
    covered = sorted((offset, offset + 2 * chars) for offset, chars, _ in fields)
    assert covered[0][0] == 0
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(covered))
    assert covered[-1][1] == TEXT_SIZE


@pytest.mark.parametrize(("card", "card_type", "fields"), CASES, ids=IDS)
def test_encodes_at_reference_offsets(card: CardText, card_type: CardType, fields: list[tuple[int, int, str]]) -> None:
    block = card.to_text_block()
    assert len(block) == TEXT_SIZE
    for offset, chars, value in fields:
        assert block[offset : offset + 2 * chars] == ucs2(value, chars), (offset, value)


@pytest.mark.parametrize(("card", "card_type", "fields"), CASES, ids=IDS)
def test_decodes_back_equal(card: CardText, card_type: CardType, fields: list[tuple[int, int, str]]) -> None:
    block = card.to_text_block()
    assert card_type_of(block) is card_type
    decoded = decode_text(block)
    assert decoded == card
    assert type(decoded) is type(card)
    assert decoded.card_type is card_type


def test_decodes_a_block_built_by_hand() -> None:
    # Built from the reference offsets alone, then decoded: the codec reads what the tables say.
    block = bytearray(SPACE * 128)
    for offset, chars, value in RESIDENT_FIELDS:
        block[offset : offset + 2 * chars] = ucs2(value, chars)
    card = decode_text(bytes(block))
    assert isinstance(card, ResidentCard)
    assert card.id_number == "11010519900307002X"
    assert card.address == "示例省示例市示例区示例路100号"
    assert card == RESIDENT


def test_raw_slices_of_the_resident_block() -> None:
    block = RESIDENT.to_text_block()
    assert block[122:158].decode("utf-16-le") == "11010519900307002X"
    assert block[0:30].decode("utf-16-le").rstrip() == "测试样例"
    assert block[248:250] == SPACE


def test_marker_positions() -> None:
    assert FOREIGN_2017.to_text_block()[248:250] == b"I\x00"
    assert HMT.to_text_block()[248:250] == b"J\x00"
    assert FOREIGN_2023.to_text_block()[248:250] == b"Y\x00"


def test_nul_marker_means_resident_card() -> None:
    block = bytearray(RESIDENT.to_text_block())
    block[248:250] = b"\x00\x00"
    assert card_type_of(bytes(block)) is CardType.RESIDENT
    assert decode_text(bytes(block)) == RESIDENT


def test_2023_english_name_is_split_across_two_places() -> None:
    block = FOREIGN_2023.to_text_block()
    assert block[52:122].decode("utf-16-le") == NAME_HEAD
    assert block[220:242].decode("utf-16-le") == NAME_TAIL
    decoded = decode_text(block)
    assert isinstance(decoded, ForeignPermanentResidentCard2023)
    assert decoded.english_name == NAME_HEAD + NAME_TAIL


@pytest.mark.parametrize(
    "name",
    [
        "SHORT NAME",
        "A" * 35,
        "A" * 34 + " " + "B",  # the split falls on a space
        "A" * 35 + " BC",  # the tail begins with a space
        "A" * 46,
    ],
)
def test_2023_english_name_lengths_round_trip(name: str) -> None:
    card = ForeignPermanentResidentCard2023(
        chinese_name="样例",
        sex_code="1",
        renewal_count="00",
        birth_date="19700101",
        english_name=name,
        card_number="933156197001010011",
        valid_from="20240101",
        valid_until=LONG_TERM,
        nationality="ZZZ",
        previous_card_link="",
    )
    block = card.to_text_block()
    assert block[52:122] == ucs2(name[:35], 35)
    assert block[220:242] == ucs2(name[35:], 11)
    assert decode_text(block) == card


def test_2023_english_name_over_46_characters_is_refused() -> None:
    card = ForeignPermanentResidentCard2023(
        chinese_name="样例",
        sex_code="1",
        renewal_count="00",
        birth_date="19700101",
        english_name="A" * 47,
        card_number="933156197001010011",
        valid_from="20240101",
        valid_until="20340101",
        nationality="ZZZ",
        previous_card_link="",
    )
    with pytest.raises(LocalProtocolError):
        card.to_text_block()


def test_long_term_validity() -> None:
    card = ResidentCard(
        name="长期样例",
        sex_code="1",
        nation_code="03",
        birth_date="19500101",
        address="示例地址",
        id_number="110105195001010013",
        issuing_authority="示例市公安局",
        valid_from="20100101",
        valid_until=LONG_TERM,
    )
    block = card.to_text_block()
    assert block[204:220] == "长期".encode("utf-16-le") + SPACE * 6
    decoded = decode_text(block)
    assert isinstance(decoded, ResidentCard)
    assert decoded.valid_until == "长期"


def test_long_term_is_only_for_the_end_date() -> None:
    with pytest.raises(ValueError, match="valid_from"):
        ResidentCard(
            name="样例",
            sex_code="1",
            nation_code="01",
            birth_date="19500101",
            address="",
            id_number="110105195001010013",
            issuing_authority="",
            valid_from=LONG_TERM,
            valid_until=LONG_TERM,
        )


def with_field(block: bytes, offset: int, raw: bytes) -> bytes:
    patched = bytearray(block)
    patched[offset : offset + len(raw)] = raw
    return bytes(patched)


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (36, "1990-3-7"),  # birth date with separators
        (36, "１９９００３０７"),  # full-width digits are not the ASCII digits the card stores
        (36, "١٩٩٠٠٣٠٧"),  # nor are Arabic-Indic digits
        (36, "1990030 "),  # seven digits
        (188, "长期"),  # long-term is not a start date
        (204, "长久"),
        (36, "19901399"),  # eight ASCII digits, but no such day: a reader that lies
        (188, "20230229"),  # 2023 is not a leap year
    ],
)
def test_bad_date_in_a_block_is_a_remote_error(offset: int, text: str) -> None:
    block = with_field(RESIDENT.to_text_block(), offset, ucs2(text, 8))
    with pytest.raises(RemoteProtocolError, match="YYYYMMDD"):
        decode_text(block)


@pytest.mark.parametrize("card", [FOREIGN_2017, HMT, FOREIGN_2023], ids=["I", "J", "Y"])
def test_bad_date_in_other_layouts(card: CardText) -> None:
    block = with_field(card.to_text_block(), 188, ucs2("2019/6/1", 8))
    with pytest.raises(RemoteProtocolError):
        decode_text(block)


@pytest.mark.parametrize(
    ("offset", "raw"),
    [
        (0, b"\x00\xd8"),  # lone high surrogate in the name
        (28, b"\x00\xd8"),  # high surrogate as the name's last character
        (52, b"\x00\xdc"),  # lone low surrogate in the address
        (248, b"\x00\xd8"),  # in the marker itself
    ],
)
def test_bad_ucs2_is_a_remote_error(offset: int, raw: bytes) -> None:
    block = with_field(RESIDENT.to_text_block(), offset, raw)
    with pytest.raises(RemoteProtocolError, match="UCS-2"):
        decode_text(block)


def test_bad_ucs2_in_the_2023_name_tail() -> None:
    block = with_field(FOREIGN_2023.to_text_block(), 230, b"\x00\xdc")
    with pytest.raises(RemoteProtocolError, match="UCS-2"):
        decode_text(block)


@pytest.mark.parametrize("marker", ["Z", "i", "0", "期"])
def test_unknown_marker_is_a_remote_error(marker: str) -> None:
    block = with_field(RESIDENT.to_text_block(), 248, marker.encode("utf-16-le"))
    with pytest.raises(RemoteProtocolError, match="marker"):
        card_type_of(block)
    with pytest.raises(RemoteProtocolError, match="marker"):
        decode_text(block)


@pytest.mark.parametrize("size", [0, 1, 254, 255, 257, 512])
def test_wrong_block_size_is_a_remote_error(size: int) -> None:
    block = (RESIDENT.to_text_block() * 2)[:size]
    with pytest.raises(RemoteProtocolError, match="256"):
        decode_text(block)
    with pytest.raises(RemoteProtocolError):
        card_type_of(block)


def test_field_too_long_to_encode_is_a_local_error() -> None:
    card = ResidentCard(
        name="名" * 16,
        sex_code="1",
        nation_code="01",
        birth_date="19900101",
        address="",
        id_number="110105199001010011",
        issuing_authority="",
        valid_from="20200101",
        valid_until="20300101",
    )
    with pytest.raises(LocalProtocolError, match="name"):
        card.to_text_block()


def test_character_ucs2_cannot_carry_is_a_local_error() -> None:
    card = ResidentCard(
        name="样\ud800例",  # a lone surrogate has no UTF-16 form
        sex_code="1",
        nation_code="01",
        birth_date="19900101",
        address="",
        id_number="110105199001010011",
        issuing_authority="",
        valid_from="20200101",
        valid_until="20300101",
    )
    with pytest.raises(LocalProtocolError, match="name"):
        card.to_text_block()


def test_field_of_exactly_its_size_fills_it() -> None:
    name = "名" * 15
    card = ResidentCard(
        name=name,
        sex_code="1",
        nation_code="01",
        birth_date="19900101",
        address="址" * 35,
        id_number="110105199001010011",
        issuing_authority="局" * 15,
        valid_from="20200101",
        valid_until="20300101",
    )
    block = card.to_text_block()
    assert block[0:30] == name.encode("utf-16-le")
    assert block[30:32] == b"1\x00"
    assert decode_text(block) == card


@pytest.mark.parametrize("date", ["1990010", "199001011", "abcdefgh", "１９９００１０１", ""])
def test_constructor_checks_dates(date: str) -> None:
    with pytest.raises(ValueError, match="birth_date"):
        ResidencePermitHMT(
            name="样例",
            sex_code="1",
            birth_date=date,
            address="",
            id_number="830000199001010011",
            issuing_authority="",
            valid_from="20200101",
            valid_until="20300101",
            travel_permit_number="",
            issue_count="",
        )


def test_code_tables() -> None:
    assert set(SEX) == {"0", "1", "2", "9"}
    assert sex_name("2") == "female"
    assert sex_name("5") == "unlisted"
    assert len(NATION) == 58
    assert NATION["46"][0] == "德昂"  # the correct character, not the misprint 德昴
    assert nation_name("01") == "Han"
    assert nation_name("98") == "foreign-origin Chinese citizen"
    assert nation_name("57") == "unlisted"
