"""Fixtures for simulator tests: readers on real ptys and real TCP sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from support.pty_devices import PtyDevices

from hallgw_simulators.deck import Deck, build_deck
from hallgw_simulators.idcard_device import IdCardReaderDevice
from hallgw_simulators.links import PtyEndpoint, TcpEndpoint

SEED = 1234

StartReader = Callable[..., Awaitable[IdCardReaderDevice]]


@pytest.fixture
async def pty_devices(tmp_path: Path) -> AsyncIterator[PtyDevices]:
    devices = PtyDevices(tmp_path)
    yield devices
    for device in devices.started:
        await device.stop()


@pytest.fixture
def deck() -> Deck:
    return build_deck(SEED)


@pytest.fixture
async def start_reader(tmp_path: Path, deck: Deck) -> AsyncIterator[StartReader]:
    """Start readers (``transport="pty"`` or ``"tcp"``); all are stopped at teardown."""
    started: list[IdCardReaderDevice] = []

    async def start(
        *, transport: str = "pty", device_id: str = "idr-07", baud: int = 0, card: str | None = None
    ) -> IdCardReaderDevice:
        endpoint = (
            PtyEndpoint(device_id, tmp_path / f"{device_id}.tty") if transport == "pty" else TcpEndpoint(device_id)
        )
        device = IdCardReaderDevice(device_id=device_id, deck=deck, seed=SEED, baud=baud, endpoint=endpoint, card=card)
        await device.start()
        started.append(device)
        return device

    yield start
    for device in started:
        await device.stop()
