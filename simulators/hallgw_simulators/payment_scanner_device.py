"""A simulated payment-code scanner on a real serial transport, with faults on command.

:class:`PaymentScannerDevice` is the serial barcode scanner of a
pre-acceptance desk: the applicant holds up their phone with a WeChat Pay,
Alipay or UnionPay payment code and the scanner sends what it read, framed
as :mod:`hallgw_protocols.payment_scanner` describes (``[STX] prefix code
suffix [ETX] terminator``; CR by default), at the line rate: 9600 baud by
default, so an 18-digit code with CR takes about 20 ms; ``baud=0`` writes at
once. It only sends: whatever the host writes is read and dropped.

A scan (:meth:`PaymentScannerDevice.scan`, or the ``scan`` operation of the
control protocol) takes either code text or a code kind: ``wechat``,
``alipay``, ``unionpay`` or ``invalid`` (digits shaped like a payment code
that no scheme claims). Codes of a kind come from the device's seeded
stream (:meth:`PaymentScannerModel.generate`), so the same seed and the same
operations give the same codes. They look valid and are issued by no one.

Faults (see :data:`FAULTS`), applied through :meth:`PaymentScannerDevice.apply_fault`:

- ``partial`` [on|off]: a scan sends the code without its ETX and line end;
- ``garbage`` N: N noise bytes (never printable ASCII, NUL, STX, ETX or a
  line end) and a line end go out before the next scan, so the host sees one
  bad line and then the code;
- ``silence`` on|off: a scan sends nothing;
- ``corrupt`` N: the next N scans get one byte changed (anywhere in the frame);
- ``delay`` MS, ``unplug``, ``replug``, ``clear``: as on every serial device.

A code is payment data: it is never logged, never in :meth:`describe`, and
never in an error message; the model remembers only the kind of the last scan.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from hallgw_protocols import LocalProtocolError
from hallgw_protocols.payment_scanner import (
    MAX_LINE,
    SCHEME_RULES,
    TERMINATORS,
    Framing,
    PaymentScheme,
    Terminator,
    classify,
    encode_scan,
)
from hallgw_simulators.faults import FaultArg, FaultError, switch_arg
from hallgw_simulators.links import Endpoint, Link
from hallgw_simulators.serial_device import SerialDevice

__all__ = [
    "CODE_KINDS",
    "DEFAULT_BAUD",
    "FAULTS",
    "KIND",
    "PaymentScannerDevice",
    "PaymentScannerModel",
    "ScannerFaults",
]

KIND: Final = "payment_scanner"
DEFAULT_BAUD: Final = 9600
CODE_KINDS: Final = {
    "wechat": PaymentScheme.WECHAT_PAY,
    "alipay": PaymentScheme.ALIPAY,
    "unionpay": PaymentScheme.UNIONPAY,
    "invalid": PaymentScheme.UNKNOWN,
}
"""Names a scan takes instead of code text, and the scheme of the code it makes."""
_RULES: Final = {rule.scheme: rule for rule in SCHEME_RULES}
_INVALID_STARTS: Final = tuple(f"{n}" for n in range(90, 100))
"""First digits no scheme uses: an ``invalid`` code is otherwise shaped like a WeChat Pay one."""
_FRAME_BYTES: Final = frozenset(b"\x00\x02\x03\r\n")


@dataclasses.dataclass(slots=True)
class ScannerFaults:
    """Faults on what the scanner reads (the wire faults are the base's)."""

    partial: bool = False


class PaymentScannerModel:
    """What the scanner is: its framing, its code stream and its faults (never a code it read)."""

    def __init__(self, framing: Framing, *, stx_etx: bool, rng: random.Random) -> None:
        self.framing = framing
        self.stx_etx = stx_etx
        self.faults = ScannerFaults()
        self.last_kind: str | None = None
        """``wechat`` ... ``invalid``, or ``text`` for code given as text; never the code."""
        self.scans = 0
        self._rng = rng

    def generate(self, kind: str) -> str:
        """A fresh code of ``kind`` (see :data:`CODE_KINDS`) from the seeded stream."""
        scheme = CODE_KINDS.get(kind)
        if scheme is None:
            raise FaultError(f"a code kind is one of {', '.join(CODE_KINDS)}, got {kind!r}")
        if scheme is PaymentScheme.UNKNOWN:
            start, length = self._rng.choice(_INVALID_STARTS), 18
        else:
            rule = _RULES[scheme]
            start, length = self._rng.choice(sorted(rule.starts)), self._rng.choice(rule.lengths)
        code = start + "".join(self._rng.choice("0123456789") for _ in range(length - len(start)))
        assert classify(code) is scheme  # noqa: S101 - the generator follows the rule table
        return code

    def code_for(self, code_or_kind: str) -> str:
        """The code a scan sends: a fresh one for a kind name, else the text itself, checked."""
        if code_or_kind in CODE_KINDS:
            self.last_kind = code_or_kind
            return self.generate(code_or_kind)
        room = MAX_LINE - len(self.framing.prefix) - len(self.framing.suffix)
        try:
            encode_scan(code_or_kind, framing=self.framing)
        except LocalProtocolError:
            # Never the text itself in the message: it may be a real code.
            raise FaultError(
                f"scan takes a code kind ({', '.join(CODE_KINDS)}) or code text in printable ASCII"
            ) from None
        if len(code_or_kind) > room:
            raise FaultError(f"scan takes code text of at most {room} characters with this prefix and suffix")
        self.last_kind = "text"
        return code_or_kind

    def describe(self) -> dict[str, Any]:
        return {
            "prefix": self.framing.prefix,
            "suffix": self.framing.suffix,
            "terminator": self.framing.terminator,
            "stx_etx": self.stx_etx,
            "last_kind": self.last_kind,
            "scans": self.scans,
        }


class PaymentScannerDevice(SerialDevice):
    """One simulated payment-code scanner: the code stream, the framing, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    # Noise is never valid in a line and never ends one: the host sees one bad line, then the code.
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if not 0x20 <= b < 0x7F and b not in _FRAME_BYTES)
    HEADER_SIZE: ClassVar[int] = 0  # corruption may hit any byte of the frame

    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        endpoint: Endpoint,
        baud: int = DEFAULT_BAUD,
        prefix: str = "",
        suffix: str = "",
        terminator: Terminator = "cr",
        stx_etx: bool = False,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(device_id=device_id, seed=seed, endpoint=endpoint, baud=baud, station=station, name=name)
        if terminator not in TERMINATORS or terminator == "any":
            raise ValueError(f"a scanner ends its lines with cr, lf or crlf, got {terminator!r}")
        try:
            framing = Framing(prefix=prefix, suffix=suffix, terminator=terminator)
        except LocalProtocolError as err:
            raise ValueError(str(err)) from None
        codes = random.Random(f"hallsim/{seed}/{device_id}/codes")  # noqa: S311 - test codes, not secrets
        self.model = PaymentScannerModel(framing, stx_etx=stx_etx, rng=codes)
        self._link: Link | None = None
        self.bytes_in = 0

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this scanner (9600 baud when pacing is off)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    # -- the code --------------------------------------------------------------------
    async def scan(self, code: str) -> bool:
        """Read ``code`` (code text, or a kind from :data:`CODE_KINDS`) and send it framed.

        Returns whether anything was sent: False when silenced or when no host
        is connected (a TCP scanner with nobody attached loses the read).
        """
        text = self.model.code_for(code)
        self.model.scans += 1
        if self._link is None and self.endpoint.plugged:
            # A link being plugged in right now gets its serving task started first.
            await asyncio.sleep(0)
        if self.wire.silence or self._link is None:
            return False
        model = self.model
        frames: list[bytes] = []
        if self.wire.garbage:
            frames.append(self._noise(self.wire.garbage) + model.framing.line_end)
            self.wire.garbage = 0
        frames.append(
            encode_scan(text, framing=model.framing, stx_etx=model.stx_etx, terminated=not model.faults.partial)
        )
        await self._write(self._link, frames)
        return True

    # -- faults ----------------------------------------------------------------------
    async def _scan(self, name: str, args: Sequence[FaultArg]) -> None:
        if len(args) != 1 or not isinstance(args[0], str | int) or isinstance(args[0], bool):
            raise FaultError(f"{name} takes one code kind ({', '.join(CODE_KINDS)}) or code text")
        await self.scan(str(args[0]))

    async def _partial(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.partial = switch_arg(name, args, default=True)

    def _clear_device_faults(self) -> None:
        self.model.faults = ScannerFaults()

    # -- the wire --------------------------------------------------------------------
    async def _serve(self, link: Link) -> None:
        # The scanner only sends; what the host writes is read and dropped.
        self._link = link
        try:
            while data := await link.read():
                self.bytes_in += len(data)
        finally:
            if self._link is link:
                self._link = None


PaymentScannerDevice.FAULT_HANDLERS = {
    "scan": PaymentScannerDevice._scan,
    "partial": PaymentScannerDevice._partial,
    "corrupt": PaymentScannerDevice._corrupt,
    "garbage": PaymentScannerDevice._garbage,
    "silence": PaymentScannerDevice._silence,
    "delay": PaymentScannerDevice._delay,
    "unplug": PaymentScannerDevice._unplug,
    "replug": PaymentScannerDevice._replug,
    "clear": PaymentScannerDevice._clear,
}

FAULTS: Final = tuple(PaymentScannerDevice.FAULT_HANDLERS)
"""Operation and fault names :meth:`PaymentScannerDevice.apply_fault` accepts."""
