"""A simulated ESC/POS ticket printer on a real pseudo-terminal, driven through pyserial-asyncio like a daemon would."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import serial_asyncio
from support.pty_devices import PtyDevices

from hallgw_protocols import NEED_DATA, RemoteProtocolError, Role
from hallgw_protocols.escpos import (
    EscPosConnection,
    PrinterStatus,
    StatusKind,
    StatusReply,
    StatusRequest,
    Ticket,
    render_ticket,
)
from hallgw_simulators.faults import FaultError
from hallgw_simulators.links import PtyEndpoint
from hallgw_simulators.ticket_printer_device import DEFAULT_BAUD, FAULTS, KIND, TicketPrinterDevice

pytestmark = pytest.mark.timeout(30)
SEED = 11
TIMEOUT = 3.0
StartPrinter = Callable[..., Awaitable[TicketPrinterDevice]]
KINDS = (StatusKind.PRINTER, StatusKind.OFFLINE_CAUSE, StatusKind.PAPER_SENSOR)
TICKET = Ticket("A023", "7", "2026-11-27 09:30", "https://hall.example.gov.cn/q/A023", ("请耐心等候：（）",))


class Host:
    """The host codec over a pty opened by pyserial-asyncio."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.codec = EscPosConnection(Role.HOST)
        self.errors: list[RemoteProtocolError] = []

    @classmethod
    async def open(cls, path: Path) -> Host:
        reader, writer = await serial_asyncio.open_serial_connection(url=str(path), baudrate=DEFAULT_BAUD)
        return cls(reader, writer)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(self, timeout: float = TIMEOUT) -> StatusReply:
        async with asyncio.timeout(timeout):
            while True:
                try:
                    event = self.codec.next_event()
                except RemoteProtocolError as err:
                    self.errors.append(err)
                    continue
                if event is not NEED_DATA:
                    assert isinstance(event, StatusReply)
                    return event
                data = await self.reader.read(64)
                if not data:
                    raise EOFError
                self.codec.receive_data(data)

    async def status(self, *kinds: StatusKind) -> PrinterStatus:
        await self.write(b"".join(self.codec.send(StatusRequest(kind=k)) for k in kinds or KINDS))
        return PrinterStatus.from_replies([await self.reply() for _ in kinds or KINDS])

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
def start_printer(pty_devices: PtyDevices) -> StartPrinter:
    async def start(*, device_id: str = "tp-01", **settings: Any) -> TicketPrinterDevice:
        settings.setdefault("baud", 0)
        return await pty_devices.start(TicketPrinterDevice, device_id=device_id, seed=SEED, **settings)

    return start


@contextlib.asynccontextmanager
async def open_host(device: TicketPrinterDevice) -> AsyncIterator[Host]:
    assert isinstance(device.endpoint, PtyEndpoint)
    host = await Host.open(device.endpoint.path)
    try:
        yield host
    finally:
        host.close()


async def test_a_ticket_is_printed_with_its_chinese_text_and_qr(start_printer: StartPrinter) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        assert await host.status() == PrinterStatus()
        await host.write(render_ticket(TICKET))
        async with asyncio.timeout(TIMEOUT):
            ticket = await device.wait_tickets(1)
    assert ticket.lines == TICKET.text_lines()
    assert ticket.lines[-1] == "请耐心等候：（）"
    assert ticket.qr == (TICKET.qr,) and ticket.cut
    described = device.describe()
    assert (described["kind"], described["tickets"], described["status"]) == (KIND, 1, "ready")
    assert described["last_ticket"]["lines"][1] == "A023" and described["last_ticket"]["cut"] is True
    assert described["unknown_commands"] == 0 and described["status_requests"] == 3
    assert device.link_url.endswith("?baud=9600")


async def test_status_bytes_follow_the_faults(start_printer: StartPrinter) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        await device.apply_fault("paper_near_end", ["on"])
        assert await host.status() == PrinterStatus(paper_near_end=True)
        await device.apply_fault("paper_out")
        paper = await host.status(StatusKind.PAPER_SENSOR)
        assert paper.paper_out and paper.paper_near_end
        await device.apply_fault("paper_out", ["off"])
        await device.apply_fault("paper_near_end", ["off"])
        await device.apply_fault("cover_open", ["on"])
        assert await host.status() == PrinterStatus(online=False, cover_open=True)
        await device.apply_fault("cover_open", ["off"])
        await device.apply_fault("offline", ["on"])
        assert await host.status() == PrinterStatus(online=False, error=True)
        await device.apply_fault("clear")
        assert (await host.status()).ready
        # the raw bytes, as the manuals tabulate them, for a printer out of paper
        await device.apply_fault("paper_out", ["on"])
        for request in KINDS:
            await host.write(host.codec.send(StatusRequest(kind=request)))
        assert [(await host.reply()).value for _ in KINDS] == [0x1A, 0x32, 0x7E]


async def test_data_is_discarded_while_the_paper_is_out(start_printer: StartPrinter) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        await device.apply_fault("paper_out", ["on"])
        await host.write(render_ticket(TICKET))
        assert not (await host.status()).ready  # the ticket's bytes were taken before this answer
        assert device.model.printed == 0 and device.model.discarded > 0
        await device.apply_fault("paper_out", ["off"])
        await device.apply_fault("cover_open", ["on"])
        await host.write(render_ticket(TICKET))
        await host.status()
        assert device.model.printed == 0
        await device.apply_fault("cover_open", ["off"])
        await host.write(render_ticket(TICKET))
        async with asyncio.timeout(TIMEOUT):
            assert (await device.wait_tickets(1)).cut


async def test_paper_runs_out_mid_ticket(start_printer: StartPrinter) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        await device.apply_fault("runout", [2])
        await host.write(render_ticket(TICKET))
        async with asyncio.timeout(TIMEOUT):
            ticket = await device.wait_tickets(1)
        assert ticket.lines == TICKET.text_lines()[:2] and not ticket.cut and ticket.qr == ()
        status = await host.status()
        assert status.paper_out and not status.online
    assert device.describe()["faults"]["paper_out"] is True


async def test_a_new_ticket_after_an_uncut_one_ends_it(start_printer: StartPrinter) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        await host.write(b"\x1b\x40half a ticket\n" + render_ticket(TICKET))
        async with asyncio.timeout(TIMEOUT):
            await device.wait_tickets(2)
    first, second = device.tickets
    assert (first.lines, first.cut) == (("half a ticket",), False)
    assert second.cut


async def test_the_kept_tickets_are_bounded(start_printer: StartPrinter) -> None:
    device = await start_printer(keep=3)
    async with open_host(device) as host:
        for number in range(5):
            await host.write(render_ticket(Ticket(f"A{number:03d}", "7", "09:30", "q")))
        async with asyncio.timeout(TIMEOUT):
            await device.wait_tickets(5)
    assert [t.lines[1] for t in device.tickets] == ["A002", "A003", "A004"]
    assert device.describe()["tickets"] == 5


async def test_wire_faults_on_status_answers(start_printer: StartPrinter) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        await device.apply_fault("garbage", [40])
        assert (await host.status(StatusKind.PRINTER)).ready
        assert len(host.errors) == 40  # noise never passes for a status byte
        host.errors.clear()
        await device.apply_fault("corrupt", [1])
        await host.write(host.codec.send(StatusRequest(kind=StatusKind.PRINTER)))
        with pytest.raises(TimeoutError):
            await host.reply(timeout=0.3)
        assert len(host.errors) == 1  # the corrupted answer was seen and refused
        host.codec.abandon()
        await device.apply_fault("silence", ["on"])
        await host.write(host.codec.send(StatusRequest(kind=StatusKind.PRINTER)))
        with pytest.raises(TimeoutError):
            await host.reply(timeout=0.3)
        await device.apply_fault("silence", ["off"])
        host.codec.abandon()
        loop = asyncio.get_running_loop()
        await device.apply_fault("delay", [150])
        started = loop.time()
        assert (await host.status(StatusKind.PRINTER)).ready
        assert loop.time() - started >= 0.14


async def test_answers_are_paced_at_the_line_rate(start_printer: StartPrinter) -> None:
    device = await start_printer(baud=DEFAULT_BAUD)
    async with open_host(device) as host:
        assert (await host.status()).ready
    assert device.responses_out == 3


async def test_unplug_and_replug(start_printer: StartPrinter, tmp_path: Path) -> None:
    device = await start_printer()
    async with open_host(device) as host:
        await device.apply_fault("unplug")
        assert not (tmp_path / "tp-01.tty").exists()
        with pytest.raises((EOFError, TimeoutError, OSError)):
            await host.status(StatusKind.PRINTER)
    await device.apply_fault("replug")
    async with open_host(device) as host:
        assert (await host.status(StatusKind.PRINTER)).ready


async def test_bad_fault_arguments(start_printer: StartPrinter) -> None:
    device = await start_printer()
    assert set(FAULTS) >= {"paper_out", "paper_near_end", "cover_open", "offline", "runout", "silence", "clear"}
    for name, args in (("paper_out", ["maybe"]), ("runout", ["-1"]), ("jam", []), ("unplug", ["now"])):
        with pytest.raises(FaultError):
            await device.apply_fault(name, args)
