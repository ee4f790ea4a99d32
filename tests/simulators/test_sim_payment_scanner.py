"""The payment scanner simulator on a real pseudo-terminal, read through pyserial-asyncio by the host codec."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import serial_asyncio
from support.pty_devices import PtyDevices

from hallgw_protocols.payment_scanner import (
    CodeScan,
    Framing,
    PaymentScheme,
    ScanError,
    ScanEvent,
    ScanLineCollector,
    classify,
    encode_scan,
)
from hallgw_simulators.faults import FaultError
from hallgw_simulators.links import PtyEndpoint
from hallgw_simulators.payment_scanner_device import CODE_KINDS, FAULTS, PaymentScannerDevice

pytestmark = pytest.mark.timeout(60)
SEED = 77
TIMEOUT = 5.0
WECHAT = "134567890123456789"  # shaped like a WeChat Pay code, issued by no one


class Host:
    """A host reading the pty as a serial port (pyserial-asyncio), fed to the line codec with the loop's clock."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, framing: Framing) -> None:
        self.reader = reader
        self.writer = writer
        self.collector = ScanLineCollector(framing, timeout=0.2)
        self.raw = bytearray()
        self._pending: list[ScanEvent] = []

    async def event(self, timeout: float = TIMEOUT) -> ScanEvent:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while not self._pending:
                try:
                    async with asyncio.timeout(0.05):
                        data = await self.reader.read(4096)
                except TimeoutError:
                    self._pending += self.collector.expire(loop.time())
                    continue
                if not data:
                    raise EOFError
                self.raw += data
                self._pending += self.collector.feed(data, loop.time())
            return self._pending.pop(0)

    async def nothing(self, wait: float = 0.3) -> None:
        with pytest.raises(TimeoutError):
            await self.event(wait)
        assert not self.raw

    def close(self) -> None:
        self.writer.close()


StartScanner = Callable[..., Awaitable[PaymentScannerDevice]]


@pytest.fixture
def start_scanner(pty_devices: PtyDevices) -> StartScanner:
    async def start(*, device_id: str = "pay-01", **settings: Any) -> PaymentScannerDevice:
        settings.setdefault("baud", 0)
        return await pty_devices.start(PaymentScannerDevice, device_id=device_id, seed=SEED, **settings)

    return start


@contextlib.asynccontextmanager
async def open_host(device: PaymentScannerDevice, framing: Framing | None = None) -> AsyncIterator[Host]:
    assert isinstance(device.endpoint, PtyEndpoint)
    reader, writer = await serial_asyncio.open_serial_connection(url=str(device.endpoint.path), baudrate=9600)
    host = Host(reader, writer, framing or Framing())
    try:
        yield host
    finally:
        host.close()


async def test_every_code_kind_is_read_with_its_scheme(start_scanner: StartScanner) -> None:
    device = await start_scanner()
    async with open_host(device) as host:
        for kind, scheme in CODE_KINDS.items():
            for _ in range(5):
                assert await device.scan(kind)
                event = await host.event()
                assert isinstance(event, CodeScan), event
                assert classify(event.text) is scheme
                assert event.text.isdigit()
                assert device.model.last_kind == kind
    assert device.model.scans == 5 * len(CODE_KINDS)
    assert device.responses_out == 5 * len(CODE_KINDS)


async def test_codes_come_from_the_seed(start_scanner: StartScanner) -> None:
    first = await start_scanner(device_id="pay-a")
    again = await start_scanner(device_id="pay-b")
    twin = PaymentScannerDevice(device_id="pay-a", seed=SEED, endpoint=again.endpoint)
    other = PaymentScannerDevice(device_id="pay-a", seed=SEED + 1, endpoint=again.endpoint)
    kinds = ["wechat", "alipay", "unionpay", "invalid"] * 3
    ours = [first.model.generate(kind) for kind in kinds]
    assert [twin.model.generate(kind) for kind in kinds] == ours
    assert [other.model.generate(kind) for kind in kinds] != ours
    assert len(set(ours)) == len(ours)
    alipay_lengths = {len(first.model.generate("alipay")) for _ in range(200)}
    assert min(alipay_lengths) == 16 and max(alipay_lengths) == 24


@pytest.mark.parametrize(
    ("settings", "wire"),
    [
        ({}, WECHAT.encode() + b"\r"),
        ({"terminator": "crlf"}, WECHAT.encode() + b"\r\n"),
        ({"terminator": "lf"}, WECHAT.encode() + b"\n"),
        ({"stx_etx": True}, b"\x02" + WECHAT.encode() + b"\x03\r"),
        ({"prefix": "]Q1", "suffix": "#", "terminator": "crlf"}, b"]Q1" + WECHAT.encode() + b"#\r\n"),
    ],
)
async def test_framing_on_the_wire(start_scanner: StartScanner, settings: dict[str, Any], wire: bytes) -> None:
    device = await start_scanner(**settings)
    framing = Framing(prefix=settings.get("prefix", ""), suffix=settings.get("suffix", ""))
    async with open_host(device, framing) as host:
        await device.apply_fault("scan", [WECHAT])
        event = await host.event()
        assert event == CodeScan(text=WECHAT)
        assert bytes(host.raw) == wire
    assert device.model.last_kind == "text"


async def test_paced_at_9600_baud(start_scanner: StartScanner) -> None:
    device = await start_scanner(baud=9600, terminator="crlf")
    assert device.link_url.endswith("baud=9600")
    code = "A" * 100
    async with open_host(device) as host:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await device.scan(code)
        assert await host.event() == CodeScan(text=code)
        # 102 bytes at 10 bits each: about 106 ms on the wire.
        assert loop.time() - started >= 0.09


async def test_partial_scan_expires_at_the_host(start_scanner: StartScanner) -> None:
    device = await start_scanner(stx_etx=True)
    async with open_host(device) as host:
        await device.apply_fault("partial")
        await device.scan("alipay")
        event = await host.event()
        assert isinstance(event, ScanError)
        assert event.message.startswith("partial scan: ")
        assert not host.raw.endswith(b"\r")
        await device.apply_fault("clear")
        await device.scan("alipay")
        event = await host.event()
        assert isinstance(event, CodeScan)
        assert classify(event.text) is PaymentScheme.ALIPAY


async def test_garbage_then_the_code(start_scanner: StartScanner) -> None:
    device = await start_scanner()
    async with open_host(device) as host:
        await device.apply_fault("garbage", [3])
        await device.scan(WECHAT)
        first = await host.event()
        assert isinstance(first, ScanError)
        assert "printable ASCII" in first.message
        assert await host.event() == CodeScan(text=WECHAT)
        noise = bytes(host.raw[:3])
    assert bytes(host.raw[3:]) == b"\r" + WECHAT.encode() + b"\r"
    twin = PaymentScannerDevice(device_id="pay-01", seed=SEED, endpoint=device.endpoint)
    assert twin._noise(3) == noise


async def test_silence_sends_nothing(start_scanner: StartScanner) -> None:
    device = await start_scanner()
    async with open_host(device) as host:
        await device.apply_fault("silence", ["on"])
        assert not await device.scan("wechat")
        await host.nothing()
        await device.apply_fault("silence", ["off"])
        assert await device.scan(WECHAT)
        assert await host.event() == CodeScan(text=WECHAT)


async def test_corrupt_changes_one_byte_of_one_scan(start_scanner: StartScanner) -> None:
    device = await start_scanner(terminator="crlf")
    async with open_host(device) as host:
        await device.apply_fault("corrupt", [1])
        await device.scan(WECHAT)
        with contextlib.suppress(TimeoutError):
            while True:  # whatever the corrupt frame gives, until the line is quiet
                assert await host.event(0.5) != CodeScan(text=WECHAT)
        sent = bytes(host.raw)
        expected = encode_scan(WECHAT, framing=Framing(terminator="crlf"))
        assert len(sent) == len(expected)
        assert sum(a != b for a, b in zip(sent, expected, strict=True)) == 1
        assert device.wire.corrupt == 0
        await device.scan(WECHAT)
        assert await host.event() == CodeScan(text=WECHAT)


async def test_delay_holds_the_scan_back(start_scanner: StartScanner) -> None:
    device = await start_scanner()
    async with open_host(device) as host:
        await device.apply_fault("delay", [200])
        loop = asyncio.get_running_loop()
        started = loop.time()
        sending = asyncio.create_task(device.scan(WECHAT))
        assert await host.event() == CodeScan(text=WECHAT)
        assert loop.time() - started >= 0.19
        assert await sending


async def test_unplug_and_replug(start_scanner: StartScanner) -> None:
    device = await start_scanner()
    await device.apply_fault("unplug")
    assert not device.endpoint.plugged
    assert not await device.scan("wechat")
    await device.apply_fault("replug")
    async with open_host(device) as host:
        assert await device.scan(WECHAT)
        assert await host.event() == CodeScan(text=WECHAT)


async def test_bad_operations_never_quote_a_code(start_scanner: StartScanner) -> None:
    device = await start_scanner(prefix="P:")
    bad_text = "13456789012345678\x07"
    with pytest.raises(FaultError, match="code kind") as caught:
        await device.apply_fault("scan", [bad_text])
    assert "1345678" not in str(caught.value)
    with pytest.raises(FaultError, match="at most 126 characters"):
        await device.apply_fault("scan", ["7" * 127])
    with pytest.raises(FaultError, match="one code kind"):
        await device.apply_fault("scan", [])
    with pytest.raises(FaultError, match="a code kind is one of"):
        device.model.generate("visa")
    with pytest.raises(FaultError, match="unknown fault"):
        await device.apply_fault("misread")
    with pytest.raises(ValueError, match="cr, lf or crlf"):
        PaymentScannerDevice(device_id="x", seed=1, endpoint=device.endpoint, terminator="any")
    with pytest.raises(ValueError, match="prefix"):
        PaymentScannerDevice(device_id="x", seed=1, endpoint=device.endpoint, prefix="\r")
    await device.scan(WECHAT)
    await device.apply_fault("partial", ["on"])
    described = device.describe()
    assert described["kind"] == "payment_scanner"
    assert described["baud"] == 0
    assert (described["prefix"], described["suffix"], described["terminator"]) == ("P:", "", "cr")
    assert described["faults"] == {
        "partial": True,
        "silence": False,
        "corrupt": 0,
        "garbage": 0,
        "delay_ms": 0,
    }
    assert WECHAT not in repr(described)
    assert set(FAULTS) == {"scan", "partial", "corrupt", "garbage", "silence", "delay", "unplug", "replug", "clear"}
