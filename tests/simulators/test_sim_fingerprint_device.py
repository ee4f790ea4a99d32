"""An AS608 module on a real pseudo-terminal, driven by the codec in the host role."""

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
    HandShake,
    ImageAssembler,
    ImageToChar,
    ReadSystemParameters,
    SystemParametersReport,
    TemplateCount,
    TypedCommand,
    UploadImage,
    VerifyPassword,
    quantise,
)
from hallgw_simulators.faults import FaultArg, FaultError
from hallgw_simulators.fingerprint_device import FingerprintModuleDevice
from hallgw_simulators.fingerprint_module import render_finger
from hallgw_simulators.links import PtyEndpoint, TcpEndpoint

SEED = 1234
TIMEOUT = 5.0


class Host:
    """The smallest AS608 host: a pty opened raw like a serial port, the codec in Role.HOST."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        self.codec = As608Connection(Role.HOST)
        self._incoming: asyncio.Queue[bytes] = asyncio.Queue()
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
        self._incoming.put_nowait(data)

    def close(self) -> None:
        self._loop.remove_reader(self.fd)
        os.close(self.fd)

    def send_raw(self, data: bytes) -> None:
        os.write(self.fd, data)  # commands are a few bytes: the tty buffer takes them whole

    async def event(self, timeout: float = TIMEOUT) -> Event:
        """The next packet from the module; a bad one raises RemoteProtocolError."""
        async with asyncio.timeout(timeout):
            while (event := self.codec.next_event()) is NEED_DATA:
                data = await self._incoming.get()
                if not data:
                    raise EOFError("the module hung up")
                self.codec.receive_data(data)
        assert not isinstance(event, type(NEED_DATA))
        return event

    async def command(self, command: TypedCommand, timeout: float = TIMEOUT) -> AnyAcknowledgement:
        self.send_raw(self.codec.send(command))
        event = await self.event(timeout)
        assert isinstance(event, (Acknowledgement, SystemParametersReport))
        return event

    async def upload_image(self, packet_size: int = 128, timeout: float = TIMEOUT) -> GrayImage:
        ack = await self.command(UploadImage(), timeout)
        assert ack.confirmation == Confirmation.OK
        assembler = ImageAssembler(packet_size=packet_size)
        while not assembler.done:
            packet = await self.event(timeout)
            assert isinstance(packet, DataPacket)
            assembler.add(packet)
        return assembler.image()


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


StartModule = Callable[..., Awaitable[FingerprintModuleDevice]]


@pytest.fixture
def start_module(pty_devices: PtyDevices) -> StartModule:
    async def start(*, device_id: str = "fp-07", baud: int = 0, **settings: Any) -> FingerprintModuleDevice:
        return await pty_devices.start(FingerprintModuleDevice, device_id=device_id, seed=SEED, baud=baud, **settings)

    return start


@contextlib.asynccontextmanager
async def open_host(device: FingerprintModuleDevice) -> AsyncIterator[Host]:
    assert isinstance(device.endpoint, PtyEndpoint)
    host = Host(device.endpoint.path)
    try:
        yield host
    finally:
        host.close()


async def test_password_and_system_parameters(start_module: StartModule) -> None:
    device = await start_module(password=0x0BADC0DE, packet_size=64)
    async with open_host(device) as host:
        assert (await host.command(GetImage())).confirmation == Confirmation.PASSWORD_REQUIRED
        assert (await host.command(HandShake())).confirmation == Confirmation.OK
        assert (await host.command(VerifyPassword(password=0))).confirmation == Confirmation.WRONG_PASSWORD
        assert (await host.command(VerifyPassword(password=0x0BADC0DE))).confirmation == Confirmation.OK
        report = await host.command(ReadSystemParameters())
        assert isinstance(report, SystemParametersReport)
        params = report.parameters
        assert params.password_verified and not params.image_valid
        assert (params.packet_size, params.baud, params.library_size) == (64, 57600, 300)
        count = await host.command(TemplateCount())
        assert isinstance(count, Acknowledgement) and count.data == b"\x00\x00"
    assert device.link_url.endswith("?baud=57600")


@pytest.mark.parametrize("packet_size", [128, 32])
async def test_full_capture_uploads_the_quantised_image(start_module: StartModule, packet_size: int) -> None:
    device = await start_module(packet_size=packet_size)
    async with open_host(device) as host:
        assert (await host.command(GetImage())).confirmation == Confirmation.NO_FINGER
        await device.apply_fault("place", ["alice/right-index"])
        assert (await host.command(GetImage())).confirmation == Confirmation.OK
        image = await host.upload_image(packet_size)
        assert (image.width, image.height) == (256, 288)
        assert device.model.image is not None
        assert image.pixels == quantise(device.model.image.pixels)
        assert len(set(image.pixels)) > 8  # a real grey-level image, not a flat one
        assert (await host.command(ImageToChar(buffer_id=1))).confirmation == Confirmation.OK
        assert host.codec.discarded_bytes == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bob/left-thumb", "light"], Confirmation.TOO_FEW_FEATURES),
        (["bob/left-thumb", "moving"], Confirmation.IMAGE_TOO_MESSY),
        (["bob/left-thumb", "good", "0.3"], Confirmation.TOO_FEW_FEATURES),
    ],
)
async def test_poor_captures_upload_but_make_no_features(
    start_module: StartModule, args: list[FaultArg], expected: Confirmation
) -> None:
    device = await start_module()
    async with open_host(device) as host:
        await device.apply_fault("place", args)
        assert (await host.command(GetImage())).confirmation == Confirmation.OK
        image = await host.upload_image()
        assert device.model.image is not None and image.pixels == quantise(device.model.image.pixels)
        assert (await host.command(ImageToChar(buffer_id=1))).confirmation == expected


async def test_lift_early_press_and_sensor_failure(start_module: StartModule) -> None:
    device = await start_module()
    async with open_host(device) as host:
        await device.apply_fault("place", ["carol/right-middle"])
        await device.apply_fault("lift_early")
        assert (await host.command(GetImage())).confirmation == Confirmation.NO_FINGER
        assert (await host.command(GetImage())).confirmation == Confirmation.NO_FINGER  # the finger is gone
        await device.apply_fault("place", ["carol/right-middle", "light"])
        await device.apply_fault("press", ["good"])
        assert (await host.command(GetImage())).confirmation == Confirmation.OK
        assert (await host.command(ImageToChar(buffer_id=1))).confirmation == Confirmation.OK
        await device.apply_fault("sensor_fail")
        assert (await host.command(GetImage())).confirmation == Confirmation.ENROLL_FAILED
        await device.apply_fault("clear")
        assert (await host.command(GetImage())).confirmation == Confirmation.OK
        await device.apply_fault("lift")
        assert (await host.command(GetImage())).confirmation == Confirmation.NO_FINGER


async def test_corrupt_packet_mid_upload_then_a_clean_retry(start_module: StartModule) -> None:
    device = await start_module()
    async with open_host(device) as host:
        await device.apply_fault("place", ["dave/left-index"])
        assert (await host.command(GetImage())).confirmation == Confirmation.OK
        await device.apply_fault("corrupt_upload", [100])
        assert (await host.command(UploadImage())).confirmation == Confirmation.OK
        assembler = ImageAssembler()
        for _ in range(100):
            packet = await host.event()
            assert isinstance(packet, DataPacket)
            assembler.add(packet)
        with pytest.raises(RemoteProtocolError, match="checksum"):
            await host.event()  # packet 100
        # The host drains the rest of this upload, gives it up and asks again.
        while True:
            try:
                packet = await host.event()
            except RemoteProtocolError:
                continue
            if isinstance(packet, DataPacket) and packet.last:
                break
        assert device.upload.corrupt_packet is None
        image = await host.upload_image()
        assert device.model.image is not None and image.pixels == quantise(device.model.image.pixels)


async def test_stalled_upload_never_ends(start_module: StartModule) -> None:
    device = await start_module()
    async with open_host(device) as host:
        await device.apply_fault("place", ["erin/right-thumb"])
        await host.command(GetImage())
        await device.apply_fault("stall_upload", [10])
        with pytest.raises(TimeoutError):
            await host.upload_image(timeout=0.3)
        assert host.codec.state.value == "receiving_data"
        host.codec.abandon()
        image = await host.upload_image()
        assert len(image.pixels) == UART_IMAGE_SIZE * 2


async def test_wire_faults_corrupt_garbage_silence_delay(start_module: StartModule) -> None:
    device = await start_module()
    loop = asyncio.get_running_loop()
    async with open_host(device) as host:
        await device.apply_fault("corrupt", [1])
        host.send_raw(host.codec.send(HandShake()))
        with pytest.raises(RemoteProtocolError, match="checksum"):
            await host.event()
        host.codec.abandon()
        await device.apply_fault("garbage", [300])
        assert (await host.command(HandShake())).confirmation == Confirmation.OK
        assert host.codec.discarded_bytes >= 300
        await device.apply_fault("silence", ["on"])
        with pytest.raises(TimeoutError):
            await host.command(HandShake(), timeout=0.3)
        host.codec.abandon()
        await device.apply_fault("silence", ["off"])
        await device.apply_fault("delay", [150])
        started = loop.time()
        assert (await host.command(HandShake())).confirmation == Confirmation.OK
        assert loop.time() - started >= 0.15


async def test_bad_packet_from_host_answers_receive_error(start_module: StartModule) -> None:
    device = await start_module()
    async with open_host(device) as host:
        wire = bytearray(As608Connection(Role.HOST).send(HandShake()))
        wire[-1] ^= 0xFF
        host.send_raw(bytes(wire))
        host.codec.send(HandShake())  # the host is waiting for an answer to what it sent
        ack = await host.event()
        assert isinstance(ack, Acknowledgement) and ack.confirmation == Confirmation.RECEIVE_ERROR
        assert device.bad_packets_in == 1
        assert (await host.command(HandShake())).confirmation == Confirmation.OK


async def test_unplug_and_replug_keep_the_path(start_module: StartModule) -> None:
    device = await start_module()
    assert isinstance(device.endpoint, PtyEndpoint)
    path = device.endpoint.path
    async with open_host(device) as host:
        assert (await host.command(HandShake())).confirmation == Confirmation.OK
        await device.apply_fault("unplug")
        assert not _exists(path)
        with pytest.raises((EOFError, OSError)):
            await host.command(HandShake())
    await device.apply_fault("replug")
    assert device.describe()["plugged"] is True
    async with open_host(device) as host:
        assert (await host.command(HandShake())).confirmation == Confirmation.OK


async def test_fault_arguments_are_checked(start_module: StartModule) -> None:
    device = await start_module()
    bad: list[tuple[str, list[FaultArg]]] = [
        ("place", []),
        ("place", ["f", "hard"]),
        ("place", ["f", "good", "2"]),
        ("place", ["f", "good", True]),
        ("press", ["good"]),  # no finger yet
        ("corrupt_upload", [-1]),
        ("sensor_fail", ["maybe"]),
        ("lift", ["now"]),
        ("explode", []),
    ]
    for name, args in bad:
        with pytest.raises(FaultError):
            await device.apply_fault(name, args)


async def test_same_seed_same_bytes(start_module: StartModule) -> None:
    async def capture(device_id: str) -> bytes:
        device = await start_module(device_id=device_id)
        async with open_host(device) as host:
            await device.apply_fault("place", ["frank/left-ring"])
            await host.command(GetImage())
            await device.apply_fault("garbage", [64])
            await device.apply_fault("corrupt", [1])
            host.send_raw(host.codec.send(HandShake()))
            raw = b""
            while len(raw) < 64 + 12:  # the garbage, then the corrupted acknowledgement
                raw += await asyncio.wait_for(host._incoming.get(), TIMEOUT)
            host.codec.abandon()
            return (await host.upload_image()).pixels + raw

    # Different device ids, same seed: the print depends on (seed, finger), the noise on the device.
    first = await capture("fp-a")
    render_finger.cache_clear()
    again = await capture("fp-a2")
    assert first[: UART_IMAGE_SIZE * 2] == again[: UART_IMAGE_SIZE * 2]
    assert first[UART_IMAGE_SIZE * 2 :] != again[UART_IMAGE_SIZE * 2 :]
    # The same device id and seed: the same noise and the same flipped byte.
    assert await capture("fp-a") == first


async def test_pacing_at_57600_and_unpaced(start_module: StartModule) -> None:
    loop = asyncio.get_running_loop()
    timings = {}
    for baud in (57600, 0):
        device = await start_module(device_id=f"fp-{baud}", baud=baud)
        async with open_host(device) as host:
            started = loop.time()
            report = await host.command(ReadSystemParameters())  # a 28-byte answer
            timings[baud] = loop.time() - started
            assert isinstance(report, SystemParametersReport)
    assert timings[57600] >= 28 * 10 / 57600 * 0.9  # ~4.9 ms on the wire
    assert timings[0] < timings[57600]


async def test_tcp_endpoint_serves_a_capture() -> None:
    device = FingerprintModuleDevice(device_id="fp-tcp", seed=SEED, baud=0, endpoint=TcpEndpoint("fp-tcp"))
    await device.start()
    try:
        assert isinstance(device.endpoint, TcpEndpoint)
        assert device.link_url == f"tcp://127.0.0.1:{device.endpoint.port}"
        await device.place("grace/right-index")
        reader, writer = await asyncio.open_connection("127.0.0.1", device.endpoint.port)
        codec = As608Connection(Role.HOST)
        try:
            writer.write(codec.send(GetImage()))
            await writer.drain()
            async with asyncio.timeout(TIMEOUT):
                while (event := codec.next_event()) is NEED_DATA:
                    codec.receive_data(await reader.read(65536))
            assert isinstance(event, Acknowledgement) and event.ok
        finally:
            writer.close()
    finally:
        await device.stop()


async def test_touch_timeline_over_the_serial_line(start_module: StartModule) -> None:
    """touch: no finger, then the finger for hold_ms, then lifted, on the loop clock."""
    device = await start_module()
    loop = asyncio.get_running_loop()
    async with open_host(device) as host:
        started = loop.time()
        await device.apply_fault("touch", ["gina/left-middle", "wet", "1.0", "200", "400"])
        assert device.describe()["touch"] == {"id": "gina/left-middle", "contact": "wet", "coverage": 1.0}
        seen: list[tuple[float, int]] = []
        while loop.time() - started < 1.2:
            code = (await host.command(GetImage())).confirmation
            if not seen or seen[-1][1] != code:
                seen.append((loop.time() - started, code))
            if code == Confirmation.OK:
                messy = await host.command(ImageToChar(buffer_id=1))
                assert messy.confirmation == Confirmation.IMAGE_TOO_MESSY
            await asyncio.sleep(0.02)
    assert [code for _, code in seen] == [Confirmation.NO_FINGER, Confirmation.OK, Confirmation.NO_FINGER]
    assert 0.2 <= seen[1][0] < 0.5 and 0.6 <= seen[2][0] < 1.0
    assert device.describe()["touch"] is None
    # A touch still pending when the device stops is cancelled with it.
    await device.apply_fault("touch", ["gina/left-middle", "good", "1.0", "50", "50"])
    await device.stop()
    await asyncio.sleep(0.15)
    assert device.model.finger is None and device.describe()["touch"] is None
