"""The MRZ reader: an OCR reader that sends the lines of a document's MRZ over a serial line.

Theory of operation
-------------------
The reader talks only when a data page passes under it, so the driver just
listens: a task reads the link and feeds the line codec
(:mod:`hallgw_protocols.mrz_reader`), which turns bytes into whole scans or
read errors; a timer lets it report a read that stopped part way. Each scan is
parsed and checked (:func:`~hallgw_protocols.icao9303.parse_mrz`) at once and
kept, with the time it arrived, until a read takes it.

:meth:`MrzReaderDriver.take_scan` gives a read the first scan made after a
moment it names (a read accepts a scan made up to ``freshness`` seconds before
it started: the clerk often scans the page before the business system asks).
Each scan is taken once. A scan whose check digits fail, or a read the reader
broke off, is handed out the same way, as MRZ_INVALID: the applicant must
scan the page again. Scans older than ``freshness`` are forgotten, so an MRZ
(personal data) does not linger in memory.

The reader has no query command: it is healthy while its link is open, and
offline at once when the link goes (unplugged, converter gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import ClassVar

from hallgw_daemon.core.errors import LinkLostError, MrzInvalidError, NoDocumentError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Direction, TraceRecord, register_driver
from hallgw_daemon.drivers.scanning import ScanningDriver
from hallgw_daemon.logging import get_logger
from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.icao9303 import Mrz, parse_mrz
from hallgw_protocols.mrz_reader import MrzLineCollector, MrzReadError, MrzScan

log = get_logger(__name__)


ProgressFn = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class _Scan:
    time: float
    mrz: Mrz | None
    error: str = ""

    def __repr__(self) -> str:
        return f"_Scan({'ok' if self.mrz else 'error'})"


@register_driver
class MrzReaderDriver(ScanningDriver[_Scan]):
    """A send-only serial MRZ reader (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.MRZ_READER
    what: ClassVar[str] = "MRZ reader"
    freshness: ClassVar[float] = 10.0
    """Seconds a scan stays usable by a read that starts after it (``documents.mrz_freshness``)."""

    def _new_codec(self) -> MrzLineCollector:
        return MrzLineCollector()

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        await self.probe(timeout=timeout)
        return {}

    def _scan_of(self, event: object, now: float) -> _Scan:
        if isinstance(event, MrzScan):
            scan = self._parse(event, now)
        else:
            assert isinstance(event, MrzReadError)  # noqa: S101 - the codec's only other event
            log.info("mrz read failed", device_id=self.ctx.device_id, error=event.message)
            scan = _Scan(now, None, f"the MRZ reader did not read the whole MRZ ({event.message})")
        self._trace(scan)
        return scan

    def _parse(self, event: MrzScan, now: float) -> _Scan:
        try:
            return _Scan(now, parse_mrz(event.text))
        except RemoteProtocolError as err:  # MrzCheckError included: its message names checks, not values
            log.info("mrz scan rejected", device_id=self.ctx.device_id, error=str(err))
            return _Scan(now, None, f"the scanned MRZ is not valid: {err}")

    def _trace(self, scan: _Scan) -> None:
        if self.ctx.taps:
            summary = "MRZ scan" if scan.mrz is not None else f"MRZ read error: {scan.error}"
            rec = TraceRecord(direction=Direction.FROM_DEVICE, summary=summary, masked=scan.mrz is not None)
            for tap in tuple(self.ctx.taps):
                tap(rec)

    async def take_scan(self, *, since: float, until: float, progress: ProgressFn) -> Mrz:
        """The first scan made at or after ``since`` (loop time), waiting until ``until`` for one."""
        loop = asyncio.get_running_loop()
        announced = False
        while True:
            self._forget_old(loop.time())
            while self._scans and self._scans[0].time < since:
                self._scans.popleft()
            if self._scans:
                scan = self._scans.popleft()
                if scan.mrz is None:
                    raise MrzInvalidError(f"{scan.error}: scan the data page again", device_id=self.ctx.device_id)
                progress("MRZ_READ", "MRZ read")
                return scan.mrz
            if self._closed is None or self._closed.done():
                raise LinkLostError("the MRZ reader went away", device_id=self.ctx.device_id)
            remaining = until - loop.time()
            if remaining <= 0:
                raise NoDocumentError(
                    "no data page was scanned on the MRZ reader in time", device_id=self.ctx.device_id
                )
            if not announced:
                progress("WAITING_FOR_MRZ", "pass the document's data page through the MRZ reader")
                announced = True
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._arrived.wait()
