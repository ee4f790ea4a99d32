"""A simulated DMX USB Pro widget on a real pseudo-terminal, driven through pyserial-asyncio like a daemon would."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import serial
import serial_asyncio
from support.pty_devices import PtyDevices

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.dmx import (
    DmxConnection,
    Event,
    FirmwareVersion,
    GetSerialNumber,
    GetWidgetParameters,
    ReceivedDmx,
    Request,
    SendDmx,
    SerialNumber,
    SetWidgetParameters,
    WidgetMessage,
    WidgetParameters,
)
from hallgw_simulators.dmx_device import FAULTS, KIND, DmxInterfaceDevice
from hallgw_simulators.faults import FaultArg, FaultError
from hallgw_simulators.links import PtyEndpoint

pytestmark = pytest.mark.timeout(30)
SEED = 5
TIMEOUT = 3.0
StartWidget = Callable[..., Awaitable[DmxInterfaceDevice]]
T = TypeVar("T")


class Host:
    """The host codec over a pty opened by pyserial-asyncio."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.codec = DmxConnection(Role.HOST)
        self.errors: list[RemoteProtocolError] = []

    @classmethod
    async def open(cls, path: Path) -> Host:
        reader, writer = await serial_asyncio.open_serial_connection(url=str(path), baudrate=115200)
        return cls(reader, writer)

    async def send(self, *requests: Request | WidgetMessage) -> None:
        self.writer.write(b"".join(self.codec.send(r) for r in requests))
        await self.writer.drain()

    async def event(self, timeout: float = TIMEOUT) -> Event:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    event = self.codec.next_event()
                except RemoteProtocolError as err:
                    self.errors.append(err)
                    continue
                if event is not NEED_DATA:
                    return event
                data = await self.reader.read(4096)
                if not data:
                    raise EOFError
                self.codec.receive_data(data)

    async def ask(self, request: Request, expected: type[T]) -> T:
        await self.send(request)
        event = await self.event()
        assert isinstance(event, expected), event
        return event

    async def nothing(self, wait: float = 0.3) -> None:
        with pytest.raises(TimeoutError):
            await self.event(timeout=wait)

    def close(self) -> None:
        self.writer.close()


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


@pytest.fixture
def start_widget(pty_devices: PtyDevices) -> StartWidget:
    async def start(*, device_id: str = "dmx-01", **settings: Any) -> DmxInterfaceDevice:
        settings.setdefault("baud", 0)
        return await pty_devices.start(DmxInterfaceDevice, device_id=device_id, seed=SEED, **settings)

    return start


@contextlib.asynccontextmanager
async def open_host(device: DmxInterfaceDevice) -> AsyncIterator[Host]:
    assert isinstance(device.endpoint, PtyEndpoint)
    host = await Host.open(device.endpoint.path)
    try:
        yield host
    finally:
        host.close()


async def frames_taken(device: DmxInterfaceDevice, count: int) -> None:
    """Wait until the widget has taken ``count`` Send DMX frames (it never acknowledges them)."""
    async with asyncio.timeout(TIMEOUT):
        await device.wait_frames(count)


async def test_identity_parameters_and_serial(start_widget: StartWidget) -> None:
    device = await start_widget(serial_number=12345678)
    async with open_host(device) as host:
        params = await host.ask(GetWidgetParameters(), WidgetParameters)
        assert str(params.firmware) == "1.44"
        assert (params.break_time, params.mab_time, params.output_rate, params.user_config) == (9, 1, 40, b"")
        serial_number = await host.ask(GetSerialNumber(), SerialNumber)
        assert serial_number.text == "12345678"
    assert device.kind == KIND == "lighting"
    assert device.responses_out == 2


async def test_the_default_serial_number_comes_from_the_seed(start_widget: StartWidget) -> None:
    first = await start_widget(device_id="dmx-a")
    again = DmxInterfaceDevice(device_id="dmx-a", seed=SEED, endpoint=first.endpoint)
    other = await start_widget(device_id="dmx-b")
    assert first.model.serial_number == again.model.serial_number != other.model.serial_number
    assert 10**7 <= first.model.serial_number < 10**8


async def test_levels_round_trip_with_history(start_widget: StartWidget) -> None:
    device = await start_widget(history=3)
    loop = asyncio.get_running_loop()
    before = loop.time()
    async with open_host(device) as host:
        await host.send(SendDmx.of({1: 255, 5: 128}))
        await frames_taken(device, 1)
        assert device.model.level(1) == 255 and device.model.level(5) == 128
        assert device.levels == bytes([255, 0, 0, 0, 128]) + bytes(507)
        assert device.history[0].levels == bytes([255, 0, 0, 0, 128]) + bytes(19)  # padded to 24 on the wire
        await host.send(*(SendDmx.of([level] * 512) for level in (1, 2, 3, 4)))
        await frames_taken(device, 5)
        await host.nothing(0.1)  # Send DMX is never answered
    assert device.levels == bytes([4]) * 512
    history = device.history
    assert [frame.levels[0] for frame in history] == [2, 3, 4]  # bounded: the oldest went
    times = [frame.time for frame in history]
    assert before <= times[0] <= times[1] <= times[2] <= loop.time()
    assert device.describe()["lit"] == {str(ch): 4 for ch in range(1, 513)}


async def test_a_short_universe_darkens_the_channels_past_its_end(start_widget: StartWidget) -> None:
    device = await start_widget()
    async with open_host(device) as host:
        await host.send(SendDmx.of([9] * 100), SendDmx.of([7, 7]))
        await frames_taken(device, 2)
    assert device.levels == b"\x07\x07" + bytes(510)


async def test_alternate_start_codes_are_kept_but_do_not_set_levels(start_widget: StartWidget) -> None:
    device = await start_widget()
    async with open_host(device) as host:
        await host.send(SendDmx(levels=b"\x01" * 24, start_code=0x17))
        await frames_taken(device, 1)
    assert device.levels == bytes(512)
    assert device.history[0].start_code == 0x17


async def test_set_parameters_then_read_them_back_with_user_config(start_widget: StartWidget) -> None:
    device = await start_widget()
    async with open_host(device) as host:
        await host.send(SetWidgetParameters(break_time=20, mab_time=5, output_rate=0, user_config=b"abc"))
        params = await host.ask(GetWidgetParameters(user_config_size=5), WidgetParameters)
    assert (params.break_time, params.mab_time, params.output_rate) == (20, 5, 0)
    assert params.user_config == b"abc\x00\x00"


async def test_unknown_labels_and_bad_frames_are_skipped(start_widget: StartWidget) -> None:
    device = await start_widget()
    async with open_host(device) as host:
        host.writer.write(bytes.fromhex("7E 06 02 00 00 01 E7") + b"\x00\x01")  # a Send DMX of one level: malformed
        await host.send(WidgetMessage(label=8, payload=b"\x01"))
        assert isinstance(await host.ask(GetSerialNumber(), SerialNumber), SerialNumber)
    assert device.bad_frames_in == 1
    assert device.model.ignored_in == 1


async def test_garbage_before_an_answer_is_skipped_by_the_host(start_widget: StartWidget) -> None:
    device = await start_widget()
    await device.apply_fault("garbage", [40])
    async with open_host(device) as host:
        assert isinstance(await host.ask(GetSerialNumber(), SerialNumber), SerialNumber)
        assert host.codec.discarded_bytes == 40
        assert not host.errors
    assert device.describe()["faults"]["garbage"] == 0  # once


async def test_a_corrupt_answer_loses_its_end_byte(start_widget: StartWidget) -> None:
    device = await start_widget()
    await device.apply_fault("corrupt", [1])
    async with open_host(device) as host:
        await host.send(GetSerialNumber())
        await host.nothing(0.3)
        assert host.errors and "no end byte" in str(host.errors[0])
        assert isinstance(await host.ask(GetSerialNumber(), SerialNumber), SerialNumber)


async def test_silence_swallows_answers_but_the_lights_still_change(start_widget: StartWidget) -> None:
    device = await start_widget()
    await device.apply_fault("silence", ["on"])
    async with open_host(device) as host:
        await host.send(GetWidgetParameters(), SendDmx.of({3: 33}))
        await frames_taken(device, 1)
        await host.nothing()
        assert device.model.level(3) == 33
        await device.apply_fault("clear")
        assert isinstance(await host.ask(GetWidgetParameters(), WidgetParameters), WidgetParameters)


async def test_delay_holds_the_answer_back(start_widget: StartWidget) -> None:
    device = await start_widget()
    await device.apply_fault("delay", [200])
    loop = asyncio.get_running_loop()
    async with open_host(device) as host:
        started = loop.time()
        await host.ask(GetSerialNumber(), SerialNumber)
        assert loop.time() - started >= 0.19


async def test_freeze_keeps_the_output_as_it_was(start_widget: StartWidget) -> None:
    device = await start_widget()
    async with open_host(device) as host:
        await host.send(SendDmx.of({1: 100}))
        await frames_taken(device, 1)
        await device.apply_fault("freeze")
        await host.send(SendDmx.of({1: 200}))
        await frames_taken(device, 2)
        assert device.model.level(1) == 100 and len(device.history) == 1
        await device.apply_fault("freeze", ["off"])
        await host.send(SendDmx.of({1: 201}))
        await frames_taken(device, 3)
    assert device.model.level(1) == 201


async def test_dmx_input_reaches_the_host_unasked(start_widget: StartWidget) -> None:
    device = await start_widget()
    async with open_host(device) as host:
        await device.apply_fault("dmx_in", [10, "20", 255])
        event = await host.event()
    assert event == ReceivedDmx(levels=bytes([10, 20, 255]))


async def test_firmware_fault_changes_the_reported_version(start_widget: StartWidget) -> None:
    device = await start_widget(firmware="1.45")
    async with open_host(device) as host:
        assert (await host.ask(GetWidgetParameters(), WidgetParameters)).firmware == FirmwareVersion(major=1, minor=45)
        await device.apply_fault("firmware", ["2.1"])
        assert str((await host.ask(GetWidgetParameters(), WidgetParameters)).firmware) == "2.1"
    assert device.describe()["firmware"] == "2.1"


async def test_unplug_and_replug(start_widget: StartWidget) -> None:
    device = await start_widget()
    assert isinstance(device.endpoint, PtyEndpoint)
    path = device.endpoint.path
    async with open_host(device) as host:
        await host.ask(GetSerialNumber(), SerialNumber)
        await device.apply_fault("unplug")
        assert not _exists(path)
        # The open port sees the hang-up: EOF or an error, never a hang.
        with pytest.raises((EOFError, OSError, serial.SerialException)):
            await host.event()
    assert device.describe()["plugged"] is False
    await device.apply_fault("replug")
    async with open_host(device) as host:
        await host.ask(GetSerialNumber(), SerialNumber)


async def test_describe_and_bad_fault_arguments(start_widget: StartWidget) -> None:
    device = await start_widget(serial_number=42)
    state = device.describe()
    assert state["kind"] == "lighting" and state["serial_number"] == "00000042"
    assert state["link"].startswith("serial://") and state["link"].endswith("baud=115200")
    assert set(state["faults"]) == {"freeze", "silence", "corrupt", "garbage", "delay_ms"}
    assert FAULTS == (
        "freeze",
        "firmware",
        "dmx_in",
        "corrupt",
        "garbage",
        "silence",
        "delay",
        "unplug",
        "replug",
        "clear",
    )
    bad: list[tuple[str, list[FaultArg]]] = [
        ("firmware", ["one"]),
        ("firmware", []),
        ("dmx_in", []),
        ("dmx_in", [256]),
        ("dmx_in", ["x"]),
        ("freeze", ["maybe"]),
        ("explode", []),
    ]
    for name, args in bad:
        with pytest.raises(FaultError):
            await device.apply_fault(name, args)


def test_constructor_refuses_impossible_settings(tmp_path: Path) -> None:
    endpoint = PtyEndpoint("x", tmp_path / "x.tty")
    with pytest.raises(ValueError, match="eight decimal digits"):
        DmxInterfaceDevice(device_id="x", seed=1, endpoint=endpoint, serial_number=10**8)
    with pytest.raises(ValueError, match="at least one frame"):
        DmxInterfaceDevice(device_id="x", seed=1, endpoint=endpoint, history=0)
