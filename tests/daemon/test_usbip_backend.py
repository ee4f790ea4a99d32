"""The USB/IP pyusb backend against the simulators' USB/IP server, through the real pyusb API.

The server runs in the test's event loop on a free 127.0.0.1 port; pyusb runs
in a thread (``asyncio.to_thread``), as in the daemon.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
import usb.core
import usb.util

from hallgw_daemon.transports.usbip_backend import (
    UsbIpBackend,
    UsbUrl,
    find_device,
    parse_usb_url,
)
from hallgw_simulators.usbip_server import EchoBehaviour, UsbIpServer, VirtualUsbDevice

VID, PID = 0x2109, 0x7638
_T = TypeVar("_T")


def scanner(serial: str = "FP0001", behaviour: EchoBehaviour | None = None) -> VirtualUsbDevice:
    return VirtualUsbDevice(
        vendor_id=VID,
        product_id=PID,
        serial_number=serial,
        behaviour=behaviour or EchoBehaviour(),
        manufacturer="Hall Sim",
        product="Sim FP",
    )


@pytest.fixture
async def server() -> AsyncIterator[UsbIpServer]:
    async with UsbIpServer(port=0) as srv:
        yield srv


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("usbip-")]


@pytest.fixture(autouse=True)
def no_reader_thread_left() -> Iterator[None]:
    """Every import's reader thread ends with the test: released, unplugged or closed."""
    yield
    gc.collect()
    for thread in reader_threads():
        thread.join(timeout=3.0)
    assert reader_threads() == []


@pytest.fixture
def backend(server: UsbIpServer) -> Iterator[UsbIpBackend]:
    be = UsbIpBackend("127.0.0.1", server.port, unlink_timeout=1.0)
    yield be
    be.close()


async def in_thread(fn: Callable[[], _T], timeout: float = 10.0) -> _T:
    async with asyncio.timeout(timeout):
        return await asyncio.to_thread(fn)


def find(backend: UsbIpBackend) -> Any:
    return usb.core.find(idVendor=VID, idProduct=PID, backend=backend)


async def test_find_read_strings_and_echo(server: UsbIpServer, backend: UsbIpBackend) -> None:
    server.plug(scanner())

    def run() -> None:
        dev = find(backend)
        assert dev is not None
        assert (dev.idVendor, dev.idProduct, dev.bus, dev.address) == (VID, PID, 1, 2)
        assert dev.speed == usb.util.SPEED_FULL
        assert usb.util.get_string(dev, dev.iSerialNumber) == "FP0001"
        assert (dev.manufacturer, dev.product, dev.serial_number) == ("Hall Sim", "Sim FP", "FP0001")
        dev.set_configuration()
        assert dev.get_active_configuration().bConfigurationValue == 1
        packet = bytes.fromhex("EF 01 FF FF FF FF 01 00 03 01 00 05")
        assert dev.write(0x01, packet, timeout=2000) == 12
        assert bytes(dev.read(0x81, 64, timeout=2000)) == packet
        # A second find returns the imported device again, not a second import.
        again = find(backend)
        assert again is not None and again.address == dev.address
        usb.util.dispose_resources(dev)

    await in_thread(run)


async def test_str_of_device_completes(server: UsbIpServer, backend: UsbIpBackend) -> None:
    """str(dev) walks every alternate setting until IndexError: it must end, and quickly."""
    server.plug(scanner())

    def run() -> str:
        dev = find(backend)
        return str(dev)

    text = await in_thread(run, timeout=10.0)
    assert "DEVICE ID 2109:7638 on Bus 001 Address 002" in text
    assert "FP0001" in text and "INTERFACE 0: Vendor Specific" in text
    assert text.count("ENDPOINT 0x81: Bulk IN") == 1 and text.count("ENDPOINT 0x1: Bulk OUT") == 1


async def test_descriptor_indexes_out_of_range_raise_index_error(server: UsbIpServer, backend: UsbIpBackend) -> None:
    server.plug(scanner())

    def run() -> None:
        dev = find(backend)
        raw = dev._ctx.dev
        for call in (
            lambda: backend.get_configuration_descriptor(raw, 1),
            lambda: backend.get_configuration_descriptor(raw, -1),
            lambda: backend.get_interface_descriptor(raw, 1, 0, 0),
            lambda: backend.get_interface_descriptor(raw, 0, 1, 0),
            lambda: backend.get_endpoint_descriptor(raw, 2, 0, 0, 0),
            lambda: backend.get_endpoint_descriptor(raw, 0, 0, 0, 3),
        ):
            with pytest.raises(IndexError):
                call()
        assert backend.get_endpoint_descriptor(raw, 1, 0, 0, 0).bEndpointAddress == 0x01

    await in_thread(run)


async def test_bulk_read_timeout_unlinks(server: UsbIpServer, backend: UsbIpBackend) -> None:
    behaviour = EchoBehaviour()
    server.plug(scanner(behaviour=behaviour))

    def run() -> float:
        dev = find(backend)
        dev.set_configuration()
        started = time.monotonic()
        with pytest.raises(usb.core.USBTimeoutError) as info:
            dev.read(0x81, 64, timeout=200)
        elapsed = time.monotonic() - started
        assert info.value.errno == errno.ETIMEDOUT and info.value.backend_error_code == -7
        # The unlinked read took nothing: what is written now comes back whole.
        dev.write(0x01, b"late", timeout=1000)
        assert bytes(dev.read(0x81, 64, timeout=1000)) == b"late"
        return elapsed

    elapsed = await in_thread(run)
    assert 0.15 < elapsed < 2.0


async def test_unplug_mid_read_is_enodev_and_replug_is_found_again(server: UsbIpServer, backend: UsbIpBackend) -> None:
    busid = server.plug(scanner(serial="FP0001"))
    reading = threading.Event()

    def read_until_unplugged() -> Any:
        dev = find(backend)
        dev.set_configuration()
        reading.set()
        with pytest.raises(usb.core.USBError) as info:
            dev.read(0x81, 64, timeout=5000)
        assert info.value.errno == errno.ENODEV and info.value.backend_error_code == -4
        with pytest.raises(usb.core.USBError) as later:
            dev.write(0x01, b"x", timeout=1000)
        assert later.value.errno == errno.ENODEV
        return dev

    task = asyncio.create_task(in_thread(read_until_unplugged))
    async with asyncio.timeout(5):
        while not reading.is_set():  # noqa: ASYNC110 - a thread sets it
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # the read is pending on the server now
    server.unplug(busid)
    old = await task
    assert await in_thread(lambda: find(backend)) is None  # gone from the bus

    new_busid = server.plug(scanner(serial="FP0001"), busid="1-3")

    def find_again() -> tuple[int, str]:
        usb.util.dispose_resources(old)
        dev = find_device(backend, vendor_id=VID, product_id=PID, serial="FP0001")
        assert dev is not None
        dev.set_configuration()
        dev.write(0x01, b"back", timeout=1000)
        assert bytes(dev.read(0x81, 64, timeout=1000)) == b"back"
        assert find_device(backend, vendor_id=VID, product_id=PID, serial="OTHER") is None
        return dev.address, dev.serial_number

    address, serial = await in_thread(find_again)
    assert (new_busid, serial) == ("1-3", "FP0001")
    assert address != old.address


async def test_server_gone_is_an_empty_bus_and_a_busy_device_is_skipped(server: UsbIpServer) -> None:
    busid = server.plug(scanner())
    first = UsbIpBackend("127.0.0.1", server.port, busid=busid)
    second = UsbIpBackend("127.0.0.1", server.port, busid=busid)
    try:
        held = await in_thread(lambda: find(first))
        assert held is not None
        assert await in_thread(lambda: find(second)) is None  # imported by the first: not listed, not importable
    finally:
        first.close()
        second.close()
    port = server.port
    await server.close()
    lonely = UsbIpBackend("127.0.0.1", port, connect_timeout=1.0)
    assert await in_thread(lambda: find(lonely)) is None


async def test_control_transfers_clear_halt_and_reset(server: UsbIpServer, backend: UsbIpBackend) -> None:
    server.plug(scanner())

    def run() -> None:
        dev = find(backend)
        dev.set_configuration()
        status = dev.ctrl_transfer(0x82, 0x00, 0, 0x81, 2)
        assert bytes(status) == b"\x00\x00"
        with pytest.raises(usb.core.USBError) as info:
            dev.ctrl_transfer(0xC0, 0x33, 0, 0, 4)  # a vendor request the device does not know: stall
        assert info.value.errno == errno.EPIPE
        dev.clear_halt(0x81)
        dev.set_interface_altsetting(0, 0)
        dev.reset()
        dev.write(0x01, b"after reset", timeout=1000)  # still configured, as libusb restores it
        assert bytes(dev.read(0x81, 64, timeout=1000)) == b"after reset"
        assert dev.is_kernel_driver_active(0) is False

    await in_thread(run)


async def test_large_transfer_in_max_packet_chunks(server: UsbIpServer, backend: UsbIpBackend) -> None:
    """A 36,864-byte image (256 x 288 at 4 bits) written at once and read back in 64-byte packets, then whole."""
    server.plug(scanner())
    image = bytes((i * 7) % 256 for i in range(36_864))

    def run() -> tuple[float, float]:
        dev = find(backend)
        dev.set_configuration()
        packet = dev[0][(0, 0)][0].wMaxPacketSize
        assert packet == 64
        started = time.perf_counter()
        assert dev.write(0x01, image, timeout=5000) == len(image)
        got = bytearray()
        while len(got) < len(image):
            chunk = dev.read(0x81, packet, timeout=2000)
            assert 0 < len(chunk) <= packet
            got += chunk
        chunked = time.perf_counter() - started
        assert bytes(got) == image
        started = time.perf_counter()
        rounds = 20
        for _ in range(rounds):
            dev.write(0x01, image, timeout=5000)
            whole = bytearray()
            while len(whole) < len(image):
                whole += dev.read(0x81, len(image) - len(whole), timeout=5000)
            assert bytes(whole) == image
        bulk = (time.perf_counter() - started) / rounds
        return chunked, bulk

    chunked, bulk = await in_thread(run, timeout=60.0)
    kib = len(image) / 1024
    print(
        f"\nUSB/IP loopback: 36 KiB in {len(image) // 64} max-packet reads: {chunked * 1000:.0f} ms "
        f"({kib / chunked:.0f} KiB/s); whole-transfer write+read: {bulk * 1000:.1f} ms ({2 * kib / bulk:.0f} KiB/s)"
    )
    assert chunked < 30.0  # generous: a shared 2-core machine


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("usbip://thin-client:3240/1-1", UsbUrl("usbip", host="thin-client", port=3240, busid="1-1")),
        ("usbip://10.0.0.7/3-2.4", UsbUrl("usbip", host="10.0.0.7", busid="3-2.4")),
        ("usbip://[::1]:4000", UsbUrl("usbip", host="::1", port=4000)),
        (
            "usbip://tc:3240?vid=2109&pid=7638&serial=FP0001",
            UsbUrl("usbip", host="tc", vendor_id=0x2109, product_id=0x7638, serial="FP0001"),
        ),
        ("usb://2109:7638", UsbUrl("usb", vendor_id=0x2109, product_id=0x7638)),
        ("usb://2109:76aB?serial=S-1", UsbUrl("usb", vendor_id=0x2109, product_id=0x76AB, serial="S-1")),
    ],
)
def test_parse_usb_url(url: str, expected: UsbUrl) -> None:
    assert parse_usb_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("serial:///dev/ttyUSB0", "expected a usbip://HOST:PORT/BUSID or usb://VID:PID URL"),
        ("usbip:///1-1", "expected usbip://HOST"),
        ("usbip://host:99999/1-1", "expected a port number"),
        ("usbip://host/1-1/extra", "expected a busid"),
        ("usbip://host/1-1?vid=2109", "both vid and pid"),
        ("usbip://host/1-1?colour=red", "expected query keys among vid, pid, serial"),
        ("usb://2109", "expected usb://VID:PID"),
        ("usb://21090:7638", "expected VID as 4 hex digits"),
        ("usb://2109:zzzz", "expected PID as 4 hex digits"),
        ("usb://2109:7638/x", "nothing after it"),
        ("usb://2109:7638?vid=1", "expected query keys among serial"),
    ],
)
def test_parse_usb_url_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_usb_url(url)


def test_backend_from_url() -> None:
    backend = UsbIpBackend.from_url("usbip://127.0.0.1:3999/1-2")
    assert (backend.host, backend.port, backend.busid) == ("127.0.0.1", 3999, "1-2")
    with pytest.raises(ValueError, match="expected a usbip:// URL"):
        UsbIpBackend.from_url("usb://2109:7638")
