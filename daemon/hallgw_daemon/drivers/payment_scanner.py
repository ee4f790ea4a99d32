"""The payment-code scanner: a serial barcode scanner that reads the payment code on an applicant's phone.

Theory of operation
-------------------
The scanner talks only when a code is held under it, so the driver just
listens: a task reads the link and feeds the line codec
(:mod:`hallgw_protocols.payment_scanner`), set up with the framing of the
device's config (``scanner``: prefix, suffix, terminator; the defaults when
absent), which turns bytes into scanned codes or scan errors; a timer lets it
report a line that stopped part way. Each code is classified at once
(:func:`~hallgw_protocols.payment_scanner.classify`) and kept, with the time
it arrived, until a request takes it.

:meth:`PaymentScannerDriver.take_code` gives a request the first scan made at
or after a moment it names, waiting until its deadline. Each code is taken
once. A code no scheme claims is still handed out, as scheme UNKNOWN: the
caller (the payment back end) decides. A scan that failed framing (cut short,
noise, a prefix or line end the config does not expect) is not: the
applicant is asked to scan again (progress ``SCAN_AGAIN``) and the wait goes
on until the deadline, which ends in NO_PAYMENT_CODE.

A payment code is payment data. It lives in memory only while it may still
be taken: scans older than ``freshness`` seconds are forgotten (the reader
task checks every ``EXPIRE_TICK`` of :mod:`~hallgw_daemon.drivers.scanning` while any are kept), a taken scan is
dropped at once, and a detach clears them all. It never reaches a log line,
a trace (only "payment code scan (18 chars, WECHAT_PAY)", marked masked), an
exception or an error message (the codec's messages never quote a line).

The scanner has no query command: it is healthy while its link is open, and
offline at once when the link goes (unplugged, converter gone); a request
waiting then fails with LINK_LOST.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import ClassVar

from hallgw_daemon.config import ScannerOptions
from hallgw_daemon.core.errors import LinkLostError, NoPaymentCodeError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Direction, DriverContext, TraceRecord, register_driver
from hallgw_daemon.drivers.scanning import ScanningDriver
from hallgw_daemon.logging import get_logger
from hallgw_protocols.payment_scanner import CodeScan, Framing, PaymentCode, ScanError, ScanLineCollector

log = get_logger(__name__)


ProgressFn = Callable[[str, str], None]


def framing_of(options: ScannerOptions | None) -> Framing:
    """The codec's framing for a device's ``scanner`` config (the defaults when there is none)."""
    if options is None:
        return Framing()
    return Framing(prefix=options.prefix, suffix=options.suffix, terminator=options.terminator)


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class _Scan:
    time: float
    code: PaymentCode | None
    error: str = ""

    def __repr__(self) -> str:
        return f"_Scan({self.code!r})" if self.code is not None else "_Scan(error)"


@register_driver
class PaymentScannerDriver(ScanningDriver[_Scan]):
    """A send-only serial payment-code scanner (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.PAYMENT_SCANNER
    what: ClassVar[str] = "payment scanner"
    freshness: ClassVar[float] = 5.0
    """Seconds a scan stays usable by a request that starts after it; then it is forgotten."""

    def __init__(self, ctx: DriverContext) -> None:
        self.framing = framing_of(ctx.scanner)
        super().__init__(ctx)

    def _new_codec(self) -> ScanLineCollector:
        return ScanLineCollector(self.framing)

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        await self.probe(timeout=timeout)
        return {"terminator": self.framing.terminator}

    def _scan_of(self, event: object, now: float) -> _Scan:
        if isinstance(event, CodeScan):
            scan = _Scan(now, PaymentCode.of(event.text))
        else:
            assert isinstance(event, ScanError)  # noqa: S101 - the codec's only other event
            # The codec's messages never quote the line: safe to log.
            log.info("payment scan failed", device_id=self.ctx.device_id, error=event.message)
            scan = _Scan(now, None, event.message)
        self._trace(scan)
        return scan

    def _trace(self, scan: _Scan) -> None:
        if not self.ctx.taps:
            return
        if scan.code is not None:
            rec = TraceRecord(
                direction=Direction.FROM_DEVICE,
                summary=f"payment code scan ({scan.code.summary})",
                masked=True,
                length=len(scan.code.code),
            )
        else:
            rec = TraceRecord(direction=Direction.FROM_DEVICE, summary="payment scan error", error=scan.error)
        for tap in tuple(self.ctx.taps):
            tap(rec)

    async def take_code(self, *, since: float, until: float, progress: ProgressFn) -> PaymentCode:
        """The first code scanned at or after ``since`` (loop time), waiting until ``until`` for one.

        Failed scans on the way are reported as ``SCAN_AGAIN`` and skipped.
        Raises NoPaymentCodeError at the deadline and LinkLostError when the
        scanner goes away.
        """
        loop = asyncio.get_running_loop()
        progress("SHOW_PAYMENT_CODE", "show your payment code to the scanner")
        while True:
            self._forget_old(loop.time())
            while self._scans and self._scans[0].time < since:
                self._scans.popleft()
            while self._scans:
                scan = self._scans.popleft()
                if scan.code is not None:
                    log.info("payment code read", device_id=self.ctx.device_id, scan=scan.code.summary)
                    progress("PAYMENT_CODE_READ", "payment code read")
                    return scan.code
                progress("SCAN_AGAIN", "scan the code again")
            if self._closed is None or self._closed.done():
                raise LinkLostError("the payment scanner went away", device_id=self.ctx.device_id)
            remaining = until - loop.time()
            if remaining <= 0:
                raise NoPaymentCodeError(
                    "no payment code was scanned in time: show the code to the scanner and try again",
                    device_id=self.ctx.device_id,
                )
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
