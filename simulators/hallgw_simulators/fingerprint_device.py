"""A simulated AS608 fingerprint module on a real serial transport, with faults on command.

Theory of operation
-------------------
The module's protocol engine, :class:`As608Engine`, knows nothing of the
transport: it joins the AS608 codec in the device role, the module model of
:mod:`hallgw_simulators.fingerprint_module`, the upload faults and the finger
ops. Bytes from the host go in (:meth:`As608Engine.receive_data`); whole
answers come out (:meth:`As608Engine.next_reply`), each the list of packets
the module sends for one command. Two transports carry it:

* :class:`FingerprintModuleDevice` (here): an endpoint of
  :mod:`hallgw_simulators.links` (a pty or a TCP port). Commands are answered
  one at a time, in order; everything the module sends for one command (the
  acknowledgement and, for an upload, every data packet) is written as one
  paced stream at the line rate: 57600 baud by default, as the modules ship,
  so a whole image upload takes about 7 s; ``baud=0`` writes at once.
* :class:`hallgw_simulators.fingerprint_usb.FingerprintUsbDevice`: the same
  packets over USB bulk endpoints, exported by the hall's USB/IP server.

Faults (see :data:`FAULTS` and ``docs/simulators.md``) are applied through
:meth:`FingerprintModuleDevice.apply_fault`: the engine's (:data:`ENGINE_FAULTS`:
the finger ops ``place``/``press``/``lift``/``touch``, and the module and
upload faults) act on what the module answers, the wire faults on the bytes of
the next packets, ``unplug``/``replug`` on the endpoint.

``touch FINGER [CONTACT] [COVERAGE] [AFTER_MS] [HOLD_MS]`` is a finger's
timeline: the image is drawn when the op is applied, then the finger is placed
``after_ms`` later (500 by default) and lifted ``hold_ms`` after that (1500 by
default), both scheduled on the event loop's clock, so a host polling GetImage
sees "no finger", then the finger, then "no finger" again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Final

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import Acknowledgement, As608Connection, DataPacket, SystemParametersReport
from hallgw_simulators.faults import (
    FaultArg,
    FaultError,
    count_arg,
    no_args,
    switch_arg,
)
from hallgw_simulators.fingerprint_module import As608Model, Contact, Finger, ModuleFaults, render_finger
from hallgw_simulators.links import Endpoint, Link
from hallgw_simulators.serial_device import SerialDevice

__all__ = [
    "DEFAULT_BAUD",
    "ENGINE_FAULTS",
    "FAULTS",
    "KIND",
    "As608Engine",
    "FaultArg",
    "FaultError",
    "FingerprintModuleDevice",
    "Touch",
    "UploadFaults",
]

KIND: Final = "fingerprint_scanner"
"""The scenario and daemon kind of an AS608 module, on any transport."""
DEFAULT_BAUD: Final = 57600
"""The line rate AS608 modules ship with (reference section 2.1)."""
MAX_PACKET_INDEX: Final = 10_000
"""Upper bound for the packet numbers of upload faults (an image is 144 to 1152 packets)."""
TOUCH_AFTER_MS: Final = 500
"""Default delay of ``touch`` before the finger lands."""
TOUCH_HOLD_MS: Final = 1500
"""Default time the finger of a ``touch`` stays on the sensor."""
MAX_TOUCH_MS: Final = 600_000
"""Upper bound of the delay and the hold of a ``touch``."""


@dataclasses.dataclass(slots=True)
class UploadFaults:
    """Faults on the data packets of the next upload (UpImage or UpChar)."""

    corrupt_packet: int | None = None
    """Flip one byte of this data packet (0 = the first after the acknowledgement)."""
    stall_after: int | None = None
    """Send only this many data packets, then nothing: the end packet never comes."""


@dataclasses.dataclass(frozen=True, slots=True)
class Touch:
    """A finger's timeline on the sensor: placed ``after_ms`` from now, lifted ``hold_ms`` later."""

    finger: Finger
    place_at: float
    """Loop time (``loop.time()``) of the placement."""
    lift_at: float
    """Loop time of the lift."""


EngineFault = Callable[["As608Engine", str, Sequence[FaultArg]], Awaitable[None]]


class As608Engine:
    """The AS608 module behind any transport: bytes in, packets out, finger and upload faults.

    A transport feeds what the host sent to :meth:`receive_data` and collects
    answers with :meth:`next_reply` (each the packets of one command, upload
    faults applied, in order); it calls :meth:`new_link` when a new host
    connects, so bytes of a previous host never leak into the next. The
    finger ops and the module's own faults are applied through
    :meth:`apply_fault` with the names of :data:`ENGINE_FAULTS`.
    """

    def __init__(self, *, seed: int, model: As608Model, rng: random.Random) -> None:
        self.seed = seed
        self.model = model
        self.upload = UploadFaults()
        self.packets_in = 0
        self.bad_packets_in = 0
        self.touch: Touch | None = None
        """The pending or running timeline of a ``touch``, if any."""
        self._rng = rng
        self._codec = As608Connection(Role.DEVICE, address=model.address)
        self._timers: list[asyncio.TimerHandle] = []

    HEADER_SIZE: ClassVar[int] = 9  # header, address, packet id and length

    # -- the protocol ------------------------------------------------------------
    def new_link(self) -> None:
        """A new host: forget any partial packet of the previous one."""
        self._codec = As608Connection(Role.DEVICE, address=self.model.address)

    def receive_data(self, data: bytes) -> None:
        """Bytes from the host."""
        self._codec.receive_data(data)

    def next_reply(self, *, silent: bool = False) -> list[bytes] | None:
        """The packets answering the next whole command received, or None when more bytes are needed.

        ``silent``: commands and bad packets are swallowed (not even the model
        sees them); they are still counted.
        """
        while True:
            try:
                event = self._codec.next_event()
            except RemoteProtocolError:
                self.bad_packets_in += 1
                if silent:
                    continue
                return [self._codec.send(e) for e in self.model.bad_packet()]
            if event is NEED_DATA:
                return None
            self.packets_in += 1
            if silent:
                continue
            if isinstance(event, DataPacket):
                self.model.receive(event)  # part of a download: the module answers nothing
                continue
            if isinstance(event, (Acknowledgement, SystemParametersReport)):
                continue  # never: the device role decodes commands and data packets only
            return self._upload_faults([self._codec.send(e) for e in self.model.handle(event)])

    def _upload_faults(self, packets: list[bytes]) -> list[bytes]:
        if len(packets) < 2:
            return packets  # not an upload: the faults wait for one
        ack, data = packets[0], packets[1:]
        if self.upload.corrupt_packet is not None:
            if self.upload.corrupt_packet < len(data):
                data[self.upload.corrupt_packet] = flip_byte(self._rng, data[self.upload.corrupt_packet])
            self.upload.corrupt_packet = None
        if self.upload.stall_after is not None:
            data = data[: self.upload.stall_after]
            self.upload.stall_after = None
        return [ack, *data]

    # -- the finger --------------------------------------------------------------
    async def place(self, finger_id: str, contact: Contact = Contact.GOOD, coverage: float = 1.0) -> None:
        """Put a finger on the sensor; its image is drawn now, off the event loop, for GetImage to find."""
        finger = Finger(finger_id=finger_id, contact=contact, coverage=coverage)
        await asyncio.to_thread(render_finger, self.model.seed, finger)
        self.cancel_touch()
        self.model.place(finger_id, contact, coverage)

    async def touch_finger(self, finger: Finger, *, after_ms: int, hold_ms: int) -> Touch:
        """Place ``finger`` ``after_ms`` from now and lift it ``hold_ms`` later (replacing any timeline).

        The image is drawn first, so the timeline starts when the op returns
        and its times depend on the loop clock alone.
        """
        await asyncio.to_thread(render_finger, self.model.seed, finger)
        self.cancel_touch()
        loop = asyncio.get_running_loop()
        now = loop.time()
        touch = Touch(finger=finger, place_at=now + after_ms / 1000, lift_at=now + (after_ms + hold_ms) / 1000)
        self.touch = touch

        def place() -> None:
            self.model.place(finger.finger_id, finger.contact, finger.coverage)

        def lift() -> None:
            self.model.lift()
            self.touch = None
            self._timers.clear()

        if after_ms:
            self._timers.append(loop.call_at(touch.place_at, place))
        else:
            place()
        self._timers.append(loop.call_at(touch.lift_at, lift))
        return touch

    def cancel_touch(self) -> None:
        """Stop a pending timeline where it is (the finger stays as it is now)."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.touch = None

    def close(self) -> None:
        """Stop the timers (the device stops)."""
        self.cancel_touch()

    def describe(self) -> dict[str, Any]:
        """The model's state and the pending timeline (loop times are not shown: they mean nothing outside)."""
        touch = self.touch
        return self.model.describe() | {
            "touch": None
            if touch is None
            else {
                "id": touch.finger.finger_id,
                "contact": touch.finger.contact.value,
                "coverage": touch.finger.coverage,
            }
        }

    def fault_state(self) -> dict[str, Any]:
        return dataclasses.asdict(self.model.faults) | dataclasses.asdict(self.upload)

    def clear_faults(self) -> None:
        """``clear``: the module's and the upload faults; the finger and its timeline stay."""
        self.model.faults = ModuleFaults()
        self.upload = UploadFaults()

    # -- faults ------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one of :data:`ENGINE_FAULTS`; raises :class:`FaultError`."""
        handler = _ENGINE_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(_ENGINE_HANDLERS)}")
        await handler(self, name, args)

    async def _place(self, name: str, args: Sequence[FaultArg]) -> None:
        if not 1 <= len(args) <= 3 or not isinstance(args[0], str) or not args[0]:
            raise FaultError(f"{name} takes a finger id, then optionally a contact and a coverage")
        contact = _contact(name, args[1]) if len(args) > 1 else Contact.GOOD
        coverage = _coverage(name, args[2]) if len(args) > 2 else 1.0
        await self.place(args[0], contact, coverage)

    async def _touch(self, name: str, args: Sequence[FaultArg]) -> None:
        if not 1 <= len(args) <= 5 or not isinstance(args[0], str) or not args[0]:
            raise FaultError(f"{name} takes a finger id, then optionally a contact, a coverage, after_ms and hold_ms")
        contact = _contact(name, args[1]) if len(args) > 1 else Contact.GOOD
        coverage = _coverage(name, args[2]) if len(args) > 2 else 1.0
        after_ms = count_arg(f"{name} after_ms", args[3:4], MAX_TOUCH_MS) if len(args) > 3 else TOUCH_AFTER_MS
        hold_ms = count_arg(f"{name} hold_ms", args[4:5], MAX_TOUCH_MS) if len(args) > 4 else TOUCH_HOLD_MS
        if hold_ms == 0:
            raise FaultError(f"{name}: hold_ms must be at least 1, got 0")
        finger = Finger(finger_id=args[0], contact=contact, coverage=coverage)
        await self.touch_finger(finger, after_ms=after_ms, hold_ms=hold_ms)

    async def _press(self, name: str, args: Sequence[FaultArg]) -> None:
        if len(args) != 1:
            raise FaultError(f"{name} takes one contact: {', '.join(c.value for c in Contact)}")
        contact = _contact(name, args[0])
        finger = self.model.finger
        if finger is None:
            raise FaultError("no finger on the sensor")
        await asyncio.to_thread(render_finger, self.model.seed, dataclasses.replace(finger, contact=contact))
        if self.model.finger is not None:  # a timeline may have lifted it meanwhile
            self.model.press(contact)

    async def _lift(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.cancel_touch()
        self.model.lift()

    async def _lift_early(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.model.faults.lift_early = True

    async def _sensor_fail(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.sensor_failure = switch_arg(name, args, default=True)

    async def _corrupt_upload(self, name: str, args: Sequence[FaultArg]) -> None:
        self.upload.corrupt_packet = count_arg(name, args, MAX_PACKET_INDEX)

    async def _stall_upload(self, name: str, args: Sequence[FaultArg]) -> None:
        self.upload.stall_after = count_arg(name, args, MAX_PACKET_INDEX)


_ENGINE_HANDLERS: Final[dict[str, EngineFault]] = {
    "place": As608Engine._place,
    "touch": As608Engine._touch,
    "press": As608Engine._press,
    "lift": As608Engine._lift,
    "lift_early": As608Engine._lift_early,
    "sensor_fail": As608Engine._sensor_fail,
    "corrupt_upload": As608Engine._corrupt_upload,
    "stall_upload": As608Engine._stall_upload,
}

ENGINE_FAULTS: Final = tuple(_ENGINE_HANDLERS)
"""The finger ops and module faults every AS608 device takes, whatever its transport."""


def flip_byte(rng: random.Random, packet: bytes, header_size: int = As608Engine.HEADER_SIZE) -> bytes:
    """``packet`` with one byte after the header changed (its checksum then fails)."""
    flipped = bytearray(packet)
    index = rng.randrange(header_size, len(packet))
    flipped[index] ^= rng.randrange(1, 256)
    return bytes(flipped)


class FingerprintModuleDevice(SerialDevice):
    """One simulated AS608 module on a serial line: the engine, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    # No 0xEF in line noise: it must never start a header (EF 01).
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if b != 0xEF)
    HEADER_SIZE: ClassVar[int] = As608Engine.HEADER_SIZE

    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        endpoint: Endpoint,
        baud: int = DEFAULT_BAUD,
        packet_size: int = 128,
        password: int = 0,
        library_size: int = 300,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(device_id=device_id, seed=seed, endpoint=endpoint, baud=baud, station=station, name=name)
        self.engine = As608Engine(
            seed=seed,
            model=As608Model(
                seed=seed,
                packet_size=packet_size,
                password=password,
                library_size=library_size,
                baud_multiplier=max(1, min(12, (baud or DEFAULT_BAUD) // 9600)),
            ),
            rng=self._rng,
        )

    @property
    def model(self) -> As608Model:
        """The module model (the engine's)."""
        return self.engine.model

    @property
    def upload(self) -> UploadFaults:
        """Faults waiting for the next upload."""
        return self.engine.upload

    @property
    def packets_in(self) -> int:
        """Packets received whole (commands and data packets)."""
        return self.engine.packets_in

    @property
    def bad_packets_in(self) -> int:
        """Packets that failed their checksum, length or PID check."""
        return self.engine.bad_packets_in

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this module (57600 baud when pacing is off)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    async def stop(self) -> None:
        """Stop a finger's timeline and close the endpoint."""
        self.engine.close()
        await super().stop()

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"touch": self.engine.describe()["touch"]}

    def _fault_state(self) -> dict[str, Any]:
        return self.engine.fault_state() | dataclasses.asdict(self.wire)

    # -- the finger --------------------------------------------------------------
    async def place(self, finger_id: str, contact: Contact = Contact.GOOD, coverage: float = 1.0) -> None:
        """Put a finger on the sensor; its image is drawn now, off the event loop, for GetImage to find."""
        await self.engine.place(finger_id, contact, coverage)

    # -- faults ------------------------------------------------------------------
    async def _engine_fault(self, name: str, args: Sequence[FaultArg]) -> None:
        await self.engine.apply_fault(name, args)

    def _clear_device_faults(self) -> None:
        self.engine.clear_faults()

    # -- the wire ----------------------------------------------------------------
    async def _serve(self, link: Link) -> None:
        # A fresh codec per link: bytes of a previous host never leak into the next.
        self.engine.new_link()
        while data := await link.read():
            self.engine.receive_data(data)
            while (reply := self.engine.next_reply(silent=self.wire.silence)) is not None:
                await self._write(link, reply)


def _contact(name: str, value: FaultArg) -> Contact:
    try:
        return Contact(str(value).lower())
    except ValueError:
        raise FaultError(f"{name}: contact is one of {', '.join(c.value for c in Contact)}, got {value!r}") from None


def _coverage(name: str, value: FaultArg) -> float:
    if isinstance(value, bool):
        raise FaultError(f"{name}: coverage is a number, got {value!r}")
    try:
        coverage = float(value)
    except ValueError:
        raise FaultError(f"{name}: coverage is a number, got {value!r}") from None
    if not 0.1 <= coverage <= 1.0:
        raise FaultError(f"{name}: coverage must be between 0.1 and 1.0, got {coverage}")
    return coverage


FingerprintModuleDevice.FAULT_HANDLERS = {
    **dict.fromkeys(ENGINE_FAULTS, FingerprintModuleDevice._engine_fault),
    "corrupt": FingerprintModuleDevice._corrupt,
    "garbage": FingerprintModuleDevice._garbage,
    "silence": FingerprintModuleDevice._silence,
    "delay": FingerprintModuleDevice._delay,
    "unplug": FingerprintModuleDevice._unplug,
    "replug": FingerprintModuleDevice._replug,
    "clear": FingerprintModuleDevice._clear,
}

FAULTS: Final = tuple(FingerprintModuleDevice.FAULT_HANDLERS)
"""Fault names :meth:`FingerprintModuleDevice.apply_fault` accepts."""
