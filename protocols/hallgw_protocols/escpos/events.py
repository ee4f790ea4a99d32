"""What a printer makes of the bytes it receives: the events of :class:`~.parser.EscPosParser`.

Each event is a frozen, slotted, keyword-only dataclass; :meth:`to_bytes`
gives the command again, so ``parse(render(x))`` can be checked both ways.
"""

from __future__ import annotations

import dataclasses

from hallgw_protocols._common import LocalProtocolError
from hallgw_protocols.escpos import commands
from hallgw_protocols.escpos.commands import Alignment, ErrorCorrection, PrintMode, QrModel
from hallgw_protocols.escpos.status import StatusKind


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Init:
    """``ESC @``."""

    def to_bytes(self) -> bytes:
        return commands.INIT


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Align:
    """``ESC a n``."""

    alignment: Alignment

    def to_bytes(self) -> bytes:
        return commands.align(self.alignment)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Mode:
    """``ESC ! n``."""

    mode: PrintMode

    def to_bytes(self) -> bytes:
        return commands.print_mode(self.mode)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Size:
    """``GS ! n``: character width and height multipliers."""

    width: int = 1
    height: int = 1

    def __post_init__(self) -> None:
        commands.character_size(self.width, self.height)  # validates

    def to_bytes(self) -> bytes:
        return commands.character_size(self.width, self.height)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ChineseMode:
    """``FS &`` (``enabled``) or ``FS .``."""

    enabled: bool

    def to_bytes(self) -> bytes:
        return commands.CHINESE_ON if self.enabled else commands.CHINESE_OFF


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Text:
    """A run of printable text, decoded; ``chinese`` when it came in Chinese mode (GB18030)."""

    text: str
    chinese: bool = False

    def __post_init__(self) -> None:
        if not self.text:
            raise LocalProtocolError("a text run is never empty")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LineFeed:
    """``LF``: print the line and start the next."""

    def to_bytes(self) -> bytes:
        return b"\n"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """``ESC d n``: print and feed ``lines`` lines."""

    lines: int

    def to_bytes(self) -> bytes:
        return commands.feed_lines(self.lines)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Cut:
    """``GS V``: ``feed`` is None for an immediate cut, else the extra feed before it."""

    partial: bool = False
    feed: int | None = None

    def to_bytes(self) -> bytes:
        return commands.cut(partial=self.partial, feed=self.feed)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Qr:
    """A QR code printed (function 181), with the data stored and the settings in force."""

    data: bytes
    size: int = 3
    error_correction: ErrorCorrection = ErrorCorrection.L
    model: QrModel = QrModel.MODEL_2

    @property
    def text(self) -> str:
        """The data as text (UTF-8, undecodable bytes replaced)."""
        return self.data.decode("utf-8", errors="replace")

    def to_bytes(self) -> bytes:
        return commands.qr_code(self.data, size=self.size, error_correction=self.error_correction, model=self.model)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StatusRequest:
    """``DLE EOT n``: the host asks for one status byte."""

    kind: StatusKind

    def to_bytes(self) -> bytes:
        return commands.status_request(self.kind)


Event = Init | Align | Mode | Size | ChineseMode | Text | LineFeed | Feed | Cut | Qr | StatusRequest
"""Everything :class:`~.parser.EscPosParser` emits."""
