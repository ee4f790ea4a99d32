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

from collections.abc import Sequence
from typing import ClassVar, Final

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.idcard_sam import Command, SamConnection
from hallgw_simulators.deck import Deck
from hallgw_simulators.faults import FaultArg, FaultError, no_args, switch_arg
from hallgw_simulators.idcard_reader import CardFaults, SamReaderModel, UnknownCardError, sam_id_for
from hallgw_simulators.links import Endpoint, Link
from hallgw_simulators.serial_device import SerialDevice

KIND: Final = "idcard_reader"


class IdCardReaderDevice(SerialDevice):
    """One simulated ID card reader: model, codec, wire faults and endpoint."""

    kind: ClassVar[str] = KIND
    # No 0xAA in line noise: it must never form a preamble.
    NOISE: ClassVar[bytes] = bytes(b for b in range(256) if b != 0xAA)
    HEADER_SIZE: ClassVar[int] = 7  # preamble and length

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
        super().__init__(device_id=device_id, seed=seed, endpoint=endpoint, baud=baud, station=station, name=name)
        self.model = SamReaderModel(deck=deck, sam_id=sam_id_for(seed, device_id), card=card)
        self.frames_in = 0
        self.bad_frames_in = 0

    # -- faults ------------------------------------------------------------------
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

    def _clear_device_faults(self) -> None:
        self.model.faults = CardFaults()

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
        await self._write(link, [frame])


IdCardReaderDevice.FAULT_HANDLERS = {
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

FAULTS: Final = tuple(IdCardReaderDevice.FAULT_HANDLERS)
"""Fault names :meth:`IdCardReaderDevice.apply_fault` accepts."""
