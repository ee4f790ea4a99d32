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
import random
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import Acknowledgement, As608Connection, DataPacket, SystemParametersReport
from hallgw_simulators.faults import (
    MAX_CORRUPT,
    MAX_DELAY_MS,
    MAX_GARBAGE,
    FaultArg,
    FaultError,
    WireFaults,
    count_arg,
    no_args,
    switch_arg,
)
from hallgw_simulators.fingerprint_module import As608Model, Contact, Finger, ModuleFaults, render_finger
from hallgw_simulators.links import Endpoint, Link, paced_write

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


class FingerprintModuleDevice:
    """One simulated AS608 module: model, codec, wire faults and endpoint."""

    kind = KIND

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
        self.device_id = device_id
        self.station = station
        self.name = name
        self.baud = baud
        """Line rate for pacing what the module sends; 0 writes at once."""
        self.endpoint = endpoint
        self.model = As608Model(
            seed=seed,
            packet_size=packet_size,
            password=password,
            library_size=library_size,
            baud_multiplier=max(1, min(12, (baud or DEFAULT_BAUD) // 9600)),
        )
        self.wire = WireFaults()
        self.upload = UploadFaults()
        # Garbage and corruption come from a seeded stream: the same seed and
        # the same command sequence give the same bytes.
        self._rng = random.Random(f"hallsim/{seed}/{device_id}/wire")  # noqa: S311 - not for secrets
        self.packets_in = 0
        self.bad_packets_in = 0
        self.responses_out = 0

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Open the endpoint and start answering."""
        await self.endpoint.start(self._serve)

    async def stop(self) -> None:
        """Close the endpoint (removes a pty symlink)."""
        await self.endpoint.close()

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this module (57600 baud when pacing is off)."""
        return self.endpoint.link_url(self.baud or DEFAULT_BAUD)

    def describe(self) -> dict[str, Any]:
        """State for the control protocol: where it is, the sensor and the faults."""
        faults = dataclasses.asdict(self.model.faults) | dataclasses.asdict(self.wire) | dataclasses.asdict(self.upload)
        return {
            "id": self.device_id,
            "kind": self.kind,
            "station": self.station,
            "transport": self.endpoint.transport,
            "link": self.link_url,
            **self.endpoint.describe(),
            "baud": self.baud,
            "plugged": self.endpoint.plugged,
            **self.model.describe(),
            "faults": faults,
        }

    # -- the finger --------------------------------------------------------------
    async def place(self, finger_id: str, contact: Contact = Contact.GOOD, coverage: float = 1.0) -> None:
        """Put a finger on the sensor; its image is drawn now, off the event loop, for GetImage to find."""
        finger = Finger(finger_id=finger_id, contact=contact, coverage=coverage)
        await asyncio.to_thread(render_finger, self.model.seed, finger)
        self.model.place(finger_id, contact, coverage)

    # -- faults ------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one fault by name (see :data:`FAULTS`); raises :class:`FaultError`."""
        handler = _FAULT_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        await handler(self, name, args)

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

    async def _silence(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.silence = switch_arg(name, args)

    async def _corrupt(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.corrupt = count_arg(name, args, MAX_CORRUPT)

    async def _garbage(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.garbage = count_arg(name, args, MAX_GARBAGE)

    async def _delay(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.delay_ms = count_arg(name, args, MAX_DELAY_MS)

    async def _unplug(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        await self.endpoint.unplug()

    async def _replug(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        await self.endpoint.replug()

    async def _clear(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.model.faults = ModuleFaults()
        self.wire = WireFaults()
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
        if self.wire.delay_ms:
            await asyncio.sleep(self.wire.delay_ms / 1000)
        prefix = b""
        if self.wire.garbage:
            prefix = self._noise(self.wire.garbage)
            self.wire.garbage = 0
        packets = self._upload_faults(packets)
        for index, packet in enumerate(packets):
            if self.wire.corrupt:
                self.wire.corrupt -= 1
                packets[index] = self._flip_byte(packet)
        await paced_write(link, prefix + b"".join(packets), self.baud)
        self.responses_out += 1

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

    def _noise(self, size: int) -> bytes:
        # No EF: line noise here must never start a header, so a host that skips
        # to the next EF 01 always finds the real packet.
        return bytes(self._rng.choice(_NOISE) for _ in range(size))

    def _flip_byte(self, packet: bytes) -> bytes:
        # Flip a byte after the length field: the host still cuts the packet
        # where it ends, and its checksum then fails.
        flipped = bytearray(packet)
        index = self._rng.randrange(9, len(packet))
        flipped[index] ^= self._rng.randrange(1, 256)
        return bytes(flipped)


_NOISE: Final = bytes(b for b in range(256) if b != 0xEF)


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


_FAULT_HANDLERS: Final[
    dict[str, Callable[[FingerprintModuleDevice, str, Sequence[FaultArg]], Coroutine[Any, Any, None]]]
] = {
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

FAULTS: Final = tuple(_FAULT_HANDLERS)
"""Fault names :meth:`FingerprintModuleDevice.apply_fault` accepts."""
