"""ESC/POS command bytes: the builders the ticket is made of, with their sources.

Every builder returns the bytes of one command and refuses values the
command cannot carry (:class:`LocalProtocolError`), so a bad ticket fails
here and not as garbage on paper. Text is the one place where injection could
happen: a window name holding ``ESC`` would become a command, so text
builders refuse control characters.

Sources and confidence
----------------------
[3+]: three or more independent manuals agree; [2]: two; [1] / [single
source]: one; [desk] measured here (reference/desk-notes.md section 3, the
bytes python-escpos 3.1 writes).

- ``ESC @`` ``1b 40`` initialise [3+]: ESCPOS Command Manual (fjmduran/images),
  python-escpos ``HW_INIT``, [desk].
- ``ESC a n`` ``1b 61 n`` alignment, n = 0 left, 1 centre, 2 right (48..50
  accepted too) [2]: python-escpos ``TXT_ALIGN_*``, ESCPOS Command Manual.
- ``ESC ! n`` ``1b 21 n`` print mode: bit 0 font B, bit 3 emphasised, bit 4
  double height, bit 5 double width, bit 7 underline [3+]: Woosim Porti-S,
  Citizen PPU-231II, Matrix T5 manuals.
- ``GS ! n`` ``1d 21 n`` character size: bits 0-3 height - 1, bits 4-7
  width - 1 (1..8 each) [2]: Birch BP-002, Matrix T5 manuals.
- ``FS &`` ``1c 26`` enter Chinese character mode, ``FS .`` ``1c 2e`` leave
  it [3+]: SPRT SP series, SPRT POS76-II, Birch BP-002, SurePrint SP91, HCC
  POS80B, Microcom 814M manuals. In Chinese mode a byte 0x81..0xFE leads a
  GB code and single bytes 0x20..0x7F print as ASCII [2]: SPRT POS76-II, SP91.
  Printers power up *in* Chinese mode [2]: SP91, HCC POS80B; which is why
  python-escpos gets away with raw GB18030 on some printers and prints
  mojibake on others ([desk]: it sends no ``FS &``). "FS & finishes the
  current line first" [single source]: SPRT POS76-II; so we send ``FS &`` at
  the start of a line and ``FS .`` after its line feed, which is safe either way.
  Only the two-byte GB18030 areas are in the printer's font [single source]:
  SP91 ("GB18030 only supports double bytes 1, 2, 3, 4, 5 area"), so a
  character that GB18030 encodes in four bytes is refused.
- ``GS ( k`` QR code, ``cn`` = 49 (``1d 28 6b pL pH 31 fn ...``) [3+]: Citizen
  CT-S280 and CT-S2000, HPRT TP80K, TP809 and PPTII-A, Metapace T-3 manuals;
  exact bytes [desk]:

  - fn 65 (function 165) model: ``04 00 31 41 n1 00``, n1 = 49 model 1, 50 model 2;
  - fn 67 (167) module size: ``03 00 31 43 n``, n dots. The range is 1..16
    (Citizen, HPRT TP809) or 1..8 (HPRT PPTII-A, Metapace) [conflicting]: we
    allow 1..16 and print at 6, inside both;
  - fn 69 (169) error correction: ``03 00 31 45 n``, n = 48 L, 49 M, 50 Q, 51 H;
  - fn 80 (180) store: ``pL pH 31 50 30 d1..dk``, k = pL + 256 pH - 3, at
    most 7089 (pL + 256 pH <= 7092);
  - fn 81 (181) print the stored symbol: ``03 00 31 51 30``.
- ``ESC d n`` ``1b 64 n`` print and feed n lines [2]: python-escpos
  ``CTL_VT``, [desk] (``cut()`` writes ``1b 64 06`` first).
- ``GS V m`` ``1d 56 m``: m = 0/48 full cut, 1/49 partial cut; ``GS V m n``
  with m = 65 (full) / 66 (partial): feed to the cut position plus n units,
  then cut [3+]: NCR 7168, Citizen CT-S300, Epson TM-T88, SPRT SP-EU58III
  manuals. Only acted on at the beginning of a line [3+].
- ``DLE EOT n`` ``10 04 n`` real-time status: see :mod:`.status`.
"""

from __future__ import annotations

import enum
from typing import Final

from hallgw_protocols._common import LocalProtocolError

ESC: Final = 0x1B
GS: Final = 0x1D
FS: Final = 0x1C
DLE: Final = 0x10
EOT: Final = 0x04
LF: Final = 0x0A

INIT: Final = b"\x1b\x40"
CHINESE_ON: Final = b"\x1c\x26"
CHINESE_OFF: Final = b"\x1c\x2e"
QR_CN: Final = 49
"""``cn`` of the QR code functions of ``GS ( k`` (48 is PDF417)."""
QR_MAX_DATA: Final = 7089
"""Most data bytes one QR store command carries (pL + 256 pH <= 7092)."""
QR_MODULE_SIZES: Final = range(1, 17)
MAX_CHARACTER_SCALE: Final = 8


class Alignment(enum.IntEnum):
    """``ESC a`` values."""

    LEFT = 0
    CENTER = 1
    RIGHT = 2


class PrintMode(enum.IntFlag):
    """``ESC !`` bits."""

    NORMAL = 0
    FONT_B = 0x01
    EMPHASIZED = 0x08
    DOUBLE_HEIGHT = 0x10
    DOUBLE_WIDTH = 0x20
    UNDERLINE = 0x80


class QrModel(enum.IntEnum):
    """QR code model (function 165, ``n1``)."""

    MODEL_1 = 49
    MODEL_2 = 50


class ErrorCorrection(enum.IntEnum):
    """QR code error correction level (function 169): L 7 %, M 15 %, Q 25 %, H 30 % recovery."""

    L = 48
    M = 49
    Q = 50
    H = 51


def _byte(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} out of byte range: {value!r}")
    return value


def initialise() -> bytes:
    """``ESC @``: clear the buffer and reset the print modes."""
    return INIT


def align(alignment: Alignment) -> bytes:
    """``ESC a n``."""
    return bytes([ESC, 0x61, Alignment(alignment)])


def print_mode(mode: PrintMode) -> bytes:
    """``ESC ! n``."""
    return bytes([ESC, 0x21, _byte("print mode", int(mode))])


def character_size(width: int = 1, height: int = 1) -> bytes:
    """``GS ! n``: characters ``width`` x ``height`` times their normal size (1..8 each)."""
    for name, value in (("width", width), ("height", height)):
        if not 1 <= value <= MAX_CHARACTER_SCALE:
            raise LocalProtocolError(f"character {name} must be 1..{MAX_CHARACTER_SCALE}, got {value!r}")
    return bytes([GS, 0x21, (width - 1) << 4 | (height - 1)])


def feed_lines(lines: int) -> bytes:
    """``ESC d n``: print the buffer and feed ``lines`` lines."""
    return bytes([ESC, 0x64, _byte("lines", lines)])


def cut(*, partial: bool = False, feed: int | None = None) -> bytes:
    """``GS V``: cut now (``feed=None``), or feed to the cutter plus ``feed`` units, then cut."""
    if feed is None:
        return bytes([GS, 0x56, 1 if partial else 0])
    return bytes([GS, 0x56, 66 if partial else 65, _byte("feed", feed)])


def status_request(n: int) -> bytes:
    """``DLE EOT n``: ask for one real-time status byte (1 printer, 2 offline cause, 3 error cause, 4 paper)."""
    if not 1 <= n <= 4:
        raise LocalProtocolError(f"DLE EOT n is 1..4, got {n!r}")
    return bytes([DLE, EOT, n])


# -- text ---------------------------------------------------------------------------------


def _check_printable(text: str) -> None:
    for char in text:
        if ord(char) < 0x20 or ord(char) == 0x7F or 0x80 <= ord(char) < 0xA0:
            raise LocalProtocolError(f"text holds control character U+{ord(char):04X}: it would be read as a command")


def is_ascii(text: str) -> bool:
    """Whether ``text`` prints without Chinese mode (7-bit ASCII only)."""
    return all(ord(char) < 0x80 for char in text)


def encode_gb(text: str) -> bytes:
    """``text`` in GB18030, refusing characters outside the printer's two-byte font."""
    out = bytearray()
    for char in text:
        try:
            code = char.encode("gb18030")
        except UnicodeEncodeError:  # pragma: no cover - GB18030 encodes every code point but surrogates
            raise LocalProtocolError(f"U+{ord(char):04X} has no GB18030 code") from None
        if len(code) == 4:
            raise LocalProtocolError(
                f"U+{ord(char):04X} ({char}) needs a four-byte GB18030 code: not in a ticket printer's font"
            )
        out += code
    return bytes(out)


def text_line(text: str) -> bytes:
    """One printed line: ``text`` and a line feed.

    Pure ASCII goes as it is. Anything else goes in Chinese mode:
    ``FS &`` + GB18030 + ``LF`` + ``FS .``; ASCII inside it stays one byte per
    character, so a mixed line like ``受理编号：A023`` is one run.
    """
    _check_printable(text)
    if is_ascii(text):
        return text.encode("ascii") + b"\n"
    return CHINESE_ON + encode_gb(text) + b"\n" + CHINESE_OFF


# -- QR code --------------------------------------------------------------------------------


def _qr_function(fn: int, payload: bytes) -> bytes:
    size = len(payload) + 2  # cn and fn count in pL pH
    return bytes([GS, 0x28, 0x6B, size & 0xFF, size >> 8, QR_CN, fn]) + payload


def qr_code(
    data: bytes | str,
    *,
    size: int = 6,
    error_correction: ErrorCorrection = ErrorCorrection.M,
    model: QrModel = QrModel.MODEL_2,
) -> bytes:
    """A native QR code: model, module size, error correction, store, print (five ``GS ( k`` commands).

    ``data`` as text is encoded in UTF-8: QR readers in phones expect it, and
    the printer stores the bytes as they are.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if not 1 <= len(payload) <= QR_MAX_DATA:
        raise LocalProtocolError(f"QR data must be 1..{QR_MAX_DATA} bytes, got {len(payload)}")
    if size not in QR_MODULE_SIZES:
        raise LocalProtocolError(f"QR module size must be 1..16 dots, got {size!r}")
    return b"".join(
        (
            _qr_function(65, bytes([QrModel(model), 0])),
            _qr_function(67, bytes([size])),
            _qr_function(69, bytes([ErrorCorrection(error_correction)])),
            _qr_function(80, b"\x30" + payload),
            _qr_function(81, b"\x30"),
        )
    )
