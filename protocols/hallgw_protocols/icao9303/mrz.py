"""Machine readable zones of ICAO Doc 9303 travel documents (reference/protocols.md 3.1, 3.2).

:func:`parse_mrz` takes the text an MRZ reader sends (or DG1's characters, which
are the same lines without breaks), recognises the layout from the line lengths
(TD1 3 x 30, TD2 2 x 36, TD3 2 x 44), checks every check digit and the
composite, and returns an :class:`Mrz`. :func:`compose_mrz` is the inverse, for
simulators and tests.

The MRZ is personal data: exceptions name the field or check at fault, never its
value, and :class:`Mrz` leaves personal fields out of its ``repr``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

FILLER: Final = "<"
_ALPHABET: Final = re.compile(r"[A-Z0-9<]*")
_LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
_WEIGHTS: Final = (7, 3, 1)


class MrzFormat(enum.Enum):
    """Layout of an MRZ: (number of lines, characters per line)."""

    TD1 = (3, 30)
    TD2 = (2, 36)
    TD3 = (2, 44)

    @property
    def lines(self) -> int:
        return self.value[0]

    @property
    def width(self) -> int:
        return self.value[1]


_BY_SHAPE: Final[dict[tuple[int, int], MrzFormat]] = {f.value: f for f in MrzFormat}
_BY_TOTAL: Final[dict[int, MrzFormat]] = {f.lines * f.width: f for f in MrzFormat}


class MrzCheck(enum.Enum):
    """A check digit of the MRZ; the value is the phrase used in error messages."""

    DOCUMENT_NUMBER = "the document number"
    BIRTH_DATE = "the date of birth"
    EXPIRY_DATE = "the date of expiry"
    OPTIONAL_DATA = "the optional data (personal number)"
    COMPOSITE = "the composite check"


class MrzCheckError(RemoteProtocolError):
    """One or more check digits of the MRZ are wrong: the page should be scanned again.

    ``failed`` lists every check that failed, in MRZ order.
    """

    def __init__(self, failed: tuple[MrzCheck, ...]) -> None:
        names = ", ".join(c.value for c in failed)
        super().__init__(f"check digit of {names} is wrong")
        self.failed = failed


class Sex(enum.Enum):
    """Sex as printed in the MRZ; ``<`` and ``X`` both mean unspecified."""

    MALE = "M"
    FEMALE = "F"
    UNSPECIFIED = "X"

    @classmethod
    def from_mrz(cls, char: str) -> Sex:
        if char == FILLER:
            return cls.UNSPECIFIED
        try:
            return cls(char)
        except ValueError:
            raise RemoteProtocolError("the sex field of the MRZ is not M, F, X or <") from None


def char_value(char: str) -> int:
    """Value of one MRZ character for check digits: digits, A=10 .. Z=35, ``<`` = 0."""
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == FILLER:
        return 0
    raise LocalProtocolError("check digits are defined only over A-Z, 0-9 and <")


def check_digit(field: str) -> str:
    """The check digit (as a character) of ``field``: weights 7, 3, 1 repeated, mod 10."""
    total = sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field))
    return str(total % 10)


def _digit_ok(field: str, digit: str, *, filler_allowed: bool = False) -> bool:
    # An all-filler optional field may carry '<' as its check digit (Doc 9303 Part 4, 4.2.2.2).
    if filler_allowed and digit == FILLER and set(field) <= {FILLER}:
        return True
    return check_digit(field) == digit


def _trim(field: str) -> str:
    return field.rstrip(FILLER)


def _spaces(field: str) -> str:
    return " ".join(part for part in field.split(FILLER) if part)


def _split_name(field: str) -> tuple[str, str]:
    primary, _, secondary = field.partition(FILLER * 2)
    return _spaces(primary), _spaces(secondary)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Mrz:
    """A parsed MRZ whose check digits all verified.

    Text fields are trimmed of ``<`` fillers; names have ``<`` turned into spaces.
    Dates are ``YYMMDD`` as printed: the MRZ does not carry the century, so
    resolving it (birth dates in the past, expiry dates near the present) is the
    caller's job. ``lines`` keeps the raw lines, for comparing with DG1.
    """

    format: MrzFormat
    document_code: str
    issuing_state: str
    lines: tuple[str, ...] = dataclasses.field(repr=False)
    document_number: str = dataclasses.field(repr=False)
    document_number_check: str = dataclasses.field(repr=False)
    nationality: str = dataclasses.field(repr=False)
    birth_date: str = dataclasses.field(repr=False)
    birth_date_check: str = dataclasses.field(repr=False)
    sex: Sex = dataclasses.field(repr=False)
    expiry_date: str = dataclasses.field(repr=False)
    expiry_date_check: str = dataclasses.field(repr=False)
    primary_identifier: str = dataclasses.field(repr=False)
    """The surname(s)."""
    secondary_identifier: str = dataclasses.field(repr=False)
    """The given name(s), space separated."""
    optional_data: str = dataclasses.field(repr=False)
    """TD3: the personal number; TD2: optional data; TD1: line 1 optional data."""
    optional_data_2: str = dataclasses.field(default="", repr=False)
    """TD1 only: line 2 optional data."""

    def __post_init__(self) -> None:
        if len(self.lines) != self.format.lines or any(len(line) != self.format.width for line in self.lines):
            raise LocalProtocolError(f"lines do not have the {self.format.name} shape")
        if any(_ALPHABET.fullmatch(line) is None for line in self.lines):
            raise LocalProtocolError("MRZ lines may hold only A-Z, 0-9 and <")
        for name in ("document_number_check", "birth_date_check", "expiry_date_check"):
            if len(getattr(self, name)) != 1:
                raise LocalProtocolError(f"{name} must be one character")
        if self.format is not MrzFormat.TD1 and self.optional_data_2:
            raise LocalProtocolError("only TD1 has a second optional data field")

    @property
    def data(self) -> str:
        """The lines concatenated without breaks, as DG1 stores them."""
        return "".join(self.lines)

    @property
    def bac_seed_input(self) -> str:
        """The "MRZ information" of BAC: document number, birth date, expiry, each with its check digit.

        The document number is padded with ``<`` to 9 characters. For a TD1 number
        longer than 9 characters the whole number is used with its own check digit
        (Doc 9303 Part 11 9.7.2; the reference did not verify this case).
        """
        number = self.document_number.ljust(9, FILLER)
        return (
            number
            + self.document_number_check
            + self.birth_date
            + self.birth_date_check
            + self.expiry_date
            + self.expiry_date_check
        )


def split_lines(text: str) -> tuple[str, ...]:
    """The MRZ lines of ``text``: surrounding whitespace and CR/LF breaks are tolerated.

    A single line as long as a whole MRZ (DG1 stores the lines without breaks)
    is cut into lines of its format. Anything else that is not A-Z, 0-9 or ``<``
    is rejected.
    """
    lines = [line.strip(" \t") for line in _LINE_BREAK.split(text.strip())]
    if len(lines) == 1 and len(lines[0]) in _BY_TOTAL:
        fmt = _BY_TOTAL[len(lines[0])]
        joined = lines[0]
        lines = [joined[i * fmt.width : (i + 1) * fmt.width] for i in range(fmt.lines)]
    for number, line in enumerate(lines, start=1):
        if _ALPHABET.fullmatch(line) is None:
            position = next(
                i for i, c in enumerate(line, start=1) if not ("A" <= c <= "Z" or "0" <= c <= "9" or c == FILLER)
            )
            raise RemoteProtocolError(
                f"MRZ line {number} has a character other than A-Z, 0-9 or < at position {position}"
            )
    return tuple(lines)


def detect_format(lines: tuple[str, ...]) -> MrzFormat:
    """The layout whose shape ``lines`` have, or RemoteProtocolError."""
    widths = {len(line) for line in lines}
    fmt = _BY_SHAPE.get((len(lines), widths.pop())) if len(widths) == 1 else None
    if fmt is None:
        shape = ", ".join(str(len(line)) for line in lines)
        raise RemoteProtocolError(
            f"MRZ of {len(lines)} lines of {shape} characters is neither TD1 (3x30), TD2 (2x36) nor TD3 (2x44)"
        )
    return fmt


def parse_mrz(text: str) -> Mrz:
    """Parse and check an MRZ; raise :class:`MrzCheckError` naming every check digit that is wrong."""
    lines = split_lines(text)
    fmt = detect_format(lines)
    if fmt is MrzFormat.TD1:
        return _parse_td1(lines)
    return _parse_td2_td3(lines, fmt)


def _raise_failed(failed: list[MrzCheck]) -> None:
    if failed:
        raise MrzCheckError(tuple(failed))


def _parse_td2_td3(lines: tuple[str, ...], fmt: MrzFormat) -> Mrz:
    l1, l2 = lines
    end = fmt.width  # line 2: optional data runs to end - 2 (TD3) or end - 1 (TD2)
    td3 = fmt is MrzFormat.TD3
    optional = l2[28 : end - 2] if td3 else l2[28 : end - 1]
    failed: list[MrzCheck] = []
    if not _digit_ok(l2[0:9], l2[9]):
        failed.append(MrzCheck.DOCUMENT_NUMBER)
    if not _digit_ok(l2[13:19], l2[19]):
        failed.append(MrzCheck.BIRTH_DATE)
    if not _digit_ok(l2[21:27], l2[27]):
        failed.append(MrzCheck.EXPIRY_DATE)
    if td3 and not _digit_ok(optional, l2[end - 2], filler_allowed=True):
        failed.append(MrzCheck.OPTIONAL_DATA)
    composite_input = l2[0:10] + l2[13:20] + l2[21 : end - 1]
    if not _digit_ok(composite_input, l2[end - 1]):
        failed.append(MrzCheck.COMPOSITE)
    _raise_failed(failed)
    surname, given = _split_name(l1[5:])
    return Mrz(
        format=fmt,
        lines=lines,
        document_code=_trim(l1[0:2]),
        issuing_state=_trim(l1[2:5]),
        document_number=_trim(l2[0:9]),
        document_number_check=l2[9],
        nationality=_trim(l2[10:13]),
        birth_date=l2[13:19],
        birth_date_check=l2[19],
        sex=Sex.from_mrz(l2[20]),
        expiry_date=l2[21:27],
        expiry_date_check=l2[27],
        primary_identifier=surname,
        secondary_identifier=given,
        optional_data=_trim(optional),
    )


def _parse_td1(lines: tuple[str, ...]) -> Mrz:
    l1, l2, l3 = lines
    failed: list[MrzCheck] = []
    optional = l1[15:30]
    if l1[14] == FILLER:
        # Long document number: its overflow, then its check digit, lead the optional data.
        overflow = optional.split(FILLER, 1)[0]
        if not overflow:
            raise RemoteProtocolError("the document number overflow of the TD1 MRZ is missing")
        number = l1[5:14] + overflow[:-1]
        number_check = overflow[-1]
        optional = optional[len(overflow) :]
    else:
        number = l1[5:14]
        number_check = l1[14]
    if not _digit_ok(number, number_check):
        failed.append(MrzCheck.DOCUMENT_NUMBER)
    if not _digit_ok(l2[0:6], l2[6]):
        failed.append(MrzCheck.BIRTH_DATE)
    if not _digit_ok(l2[8:14], l2[14]):
        failed.append(MrzCheck.EXPIRY_DATE)
    if not _digit_ok(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]):
        failed.append(MrzCheck.COMPOSITE)
    _raise_failed(failed)
    surname, given = _split_name(l3)
    return Mrz(
        format=MrzFormat.TD1,
        lines=lines,
        document_code=_trim(l1[0:2]),
        issuing_state=_trim(l1[2:5]),
        document_number=_trim(number),
        document_number_check=number_check,
        nationality=_trim(l2[15:18]),
        birth_date=l2[0:6],
        birth_date_check=l2[6],
        sex=Sex.from_mrz(l2[7]),
        expiry_date=l2[8:14],
        expiry_date_check=l2[14],
        primary_identifier=surname,
        secondary_identifier=given,
        optional_data=_trim(optional.lstrip(FILLER)) if l1[14] == FILLER else _trim(optional),
        optional_data_2=_trim(l2[18:29]),
    )


def _field(value: str, width: int, what: str) -> str:
    if _ALPHABET.fullmatch(value) is None or len(value) > width:
        raise LocalProtocolError(f"{what} must be at most {width} characters of A-Z, 0-9 and <")
    return value.ljust(width, FILLER)


def _name_field(primary: str, secondary: str, width: int) -> str:
    name = primary.replace(" ", FILLER)
    if secondary:
        name += FILLER * 2 + secondary.replace(" ", FILLER)
    if len(name) > width:
        # Doc 9303 truncates long names; composing is for simulators and tests, so refuse instead.
        raise LocalProtocolError(f"the name does not fit the {width} characters of the name field")
    return _field(name, width, "the name")


def compose_mrz(
    *,
    format: MrzFormat,
    document_code: str,
    issuing_state: str,
    document_number: str,
    nationality: str,
    birth_date: str,
    sex: Sex,
    expiry_date: str,
    primary_identifier: str,
    secondary_identifier: str,
    optional_data: str = "",
    optional_data_2: str = "",
) -> Mrz:
    """Build the MRZ of a document with every check digit computed (for simulators and tests).

    Document numbers longer than 9 characters are supported for TD1 only (the
    overflow rule); names must fit their field (no truncation).
    """
    for value, width, what in ((birth_date, 6, "the date of birth"), (expiry_date, 6, "the date of expiry")):
        if len(value) != width or not value.isdigit():
            raise LocalProtocolError(f"{what} must be YYMMDD digits")
    code = _field(document_code, 2, "the document code")
    state = _field(issuing_state, 3, "the issuing state")
    nat = _field(nationality, 3, "the nationality")
    sex_char = FILLER if sex is Sex.UNSPECIFIED else sex.value
    dob = birth_date + check_digit(birth_date)
    exp = expiry_date + check_digit(expiry_date)
    if format is MrzFormat.TD1:
        if len(document_number) > 9:
            rest = document_number[9:] + check_digit(_field(document_number, len(document_number), "number"))
            number = _field(document_number[:9], 9, "the document number") + FILLER
            opt1 = _field(rest + FILLER + optional_data, 15, "the optional data")
        else:
            padded = _field(document_number, 9, "the document number")
            number = padded + check_digit(padded)
            opt1 = _field(optional_data, 15, "the optional data")
        l1 = code + state + number + opt1
        l2_head = dob + sex_char + exp + nat + _field(optional_data_2, 11, "the optional data 2")
        composite = check_digit(l1[5:30] + l2_head[0:7] + l2_head[8:15] + l2_head[18:29])
        lines: tuple[str, ...] = (l1, l2_head + composite, _name_field(primary_identifier, secondary_identifier, 30))
    else:
        if optional_data_2:
            raise LocalProtocolError("only TD1 has a second optional data field")
        padded = _field(document_number, 9, "the document number")
        number = padded + check_digit(padded)
        width = format.width
        if format is MrzFormat.TD3:
            opt = _field(optional_data, 14, "the personal number")
            opt += check_digit(opt)
        else:
            opt = _field(optional_data, 7, "the optional data")
        head = number + nat + dob + sex_char + exp + opt
        composite = check_digit(head[0:10] + head[13:20] + head[21:])
        l1 = code + state + _name_field(primary_identifier, secondary_identifier, width - 5)
        lines = (l1, head + composite)
    return parse_mrz("\n".join(lines))
