"""The vpcd card side against a test listener that frames messages as pcscd's vpcd driver does."""

from __future__ import annotations

import asyncio
import socket
import statistics
import struct
import time
from collections.abc import AsyncIterator

import pytest

from hallgw_protocols.icao9303 import (
    BacKeys,
    LdsFile,
    MutualAuthentication,
    ResponseApdu,
    SecureMessaging,
    get_challenge,
    parse_challenge,
    parse_dg1,
    read_binary,
    select_application,
    select_file,
)
from hallgw_simulators.epassport_chip import ATR, EpassportChip
from hallgw_simulators.passport_deck import build_passport_deck
from hallgw_simulators.vpcd_card import VpcdCard, VpcdProtocolError, frame

DOC = build_passport_deck()["td3-uto-1"]
TIMEOUT = 5.0


class Vpcd:
    """One accepted card connection, spoken to like vpcd does: length and body in two writes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        # asyncio turns Nagle off; vpcd leaves it on, which is what makes QUICKACK matter.
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)

    async def send(self, payload: bytes) -> None:
        self.writer.write(struct.pack("!H", len(payload)))
        await self.writer.drain()
        self.writer.write(payload)
        await self.writer.drain()

    async def receive(self) -> bytes:
        async with asyncio.timeout(TIMEOUT):
            (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            return await self.reader.readexactly(length)

    async def control(self, byte: int) -> None:
        await self.send(bytes((byte,)))

    async def atr(self) -> bytes:
        await self.control(0x04)
        return await self.receive()

    async def transmit(self, apdu: bytes) -> bytes:
        await self.send(apdu)
        return await self.receive()

    async def at_eof(self) -> bool:
        async with asyncio.timeout(TIMEOUT):
            return await self.reader.read(1) == b""


class Listener:
    """Stands in for pcscd's vpcd driver: listens on 127.0.0.1:0, hands over each card connection."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[Vpcd] = asyncio.Queue()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self.connections.put(Vpcd(reader, writer))

        self.server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def accept(self) -> Vpcd:
        async with asyncio.timeout(TIMEOUT):
            return await self.connections.get()


@pytest.fixture
async def listener() -> AsyncIterator[tuple[Listener, int]]:
    listen = Listener()
    port = await listen.start()
    yield listen, port
    assert listen.server is not None
    listen.server.close()
    while not listen.connections.empty():
        listen.connections.get_nowait().writer.close()
    await listen.server.wait_closed()


@pytest.fixture
async def inserted(listener: tuple[Listener, int]) -> AsyncIterator[tuple[VpcdCard, Vpcd, EpassportChip]]:
    listen, port = listener
    chip = EpassportChip(DOC, seed=7)
    card = VpcdCard(chip, port=port)
    await card.insert()
    vpcd = await listen.accept()
    yield card, vpcd, chip
    await card.remove()
    vpcd.writer.close()


async def test_power_on_atr_and_apdus(inserted: tuple[VpcdCard, Vpcd, EpassportChip]) -> None:
    card, vpcd, _ = inserted
    assert card.inserted and not card.powered
    await vpcd.control(0x01)
    assert await vpcd.atr() == ATR == bytes.fromhex("3B80800101")
    assert card.powered
    assert await vpcd.transmit(select_application().to_bytes()) == bytes.fromhex("9000")
    challenge = await vpcd.transmit(get_challenge().to_bytes())
    assert len(challenge) == 10 and challenge.endswith(b"\x90\x00")
    assert await vpcd.transmit(select_file(LdsFile.DG1.fid).to_bytes()) == bytes.fromhex("6982")
    # Unknown control bytes are ignored; reset starts the chip over; power off is remembered.
    await vpcd.control(0x7F)
    await vpcd.control(0x02)
    assert await vpcd.atr() == ATR
    await vpcd.control(0x00)
    assert await vpcd.atr() == ATR
    assert not card.powered


async def test_bac_and_a_read_over_the_socket(inserted: tuple[VpcdCard, Vpcd, EpassportChip]) -> None:
    _, vpcd, _ = inserted
    await vpcd.control(0x01)
    assert await vpcd.transmit(select_application().to_bytes()) == bytes.fromhex("9000")
    rnd_icc = parse_challenge(ResponseApdu.from_bytes(await vpcd.transmit(get_challenge().to_bytes())))
    auth = MutualAuthentication(keys=BacKeys.from_mrz(DOC.mrz), rnd_icc=rnd_icc, rnd_ifd=bytes(8), k_ifd=bytes(16))
    sm = SecureMessaging(auth.complete(ResponseApdu.from_bytes(await vpcd.transmit(auth.command().to_bytes()))))
    assert sm.unwrap(await vpcd.transmit(sm.wrap(select_file(LdsFile.DG1.fid)))).ok
    dg1 = DOC.file(LdsFile.DG1)
    data = b""
    while len(data) < len(dg1):
        data += sm.unwrap(await vpcd.transmit(sm.wrap(read_binary(len(data), min(0x40, len(dg1) - len(data)))))).data
    assert parse_dg1(data) == DOC.mrz


async def test_messages_split_and_coalesced_arrive_whole(inserted: tuple[VpcdCard, Vpcd, EpassportChip]) -> None:
    _, vpcd, _ = inserted
    stream = frame(b"\x01") + frame(select_application().to_bytes()) + frame(b"\x04")
    for index in range(len(stream)):
        vpcd.writer.write(stream[index : index + 1])
        await vpcd.writer.drain()
    assert await vpcd.receive() == bytes.fromhex("9000")
    assert await vpcd.receive() == ATR
    vpcd.writer.write(frame(b"\x04") * 3)
    assert [await vpcd.receive() for _ in range(3)] == [ATR] * 3


async def test_remove_and_insert_again(
    listener: tuple[Listener, int], inserted: tuple[VpcdCard, Vpcd, EpassportChip]
) -> None:
    listen, _ = listener
    card, vpcd, _ = inserted
    await card.remove()
    assert not card.inserted
    assert await vpcd.at_eof()
    await card.remove()  # idempotent
    await card.insert()
    again = await listen.accept()
    assert await again.atr() == ATR
    await card.insert()  # already in: no second connection
    assert listen.connections.empty()
    again.writer.close()


async def test_chip_removed_mid_read_closes_the_socket(inserted: tuple[VpcdCard, Vpcd, EpassportChip]) -> None:
    card, vpcd, chip = inserted
    chip.faults.remove_after = 1
    assert await vpcd.transmit(select_application().to_bytes()) == bytes.fromhex("9000")
    await vpcd.send(get_challenge().to_bytes())
    assert await vpcd.at_eof()
    async with asyncio.timeout(TIMEOUT):
        await card.wait_removed()
    assert not card.inserted


async def test_zero_length_message_is_a_protocol_error(inserted: tuple[VpcdCard, Vpcd, EpassportChip]) -> None:
    card, vpcd, _ = inserted
    vpcd.writer.write(b"\x00\x00")
    assert await vpcd.at_eof()
    with pytest.raises(VpcdProtocolError):
        await card.wait_removed()


async def test_insert_without_vpcd_is_refused(listener: tuple[Listener, int]) -> None:
    listen, port = listener
    assert listen.server is not None
    listen.server.close()
    await listen.server.wait_closed()
    with pytest.raises(ConnectionRefusedError):
        await VpcdCard(EpassportChip(DOC), port=port).insert()


async def test_quickack_keeps_apdus_off_the_delayed_ack_timer(inserted: tuple[VpcdCard, Vpcd, EpassportChip]) -> None:
    # vpcd's two writes per message meet our delayed ACK without QUICKACK: about 40 ms per APDU.
    _, vpcd, _ = inserted
    apdu = select_application().to_bytes()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        assert await vpcd.transmit(apdu) == bytes.fromhex("9000")
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.02
