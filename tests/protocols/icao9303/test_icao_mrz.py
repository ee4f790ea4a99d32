"""MRZ parsing and check digits against the ICAO specimens of reference/protocols.md 3.1 and 3.2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallgw_protocols import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.icao9303 import (
    Mrz,
    MrzCheck,
    MrzCheckError,
    MrzFormat,
    Sex,
    check_digit,
    compose_mrz,
    parse_mrz,
)
from hallgw_protocols.icao9303.mrz import char_value

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")

FAST = settings(max_examples=100, deadline=None)


@pytest.mark.parametrize(
    ("field", "digit"),
    [
        ("L898902C<", "3"),
        ("690806", "1"),
        ("940623", "6"),
        ("D23145890734", "9"),
        ("340712", "7"),
        ("950712", "2"),
        ("520727", "3"),
        ("790410", "7"),
        ("200618", "7"),
    ],
)
def test_check_digit_reference_examples(field: str, digit: str) -> None:
    assert check_digit(field) == digit


def test_char_values() -> None:
    assert [char_value(c) for c in "09AZ<"] == [0, 9, 10, 35, 0]
    with pytest.raises(LocalProtocolError):
        char_value("a")


def test_td3_specimen() -> None:
    mrz = parse_mrz("\n".join(TD3))
    assert mrz.format is MrzFormat.TD3
    assert (mrz.document_code, mrz.issuing_state, mrz.nationality) == ("P", "UTO", "UTO")
    assert mrz.document_number == "L898902C3"
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex) == ("740812", "120415", Sex.FEMALE)
    assert (mrz.primary_identifier, mrz.secondary_identifier) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.optional_data == "ZE184226B"
    assert mrz.optional_data_2 == ""
    assert mrz.bac_seed_input == "L898902C3" + "6" + "740812" + "2" + "120415" + "9"
    assert mrz.data == TD3[0] + TD3[1]


def test_td2_specimen() -> None:
    mrz = parse_mrz("\r\n".join(TD2))
    assert mrz.format is MrzFormat.TD2
    assert (mrz.document_code, mrz.issuing_state, mrz.nationality) == ("I", "UTO", "UTO")
    assert mrz.document_number == "D23145890"
    assert mrz.optional_data == ""
    assert mrz.bac_seed_input == "D231458907" + "7408122" + "1204159"


def test_td1_specimen() -> None:
    mrz = parse_mrz("\n".join(TD1))
    assert mrz.format is MrzFormat.TD1
    assert mrz.document_number == "D23145890"
    assert (mrz.birth_date, mrz.expiry_date, mrz.sex, mrz.nationality) == ("740812", "120415", Sex.FEMALE, "UTO")
    assert (mrz.primary_identifier, mrz.secondary_identifier) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.bac_seed_input == "D231458907" + "7408122" + "1204159"


def test_td1_long_document_number_uses_overflow() -> None:
    mrz = compose_mrz(
        format=MrzFormat.TD1,
        document_code="I",
        issuing_state="UTO",
        document_number="D23145890734",
        nationality="UTO",
        birth_date="740812",
        sex=Sex.MALE,
        expiry_date="120415",
        primary_identifier="ERIKSSON",
        secondary_identifier="ANNA",
        optional_data="XY",
    )
    # Reference 3.1: check digit of D23145890734 is 9; the overflow rule puts it after the number.
    assert mrz.lines[0] == "I<UTOD23145890<7349<XY<<<<<<<<"
    assert mrz.document_number == "D23145890734"
    assert mrz.document_number_check == "9"
    assert mrz.optional_data == "XY"
    assert mrz.bac_seed_input.startswith("D231458907349")


def test_whitespace_and_line_breaks_are_tolerated() -> None:
    text = "  \r\n" + TD3[0] + "  \r\n\t" + TD3[1] + "\r\n\n "
    assert parse_mrz(text).lines == TD3


def test_dg1_form_without_breaks() -> None:
    for specimen in (TD1, TD2, TD3):
        assert parse_mrz("".join(specimen)).lines == specimen


@pytest.mark.parametrize(
    "text",
    [
        TD3[0] + "\n" + TD3[1].lower(),
        TD3[0] + "\n" + TD3[1][:-1] + " ",
        TD3[0] + "\n\n" + TD3[1],
        TD3[0] + "\x0b" + TD3[1],
        TD3[0] + "\n" + TD3[1][:-1],
        TD3[0],
        TD2[0] + "\n" + TD3[1],
        "\n".join((*TD1, TD1[2])),
        "",
        "Ä" * 88,
    ],
)
def test_anything_else_is_rejected(text: str) -> None:
    with pytest.raises(RemoteProtocolError) as err:
        parse_mrz(text)
    assert not isinstance(err.value, MrzCheckError)


def _replace(line: str, index: int, char: str) -> str:
    return line[:index] + char + line[index + 1 :]


@pytest.mark.parametrize(
    ("specimen", "line", "index", "expected"),
    [
        (TD3, 1, 9, (MrzCheck.DOCUMENT_NUMBER, MrzCheck.COMPOSITE)),
        (TD3, 1, 19, (MrzCheck.BIRTH_DATE, MrzCheck.COMPOSITE)),
        (TD3, 1, 27, (MrzCheck.EXPIRY_DATE, MrzCheck.COMPOSITE)),
        (TD3, 1, 42, (MrzCheck.OPTIONAL_DATA, MrzCheck.COMPOSITE)),
        (TD3, 1, 43, (MrzCheck.COMPOSITE,)),
        (TD3, 1, 3, (MrzCheck.DOCUMENT_NUMBER, MrzCheck.COMPOSITE)),
        (TD3, 1, 30, (MrzCheck.OPTIONAL_DATA, MrzCheck.COMPOSITE)),
        (TD2, 1, 9, (MrzCheck.DOCUMENT_NUMBER, MrzCheck.COMPOSITE)),
        (TD2, 1, 15, (MrzCheck.BIRTH_DATE, MrzCheck.COMPOSITE)),
        (TD2, 1, 27, (MrzCheck.EXPIRY_DATE, MrzCheck.COMPOSITE)),
        (TD2, 1, 35, (MrzCheck.COMPOSITE,)),
        (TD1, 0, 14, (MrzCheck.DOCUMENT_NUMBER, MrzCheck.COMPOSITE)),
        (TD1, 1, 6, (MrzCheck.BIRTH_DATE, MrzCheck.COMPOSITE)),
        (TD1, 1, 14, (MrzCheck.EXPIRY_DATE, MrzCheck.COMPOSITE)),
        (TD1, 1, 29, (MrzCheck.COMPOSITE,)),
        (TD1, 0, 20, (MrzCheck.COMPOSITE,)),
    ],
)
def test_corrupted_digit_names_the_failed_checks(
    specimen: tuple[str, ...], line: int, index: int, expected: tuple[MrzCheck, ...]
) -> None:
    lines = list(specimen)
    original = lines[line][index]
    # A change of value by 1 always moves a check digit (weights 7, 3, 1 are prime to 10).
    lines[line] = _replace(lines[line], index, "5" if original not in "45" else "1")
    with pytest.raises(MrzCheckError) as err:
        parse_mrz("\n".join(lines))
    assert err.value.failed == expected
    assert isinstance(err.value, RemoteProtocolError)


def test_errors_and_repr_carry_no_personal_data() -> None:
    lines = list(TD3)
    lines[1] = _replace(lines[1], 9, "0")
    with pytest.raises(MrzCheckError) as err:
        parse_mrz("\n".join(lines))
    assert str(err.value) == "check digit of the document number, the composite check is wrong"
    text = repr(parse_mrz("\n".join(TD3)))
    for secret in ("L898902C3", "ERIKSSON", "ANNA", "740812", "ZE184226B"):
        assert secret not in text


def test_filler_check_digit_for_empty_personal_number() -> None:
    line2 = "L898902C36UTO7408122F1204159" + "<" * 14 + "<"
    line2 += check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    assert parse_mrz(TD3[0] + "\n" + line2).optional_data == ""


def test_mrz_validates_its_shape() -> None:
    good = parse_mrz("\n".join(TD2))
    fields = {f: getattr(good, f) for f in Mrz.__dataclass_fields__}
    with pytest.raises(LocalProtocolError):
        Mrz(**{**fields, "lines": TD3})
    with pytest.raises(LocalProtocolError):
        Mrz(**{**fields, "optional_data_2": "X"})


upper = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
alnum = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=9)
dates = st.text(alphabet="0123456789", min_size=6, max_size=6)


@FAST
@given(
    fmt=st.sampled_from(list(MrzFormat)),
    number=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=9),
    birth=dates,
    expiry=dates,
    sex=st.sampled_from(list(Sex)),
    surname=upper,
    given_names=st.lists(upper, max_size=2).map(" ".join),
    optional=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=7),
)
def test_compose_then_parse_round_trips(
    *,
    fmt: MrzFormat,
    number: str,
    birth: str,
    expiry: str,
    sex: Sex,
    surname: str,
    given_names: str,
    optional: str,
) -> None:
    mrz = compose_mrz(
        format=fmt,
        document_code="P" if fmt is MrzFormat.TD3 else "ID",
        issuing_state="CHN",
        document_number=number,
        nationality="D",
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        primary_identifier=surname,
        secondary_identifier=given_names,
        optional_data=optional,
    )
    again = parse_mrz("\r\n".join(mrz.lines))
    assert again == mrz
    assert (again.document_number, again.birth_date, again.expiry_date, again.sex) == (number, birth, expiry, sex)
    assert (again.primary_identifier, again.secondary_identifier) == (surname, given_names)
    assert again.optional_data == optional
    assert again.nationality == "D"
    assert len(again.bac_seed_input) == 24
    # Any change by 1 of a birth-date digit is caught by its check digit.
    line, start = (1, 0) if fmt is MrzFormat.TD1 else (1, 13)
    lines = list(mrz.lines)
    digit = lines[line][start]
    lines[line] = _replace(lines[line], start, str((int(digit) + 1) % 10))
    with pytest.raises(MrzCheckError) as err:
        parse_mrz("\n".join(lines))
    assert MrzCheck.BIRTH_DATE in err.value.failed
