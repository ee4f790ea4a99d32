"""A simulated Enttec DMX USB Pro widget (the studio lights of a photo machine) on a real serial transport.

Theory of operation
-------------------
:class:`DmxInterfaceDevice` is the widget end of the DMX USB Pro widget API:
the codec of :mod:`hallgw_protocols.dmx` in the device role over an endpoint
of :mod:`hallgw_simulators.links` (a pty or a TCP port), with a model
(:class:`DmxWidgetModel`) of what the widget holds. Each link gets a fresh
codec. Requests are handled in order as they arrive:

- Output Only Send DMX (label 6) is never answered: the universe it carries
  becomes the widget's output, kept as the latest 512 channel levels (a
  shorter universe leaves the channels past its end at 0, as the widget then
  sends a shorter packet) and appended, with the event loop's monotonic time,
  to a bounded history so a test can check what the lights saw and when.
  Only packets with the null start code change the levels; the history
  keeps every start code.
- Get Widget Parameters (label 3) is answered with the firmware version
  (1.44 by default), the output timing and the asked-for number of user
  configuration bytes (zero-filled past what was ever set).
- Set Widget Parameters (label 4) stores the timing and the configuration.
- Get Widget Serial Number (label 10) is answered with the serial number, by
  default eight digits drawn from the seed and the device id.
- Any other label is counted and ignored, as the widget does.

A malformed frame is counted (``bad_frames_in``) and skipped. The line rate
of a real widget is a dummy (it is a USB FTDI device), but answers are paced
at ``baud`` like every simulated serial device; ``baud=0`` writes at once.

Faults (see :data:`FAULTS`), applied through :meth:`DmxInterfaceDevice.apply_fault`:

- ``freeze`` [on|off]: the widget's output hangs: Send DMX requests are
  counted but no longer change the levels or the history (the requests are
  never acknowledged, so only a look at the lights tells);
- ``firmware`` MAJOR.MINOR: report another firmware version (``2.1`` is RDM
  firmware);
- ``dmx_in`` LEVEL...: a DMX packet arrives on the widget's input port; the
  widget sends it to the host unasked (label 5);
- ``silence`` on|off: requests are not answered (Send DMX is still taken);
- ``corrupt`` N: the next N answers lose their end byte (the protocol has no
  checksum, so a changed data byte would pass unseen: the end byte is what a
  host can check);
- ``garbage`` N: N noise bytes (never ``7E``) before the next answer;
- ``delay`` MS, ``unplug``, ``replug``, ``clear``: as on every serial device.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import random
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from hallgw_protocols import NEED_DATA, LocalProtocolError, RemoteProtocolError, Role
from hallgw_protocols.dmx import (
    CHANNELS,
    MAX_SERIAL,
    NULL_START_CODE,
    START,
    DmxConnection,
    FirmwareVersion,
    GetSerialNumber,
    GetWidgetParameters,
    ReceivedDmx,
    SendDmx,
    SerialNumber,
    SetWidgetParameters,
    WidgetParameters,
)
from hallgw_simulators.faults import FaultArg, FaultError, switch_arg
from hallgw_simulators.links import Endpoint, Link
from hallgw_simulators.serial_device import SerialDevice

__all__ = [
    "DEFAULT_BAUD",
    "DEFAULT_FIRMWARE",
    "DEFAULT_HISTORY",
    "FAULTS",
    "KIND",
    "DmxInterfaceDevice",
    "DmxWidgetModel",
    "LevelFrame",
    "WidgetFaults",
]

KIND: Final = "lighting"
"""The device kind in the daemon config and the scenario: a photo machine's studio lights."""
DEFAULT_BAUD: Final = 115200
"""The widget ignores the line rate (spec 1.44: "the baudrate setting ... is a dummy value"); this paces answers."""
DEFAULT_FIRMWARE: Final = FirmwareVersion(major=1, minor=44)
DEFAULT_HISTORY: Final = 256
"""Send DMX frames kept in the history (about six seconds at 40 frames per second)."""


@dataclasses.dataclass(frozen=True, slots=True)
class LevelFrame:
    """One Send DMX frame as the widget took it."""

    time: float
    """The event loop's monotonic clock when the frame was complete."""
    levels: bytes
    """The levels of channels 1..len(levels) (at least 24: the host pads)."""
    start_code: int = NULL_START_CODE


@dataclasses.dataclass(slots=True)
class WidgetFaults:
    """Faults of the widget itself (the wire faults are the base's)."""

    freeze: bool = False


class DmxWidgetModel:
    """What the widget holds: identity, output timing, user configuration, the output levels and their history."""

    def __init__(self, *, firmware: FirmwareVersion, serial_number: int, history: int = DEFAULT_HISTORY) -> None:
        if not 0 <= serial_number <= MAX_SERIAL:
            raise ValueError(f"serial_number has eight decimal digits at most, got {serial_number}")
        if history < 1:
            raise ValueError(f"history must keep at least one frame, got {history}")
        self.firmware = firmware
        self.serial_number = serial_number
        self.break_time = 9
        self.mab_time = 1
        self.output_rate = 40
        self.user_config = b""
        self.levels = bytearray(CHANNELS)
        """The output: channel N's level is ``levels[N - 1]``."""
        self.history: collections.deque[LevelFrame] = collections.deque(maxlen=history)
        self.frames_in = 0
        """Send DMX requests received (frozen or not)."""
        self.ignored_in = 0
        """Requests with labels the widget does not act on."""
        self.faults = WidgetFaults()

    def level(self, channel: int) -> int:
        """The output level of ``channel`` (1-based)."""
        if not 1 <= channel <= CHANNELS:
            raise ValueError(f"DMX channels are 1..{CHANNELS}, got {channel}")
        return self.levels[channel - 1]

    def take(self, frame: SendDmx, now: float) -> None:
        """A Send DMX request arrived at ``now``."""
        self.frames_in += 1
        if self.faults.freeze:
            return
        self.history.append(LevelFrame(time=now, levels=frame.levels, start_code=frame.start_code))
        if frame.start_code == NULL_START_CODE:
            self.levels[:] = frame.levels.ljust(CHANNELS, b"\x00")

    def configure(self, request: SetWidgetParameters) -> None:
        self.break_time = request.break_time
        self.mab_time = request.mab_time
        self.output_rate = request.output_rate
        self.user_config = request.user_config

    def parameters(self, request: GetWidgetParameters) -> WidgetParameters:
        config = self.user_config[: request.user_config_size].ljust(request.user_config_size, b"\x00")
        return WidgetParameters(
            firmware=self.firmware,
            break_time=self.break_time,
            mab_time=self.mab_time,
            output_rate=self.output_rate,
            user_config=config,
        )

    def describe(self) -> dict[str, Any]:
        return {
            "firmware": str(self.firmware),
            "serial_number": f"{self.serial_number:08d}",
            "break_time": self.break_time,
            "mab_time": self.mab_time,
            "output_rate": self.output_rate,
            "user_config_size": len(self.user_config),
            "frames_in": self.frames_in,
            "history": len(self.history),
            # Only the lit channels: 512 zeros say nothing.
            "lit": {str(ch + 1): level for ch, level in enumerate(self.levels) if level},
        }


class DmxInterfaceDevice(SerialDevice):
    """One simulated Enttec DMX USB Pro widget: the model, the codec loop, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    # No 7E in line noise: it would look like a frame start to the host.
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if b != START)
    HEADER_SIZE: ClassVar[int] = 4  # start, label, length (2)

    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        endpoint: Endpoint,
        baud: int = DEFAULT_BAUD,
        firmware: FirmwareVersion | str = DEFAULT_FIRMWARE,
        serial_number: int | None = None,
        history: int = DEFAULT_HISTORY,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(device_id=device_id, seed=seed, endpoint=endpoint, baud=baud, station=station, name=name)
        if serial_number is None:
            # Deterministic per hall seed and device, like everything a simulator makes up.
            serial_number = random.Random(f"hallsim/{seed}/{device_id}/serial").randrange(10**7, 10**8)  # noqa: S311
        if isinstance(firmware, str):
            firmware = FirmwareVersion.parse(firmware)
        self.model = DmxWidgetModel(firmware=firmware, serial_number=serial_number, history=history)
        self._link: Link | None = None
        self._taken = asyncio.Condition()
        self.bad_frames_in = 0
        """Frames the codec refused (bad length, no end byte, malformed data)."""

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this widget (115200 baud when pacing is off: the widget ignores it)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    @property
    def levels(self) -> bytes:
        """The 512 output levels, channel 1 first."""
        return bytes(self.model.levels)

    @property
    def history(self) -> tuple[LevelFrame, ...]:
        """The Send DMX frames taken, oldest first (at most ``history`` of them)."""
        return tuple(self.model.history)

    async def wait_frames(self, count: int) -> None:
        """Return once ``count`` Send DMX requests have arrived in all (the widget never acknowledges them).

        No timeout of its own: wrap it in ``asyncio.timeout``.
        """
        async with self._taken:
            await self._taken.wait_for(lambda: self.model.frames_in >= count)

    # -- the DMX input -----------------------------------------------------------
    async def receive_dmx(self, levels: bytes, *, start_code: int = NULL_START_CODE, status: int = 0) -> bool:
        """A DMX packet arrives on the input port: send it to the host (label 5).

        Returns whether it was sent (not when silenced or no host is connected).
        """
        packet = ReceivedDmx(levels=levels, start_code=start_code, status=status)
        if self._link is None and self.endpoint.plugged:
            await asyncio.sleep(0)  # a link being plugged in gets its serving task started first
        if self.wire.silence or self._link is None:
            return False
        await self._write(self._link, [DmxConnection(Role.DEVICE).send(packet)])
        return True

    # -- faults ------------------------------------------------------------------
    async def _freeze(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.freeze = switch_arg(name, args, default=True)

    async def _firmware(self, name: str, args: Sequence[FaultArg]) -> None:
        if len(args) != 1:
            raise FaultError(f"{name} takes one version, like 1.44")
        try:
            self.model.firmware = FirmwareVersion.parse(str(args[0]))
        except LocalProtocolError as err:
            raise FaultError(f"{name}: {err}") from None

    async def _dmx_in(self, name: str, args: Sequence[FaultArg]) -> None:
        if not 1 <= len(args) <= CHANNELS:
            raise FaultError(f"{name} takes 1..{CHANNELS} levels (channel 1 first)")
        levels: list[int] = []
        for arg in args:
            try:
                level = int(arg)
            except ValueError:
                raise FaultError(f"{name}: a level is a number 0..255, got {arg!r}") from None
            if isinstance(arg, bool) or not 0 <= level <= 0xFF:
                raise FaultError(f"{name}: a level is a number 0..255, got {arg!r}")
            levels.append(level)
        await self.receive_dmx(bytes(levels))

    def _clear_device_faults(self) -> None:
        self.model.faults = WidgetFaults()

    def _flip_byte(self, frame: bytes) -> bytes:
        # Without a checksum only the end byte shows corruption: change it.
        return frame[:-1] + bytes([frame[-1] ^ self._rng.randrange(1, 256)])

    # -- the wire ----------------------------------------------------------------
    async def _serve(self, link: Link) -> None:
        # A fresh codec per link: bytes of a previous host never leak into the next.
        codec = DmxConnection(Role.DEVICE)
        loop = asyncio.get_running_loop()
        self._link = link
        try:
            while data := await link.read():
                codec.receive_data(data)
                while True:
                    try:
                        event = codec.next_event()
                    except RemoteProtocolError:
                        self.bad_frames_in += 1
                        continue
                    if event is NEED_DATA:
                        break
                    reply: WidgetParameters | SerialNumber | None = None
                    if isinstance(event, SendDmx):
                        self.model.take(event, loop.time())
                        async with self._taken:
                            self._taken.notify_all()
                    elif isinstance(event, GetWidgetParameters):
                        reply = self.model.parameters(event)
                    elif isinstance(event, GetSerialNumber):
                        reply = SerialNumber(number=self.model.serial_number)
                    elif isinstance(event, SetWidgetParameters):
                        self.model.configure(event)
                    else:
                        self.model.ignored_in += 1
                    if reply is not None and not self.wire.silence:
                        await self._write(link, [codec.send(reply)])
        finally:
            if self._link is link:
                self._link = None


DmxInterfaceDevice.FAULT_HANDLERS = {
    "freeze": DmxInterfaceDevice._freeze,
    "firmware": DmxInterfaceDevice._firmware,
    "dmx_in": DmxInterfaceDevice._dmx_in,
    "corrupt": DmxInterfaceDevice._corrupt,
    "garbage": DmxInterfaceDevice._garbage,
    "silence": DmxInterfaceDevice._silence,
    "delay": DmxInterfaceDevice._delay,
    "unplug": DmxInterfaceDevice._unplug,
    "replug": DmxInterfaceDevice._replug,
    "clear": DmxInterfaceDevice._clear,
}

FAULTS: Final = tuple(DmxInterfaceDevice.FAULT_HANDLERS)
"""Operation and fault names :meth:`DmxInterfaceDevice.apply_fault` accepts."""
