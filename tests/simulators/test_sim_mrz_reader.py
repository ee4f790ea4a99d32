"""An MRZ reader on a real pseudo-terminal (and a TCP port), decoded by the reader-side codec."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from support.pty_devices import PtyDevices

from hallgw_protocols.icao9303 import MrzCheckError, parse_mrz
from hallgw_protocols.mrz_reader import Framing, MrzEvent, MrzLineCollector, MrzReadError, MrzScan, encode_scan
from hallgw_simulators.faults import FaultError
from hallgw_simulators.links import PtyEndpoint, TcpEndpoint
from hallgw_simulators.mrz_reader_device import FAULTS, MrzReaderDevice, misread
from hallgw_simulators.passport_deck import build_passport_deck

SEED = 99
TIMEOUT = 5.0
DECK = build_passport_deck()


class Host:
    """A pty opened raw like a serial port, bytes fed to the collector with the loop's clock."""

    def __init__(self, path: Path, line_gap: float = 0.3) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.collector = MrzLineCollector(line_gap=line_gap)
        self.raw = bytearray()
        self._events: asyncio.Queue[MrzEvent] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._loop.remove_reader(self.fd)
            return
        self.raw += data
        for event in self.collector.feed(data, self._loop.time()):
            self._events.put_nowait(event)

    def close(self) -> None:
        self._loop.remove_reader(self.fd)
        os.close(self.fd)

    async def event(self, timeout: float = TIMEOUT) -> MrzEvent:
        async with asyncio.timeout(timeout):
            while self._events.empty():
                for event in self.collector.expire(self._loop.time()):
                    self._events.put_nowait(event)
                if self._events.empty():
                    await asyncio.sleep(0.02)
            return self._events.get_nowait()

    async def nothing(self, wait: float = 0.3) -> None:
        await asyncio.sleep(wait)
        assert self._events.empty()
        assert not self.raw


StartReader = Callable[..., Awaitable[MrzReaderDevice]]


@pytest.fixture
def start_reader(pty_devices: PtyDevices) -> StartReader:
    async def start(*, device_id: str = "mrz-01", **settings: Any) -> MrzReaderDevice:
        return await pty_devices.start(MrzReaderDevice, device_id=device_id, seed=SEED, **settings)

    return start


@contextlib.asynccontextmanager
async def open_host(device: MrzReaderDevice, line_gap: float = 0.3) -> AsyncIterator[Host]:
    assert isinstance(device.endpoint, PtyEndpoint)
    host = Host(device.endpoint.path, line_gap)
    try:
        yield host
    finally:
        host.close()


@pytest.mark.parametrize("framing", list(Framing))
async def test_every_deck_document_in_every_framing(start_reader: StartReader, framing: Framing) -> None:
    device = await start_reader(baud=0)
    async with open_host(device) as host:
        for doc_id, doc in DECK.items():
            assert await device.scan(doc_id, framing)
            event = await host.event()
            assert isinstance(event, MrzScan), event
            assert event.lines == doc.mrz.lines
            assert parse_mrz(event.text) == doc.mrz
    assert device.model.scans == len(DECK)
    assert device.responses_out == len(DECK)


async def test_paced_at_9600_baud(start_reader: StartReader) -> None:
    device = await start_reader()
    assert device.baud == 9600
    assert device.link_url.endswith("baud=9600")
    async with open_host(device) as host:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await device.apply_fault("scan", ["td3-uto-1", "crlf"])
        event = await host.event()
        assert isinstance(event, MrzScan)
        # 90 bytes at 10 bits each: about 94 ms on the wire.
        assert loop.time() - started >= 0.08
        assert bytes(host.raw).endswith(b"\r\n")


async def test_scan_of_mrz_text(start_reader: StartReader) -> None:
    device = await start_reader(baud=0, framing=Framing.STX_ETX)
    doc = DECK["td1-uto-card"]
    async with open_host(device) as host:
        await device.apply_fault("scan", ["".join(doc.mrz.lines)])
        event = await host.event()
        assert isinstance(event, MrzScan)
        assert event.lines == doc.mrz.lines
        assert host.raw[:1] == b"\x02"
        assert host.raw[-1:] == b"\x03"
    assert device.describe()["last_document"] == "<text>"


async def test_misread_fails_the_document_number_check(start_reader: StartReader) -> None:
    device = await start_reader(baud=0)
    async with open_host(device) as host:
        for doc_id in ("td3-uto-1", "td1-uto-card", "td3-can-1"):
            await device.apply_fault("misread")
            await device.scan(doc_id)
            event = await host.event()
            assert isinstance(event, MrzScan)
            assert event.lines != DECK[doc_id].mrz.lines
            with pytest.raises(MrzCheckError, match="document"):
                parse_mrz(event.text)
        await device.apply_fault("misread", ["off"])
        await device.scan("td3-uto-1")
        event = await host.event()
        assert isinstance(event, MrzScan)
        assert parse_mrz(event.text) == DECK["td3-uto-1"].mrz


def test_misread_changes_exactly_one_character() -> None:
    for doc in DECK.values():
        changed = misread(doc.mrz.lines)
        diffs = [
            (row, i)
            for row, (a, b) in enumerate(zip(doc.mrz.lines, changed, strict=True))
            for i in range(len(a))
            if a[i] != b[i]
        ]
        assert len(diffs) == 1


@pytest.mark.parametrize("framing", [Framing.CR, Framing.STX_ETX])
async def test_partial_read_then_silence(start_reader: StartReader, framing: Framing) -> None:
    device = await start_reader(baud=0, framing=framing)
    async with open_host(device, line_gap=0.2) as host:
        await device.apply_fault("partial", ["on"])
        await device.scan("td3-nld-jp2")
        event = await host.event()
        assert isinstance(event, MrzReadError)
        assert event.message.startswith("partial read: 1 of 2 lines, then ")
        assert event.message.endswith(" s of silence")
        await device.apply_fault("clear")
        await device.scan("td3-nld-jp2")
        assert isinstance(await host.event(), MrzScan)


async def test_garbage_then_the_read(start_reader: StartReader) -> None:
    device = await start_reader(baud=0)
    async with open_host(device) as host:
        await device.apply_fault("garbage", [40])
        await device.scan("td3-uto-1")
        first = await host.event()
        assert isinstance(first, MrzReadError)
        second = await host.event()
        assert isinstance(second, MrzScan)
        assert second.lines == DECK["td3-uto-1"].mrz.lines
        noise = bytes(host.raw[:40])
    # The same seed gives the same noise.
    other = await start_reader(device_id="mrz-02", baud=0)
    twin = MrzReaderDevice(device_id="mrz-01", seed=SEED, endpoint=other.endpoint, baud=0)
    assert twin._noise(40) == noise


async def test_silence_sends_nothing(start_reader: StartReader) -> None:
    device = await start_reader(baud=0)
    async with open_host(device) as host:
        await device.apply_fault("silence", ["on"])
        assert not await device.scan("td3-uto-1")
        await host.nothing()
        await device.apply_fault("silence", ["off"])
        assert await device.scan("td3-uto-1")
        assert isinstance(await host.event(), MrzScan)


async def test_corrupt_changes_one_read_only(start_reader: StartReader) -> None:
    device = await start_reader(baud=0)
    doc = DECK["td3-uto-1"]
    async with open_host(device, line_gap=0.2) as host:
        await device.apply_fault("corrupt", [1])
        await device.scan("td3-uto-1")
        await asyncio.sleep(0.5)  # past the line gap: whatever the corrupt read left is reported
        while not host._events.empty() or host.collector.busy:
            await host.event(1.0)
        assert device.wire.corrupt == 0
        sent = bytes(host.raw)
        expected = encode_scan(doc.mrz.lines)
        assert len(sent) == len(expected)
        assert sum(a != b for a, b in zip(sent, expected, strict=True)) == 1
        await device.scan("td3-uto-1")
        event = await host.event()
        assert isinstance(event, MrzScan)
        assert event.lines == doc.mrz.lines


async def test_bad_operations(start_reader: StartReader) -> None:
    device = await start_reader(baud=0)
    with pytest.raises(FaultError, match="document id of the passport deck"):
        await device.apply_fault("scan", ["no-such-document"])
    with pytest.raises(FaultError, match="framing is one of"):
        await device.apply_fault("scan", ["td3-uto-1", "tabs"])
    with pytest.raises(FaultError, match="unknown fault"):
        await device.apply_fault("eject")
    await device.apply_fault("framing", ["crlf"])
    described = device.describe()
    assert described["kind"] == "mrz_reader"
    assert described["framing"] == "crlf"
    assert described["faults"] == {
        "misread": False,
        "partial": False,
        "silence": False,
        "corrupt": 0,
        "garbage": 0,
        "delay_ms": 0,
    }
    assert {d["id"] for d in described["documents"]} == set(DECK)
    assert "scan" in FAULTS
    assert "misread" in FAULTS
    text = repr(described)
    assert not any(value in text for value in DECK.sensitive_values())


async def test_unplug_and_replug(start_reader: StartReader) -> None:
    device = await start_reader(baud=0)
    await device.apply_fault("unplug")
    assert not await device.scan("td3-uto-1")
    await device.apply_fault("replug")
    async with open_host(device) as host:
        assert await device.scan("td3-uto-1")
        assert isinstance(await host.event(), MrzScan)


async def test_over_tcp() -> None:
    device = MrzReaderDevice(device_id="mrz-tcp", seed=SEED, endpoint=TcpEndpoint("mrz-tcp"), baud=0)
    await device.start()
    try:
        assert not await device.scan("td3-uto-1")  # nobody attached: the read is lost
        port = device.describe()["port"]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            async with asyncio.timeout(TIMEOUT):
                for _ in range(500):
                    if await device.scan("td3-uto-1"):
                        break
                    await asyncio.sleep(0.01)
                collector = MrzLineCollector()
                events: list[MrzEvent] = []
                while not events:
                    events = collector.feed(await reader.read(4096), 0.0)
            assert isinstance(events[0], MrzScan)
            assert events[0].lines == DECK["td3-uto-1"].mrz.lines
        finally:
            writer.close()
            await writer.wait_closed()
    finally:
        await device.stop()
