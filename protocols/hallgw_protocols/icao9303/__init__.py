"""ICAO Doc 9303 travel documents: MRZ, Basic Access Control, secure messaging, LDS files.

Pure codecs (reference/protocols.md section 3): :mod:`.mrz` parses and checks
machine readable zones.
"""

from hallgw_protocols.icao9303.mrz import (
    Mrz,
    MrzCheck,
    MrzCheckError,
    MrzFormat,
    Sex,
    check_digit,
    compose_mrz,
    parse_mrz,
)

__all__ = [
    "Mrz",
    "MrzCheck",
    "MrzCheckError",
    "MrzFormat",
    "Sex",
    "check_digit",
    "compose_mrz",
    "parse_mrz",
]
