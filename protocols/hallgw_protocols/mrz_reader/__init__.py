"""Desktop OCR MRZ readers on a serial line: lines of ASCII text, grouped into machine readable zones.

See :mod:`.lines` for the theory of operation. :class:`MrzLineCollector` is the
reader-side codec (bytes and arrival times in, :class:`MrzScan` or
:class:`MrzReadError` out); :func:`encode_scan` is the device side, used by
the simulator. Check digits are checked by :func:`hallgw_protocols.icao9303.parse_mrz`.
"""

from hallgw_protocols.mrz_reader.lines import (
    DEFAULT_LINE_GAP,
    ETX,
    FORMAT_BY_WIDTH,
    MAX_LINE,
    MRZ_ALPHABET,
    STX,
    Framing,
    MrzEvent,
    MrzLineCollector,
    MrzReadError,
    MrzScan,
    check_lines,
    encode_lines,
    encode_scan,
)

__all__ = [
    "DEFAULT_LINE_GAP",
    "ETX",
    "FORMAT_BY_WIDTH",
    "MAX_LINE",
    "MRZ_ALPHABET",
    "STX",
    "Framing",
    "MrzEvent",
    "MrzLineCollector",
    "MrzReadError",
    "MrzScan",
    "check_lines",
    "encode_lines",
    "encode_scan",
]
