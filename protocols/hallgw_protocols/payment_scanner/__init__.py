"""Serial barcode scanners that read payment codes: lines of ASCII in, classified codes out.

See :mod:`.lines` for the wire convention and the theory of operation, and
:mod:`.codes` for the numbering rule that tells WeChat Pay, Alipay and
UnionPay codes apart (with its sources). :class:`ScanLineCollector` is the
host-side codec (bytes and arrival times in, :class:`CodeScan` or
:class:`ScanError` out); :func:`encode_scan` is the scanner's side, used by
the simulator. A code is payment data: no repr, str or error message here
ever shows one.
"""

from hallgw_protocols.payment_scanner.codes import (
    SCHEME_RULES,
    PaymentCode,
    PaymentScheme,
    SchemeRule,
    classify,
)
from hallgw_protocols.payment_scanner.lines import (
    CR,
    DEFAULT_TIMEOUT,
    ETX,
    LF,
    MAX_AFFIX,
    MAX_LINE,
    STX,
    TERMINATORS,
    CodeScan,
    Framing,
    ScanError,
    ScanEvent,
    ScanLineCollector,
    Terminator,
    encode_scan,
)

__all__ = [
    "CR",
    "DEFAULT_TIMEOUT",
    "ETX",
    "LF",
    "MAX_AFFIX",
    "MAX_LINE",
    "SCHEME_RULES",
    "STX",
    "TERMINATORS",
    "CodeScan",
    "Framing",
    "PaymentCode",
    "PaymentScheme",
    "ScanError",
    "ScanEvent",
    "ScanLineCollector",
    "SchemeRule",
    "Terminator",
    "classify",
    "encode_scan",
]
