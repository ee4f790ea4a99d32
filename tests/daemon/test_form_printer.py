"""The form printer driver against a private cupsd with cups-pdf queues (tests/support/cups.py).

A form printed to cups-pdf is read back with pdftotext; the faults are real CUPS
states: a disabled queue, a queue that rejects jobs, printer-state-reasons set
with lpadmin, a printer that never answers (aborted under abort-job), and the
server going away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from support.cups import Cupsd, private_cupsd
from support.forms import (
    ADDRESS,
    ID_NUMBER,
    MAIL_ADDRESS,
    NAME,
    PHONE,
    image_difference,
    make_form,
    page_image,
    pdf_text,
    poppler,
)

from hallgw_daemon.core.errors import (
    CoverOpenError,
    DeadlineExceededError,
    GatewayError,
    LinkLostError,
    PaperOutError,
    PrinterStoppedError,
    PrintFailedError,
)
from hallgw_daemon.drivers import form_printer
from hallgw_daemon.drivers.base import DriverContext
from hallgw_daemon.drivers.form_pdf import render_application_form
from hallgw_daemon.drivers.form_printer import JOB_TITLE, FormPrinterDriver, check_ready
from hallgw_daemon.transports.ipp import (
    IppOpenError,
    IppQueue,
    JobStatus,
    PrinterStatus,
    QueueState,
    open_ipp,
)
from hallgw_daemon.transports.link import parse_link_url

PERSONAL = (NAME, ID_NUMBER, ADDRESS, PHONE, MAIL_ADDRESS, "19900307")
DEADLINE_S = 20.0


class Progress:
    """Records the progress events of one call."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, code: str, text: str) -> None:
        self.events.append((code, text))

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.events]


@pytest.fixture(scope="module")
def cupsd() -> Iterator[Cupsd]:
    """A private cupsd with the queues every test here uses; stopped at the end of the module."""
    with private_cupsd() as server:
        server.add_pdf_queue("desk")
        server.add_pdf_queue("stopped")
        server.tool("cupsdisable", "-r", "maintenance", server.queue_name("stopped"))
        server.add_pdf_queue("rejecting")
        server.tool("cupsreject", "-r", "maintenance", server.queue_name("rejecting"))
        server.add_pdf_queue("faulty")  # printer-state-reasons set per test
        server.add_dead_queue("dead")
        yield server


@contextlib.asynccontextmanager
async def printer(cupsd: Cupsd, role: str) -> AsyncIterator[FormPrinterDriver]:
    queue = await open_ipp(parse_link_url(cupsd.url(cupsd.queue_name(role))), timeout=5)
    driver = FormPrinterDriver(DriverContext(device_id="desk-printer-1", command_timeout=5.0))
    driver.attach(queue)
    try:
        yield driver
    finally:
        await driver.detach()


def until(seconds: float = DEADLINE_S) -> float:
    return asyncio.get_running_loop().time() + seconds


def jobs_of(cupsd: Cupsd, queue: str) -> str:
    return cupsd.tool("lpstat", "-W", "all", "-o", queue)


async def test_a_form_prints_to_cups_pdf_and_looks_the_same(cupsd: Cupsd, tmp_path: Path) -> None:
    queue = cupsd.queue_name("desk")
    progress = Progress()
    async with printer(cupsd, "desk") as driver:
        started = time.monotonic()
        job = await driver.print_form(make_form(), until=until(), progress=progress)
        elapsed = time.monotonic() - started
    assert job.state is JobStatus.COMPLETED
    assert job.pages == 1
    assert 20_000 < job.pdf_bytes_len < 100_000
    assert progress.codes in (["QUEUED", "PRINTING", "COMPLETED"], ["QUEUED", "COMPLETED"])
    assert str(job.job_id) in progress.events[0][1]
    printed = cupsd.printed(queue, job.job_id)
    assert printed.name == f"job_{job.job_id}-application_form.pdf"
    # cups-pdf re-distils through PostScript and Ghostscript: the embedded font survives (the page
    # looks the same), but its Unicode map does not, so only the ASCII text reads back.
    text = pdf_text(printed)
    for value in (ID_NUMBER, "1990", "2026", "33mm"):
        assert value in text, value
    fonts = poppler("pdffonts", str(printed)).splitlines()[2:]
    assert fonts and all("WenQuanYiMicroHei" in row and row.split()[-5] == "yes" for row in fonts), fonts
    assert "(A4)" in poppler("pdfinfo", str(printed))
    original = tmp_path / "form.pdf"
    original.write_bytes(render_application_form(make_form()))
    # measured: 1e-5 for the same form after cups-pdf, 5e-4 for two characters of the name changed
    assert image_difference(page_image(original), page_image(printed)) < 1e-4
    assert elapsed < 10.0


async def test_identify_and_probe_report_the_queue(cupsd: Cupsd) -> None:
    async with printer(cupsd, "desk") as driver:
        identity = await driver.identify(timeout=5)
        await driver.probe(timeout=5)
    assert identity["queue"] == cupsd.queue_name("desk")
    assert identity["server"] == cupsd.server
    assert "CUPS-PDF" in identity["make_model"]
    assert identity["accepting_jobs"] == "yes"
    assert identity["state"].split()[0] in ("idle", "processing")


@pytest.mark.parametrize("role", ["stopped", "rejecting"])
async def test_a_stopped_or_rejecting_queue_is_online_but_refuses_to_print(cupsd: Cupsd, role: str) -> None:
    progress = Progress()
    async with printer(cupsd, role) as driver:
        await driver.probe(timeout=5)  # healthy: the device stays ONLINE
        identity = await driver.identify(timeout=5)
        with pytest.raises(PrinterStoppedError, match=r"maintenance|refuses") as caught:
            await driver.print_form(make_form(), until=until(), progress=progress)
    assert "stopped" in identity["state"] or identity["accepting_jobs"] == "no"
    assert caught.value.reason == "PRINTER_STOPPED"
    assert progress.events == []  # nothing was queued
    assert jobs_of(cupsd, cupsd.queue_name(role)) == ""


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("media-empty-error", PaperOutError),
        ("media-needed", PaperOutError),
        ("cover-open", CoverOpenError),
        ("door-open-error", CoverOpenError),
    ],
)
async def test_printer_conditions_stop_a_print_before_it_is_queued(
    cupsd: Cupsd, reason: str, error: type[GatewayError]
) -> None:
    queue = cupsd.queue_name("faulty")
    cupsd.tool("lpadmin", "-p", queue, "-o", f"printer-state-reasons={reason}")
    try:
        async with printer(cupsd, "faulty") as driver:
            await driver.probe(timeout=5)
            with pytest.raises(error):
                await driver.print_form(make_form(), until=until(), progress=Progress())
    finally:
        cupsd.tool("lpadmin", "-p", queue, "-o", "printer-state-reasons=none")
    assert jobs_of(cupsd, queue) == ""


async def test_a_warning_does_not_stop_a_print(cupsd: Cupsd) -> None:
    queue = cupsd.queue_name("faulty")
    cupsd.tool("lpadmin", "-p", queue, "-o", "printer-state-reasons=media-low-warning")
    try:
        async with printer(cupsd, "faulty") as driver:
            job = await driver.print_form(make_form(), until=until(), progress=Progress())
    finally:
        cupsd.tool("lpadmin", "-p", queue, "-o", "printer-state-reasons=none")
    assert job.state is JobStatus.COMPLETED


async def test_an_aborted_job_fails_with_its_id_and_state(cupsd: Cupsd) -> None:
    progress = Progress()
    async with printer(cupsd, "dead") as driver:
        with pytest.raises(PrintFailedError) as caught:
            await driver.print_form(make_form(), until=until(), progress=progress)
    err = caught.value
    assert err.details["job_state"] == "aborted"
    assert err.details["job_id"].isdigit()
    assert err.reason == "PRINT_FAILED"
    assert progress.codes[0] == "QUEUED"
    assert "COMPLETED" not in progress.codes
    shown = " ".join([err.message, repr(err), *err.details.values()])
    assert not [value for value in PERSONAL if value in shown]


async def test_a_job_still_printing_at_the_deadline_fails_and_is_canceled(cupsd: Cupsd) -> None:
    async with printer(cupsd, "dead") as driver:
        with pytest.raises(PrintFailedError) as caught:
            await driver.print_form(make_form(), until=until(1.0), progress=Progress())
        details = caught.value.details
        assert details["timed_out"] == "true"
        assert details["job_state"] in ("pending", "processing")
        state = await driver.queue.job_state(int(details["job_id"]), timeout=5)
    assert state.state is JobStatus.CANCELED  # it will not print later, unattended


async def test_a_filter_failure_stops_the_job_which_fails_and_is_canceled(
    cupsd: Cupsd, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document the filters cannot read ends processing-stopped; CUPS would keep it for a restart."""
    monkeypatch.setattr(form_printer, "render_application_form", lambda _form: b"%PDF-1.4 broken\n")
    async with printer(cupsd, "desk") as driver:
        with pytest.raises(PrintFailedError) as caught:
            await driver.print_form(make_form(), until=until(), progress=Progress())
        assert caught.value.details["job_state"] == "processing-stopped"
        state = await driver.queue.job_state(int(caught.value.details["job_id"]), timeout=5)
    assert state.state is JobStatus.CANCELED


async def test_a_caller_going_away_cancels_the_job(cupsd: Cupsd) -> None:
    """The printer takes the job and never finishes it (a listener that reads and never closes): the job stays
    processing until the caller goes away, which must cancel it. (A dead printer would abort the job by itself
    after a few seconds, a race with the caller on a loaded machine.)"""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cupsd.add_socket_queue("hang", port)
    progress = Progress()
    queued = asyncio.Event()

    def tell(code: str, text: str) -> None:
        progress(code, text)
        queued.set()

    try:
        async with printer(cupsd, "hang") as driver:
            call = asyncio.create_task(driver.print_form(make_form(), until=until(), progress=tell))
            await asyncio.wait_for(queued.wait(), 10)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            job_id = int(progress.events[0][1].rsplit(" ", 1)[1])
            state = await driver.queue.job_state(job_id, timeout=5)
        assert state.state is JobStatus.CANCELED
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_a_deadline_already_past_queues_nothing(cupsd: Cupsd) -> None:
    async with printer(cupsd, "desk") as driver:
        with pytest.raises(DeadlineExceededError):
            await driver.print_form(make_form(), until=until(0.0), progress=Progress())


async def test_personal_fields_never_reach_logs_errors_or_cups(cupsd: Cupsd, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    with structlog.testing.capture_logs() as logs:
        async with printer(cupsd, "desk") as driver:
            job = await driver.print_form(make_form(), until=until(), progress=lambda c, t: said.append(c + t))
        for role in ("stopped", "rejecting"):
            async with printer(cupsd, role) as driver:
                with pytest.raises(GatewayError) as caught:
                    await driver.print_form(make_form(), until=until(), progress=lambda c, t: said.append(c + t))
                said.extend([caught.value.message, repr(caught.value), *caught.value.details.values()])
    assert any(entry.get("job_id") == job.job_id for entry in logs)  # the success was logged
    cups_view = cupsd.tool("lpstat", "-W", "all", "-l", "-o")
    assert f"-{job.job_id} " in cups_view  # the printed job is listed
    logs_text = " ".join(str(entry) for entry in logs) + caplog.text
    cups_logs = "".join(p.read_text(errors="replace") for p in (cupsd.workdir / "log").glob("*") if p.is_file())
    for value in PERSONAL:
        for where, text in (("logs", logs_text), ("errors", " ".join(said)), ("cups", cups_view + cups_logs)):
            assert value not in text, f"{value!r} in {where}"


async def test_the_queue_is_lost_when_the_server_goes_away() -> None:
    with private_cupsd() as server:
        server.add_pdf_queue("desk")
        async with printer(server, "desk") as driver:
            closed = asyncio.create_task(driver.wait_closed())
            await asyncio.sleep(0)
            assert not closed.done()
            await asyncio.to_thread(server.stop)
            reason = await asyncio.wait_for(closed, 10)
            assert "unavailable" in reason or "connect" in reason
            with pytest.raises(LinkLostError):
                await driver.probe(timeout=5)


async def test_opening_a_missing_queue_or_server_fails_clearly(cupsd: Cupsd) -> None:
    with pytest.raises(IppOpenError, match="no such queue"):
        await open_ipp(parse_link_url(cupsd.url("nope")), timeout=5)
    with pytest.raises(IppOpenError):
        await open_ipp(parse_link_url("ipp://127.0.0.1:9/printers/desk"), timeout=5)


async def test_two_servers_each_keep_their_own_libcups_settings(cupsd: Cupsd) -> None:
    """libcups keeps the server per thread: two queues on two servers never cross."""
    with private_cupsd() as other:
        other.add_pdf_queue("desk")
        here, there = await asyncio.gather(
            open_ipp(parse_link_url(cupsd.url(cupsd.queue_name("desk"))), timeout=5),
            open_ipp(parse_link_url(other.url(other.queue_name("desk"))), timeout=5),
        )
        try:
            ids = await asyncio.gather(
                here.submit(b"%PDF-1.4 not really", title=JOB_TITLE),
                there.submit(b"%PDF-1.4 not really", title=JOB_TITLE),
            )
            assert (await here.queue_state()).queue == cupsd.queue_name("desk")
            assert (await there.queue_state()).queue == other.queue_name("desk")
            assert str(ids[1]) in other.tool("lpstat", "-W", "all", "-o")
        finally:
            await here.close()
            await there.close()
        assert here.gone == there.gone == "closed"


async def test_a_closed_queue_refuses_calls_and_wait_closed_returns() -> None:
    queue = IppQueue(parse_link_url("ipp://127.0.0.1:9/printers/desk"))
    await queue.close()
    assert await asyncio.wait_for(queue.wait_closed(), 1) == "closed"


def state(
    reasons: tuple[str, ...] = (), *, printer: PrinterStatus = PrinterStatus.IDLE, accepting: bool = True
) -> QueueState:
    return QueueState(queue="q", state=printer, reasons=reasons, accepting=accepting)


@pytest.mark.parametrize(
    ("queue_state", "error"),
    [
        (state(), None),
        (state(("media-low-warning", "toner-low-report")), None),
        (state(("media-empty-warning",)), None),
        (state(printer=PrinterStatus.PROCESSING), None),
        (state(("media-empty",)), PaperOutError),
        (state(("media-empty-error", "paused"), printer=PrinterStatus.STOPPED), PaperOutError),
        (state(("cover-open-error",)), CoverOpenError),
        (state(("interlock-open",)), CoverOpenError),
        (state(printer=PrinterStatus.STOPPED), PrinterStoppedError),
        (state(("paused",)), PrinterStoppedError),
        (state(accepting=False), PrinterStoppedError),
    ],
)
def test_check_ready(queue_state: QueueState, error: type[GatewayError] | None) -> None:
    if error is None:
        check_ready(queue_state, "d")
    else:
        with pytest.raises(error):
            check_ready(queue_state, "d")
