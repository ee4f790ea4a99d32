"""A simulated AS608 fingerprint module on a real serial transport, with faults on command.

:class:`FingerprintModuleDevice` joins the AS608 codec in the device role, the
module model of :mod:`hallgw_simulators.fingerprint_module` and an endpoint of
:mod:`hallgw_simulators.links` (a pty or a TCP port). Commands are answered one
at a time, in order; everything the module sends for one command (the
acknowledgement and, for an upload, every data packet) is written as one paced
stream at the line rate: 57600 baud by default, as the modules ship, so a whole
image upload takes about 7 s; ``baud=0`` writes at once.

Faults (see :data:`FAULTS` and ``docs/simulators.md``) are applied through
:meth:`FingerprintModuleDevice.apply_fault`: wire faults act on the bytes of
the next packets, module faults on what the module answers, ``place``/``lift``
on the finger, ``unplug``/``replug`` on the endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
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
    "FAULTS",
    "KIND",
    "FaultArg",
    "FaultError",
    "FingerprintModuleDevice",
    "UploadFaults",
]

KIND: Final = "fingerprint_module"
DEFAULT_BAUD: Final = 57600
"""The line rate AS608 modules ship with (reference section 2.1)."""
MAX_PACKET_INDEX: Final = 10_000
"""Upper bound for the packet numbers of upload faults (an image is 144 to 1152 packets)."""


@dataclasses.dataclass(slots=True)
class UploadFaults:
    """Faults on the data packets of the next upload (UpImage or UpChar)."""

    corrupt_packet: int | None = None
    """Flip one byte of this data packet (0 = the first after the acknowledgement)."""
    stall_after: int | None = None
    """Send only this many data packets, then nothing: the end packet never comes."""


class FingerprintModuleDevice(SerialDevice):
    """One simulated AS608 module: model, codec, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    # No 0xEF in line noise: it must never start a header (EF 01).
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if b != 0xEF)
    HEADER_SIZE: ClassVar[int] = 9  # header, address, packet id and length

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
        self.model = As608Model(
            seed=seed,
            packet_size=packet_size,
            password=password,
            library_size=library_size,
            baud_multiplier=max(1, min(12, (baud or DEFAULT_BAUD) // 9600)),
        )
        self.upload = UploadFaults()
        self.packets_in = 0
        self.bad_packets_in = 0

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this module (57600 baud when pacing is off)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    def _fault_state(self) -> dict[str, Any]:
        return super()._fault_state() | dataclasses.asdict(self.upload)

    # -- the finger --------------------------------------------------------------
    async def place(self, finger_id: str, contact: Contact = Contact.GOOD, coverage: float = 1.0) -> None:
        """Put a finger on the sensor; its image is drawn now, off the event loop, for GetImage to find."""
        finger = Finger(finger_id=finger_id, contact=contact, coverage=coverage)
        await asyncio.to_thread(render_finger, self.model.seed, finger)
        self.model.place(finger_id, contact, coverage)

    # -- faults ------------------------------------------------------------------

    async def _place(self, name: str, args: Sequence[FaultArg]) -> None:
        if not 1 <= len(args) <= 3 or not isinstance(args[0], str) or not args[0]:
            raise FaultError(f"{name} takes a finger id, then optionally a contact and a coverage")
        contact = _contact(name, args[1]) if len(args) > 1 else Contact.GOOD
        coverage = _coverage(name, args[2]) if len(args) > 2 else 1.0
        await self.place(args[0], contact, coverage)

    async def _press(self, name: str, args: Sequence[FaultArg]) -> None:
        if len(args) != 1:
            raise FaultError(f"{name} takes one contact: {', '.join(c.value for c in Contact)}")
        if self.model.finger is None:
            raise FaultError("no finger on the sensor")
        await self.place(self.model.finger.finger_id, _contact(name, args[0]), self.model.finger.coverage)

    async def _lift(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
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

    def _clear_device_faults(self) -> None:
        self.model.faults = ModuleFaults()
        self.upload = UploadFaults()

    # -- the wire ----------------------------------------------------------------
    async def _serve(self, link: Link) -> None:
        # A fresh codec per link: bytes of a previous host never leak into the next.
        codec = As608Connection(Role.DEVICE, address=self.model.address)
        while data := await link.read():
            codec.receive_data(data)
            while True:
                try:
                    event = codec.next_event()
                except RemoteProtocolError:
                    self.bad_packets_in += 1
                    if not self.wire.silence:
                        await self._respond(link, [codec.send(e) for e in self.model.bad_packet()])
                    continue
                if event is NEED_DATA:
                    break
                self.packets_in += 1
                if self.wire.silence:
                    continue  # swallowed: not even the model sees it
                if isinstance(event, DataPacket):
                    self.model.receive(event)  # part of a download: the module answers nothing
                    continue
                if isinstance(event, (Acknowledgement, SystemParametersReport)):
                    continue  # never: the device role decodes commands and data packets only
                reply = self.model.handle(event)
                await self._respond(link, [codec.send(e) for e in reply])

    async def _respond(self, link: Link, packets: list[bytes]) -> None:
        await self._write(link, packets, transform=self._upload_faults)

    def _upload_faults(self, packets: list[bytes]) -> list[bytes]:
        if len(packets) < 2:
            return list(packets)  # not an upload: the faults wait for one
        ack, data = packets[0], list(packets[1:])
        if self.upload.corrupt_packet is not None:
            if self.upload.corrupt_packet < len(data):
                data[self.upload.corrupt_packet] = self._flip_byte(data[self.upload.corrupt_packet])
            self.upload.corrupt_packet = None
        if self.upload.stall_after is not None:
            data = data[: self.upload.stall_after]
            self.upload.stall_after = None
        return [ack, *data]


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
    "place": FingerprintModuleDevice._place,
    "press": FingerprintModuleDevice._press,
    "lift": FingerprintModuleDevice._lift,
    "lift_early": FingerprintModuleDevice._lift_early,
    "sensor_fail": FingerprintModuleDevice._sensor_fail,
    "corrupt_upload": FingerprintModuleDevice._corrupt_upload,
    "stall_upload": FingerprintModuleDevice._stall_upload,
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
