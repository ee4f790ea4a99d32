"""The ticket printer driver against the simulated ESC/POS printer on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hallgw_daemon.core.errors import (
    CoverOpenError,
    DeviceProtocolError,
    DeviceTimeoutError,
    LinkLostError,
    PaperOutError,
    PrinterStoppedError,
)
from hallgw_daemon.core.model import Action, DeviceKind
from hallgw_daemon.drivers import DriverContext, TraceRecord, driver_for
from hallgw_daemon.drivers.ticket_printer import TicketPrinterDriver
from hallgw_daemon.transports import open_transport, parse_link_url
from hallgw_protocols.escpos import Ticket
from hallgw_simulators.links import PtyEndpoint
from hallgw_simulators.ticket_printer_device import TicketPrinterDevice

pytestmark = pytest.mark.timeout(30)
WAIT = 3.0
TICKET = Ticket("A023", "7", "2026-11-27 09:30", "https://hall.example.gov.cn/q/A023", ("请耐心等候：（）",))
Progress = list[tuple[str, str]]


@pytest.fixture
async def printer(tmp_path: Path) -> AsyncIterator[TicketPrinterDevice]:
    # The printer's answers are paced at 9600 baud like the real thing (a pty does not pace the host's bytes).
    device = TicketPrinterDevice(device_id="tp-t", seed=5, endpoint=PtyEndpoint("tp-t", tmp_path / "tp.tty"))
    await device.start()
    yield device
    await device.stop()


@pytest.fixture
def faults() -> list[tuple[str, int]]:
    return []


@pytest.fixture
async def driver(printer: TicketPrinterDevice, faults: list[tuple[str, int]]) -> AsyncIterator[TicketPrinterDriver]:
    ctx = DriverContext(device_id="tp-t", command_timeout=0.5, on_link_fault=lambda msg, n: faults.append((msg, n)))
    drv = TicketPrinterDriver(ctx)
    drv.attach(await open_transport(parse_link_url(printer.link_url)))
    yield drv
    await drv.detach()


async def print_ticket(driver: TicketPrinterDriver) -> Progress:
    events: Progress = []
    await driver.print_ticket(TICKET, progress=lambda stage, message: events.append((stage, message)))
    return events


def test_registered_for_its_kind() -> None:
    assert driver_for(DeviceKind.TICKET_PRINTER) is TicketPrinterDriver


async def test_identify_and_probe(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    assert await driver.identify(timeout=1.0) == {"status": "online"}
    await driver.probe(timeout=1.0)
    assert driver.consumables() == {"paper_near_end": 0, "paper_out": 0}
    await printer.apply_fault("paper_near_end", ["on"])
    await driver.probe(timeout=1.0)
    assert driver.consumables() == {"paper_near_end": 1, "paper_out": 0}
    await printer.apply_fault("cover_open", ["on"])
    assert await driver.identify(timeout=1.0) == {"status": "offline"}
    await driver.probe(timeout=1.0)  # reachable: an open cover is no probe failure
    assert driver.last_status is not None and driver.last_status.cover_open


async def test_a_ticket_is_printed_and_read_back(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    events: Progress = []
    result = await driver.print_ticket(TICKET, progress=lambda stage, message: events.append((stage, message)))
    assert events == [("PRINTING", "printing the ticket"), ("PRINTED", "take your ticket")]
    assert result.status.ready and not result.paper_near_end
    assert result.bytes_sent > 100 and result.seconds > 6 * 10 / 9600  # six answers, paced at 9600 baud
    assert printer.model.printed == 1
    ticket = printer.tickets[-1]
    assert ticket.lines == ("排队号", "A023", "窗口：7", "取号时间：2026-11-27 09:30", "请耐心等候：（）")
    assert ticket.qr == ("https://hall.example.gov.cn/q/A023",) and ticket.cut
    assert printer.status_requests == 6


async def test_paper_out_before_printing_sends_nothing(
    driver: TicketPrinterDriver, printer: TicketPrinterDevice
) -> None:
    await printer.apply_fault("paper_out", ["on"])
    events: Progress = []
    with pytest.raises(PaperOutError) as info:
        await driver.print_ticket(TICKET, progress=lambda stage, message: events.append((stage, message)))
    assert info.value.action is Action.STAFF and info.value.details["printed"] == "none"
    assert events == [] and printer.model.discarded == 0  # no ticket bytes went out
    await printer.apply_fault("paper_out", ["off"])
    await print_ticket(driver)
    assert printer.model.printed == 1


async def test_paper_runs_out_during_the_ticket(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    await printer.apply_fault("runout", [3])
    events: Progress = []
    with pytest.raises(PaperOutError) as info:
        await driver.print_ticket(TICKET, progress=lambda stage, message: events.append((stage, message)))
    assert info.value.details["printed"] == "partial" and "again" in info.value.message
    assert events == [("PRINTING", "printing the ticket")]
    torn = printer.tickets[-1]
    assert torn.lines == ("排队号", "A023", "窗口：7") and not torn.cut


async def test_cover_open(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    await printer.apply_fault("cover_open", ["on"])
    with pytest.raises(CoverOpenError) as info:
        await print_ticket(driver)
    assert info.value.reason == "COVER_OPEN" and info.value.details["status"] == "cover open"
    assert printer.model.printed == 0


async def test_an_offline_printer_is_stopped(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    await printer.apply_fault("offline", ["on"])
    with pytest.raises(PrinterStoppedError, match="error"):
        await print_ticket(driver)


async def test_a_silent_printer_times_out(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    await printer.apply_fault("silence", ["on"])
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeviceTimeoutError, match="DLE EOT 1"):
        await driver.probe(timeout=0.3)
    assert 0.25 < loop.time() - started < 1.5
    with pytest.raises(DeviceTimeoutError):
        await print_ticket(driver)
    await printer.apply_fault("silence", ["off"])
    assert await driver.identify(timeout=1.0) == {"status": "online"}  # nothing late is taken for this answer


async def test_noise_is_skipped_and_a_corrupt_answer_is_a_protocol_error(
    driver: TicketPrinterDriver, printer: TicketPrinterDevice, faults: list[tuple[str, int]]
) -> None:
    await printer.apply_fault("garbage", [25])
    assert await driver.identify(timeout=1.0) == {"status": "online"}
    assert sum(n for _, n in faults) == 25
    await printer.apply_fault("corrupt", [1])
    with pytest.raises(DeviceProtocolError, match="no status byte"):
        await driver.identify(timeout=0.3)
    assert await driver.identify(timeout=1.0) == {"status": "online"}


async def test_a_slow_printer_within_the_timeout(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    await printer.apply_fault("delay", [100])
    await print_ticket(driver)
    assert printer.model.printed == 1


async def test_unplug_loses_the_link(driver: TicketPrinterDriver, printer: TicketPrinterDevice) -> None:
    await driver.identify(timeout=1.0)
    await printer.apply_fault("unplug")
    async with asyncio.timeout(WAIT):
        reason = await driver.wait_closed()
    assert reason
    with pytest.raises(LinkLostError):
        await print_ticket(driver)
    with pytest.raises(LinkLostError):
        await driver.probe(timeout=0.5)


async def test_traces_show_requests_answers_and_the_ticket(driver: TicketPrinterDriver) -> None:
    records: list[TraceRecord] = []
    driver.ctx.taps.add(records.append)
    await print_ticket(driver)
    summaries = [r.summary for r in records]
    assert summaries[:2] == ["DLE EOT 4 (paper_sensor)", "status n=4: 12"]
    assert any(s.startswith("ticket A023 (") for s in summaries)
    assert len(records) == 13  # 6 requests, 6 answers, 1 ticket
