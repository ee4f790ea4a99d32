"""The AS608 module on USB, through the real USB/IP server and the daemon's pyusb backend.

The server and the device run in the test's event loop on a free 127.0.0.1
port; pyusb runs in a thread (``asyncio.to_thread``), as in the daemon. The
host side is the AS608 codec in the host role, exactly as over a serial line.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
import usb.core
import usb.util

from hallgw_daemon.transports.usbip_backend import UsbIpBackend, find_device, parse_usb_url
from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.fingerprint.as608 import (
    UART_IMAGE_SIZE,
    Acknowledgement,
    AnyAcknowledgement,
    As608Connection,
    Confirmation,
    DataPacket,
    Event,
    GetImage,
    GrayImage,
    ImageAssembler,
    ImageToChar,
    ReadSystemParameters,
    SystemParametersReport,
    TypedCommand,
    UploadImage,
    quantise,
)
from hallgw_simulators.faults import FaultArg, FaultError
from hallgw_simulators.fingerprint_usb import (
    MAX_PACKET_SIZE,
    PRODUCT_ID,
    VENDOR_ID,
    As608UsbBehaviour,
    FingerprintUsbDevice,
    serial_number_of,
)
from hallgw_simulators.usbip_server import UsbIpServer

SEED = 1234
TIMEOUT_MS = 3000
_T = TypeVar("_T")


class UsbHost:
    """An AS608 host on a pyusb device: commands to bulk OUT 0x01, packets from bulk IN 0x81 (blocking)."""

    def __init__(self, dev: Any) -> None:
        self.dev = dev
        self.codec = As608Connection(Role.HOST)

    def event(self, timeout_ms: int = TIMEOUT_MS, read_size: int = 4096) -> Event:
        """The next packet; a bad one raises RemoteProtocolError, no answer USBTimeoutError."""
        while (event := self.codec.next_event()) is NEED_DATA:
            self.codec.receive_data(bytes(self.dev.read(0x81, read_size, timeout=timeout_ms)))
        assert not isinstance(event, type(NEED_DATA))
        return event

    def command(self, command: TypedCommand, timeout_ms: int = TIMEOUT_MS) -> AnyAcknowledgement:
        packet = self.codec.send(command)
        assert self.dev.write(0x01, packet, timeout=timeout_ms) == len(packet)
        event = self.event(timeout_ms)
        assert isinstance(event, (Acknowledgement, SystemParametersReport))
        return event

    def upload_image(self, timeout_ms: int = TIMEOUT_MS, read_size: int = 4096) -> GrayImage:
        ack = self.command(UploadImage(), timeout_ms)
        assert ack.confirmation == Confirmation.OK
        assembler = ImageAssembler(packet_size=128)
        while not assembler.done:
            packet = self.event(timeout_ms, read_size)
            assert isinstance(packet, DataPacket)
            assembler.add(packet)
        return assembler.image()


@pytest.fixture
async def server() -> AsyncIterator[UsbIpServer]:
    async with UsbIpServer(port=0) as srv:
        yield srv


@pytest.fixture
async def device(server: UsbIpServer) -> AsyncIterator[FingerprintUsbDevice]:
    dev = FingerprintUsbDevice(device_id="fp-03", seed=SEED, server=server, station="window-03")
    await dev.start()
    yield dev
    await dev.stop()


@pytest.fixture(autouse=True)
def no_reader_thread_left() -> Iterator[None]:
    """Every import's reader thread ends with the test."""
    yield
    gc.collect()
    for thread in [t for t in threading.enumerate() if t.name.startswith("usbip-")]:
        thread.join(timeout=3.0)
    assert [t for t in threading.enumerate() if t.name.startswith("usbip-")] == []


@pytest.fixture
def backend(server: UsbIpServer) -> Iterator[UsbIpBackend]:
    be = UsbIpBackend("127.0.0.1", server.port, unlink_timeout=1.0)
    yield be
    be.close()


async def in_thread(fn: Callable[[], _T], timeout: float = 20.0) -> _T:
    async with asyncio.timeout(timeout):
        return await asyncio.to_thread(fn)


def open_module(backend: UsbIpBackend, device: FingerprintUsbDevice) -> UsbHost:
    """Find the module as the daemon does, by the identity in its link URL."""
    url = parse_usb_url(device.link_url)
    dev = find_device(backend, vendor_id=url.vendor_id, product_id=url.product_id, serial=url.serial)
    assert dev is not None
    dev.set_configuration()
    return UsbHost(dev)


def test_link_url_names_the_identity_not_the_busid(device: FingerprintUsbDevice, server: UsbIpServer) -> None:
    url = parse_usb_url(device.link_url)
    assert (url.host, url.port, url.busid) == ("127.0.0.1", server.port, None)
    assert (url.vendor_id, url.product_id, url.serial) == (VENDOR_ID, PRODUCT_ID, "FP-FP-03")
    assert device.link_url == f"usbip://127.0.0.1:{server.port}?vid=2109&pid=7638&serial=FP-FP-03"
    described = device.describe()
    assert (described["kind"], described["transport"], described["busid"]) == ("fingerprint_scanner", "usbip", "1-1")
    assert described["plugged"] and not described["attached"]
    assert serial_number_of("fp-01") == "FP-FP-01"


async def test_commands_over_usb_get_the_serial_answers(device: FingerprintUsbDevice, backend: UsbIpBackend) -> None:
    def identify_and_poll() -> tuple[str, str, AnyAcknowledgement, AnyAcknowledgement]:
        host = open_module(backend, device)
        strings = (host.dev.manufacturer, host.dev.product)
        return (*strings, host.command(GetImage()), host.command(ReadSystemParameters()))

    manufacturer, product, no_finger, report = await in_thread(identify_and_poll)
    assert (manufacturer, product) == ("hallgw simulators", "AS608 fingerprint module")
    assert no_finger.confirmation == Confirmation.NO_FINGER
    assert isinstance(report, SystemParametersReport)
    assert (report.parameters.packet_size, report.parameters.library_size) == (128, 300)
    assert device.describe()["attached"]

    await device.apply_fault("place", ["alice/right-index", "good", "0.9"])

    def capture() -> tuple[AnyAcknowledgement, AnyAcknowledgement, GrayImage]:
        host = open_module(backend, device)  # the same import: found again by identity
        got = host.command(GetImage())
        features = host.command(ImageToChar(buffer_id=1))
        return got, features, host.upload_image()

    got, features, image = await in_thread(capture)
    assert got.confirmation == Confirmation.OK and features.confirmation == Confirmation.OK
    assert device.model.image is not None and image.pixels == quantise(device.model.image.pixels)
    assert len(image.pixels) == UART_IMAGE_SIZE * 2


async def test_bulk_in_comes_in_max_packet_size_packets(device: FingerprintUsbDevice, backend: UsbIpBackend) -> None:
    """Reads of one USB packet at a time get the same packets as big reads: the host reassembles them."""
    await device.apply_fault("place", ["bob/left-thumb"])

    def small_reads() -> tuple[list[int], GrayImage]:
        host = open_module(backend, device)
        assert host.command(GetImage()).confirmation == Confirmation.OK
        sizes: list[int] = []
        raw_read = host.dev.read

        def read(endpoint: int, size: int, timeout: int) -> Any:
            data = raw_read(endpoint, size, timeout=timeout)
            sizes.append(len(data))
            return data

        host.dev.read = read
        return sizes, host.upload_image(read_size=MAX_PACKET_SIZE)

    sizes, image = await in_thread(small_reads)
    # The acknowledgement's read asked for 4096 bytes and got that many: whole packets while they fit.
    assert sizes[0] == 4096
    assert all(size <= MAX_PACKET_SIZE for size in sizes[1:]) and len(sizes) > 500
    assert device.model.image is not None and image.pixels == quantise(device.model.image.pixels)


async def test_unplug_drops_the_host_and_replug_is_found_at_a_new_busid(
    device: FingerprintUsbDevice, server: UsbIpServer, backend: UsbIpBackend
) -> None:
    host = await in_thread(lambda: open_module(backend, device))
    assert device.busid == "1-1" and server.is_attached("1-1")

    await device.apply_fault("unplug")
    assert not device.plugged and server.exported() == {}
    with pytest.raises(usb.core.USBError) as lost:
        await in_thread(lambda: host.command(GetImage()))
    assert lost.value.errno == errno.ENODEV
    await in_thread(lambda: usb.util.dispose_resources(host.dev))

    await device.apply_fault("replug")
    assert device.busid not in (None, "1-1")
    assert list(server.exported()) == [device.busid]
    again = await in_thread(lambda: open_module(backend, device))
    assert (await in_thread(lambda: again.command(GetImage()))).confirmation == Confirmation.NO_FINGER
    assert server.is_attached(device.busid)
    # A replug while plugged moves it again: the host loses it, a new find gets it back.
    first_new = device.busid
    await device.apply_fault("replug")
    assert device.busid not in (None, "1-1", first_new)
    await in_thread(lambda: usb.util.dispose_resources(again.dev))


async def test_touch_timeline_no_finger_then_finger_then_lifted(
    device: FingerprintUsbDevice, backend: UsbIpBackend
) -> None:
    host = await in_thread(lambda: open_module(backend, device))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await device.apply_fault("touch", ["carol/right-index", "good", "1.0", "300", "600"])
    assert device.describe()["touch"] == {"id": "carol/right-index", "contact": "good", "coverage": 1.0}

    seen: list[tuple[float, int]] = []
    while loop.time() - started < 2.0:
        ack = await in_thread(lambda: host.command(GetImage()))
        if not seen or seen[-1][1] != ack.confirmation:
            seen.append((loop.time() - started, ack.confirmation))
        await asyncio.sleep(0.02)
    assert [code for _, code in seen] == [Confirmation.NO_FINGER, Confirmation.OK, Confirmation.NO_FINGER]
    assert 0.3 <= seen[1][0] < 0.9
    assert 0.9 <= seen[2][0] < 1.6
    assert device.describe()["touch"] is None and device.model.finger is None
    await in_thread(lambda: usb.util.dispose_resources(host.dev))


async def test_touch_without_a_delay_and_a_lift_cancels_it(device: FingerprintUsbDevice) -> None:
    await device.apply_fault("touch", ["dave/left-index", "light", "0.6", "0", "60000"])
    assert device.model.finger is not None and device.model.finger.contact.value == "light"
    await device.apply_fault("lift")
    assert device.describe()["touch"] is None and device.model.finger is None
    await asyncio.sleep(0.05)
    assert device.model.finger is None
    for args in (["x", "good", "1.0", "-1"], ["x", "good", "1.0", "10", "0"], [], ["x", "damp"]):
        with pytest.raises(FaultError):
            await device.apply_fault("touch", args)


async def test_upload_faults_over_usb(device: FingerprintUsbDevice, backend: UsbIpBackend) -> None:
    await device.apply_fault("place", ["erin/right-middle"])
    host = await in_thread(lambda: open_module(backend, device))
    await device.apply_fault("corrupt_upload", [5])

    def corrupted() -> int:
        assert host.command(GetImage()).confirmation == Confirmation.OK
        assert host.command(UploadImage()).confirmation == Confirmation.OK
        good = 0
        while True:
            try:
                packet = host.event()
            except RemoteProtocolError:
                break
            assert isinstance(packet, DataPacket)
            good += 1
        # Drain the rest of the upload, then ask again: it comes whole.
        while True:
            try:
                packet = host.event()
            except RemoteProtocolError:
                continue
            assert isinstance(packet, DataPacket)
            if packet.last:
                return good

    assert await in_thread(corrupted) == 5
    image = await in_thread(host.upload_image)
    assert device.model.image is not None and image.pixels == quantise(device.model.image.pixels)

    await device.apply_fault("stall_upload", [10])

    def stalled() -> int:
        assert host.command(UploadImage()).confirmation == Confirmation.OK
        received = 0
        while True:
            try:
                packet = host.event(timeout_ms=300)
            except usb.core.USBTimeoutError:
                break
            assert isinstance(packet, DataPacket)
            received += 1
        host.codec.abandon()
        return received

    assert await in_thread(stalled) == 10
    assert len((await in_thread(host.upload_image)).pixels) == UART_IMAGE_SIZE * 2
    await in_thread(lambda: usb.util.dispose_resources(host.dev))


async def test_silence_holds_bulk_in_and_clear_ends_it(device: FingerprintUsbDevice, backend: UsbIpBackend) -> None:
    host = await in_thread(lambda: open_module(backend, device))
    await device.apply_fault("silence", ["on"])
    with pytest.raises(usb.core.USBTimeoutError):
        await in_thread(lambda: host.command(GetImage(), timeout_ms=300))
    assert device.describe()["faults"]["silence"] is True
    await device.apply_fault("sensor_fail")
    await device.apply_fault("clear")
    assert device.describe()["faults"] == {
        "sensor_failure": False,
        "lift_early": False,
        "corrupt_packet": None,
        "stall_after": None,
        "silence": False,
    }
    # The swallowed command left nothing behind: the next one gets its own answer.
    host.codec.abandon()
    assert (await in_thread(lambda: host.command(GetImage()))).confirmation == Confirmation.NO_FINGER
    await in_thread(lambda: usb.util.dispose_resources(host.dev))


async def test_bulk_in_is_cancel_safe_and_reset_drops_unread_answers(device: FingerprintUsbDevice) -> None:
    behaviour = device.behaviour
    assert isinstance(behaviour, As608UsbBehaviour)
    waiting = asyncio.create_task(behaviour.bulk_in(64))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    codec = As608Connection(Role.HOST)
    behaviour.bulk_out(codec.send(ReadSystemParameters()))
    assert behaviour.pending_bytes > 0
    first = await asyncio.wait_for(behaviour.bulk_in(8), 1.0)
    assert len(first) == 8
    behaviour.reset()
    assert behaviour.pending_bytes == 0


async def test_fault_errors(device: FingerprintUsbDevice) -> None:
    bad: list[tuple[str, list[FaultArg]]] = [
        ("explode", []),
        ("unplug", ["now"]),
        ("silence", []),
        ("corrupt", [1]),
        ("place", []),
    ]
    for name, args in bad:
        with pytest.raises(FaultError):
            await device.apply_fault(name, args)
