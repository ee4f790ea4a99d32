"""PhotoService: compliant document photos from a camera, and the same checks on uploaded images.

A capture runs in the camera's command lane. When the camera's station has a
lighting device, its capture levels are set first (through the lights' own
lane) and its idle levels after, whatever the capture's outcome; lights that
are offline do not stop a capture (the checks say whether the light sufficed)
but are logged. Checking an upload needs no device: it runs off the event
loop, bounded in size.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

from hallgw_api.v1 import photo_pb2, photo_pb2_grpc
from hallgw_daemon.api import convert
from hallgw_daemon.api.interceptors import Ctx
from hallgw_daemon.api.services import call_deadline, check_request_id, requested_wait, resolve, wait_until
from hallgw_daemon.core.errors import GatewayError, InvalidRequestError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.lighting import LightingDriver
from hallgw_daemon.drivers.photo import DEFAULT_HOLD, CameraDriver, PhotoCapture, check_image
from hallgw_daemon.logging import get_logger
from hallgw_daemon.supervisor import DeviceRegistry, ManagedDevice

log = get_logger(__name__)

DEFAULT_WAIT: Final = 30.0
"""Seconds an applicant has to get the photo right when neither the request nor a deadline says."""
MAX_HOLD: Final = 30


class PhotoService(photo_pb2_grpc.PhotoServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Takes and checks document photos."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    def _lights(self, dev: ManagedDevice) -> ManagedDevice | None:
        if dev.station is None:
            return None
        found = [d for d in self.registry.list() if d.station == dev.station and d.kind is DeviceKind.LIGHTING]
        return found[0] if found else None

    async def Capture(
        self, request: photo_pb2.PhotoServiceCaptureRequest, context: Ctx
    ) -> photo_pb2.PhotoServiceCaptureResponse:
        check_request_id(request.request_id)
        dev = resolve(self.registry, request.device, default_kind=DeviceKind.CAMERA)
        if dev.kind is not DeviceKind.CAMERA:
            raise InvalidRequestError(f"device {dev.id} is a {dev.kind.value}, not a camera")
        if request.hold_frames > MAX_HOLD:
            raise InvalidRequestError(f"hold_frames must be between 0 (the default, {DEFAULT_HOLD}) and {MAX_HOLD}")
        hold = request.hold_frames or DEFAULT_HOLD
        deadline = call_deadline(context)
        wait = requested_wait(request, "wait", DEFAULT_WAIT, deadline)
        until = wait_until(wait, deadline)
        progress = dev.progress(request.request_id)
        lights = self._lights(dev)

        async def capture(driver: CameraDriver) -> PhotoCapture:
            lit = lights is not None and await self._switch(lights, on=True, request_id=request.request_id)
            try:
                return await driver.capture(until=until, hold=hold, settle_until=time.monotonic(), progress=progress)
            finally:
                if lit and lights is not None:
                    # Shielded: a caller that hangs up must not leave the studio lit.
                    await asyncio.shield(self._switch(lights, on=False, request_id=request.request_id))

        result = await dev.run_command(
            "CapturePhoto", capture, CameraDriver, request_id=request.request_id, deadline=deadline
        )
        return convert.photo_capture_response(result, device_id=dev.id)

    async def _switch(self, lights: ManagedDevice, *, on: bool, request_id: str) -> bool:
        """Set the capture (``on``) or idle levels; False, logged, when the lights cannot be used."""

        async def switch(driver: LightingDriver) -> None:
            await (driver.light_for_capture() if on else driver.dim())

        try:
            await lights.run_command(
                "LightsOn" if on else "LightsOff", switch, LightingDriver, request_id=request_id, deadline=None
            )
        except GatewayError as err:
            log.warning("studio lights not set", device_id=lights.id, on=on, error=err.message, reason=err.reason)
            return False
        return True

    async def Check(
        self, request: photo_pb2.PhotoServiceCheckRequest, context: Ctx
    ) -> photo_pb2.PhotoServiceCheckResponse:
        if not request.image:
            raise InvalidRequestError("image is empty: send the photo's bytes (JPEG, PNG, ...)")
        result = await asyncio.to_thread(check_image, bytes(request.image), overlay=request.overlay)
        return convert.photo_check_response(result)
