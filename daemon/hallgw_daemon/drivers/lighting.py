"""A photo machine's studio lights, behind an Enttec DMX USB Pro interface.

Theory of operation
-------------------
The interface is a serial widget (:mod:`hallgw_daemon.drivers.dmxlink`); the
lamps on its DMX line follow the last levels it was sent. Identifying asks the
widget for its firmware and serial number, then sets the idle levels of the
device's config (``[devices.lighting] idle``: the lights dimmed), so lamps
left on by a crash or a restart go down as soon as the gateway is back.

A capture (:class:`~hallgw_daemon.api.photo_service.PhotoService`) calls
:meth:`LightingDriver.light_for_capture` before its first frame, which sets
the capture levels and waits the configured ``settle`` time for the lamps to
reach them, and :meth:`LightingDriver.dim` after its last. A probe asks for
the widget's parameters (a request the widget answers without stopping its
output), so an unplugged or silent interface goes OFFLINE like any device.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import ClassVar

from hallgw_daemon.config import LightingOptions
from hallgw_daemon.core.errors import InternalError, LinkLostError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Driver, DriverContext, register_driver, stream_of
from hallgw_daemon.drivers.dmxlink import DmxLink
from hallgw_daemon.transports import Transport


@register_driver
class LightingDriver(Driver):
    """Studio lights on a DMX interface (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.LIGHTING

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        if ctx.lighting is None:
            raise InternalError(f"device {ctx.device_id}: a lighting device needs its levels in the config")
        self.options: LightingOptions = ctx.lighting
        self._dmx: DmxLink | None = None
        self.lit = False
        """True between :meth:`light_for_capture` and :meth:`dim`."""

    @property
    def dmx(self) -> DmxLink:
        if self._dmx is None:
            raise LinkLostError("the DMX interface is not connected", device_id=self.ctx.device_id)
        return self._dmx

    def attach(self, transport: Transport) -> None:
        self._dmx = DmxLink(stream_of(transport, self.ctx.device_id), self.ctx)

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        info = await self.dmx.identify(timeout=timeout)
        await self.dim(timeout=timeout)
        lit = sorted(int(c) for c, v in self.options.capture.items() if v)
        return info.identity() | {"capture_channels": ",".join(map(str, lit))}

    async def probe(self, *, timeout: float) -> None:
        await self.dmx.parameters(timeout=timeout)

    async def wait_closed(self) -> str:
        return await self.dmx.wait_closed()

    async def detach(self) -> None:
        dmx, self._dmx = self._dmx, None
        if dmx is not None:
            with contextlib.suppress(Exception):
                await dmx.close()

    async def light_for_capture(self, *, timeout: float = 2.0) -> None:
        """Set the capture levels and wait for the lamps to settle."""
        await self.dmx.send_levels(self.options.capture_levels(), timeout=timeout)
        self.lit = True
        await asyncio.sleep(self.options.settle)

    async def dim(self, *, timeout: float = 2.0) -> None:
        """Set the idle levels (unlisted channels 0)."""
        # Every channel a capture lights is sent (at 0 unless idle names it): a shorter
        # packet would leave the channels past its end at their capture level.
        levels = dict.fromkeys(self.options.capture_levels(), 0) | self.options.idle_levels()
        await self.dmx.send_levels(levels, timeout=timeout)
        self.lit = False
