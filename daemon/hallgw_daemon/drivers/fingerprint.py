"""The fingerprint scanner: AS608 / ZFM / R30x modules on a serial line or USB.

Theory of operation
-------------------
The module speaks the same packets over either transport (:mod:`.as608link`).
Identifying it unlocks it with the configured password (VfyPwd; modules ship
with 0) and reads its system parameters (capacity, security level, packet
size, baud), which :program:`hallctl show` displays; the health probe reads
them again.

A capture (:meth:`FingerprintScannerDriver.capture`) repeats, up to the
allowed attempts:

1. wait for a finger: GetImage every :data:`FINGER_POLL` seconds until the
   module answers OK (``02`` means no finger yet), within the deadline;
2. upload the image (UpImage: 36,864 bytes at 4 bits per pixel); a broken
   upload is asked for once more, the image still being in the module's
   buffer, and otherwise fails the attempt (the applicant is asked to place
   the finger again): a garbled image is never scored;
3. expand it to 8 bits and score it (:mod:`.fingerprint_quality`);
4. keep it when its score reaches the minimum and the scorer has nothing
   specific to ask the applicant to change (:func:`accepted`). Otherwise tell
   the applicant what to change (the hints), wait for the finger to be
   lifted, and try again.

Each attempt waits up to the call's finger wait for the finger; no wait goes
past the call's deadline.

Progress events say what the applicant must do at each step: PLACE_FINGER,
HOLD_STILL, one stage per quality hint (PRESS_HARDER, TOO_DRY, TOO_WET,
PLACE_FLAT_CENTRE, LIFT_AND_RETRY), LIFT_FINGER, PLACE_AGAIN, CAPTURED.
No finger by the deadline is NO_FINGER; attempts that all fall short are
QUALITY_TOO_LOW, carrying the best attempt's score and hints. The image is
returned as an 8-bit grayscale PNG at the module's 500 dpi; it exists only in
memory, on the way to the caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

import cv2
import numpy as np

from hallgw_daemon.core.errors import (
    DeviceProtocolError,
    DeviceTimeoutError,
    GatewayError,
    LinkLostError,
    NoFingerError,
    QualityTooLowError,
    SamFaultError,
)
from hallgw_daemon.core.model import Action, DeviceKind
from hallgw_daemon.drivers.as608link import As608Link
from hallgw_daemon.drivers.base import Driver, DriverContext, register_driver, stream_of
from hallgw_daemon.drivers.fingerprint_quality import Hint, Quality, score
from hallgw_daemon.transports import Transport
from hallgw_protocols.fingerprint.as608 import (
    BAUD_UNIT,
    Acknowledgement,
    Confirmation,
    GetImage,
    GrayImage,
    ReadSystemParameters,
    SystemParameters,
    SystemParametersReport,
    VerifyPassword,
)
from hallgw_protocols.fingerprint.as608.events import AnyAcknowledgement

FINGER_POLL: Final = 0.1
"""How often a waiting capture asks the sensor for a finger (seconds)."""
RESOLUTION_DPI: Final = 500
"""The AS608 sensor's resolution."""
UPLOAD_TRIES: Final = 2
DEFAULT_ATTEMPTS: Final = 3
DEFAULT_MINIMUM: Final = 70

ProgressFn = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Capture:
    """An accepted capture: the PNG and its quality (the image is personal data: never in a repr)."""

    png: bytes
    width: int
    height: int
    resolution_dpi: int
    quality: Quality
    attempt: int

    def __repr__(self) -> str:
        return f"Capture({self.width}x{self.height}, score={self.quality.overall}, attempt={self.attempt})"


def png_with_dpi(image: GrayImage, dpi: int) -> bytes:
    """The image as an 8-bit grayscale PNG with its resolution in a pHYs chunk."""
    pixels = np.frombuffer(image.pixels, dtype=np.uint8).reshape(image.height, image.width)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 array
        raise RuntimeError("PNG encoding failed")
    png = encoded.tobytes()
    per_metre = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
    ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def accepted(quality: Quality, minimum: int) -> bool:
    """Keep a capture that reaches ``minimum`` while the scorer has nothing specific for the applicant to change.

    "Lift and place again" is the scorer's generic hint for a low score; the
    caller's minimum decides that case on its own.
    """
    specific = [h for h in quality.guidance if h is not Hint.LIFT_AND_RETRY]
    return quality.overall >= minimum and not specific


def _pixels(image: GrayImage) -> np.ndarray[tuple[int, int], np.dtype[np.uint8]]:
    return np.frombuffer(image.pixels, dtype=np.uint8).reshape(image.height, image.width)


@register_driver
class FingerprintScannerDriver(Driver):
    """An AS608-family fingerprint module (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.FINGERPRINT_SCANNER
    password: ClassVar[int] = 0

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._link: As608Link | None = None
        self.parameters: SystemParameters | None = None

    @property
    def link(self) -> As608Link:
        if self._link is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return self._link

    def attach(self, transport: Transport) -> None:
        self._link = As608Link(stream_of(transport, self.ctx.device_id), self.ctx)

    async def _checked(self, ack: AnyAcknowledgement, what: str) -> AnyAcknowledgement:
        if not ack.ok:
            text = ack.text if isinstance(ack, Acknowledgement) else ""
            raise DeviceProtocolError(f"{what} failed: {ack.confirmation:02X} {text}", device_id=self.ctx.device_id)
        return ack

    async def _read_parameters(self, timeout: float) -> SystemParameters:
        ack = await self._checked(await self.link.command(ReadSystemParameters(), timeout=timeout), "ReadSysPara")
        if not isinstance(ack, SystemParametersReport):  # pragma: no cover - the codec types an OK answer
            raise DeviceProtocolError("ReadSysPara answered without parameters", device_id=self.ctx.device_id)
        self.parameters = ack.parameters
        return ack.parameters

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        ack = await self.link.command(VerifyPassword(password=type(self).password), timeout=timeout)
        if ack.confirmation == Confirmation.WRONG_PASSWORD:
            raise SamFaultError(
                "the module refused the default password (0): modules with a password set are not supported",
                device_id=self.ctx.device_id,
                action=Action.ENGINEER,
            )
        await self._checked(ack, "VfyPwd")
        params = await self._read_parameters(timeout)
        return {
            "capacity": str(params.library_size),
            "security_level": str(params.security_level),
            "packet_size": str(params.packet_size),
            "baud": str(params.baud_multiplier * BAUD_UNIT),
            "address": f"{params.address:08X}",
            "system_id": f"{params.system_id:04X}",
        }

    async def probe(self, *, timeout: float) -> None:
        await self._read_parameters(timeout)

    async def wait_closed(self) -> str:
        return await self.link.wait_closed()

    async def detach(self) -> None:
        if self._link is not None:
            link, self._link = self._link, None
            await link.close()

    # -- capture -------------------------------------------------------------------
    async def _get_image(self) -> bool:
        """One GenImg: True when a finger was imaged, False when the sensor is empty."""
        ack = await self.link.command(GetImage(), timeout=self.ctx.command_timeout)
        if ack.confirmation == Confirmation.NO_FINGER:
            return False
        await self._checked(ack, "GenImg")
        return True

    async def _wait_finger(self, until: float) -> bool:
        loop = asyncio.get_running_loop()
        while True:
            if await self._get_image():
                return True
            remaining = until - loop.time()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(FINGER_POLL, remaining))

    async def _wait_lifted(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        # The module is polled: there is no event to wait on.
        while loop.time() < until:
            if not await self._get_image():
                return
            await asyncio.sleep(FINGER_POLL)

    async def _upload(self) -> GrayImage:
        packet_size = self.parameters.packet_size if self.parameters is not None else 128
        last: GatewayError | None = None
        for _ in range(UPLOAD_TRIES):
            try:
                ack, image = await self.link.upload_image(packet_size=packet_size, timeout=self.ctx.command_timeout)
            except (DeviceProtocolError, DeviceTimeoutError) as err:
                last = err  # the image is still in the module's buffer: ask again
                continue
            if image is None:
                await self._checked(ack, "UpImage")
                raise DeviceProtocolError("UpImage answered OK without an image", device_id=self.ctx.device_id)
            return image
        assert last is not None  # noqa: S101 - the loop ran at least once
        raise last

    async def capture(
        self, *, min_quality: int, attempts: int, finger_wait: float, deadline: float, progress: ProgressFn
    ) -> Capture:
        """Capture one finger (see the module docstring).

        Each attempt waits up to ``finger_wait`` seconds for the finger (and as
        long again for it to be lifted before the next one); nothing waits past
        ``deadline`` (loop time).
        """
        loop = asyncio.get_running_loop()
        best: tuple[Quality, int] | None = None  # (quality, attempt) of the best refused capture
        failed: GatewayError | None = None  # the last attempt whose image never arrived whole
        for attempt in range(1, attempts + 1):
            if attempt == 1:
                progress("PLACE_FINGER", "place your finger on the scanner")
            else:
                progress("PLACE_AGAIN", "place your finger on the scanner again")
            if not await self._wait_finger(min(loop.time() + finger_wait, deadline)):
                if best is None and failed is None:
                    raise NoFingerError("no finger was placed on the scanner in time", device_id=self.ctx.device_id)
                break
            progress("HOLD_STILL", "hold your finger still")
            try:
                image = await self._upload()
            except (DeviceProtocolError, DeviceTimeoutError) as err:
                failed = err  # this attempt fails; a garbled image is never scored
                progress("LIFT_AND_RETRY", "the image did not arrive whole: lift your finger and place it again")
            else:
                quality = await asyncio.to_thread(score, _pixels(image))
                if accepted(quality, min_quality):
                    png = await asyncio.to_thread(png_with_dpi, image, RESOLUTION_DPI)
                    progress("CAPTURED", "done: you can lift your finger")
                    return Capture(
                        png=png,
                        width=image.width,
                        height=image.height,
                        resolution_dpi=RESOLUTION_DPI,
                        quality=quality,
                        attempt=attempt,
                    )
                if best is None or quality.overall > best[0].overall:
                    best = (quality, attempt)
                for hint in quality.guidance:
                    progress(hint.name, hint.text)
            if attempt < attempts:
                progress("LIFT_FINGER", "lift your finger")
                await self._wait_lifted(min(loop.time() + finger_wait, deadline))
        if best is None:
            assert failed is not None  # noqa: S101 - no finger at all raised NoFingerError above
            raise failed
        quality, attempt = best
        raise QualityTooLowError(
            f"no capture reached quality {min_quality}; the best scored {quality.overall} (attempt {attempt})",
            device_id=self.ctx.device_id,
            details={
                "best_quality": str(quality.overall),
                "best_attempt": str(attempt),
                "hints": ",".join(h.value for h in quality.guidance),
            },
        )
