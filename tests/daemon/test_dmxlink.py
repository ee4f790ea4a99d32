"""The DMX link against the simulated DMX USB Pro widget on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hallgw_daemon.core.errors import DeviceProtocolError, DeviceTimeoutError, InvalidRequestError, LinkLostError
from hallgw_daemon.drivers import DriverContext, TraceRecord
from hallgw_daemon.drivers.base import Direction, stream_of
from hallgw_daemon.drivers.dmxlink import DmxLink
from hallgw_daemon.transports import open_transport, parse_link_url
from hallgw_simulators.dmx_device import DmxInterfaceDevice
from hallgw_simulators.links import PtyEndpoint

pytestmark = pytest.mark.timeout(30)
WAIT = 3.0


@pytest.fixture
async def widget(tmp_path: Path) -> AsyncIterator[DmxInterfaceDevice]:
    device = DmxInterfaceDevice(
        device_id="dmx-t", seed=3, baud=0, serial_number=20240117, endpoint=PtyEndpoint("dmx-t", tmp_path / "dmx.tty")
    )
    await device.start()
    yield device
    await device.stop()


@pytest.fixture
def faults() -> list[tuple[str, int]]:
    return []


@pytest.fixture
def ctx(faults: list[tuple[str, int]]) -> DriverContext:
    return DriverContext(device_id="dmx-t", command_timeout=0.5, on_link_fault=lambda msg, n: faults.append((msg, n)))


@pytest.fixture
async def link(widget: DmxInterfaceDevice, ctx: DriverContext) -> AsyncIterator[DmxLink]:
    dmx = DmxLink(stream_of(await open_transport(parse_link_url(widget.link_url)), "dmx-t"), ctx)
    yield dmx
    await dmx.close()


async def frames(widget: DmxInterfaceDevice, count: int) -> None:
    async with asyncio.timeout(WAIT):
        await widget.wait_frames(count)


async def test_identify_reports_firmware_serial_and_timing(link: DmxLink) -> None:
    info = await link.identify()
    assert (info.firmware, info.serial) == ("1.44", "20240117")
    assert info.identity() == {
        "firmware": "1.44",
        "serial": "20240117",
        "break_us": "96",
        "mab_us": "11",
        "output_rate": "40",
    }


async def test_levels_reach_the_lights_by_channel_or_in_order(link: DmxLink, widget: DmxInterfaceDevice) -> None:
    await link.send_levels({1: 255, 2: 128, 10: 1})
    await frames(widget, 1)
    assert widget.levels[:10] == bytes([255, 128, 0, 0, 0, 0, 0, 0, 0, 1]) and not any(widget.levels[10:])
    await link.send_levels(list(range(256)) * 2)
    await frames(widget, 2)
    assert widget.levels == bytes(range(256)) * 2
    assert widget.history[-1].start_code == 0


@pytest.mark.parametrize(
    ("levels", "message"),
    [({0: 10}, "numbered from 1"), ({513: 10}, "numbered from 1"), ([256], "0..255"), ([], "1..512 channels")],
)
async def test_bad_levels_are_refused_and_nothing_is_sent(
    link: DmxLink, widget: DmxInterfaceDevice, levels: dict[int, int] | list[int], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message) as info:
        await link.send_levels(levels)
    assert info.value.device_id == "dmx-t"
    await link.send_levels([5])
    await frames(widget, 1)
    assert widget.model.frames_in == 1 and widget.model.level(1) == 5


async def test_identify_starts_the_output_again(link: DmxLink, widget: DmxInterfaceDevice) -> None:
    await link.send_levels({4: 44})
    await link.identify()
    await frames(widget, 2)  # the last universe went out again after Get Serial Number
    assert widget.history[-1].levels[3] == 44


async def test_a_silent_widget_times_out_then_recovers(link: DmxLink, widget: DmxInterfaceDevice) -> None:
    await widget.apply_fault("silence", ["on"])
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeviceTimeoutError, match=r"no answer to GetSerialNumber within 0\.2 s"):
        await link.identify(timeout=0.2)
    assert 0.15 < loop.time() - started < 1.0
    await widget.apply_fault("clear")
    assert (await link.identify()).serial == "20240117"


async def test_a_late_answer_is_dropped_not_taken_for_the_next(
    link: DmxLink, widget: DmxInterfaceDevice, ctx: DriverContext
) -> None:
    dropped = asyncio.Event()
    ctx.taps.add(lambda record: dropped.set() if "unexpected, dropped" in record.summary else None)
    await widget.apply_fault("delay", [300])
    with pytest.raises(DeviceTimeoutError):
        await link.identify(timeout=0.1)
    async with asyncio.timeout(WAIT):
        await dropped.wait()  # the serial number arrived with nobody waiting
    await widget.apply_fault("delay", [0])
    info = await link.identify()
    assert info.serial == "20240117" and str(info.parameters.firmware) == "1.44"


async def test_garbage_is_skipped_and_reported(
    link: DmxLink, widget: DmxInterfaceDevice, faults: list[tuple[str, int]]
) -> None:
    await widget.apply_fault("garbage", [30])
    assert (await link.identify()).firmware == "1.44"
    assert sum(n for _, n in faults) == 30


async def test_a_frame_without_its_end_byte_is_a_protocol_error(link: DmxLink, widget: DmxInterfaceDevice) -> None:
    await widget.apply_fault("corrupt", [1])
    with pytest.raises(DeviceProtocolError, match="no end byte"):
        await link.identify()
    assert (await link.identify()).serial == "20240117"


async def test_unplug_loses_the_link(link: DmxLink, widget: DmxInterfaceDevice) -> None:
    await link.identify()
    await widget.apply_fault("unplug")
    async with asyncio.timeout(WAIT):
        reason = await link.wait_closed()
    assert reason
    with pytest.raises(LinkLostError):
        await link.send_levels([1])
    with pytest.raises(LinkLostError):
        await link.identify()


async def test_traces_and_the_input_port(link: DmxLink, widget: DmxInterfaceDevice, ctx: DriverContext) -> None:
    records: list[TraceRecord] = []
    got_input = asyncio.Event()

    def tap(record: TraceRecord) -> None:
        records.append(record)
        if record.summary.startswith("ReceivedDmx"):
            got_input.set()

    ctx.taps.add(tap)
    await link.send_levels([1, 2, 3])
    await link.identify()
    await widget.apply_fault("dmx_in", [7, 8])
    async with asyncio.timeout(WAIT):
        await got_input.wait()
    assert link.last_input is not None and link.last_input.levels == b"\x07\x08"
    sent = [r.summary for r in records if r.direction is Direction.TO_DEVICE]
    assert sent == ["SendDmx: 3 channels", "GetSerialNumber", "GetWidgetParameters", "SendDmx: 3 channels"]
    assert records[0].data[:5] == bytes.fromhex("7E 06 19 00 00")
    received = [r.summary for r in records if r.direction is Direction.FROM_DEVICE]
    assert received == ["SerialNumber", "WidgetParameters", "ReceivedDmx: 2 levels, status 00"]
