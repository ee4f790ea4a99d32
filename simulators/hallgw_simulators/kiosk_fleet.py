"""Hundreds of kiosks in one process: started and stopped concurrently, a bounded number at a time.

Each kiosk keeps its own MQTT connection (as real kiosks do); the fleet only
paces the connects and disconnects so that a hall of 1,000 kiosks comes up in
seconds without a thundering herd on the broker, and checks first that the
broker is there at all, so a wrong address is one clear error instead of a
thousand reconnect loops.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, Final

from hallgw_simulators.kiosk_device import CONNECT_TIMEOUT_S, KioskDevice

DEFAULT_CONCURRENCY: Final = 64
"""Kiosks connecting (or disconnecting) at the same time."""
START_TIMEOUT_S: Final = 60.0


class FleetError(RuntimeError):
    """The fleet could not start: the broker is unreachable, or kiosks did not come online in time."""


class KioskFleet:
    """The kiosks of a hall."""

    def __init__(
        self,
        kiosks: Sequence[KioskDevice],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        start_timeout: float = START_TIMEOUT_S,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.kiosks: dict[str, KioskDevice] = {k.kiosk_id: k for k in kiosks}
        if len(self.kiosks) != len(kiosks):
            raise ValueError("two kiosks share an id")
        self.concurrency = concurrency
        self.start_timeout = start_timeout
        self._started: list[KioskDevice] = []

    def __len__(self) -> int:
        return len(self.kiosks)

    def __iter__(self) -> Iterator[KioskDevice]:
        return iter(self.kiosks.values())

    def __contains__(self, kiosk_id: object) -> bool:
        return kiosk_id in self.kiosks

    def __getitem__(self, kiosk_id: str) -> KioskDevice:
        return self.kiosks[kiosk_id]

    async def check_broker(self) -> None:
        """FleetError unless the kiosks' broker accepts a TCP connection."""
        addresses = {(k.broker_host, k.broker_port) for k in self}
        for host, port in sorted(addresses):
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    _, writer = await asyncio.open_connection(host, port)
            except (OSError, TimeoutError) as err:
                raise FleetError(f"cannot reach the MQTT broker at mqtt://{host}:{port}: {err}") from None
            writer.close()
            await writer.wait_closed()

    async def start(self) -> None:
        """Start every kiosk and wait until each is online; stop the started ones on failure."""
        if not self.kiosks:
            return
        await self.check_broker()

        async def start_one(kiosk: KioskDevice) -> None:
            await kiosk.start()
            self._started.append(kiosk)
            await kiosk.wait_online(self.start_timeout)

        try:
            async with asyncio.timeout(self.start_timeout):
                await self._each(start_one, list(self))
        except BaseException as err:
            await self.stop()
            if isinstance(err, TimeoutError):
                offline = [k.kiosk_id for k in self if not k.connected]
                raise FleetError(
                    f"{len(offline)} of {len(self)} kiosks were not online within {self.start_timeout} s "
                    f"(first: {', '.join(offline[:5])})"
                ) from None
            raise

    async def stop(self) -> None:
        """Stop every started kiosk cleanly (each publishes ``offline``, ``shutdown``)."""
        started, self._started = self._started, []
        await self._each(lambda k: k.stop(), started)

    async def _each(self, action: Callable[[KioskDevice], Awaitable[None]], kiosks: list[KioskDevice]) -> None:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(kiosk: KioskDevice) -> None:
            async with gate:
                await action(kiosk)

        await asyncio.gather(*(one(k) for k in kiosks))

    def summary(self) -> dict[str, Any]:
        """Counts over the fleet: kiosks per kind, connected, and the sums of every kiosk's counters."""
        per_kind = collections.Counter(k.kiosk_kind.value for k in self)
        totals: collections.Counter[str] = collections.Counter()
        for kiosk in self:
            totals.update(kiosk.counts)
        return {
            "total": len(self),
            "connected": sum(k.connected for k in self),
            "by_kind": dict(sorted(per_kind.items())),
            "counts": dict(sorted(totals.items())),
        }
