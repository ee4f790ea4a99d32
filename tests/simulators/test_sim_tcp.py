"""A reader behind a real TCP socket on 127.0.0.1, and the determinism of its bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from hallgw_protocols.idcard_sam import Command, CommandCode, Status
from hallgw_simulators.deck import Deck, build_deck
from hallgw_simulators.hostside import SamHost
from hallgw_simulators.idcard_device import IdCardReaderDevice
from hallgw_simulators.links import Endpoint, Serve, TcpEndpoint

StartReader = Callable[..., Awaitable[IdCardReaderDevice]]


def _port(device: IdCardReaderDevice) -> int:
    assert isinstance(device.endpoint, TcpEndpoint)
    return device.endpoint.port


async def test_every_card_over_tcp(start_reader: StartReader, deck: Deck) -> None:
    device = await start_reader(transport="tcp")
    assert _port(device) > 0
    assert device.link_url == f"tcp://127.0.0.1:{_port(device)}"
    host = await SamHost.open_tcp(_port(device))
    try:
        for card_id, card in deck.items():
            await device.apply_fault("insert", [card_id])
            text, photo, fingerprint = await host.read_card(with_fingerprint=True)
            assert (text, photo, fingerprint) == (card.text, card.photo, card.fingerprint)
    finally:
        host.close()


async def test_a_new_client_replaces_the_old_one(start_reader: StartReader) -> None:
    device = await start_reader(transport="tcp")
    first = await SamHost.open_tcp(_port(device))
    second = None
    try:
        assert (await first.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        second = await SamHost.open_tcp(_port(device))
        assert (await second.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        with pytest.raises(EOFError):
            await first.command(CommandCode.SAM_STATUS)
    finally:
        first.close()
        if second is not None:
            second.close()


async def test_unplug_drops_the_client_and_stops_listening(start_reader: StartReader) -> None:
    device = await start_reader(transport="tcp", card="resident-2")
    port = _port(device)
    host = await SamHost.open_tcp(port)
    try:
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        await device.apply_fault("unplug")
        with pytest.raises((EOFError, ConnectionError)):
            await host.command(CommandCode.SAM_STATUS)
    finally:
        host.close()
    with pytest.raises(ConnectionRefusedError):
        await SamHost.open_tcp(port)
    await device.apply_fault("replug")
    assert _port(device) == port
    host = await SamHost.open_tcp(port)
    try:
        text, _, _ = await host.read_card()
        assert text == device.model.deck["resident-2"].text
    finally:
        host.close()


class _RecordingEndpoint(Endpoint):
    """An in-memory endpoint: commands in through a queue, responses recorded."""

    transport = "memory"

    def __init__(self) -> None:
        super().__init__("memory")
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.written = bytearray()
        self.task: asyncio.Task[None] | None = None

    async def read(self) -> bytes:
        return await self.incoming.get()

    async def write(self, data: bytes) -> None:
        self.written += data

    async def _plug(self, serve: Serve) -> None:
        self.task = asyncio.create_task(serve(self))

    async def _unplug(self) -> None:
        self.incoming.put_nowait(b"")
        assert self.task is not None
        await self.task

    def link_url(self, baud: int) -> str:
        return "memory://"

    def describe(self) -> dict[str, str]:
        return {}


async def _session_bytes(seed: int) -> bytes:
    """Every byte a reader sends for a fixed command script with garbage and corruption."""
    endpoint = _RecordingEndpoint()
    device = IdCardReaderDevice(
        device_id="idr-01", deck=build_deck(seed), seed=seed, baud=0, endpoint=endpoint, card="resident-1"
    )
    await device.start()
    await device.apply_fault("garbage", [64])
    await device.apply_fault("corrupt", [3])
    script = [CommandCode.SAM_STATUS, CommandCode.READ_SAM_ID, CommandCode.FIND_CARD, CommandCode.SELECT_CARD]
    script += [CommandCode.READ_TEXT_PHOTO_FINGERPRINT]
    for code in script:
        endpoint.incoming.put_nowait(Command.of(code).to_bytes())
    await device.stop()
    return bytes(endpoint.written)


async def test_same_seed_same_bytes() -> None:
    first, again, other = await _session_bytes(11), await _session_bytes(11), await _session_bytes(12)
    assert len(first) == 64 + 11 + 27 + 15 + 19 + 2321
    assert first == again
    assert first != other
