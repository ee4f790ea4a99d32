"""A simulated ID card reader on a real transport, with faults on command.

:class:`IdCardReaderDevice` joins the SAM codec in the device role, the state
model of :mod:`hallgw_simulators.idcard_reader` and an endpoint of
:mod:`hallgw_simulators.links`. Commands are answered one at a time, in order,
each response written at the configured line rate.

Faults (see :data:`FAULTS` and ``docs/simulators.md``) are applied at run time
through :meth:`IdCardReaderDevice.apply_fault`. Wire faults act on the bytes
of the next responses; card faults change what the SAM answers; ``unplug`` and
``replug`` act on the endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import Command, SamConnection
from hallgw_simulators.deck import Deck
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
from hallgw_simulators.idcard_reader import CardFaults, SamReaderModel, UnknownCardError, sam_id_for
from hallgw_simulators.links import Endpoint, Link, paced_write

KIND: Final = "idcard_reader"


class IdCardReaderDevice:
    """One simulated ID card reader: model, codec, wire faults and endpoint."""

    kind = KIND

    def __init__(
        self,
        *,
        device_id: str,
        deck: Deck,
        seed: int,
        baud: int,
        endpoint: Endpoint,
        card: str | None = None,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.station = station
        self.name = name
        self.baud = baud
        """Line rate for pacing responses; 0 writes them at once."""
        self.endpoint = endpoint
        self.model = SamReaderModel(deck=deck, sam_id=sam_id_for(seed, device_id), card=card)
        self.wire = WireFaults()
        # Garbage and corruption come from a seeded stream: the same seed and
        # the same command sequence give the same bytes.
        self._rng = random.Random(f"hallsim/{seed}/{device_id}/wire")  # noqa: S311 - not for secrets
        self.frames_in = 0
        self.bad_frames_in = 0
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
        """The daemon's link URL for this reader."""
        return self.endpoint.link_url(self.baud)

    def describe(self) -> dict[str, Any]:
        """State for the control protocol: where it is, the slot and the faults."""
        faults = dataclasses.asdict(self.model.faults) | dataclasses.asdict(self.wire)
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

    # -- faults ------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one fault by name (see :data:`FAULTS`); raises :class:`FaultError`."""
        handler = _FAULT_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        await handler(self, name, args)

    async def _insert(self, name: str, args: Sequence[FaultArg]) -> None:
        if len(args) != 1 or not isinstance(args[0], str):
            raise FaultError(f"{name} takes one card id")
        try:
            self.model.insert(args[0])
        except UnknownCardError as err:
            raise FaultError(str(err)) from None

    async def _remove(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.model.remove()

    async def _remove_mid_read(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.model.faults.remove_mid_read = True

    async def _no_card(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.no_card = switch_arg(name, args, default=True)

    async def _selftest_fail(self, name: str, args: Sequence[FaultArg]) -> None:
        self.model.faults.selftest_fail = switch_arg(name, args)

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
        self.model.faults = CardFaults()
        self.wire = WireFaults()

    # -- the wire ----------------------------------------------------------------
    async def _serve(self, link: Link) -> None:
        # A fresh codec per link: bytes of a previous host never leak into the next.
        codec = SamConnection(Role.DEVICE)
        while data := await link.read():
            codec.receive_data(data)
            while True:
                try:
                    event = codec.next_event()
                except RemoteProtocolError:
                    self.bad_frames_in += 1
                    if not self.wire.silence:
                        await self._respond(link, codec.send(self.model.bad_frame()))
                    continue
                if event is NEED_DATA:
                    break
                assert isinstance(event, Command)  # noqa: S101 - the device role decodes commands only
                self.frames_in += 1
                if self.wire.silence:
                    continue  # swallowed: not even the model sees it
                await self._respond(link, codec.send(self.model.handle(event)))

    async def _respond(self, link: Link, frame: bytes) -> None:
        if self.wire.delay_ms:
            await asyncio.sleep(self.wire.delay_ms / 1000)
        prefix = b""
        if self.wire.garbage:
            prefix = self._noise(self.wire.garbage)
            self.wire.garbage = 0
        if self.wire.corrupt:
            self.wire.corrupt -= 1
            frame = self._flip_byte(frame)
        await paced_write(link, prefix + frame, self.baud)
        self.responses_out += 1

    def _noise(self, size: int) -> bytes:
        # No 0xAA: line noise here must never form a preamble, so a host that
        # skips to the next preamble always finds the real response.
        return bytes(self._rng.choice(_NOISE) for _ in range(size))

    def _flip_byte(self, frame: bytes) -> bytes:
        # Flip a byte after the length field: the host still cuts the frame
        # where it ends, and its XOR checksum then fails.
        flipped = bytearray(frame)
        index = self._rng.randrange(7, len(frame))
        flipped[index] ^= self._rng.randrange(1, 256)
        return bytes(flipped)


_NOISE: Final = bytes(b for b in range(256) if b != 0xAA)

_FAULT_HANDLERS: Final[
    dict[str, Callable[[IdCardReaderDevice, str, Sequence[FaultArg]], Coroutine[Any, Any, None]]]
] = {
    "insert": IdCardReaderDevice._insert,
    "remove": IdCardReaderDevice._remove,
    "remove_mid_read": IdCardReaderDevice._remove_mid_read,
    "no_card": IdCardReaderDevice._no_card,
    "corrupt": IdCardReaderDevice._corrupt,
    "garbage": IdCardReaderDevice._garbage,
    "silence": IdCardReaderDevice._silence,
    "selftest_fail": IdCardReaderDevice._selftest_fail,
    "delay": IdCardReaderDevice._delay,
    "unplug": IdCardReaderDevice._unplug,
    "replug": IdCardReaderDevice._replug,
    "clear": IdCardReaderDevice._clear,
}

FAULTS: Final = tuple(_FAULT_HANDLERS)
"""Fault names :meth:`IdCardReaderDevice.apply_fault` accepts."""
