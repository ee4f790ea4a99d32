"""A reader on a real pseudo-terminal: transactions, faults, pacing, unplug and replug."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import serial

from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.idcard_sam import PREAMBLE, Command, CommandCode, Status, encode_frame
from hallgw_simulators.deck import Deck
from hallgw_simulators.faults import FaultArg, FaultError
from hallgw_simulators.hostside import SamHost
from hallgw_simulators.idcard_device import IdCardReaderDevice
from hallgw_simulators.links import PtyEndpoint

StartReader = Callable[..., Awaitable[IdCardReaderDevice]]


def _path(device: IdCardReaderDevice) -> Path:
    assert isinstance(device.endpoint, PtyEndpoint)
    return device.endpoint.path


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


@pytest.mark.parametrize("with_fingerprint", [False, True])
async def test_every_card_reads_back_as_its_identity(
    start_reader: StartReader, deck: Deck, with_fingerprint: bool
) -> None:
    device = await start_reader()
    assert _path(device).is_symlink()
    assert os.readlink(_path(device)).startswith("/dev/pts/")
    host = await SamHost.open_pty(_path(device))
    try:
        for card_id, card in deck.items():
            await device.apply_fault("insert", [card_id])
            text, photo, fingerprint = await host.read_card(with_fingerprint=with_fingerprint)
            assert text == card.text, card_id
            assert photo == card.photo
            assert fingerprint == (card.fingerprint if with_fingerprint else b"")
        sam = await host.command(CommandCode.READ_SAM_ID)
        assert sam.data == device.model.sam_id.raw
    finally:
        host.close()


async def test_empty_reader_and_unknown_command(start_reader: StartReader) -> None:
    device = await start_reader()
    host = await SamHost.open_pty(_path(device))
    try:
        assert (await host.command(CommandCode.FIND_CARD)).sw3 == Status.FIND_CARD_FAILED
        assert (await host.exchange(Command(cmd=0x77, para=0x01))).sw3 == Status.COMMAND_ERROR
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
    finally:
        host.close()


async def test_bad_frame_from_host_answers_checksum_error(start_reader: StartReader) -> None:
    device = await start_reader(card="resident-1")
    host = await SamHost.open_pty(_path(device))
    try:
        frame = bytearray(encode_frame(bytes(CommandCode.SAM_STATUS.value)))
        frame[-1] ^= 0xFF
        await host.send_raw(bytes(frame))
        raw = await host.recv_raw()
        assert raw == PREAMBLE + bytes.fromhex("0004 0000 10 14")
        assert device.bad_frames_in == 1
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
    finally:
        host.close()


async def test_corrupt_then_recover(start_reader: StartReader) -> None:
    device = await start_reader(card="resident-1")
    host = await SamHost.open_pty(_path(device))
    try:
        await device.apply_fault("corrupt", [2])
        for _ in range(2):
            with pytest.raises(RemoteProtocolError, match="checksum"):
                await host.command(CommandCode.SAM_STATUS)
        assert device.wire.corrupt == 0
        text, _, _ = await host.read_card()
        assert text == device.model.deck["resident-1"].text
    finally:
        host.close()


async def test_garbage_before_a_response_is_skipped(start_reader: StartReader) -> None:
    device = await start_reader()
    host = await SamHost.open_pty(_path(device))
    try:
        await device.apply_fault("garbage", ["300"])
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        assert host.codec.discarded_bytes == 300
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        assert host.codec.discarded_bytes == 300  # once only
    finally:
        host.close()


async def test_a_flooding_host_is_survived(start_reader: StartReader) -> None:
    device = await start_reader(baud=115200, card="resident-1")
    host = await SamHost.open_pty(_path(device))
    try:
        await host.command(CommandCode.FIND_CARD)
        await host.command(CommandCode.SELECT_CARD)
        # Flood while the reader paces a 112 ms response: it must stop polling the
        # pty (bounded memory) and carry on once the flood has been read.
        read = host.codec.send(Command.of(CommandCode.READ_TEXT_PHOTO))
        noise = bytes(b for b in range(256) if b != 0xAA) * 1200  # ~300 KB, no preamble in it
        await host.send_raw(read + noise)
        assert (await host.response(timeout=10)).sw3 == Status.OK
        assert (await host.command(CommandCode.SAM_STATUS, timeout=10)).sw3 == Status.OK
        assert device.frames_in == 4
    finally:
        host.close()


async def test_silence_swallows_commands(start_reader: StartReader) -> None:
    device = await start_reader(card="resident-1")
    host = await SamHost.open_pty(_path(device))
    try:
        await device.apply_fault("silence", ["on"])
        with pytest.raises(TimeoutError):
            await host.command(CommandCode.FIND_CARD, timeout=0.3)
        host.codec.abandon()
        await device.apply_fault("silence", ["off"])
        # The swallowed find never reached the SAM, so select still fails.
        assert (await host.command(CommandCode.SELECT_CARD)).sw3 == Status.SELECT_CARD_FAILED
        assert device.frames_in == 2
        assert device.responses_out == 1
    finally:
        host.close()


async def test_selftest_fail_and_delay(start_reader: StartReader) -> None:
    device = await start_reader(card="resident-1")
    host = await SamHost.open_pty(_path(device))
    loop = asyncio.get_running_loop()
    try:
        await device.apply_fault("selftest_fail", ["on"])
        assert (await host.command(CommandCode.FIND_CARD)).sw3 == Status.SELF_TEST_FAILED
        await device.apply_fault("selftest_fail", ["off"])
        await device.apply_fault("delay", [150])
        started = loop.time()
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        assert loop.time() - started >= 0.15
        await device.apply_fault("clear")
        started = loop.time()
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        assert loop.time() - started < 0.1
    finally:
        host.close()


async def test_remove_mid_read_and_no_card(start_reader: StartReader) -> None:
    device = await start_reader(card="hmt-1")
    host = await SamHost.open_pty(_path(device))
    try:
        await device.apply_fault("no_card")
        assert (await host.command(CommandCode.FIND_CARD)).sw3 == Status.FIND_CARD_FAILED
        await device.apply_fault("no_card", ["off"])
        assert (await host.command(CommandCode.FIND_CARD)).sw3 == Status.FIND_CARD_OK
        assert (await host.command(CommandCode.SELECT_CARD)).sw3 == Status.OK
        await device.apply_fault("remove_mid_read")
        assert (await host.command(CommandCode.READ_TEXT_PHOTO)).sw3 == Status.READ_FAILED
        assert device.model.card is None
        assert (await host.command(CommandCode.FIND_CARD)).sw3 == Status.FIND_CARD_FAILED
    finally:
        host.close()


async def test_fault_arguments_are_checked(start_reader: StartReader) -> None:
    device = await start_reader()
    bad: list[tuple[str, list[FaultArg]]] = [
        ("corrupt", []),
        ("corrupt", ["x"]),
        ("corrupt", [-1]),
        ("silence", ["maybe"]),
        ("delay", [True]),
        ("insert", ["no-such-card"]),
        ("unplug", ["now"]),
        ("explode", []),
    ]
    for name, args in bad:
        with pytest.raises(FaultError):
            await device.apply_fault(name, args)


async def test_pacing_at_115200_and_unpaced(start_reader: StartReader) -> None:
    loop = asyncio.get_running_loop()
    timings = {}
    for baud in (115200, 0):
        device = await start_reader(device_id=f"idr-{baud}", baud=baud, card="resident-1")
        host = await SamHost.open_pty(_path(device))
        try:
            await host.command(CommandCode.FIND_CARD)
            await host.command(CommandCode.SELECT_CARD)
            started = loop.time()
            response = await host.command(CommandCode.READ_TEXT_PHOTO)
            timings[baud] = loop.time() - started
            assert len(response.to_bytes()) == 1295
        finally:
            host.close()
    assert timings[115200] >= 0.100  # 1295 bytes * 10 bits / 115200 = 112 ms
    assert timings[0] < 0.05


async def test_host_may_close_and_reopen(start_reader: StartReader) -> None:
    device = await start_reader(card="resident-2")
    for _ in range(3):
        host = await SamHost.open_pty(_path(device))
        try:
            assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        finally:
            host.close()


async def test_pyserial_opens_the_symlink(start_reader: StartReader) -> None:
    device = await start_reader(card="resident-1")

    def exchange() -> bytes:
        with serial.Serial(str(_path(device)), 115200, timeout=2) as port:
            port.write(bytes.fromhex("AAAAAA9669000311FFED"))
            return bytes(port.read(11))

    # Twice: the second open proves the port survives a close, as a daemon reconnect needs.
    for _ in range(2):
        assert await asyncio.to_thread(exchange) == bytes.fromhex("AAAAAA9669000400009094")


async def test_unplug_and_replug_keep_the_path(start_reader: StartReader) -> None:
    device = await start_reader(card="fpr2017-1")
    path = _path(device)
    host = await SamHost.open_pty(path)
    try:
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
        await device.apply_fault("unplug")
        assert not _exists(path)
        # The open port sees the hang-up: EOF or EIO, never a hang.
        with pytest.raises((EOFError, OSError)):
            await host.command(CommandCode.SAM_STATUS)
    finally:
        host.close()
    with pytest.raises(FileNotFoundError):
        os.open(path, os.O_RDWR | os.O_NOCTTY)
    await device.apply_fault("unplug")  # idempotent
    await device.apply_fault("replug")
    assert path.is_symlink()
    assert device.describe()["plugged"] is True
    host = await SamHost.open_pty(path)
    try:
        text, _, _ = await host.read_card()
        assert text == device.model.deck["fpr2017-1"].text
    finally:
        host.close()


async def test_stop_removes_the_symlink(start_reader: StartReader) -> None:
    device = await start_reader()
    path = _path(device)
    assert path.is_symlink()
    await device.stop()
    assert not _exists(path)
