"""What every driver of an OpenCV camera shares: the link is a CameraSource, healthy while frames come.

The photo camera and the desk's document camera differ only in what they do
with frames. Attaching, identifying (the source, without a password, and the
frame size), probing (gone or not), watching for the camera to go and
detaching are the same, and live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from hallgw_daemon.core.errors import InternalError, LinkLostError
from hallgw_daemon.drivers.base import Driver, DriverContext
from hallgw_daemon.transports import CameraSource, Transport


class CameraSourceDriver(Driver):
    """The lifecycle of a camera-backed driver; subclasses add their operation (and their ``kind``)."""

    what: ClassVar[str] = "camera"
    """How messages name the device ("camera", "document camera")."""

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._camera: CameraSource | None = None

    @property
    def camera(self) -> CameraSource:
        if self._camera is None:
            raise LinkLostError(f"the {self.what} is not connected", device_id=self.ctx.device_id)
        return self._camera

    def attach(self, transport: Transport) -> None:
        if not isinstance(transport, CameraSource):
            raise InternalError(f"device {self.ctx.device_id}: a {self.what} driver got {type(transport).__name__}")
        self._camera = transport

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        await self.probe(timeout=timeout)
        size = self.camera.size
        return {"source": self.camera.spec.display(), "frame_size": f"{size[0]}x{size[1]}" if size else "?"}

    async def probe(self, *, timeout: float) -> None:
        gone = self.camera.gone
        if gone is not None:
            raise LinkLostError(f"the {self.what} is gone: {gone}", device_id=self.ctx.device_id)

    async def wait_closed(self) -> str:
        return await self.camera.wait_gone()

    async def detach(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            await camera.close()
