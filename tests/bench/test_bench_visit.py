"""A whole visit at a desk: the time spent in the gateway against the devices' own, measured in the same run.

Two identical desk halls run side by side: hallsim's simulators, a private cupsd
with one cups-pdf queue each. Through the gateway, a visit is the business
system's calls over gRPC to hallgwd:

1. read the ID card;
2. take the photo;
3. take two fingerprints;
4. photograph a page;
5. print the application form through CUPS;
6. scan a payment code;
7. print the queue ticket.

Direct, the same seven steps run in this process with the very same drivers,
over the same transports, on the second hall. There is no gRPC, no supervisor,
no command lane and no event bus. That is the devices' own time, with the
drivers' protocol work, which any gateway would do. The gateway's share is
(through - direct) / through, summed over a visit. Visits alternate between
the two halls, so load on the shared cores hits both alike.

Target: the gateway's share is a small fraction, under 20 % of the visit.
The cameras play a still scene and the payment code is scanned 0.2 s after
the call begins, the same in both halls.
"""

import asyncio
import datetime as dt
import platform
import statistics
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cups import Cupsd, private_cupsd
from support.hall import DESK_HALL, Hall, by_device, read_request
from support.perf import record

from hallgw_api.v1 import desk_pb2, fingerprint_pb2, photo_pb2
from hallgw_daemon.api.desk_service import application_form
from hallgw_daemon.config import ScannerOptions
from hallgw_daemon.drivers.base import Driver, DriverContext
from hallgw_daemon.drivers.document_camera import DocumentCameraDriver
from hallgw_daemon.drivers.fingerprint import FingerprintScannerDriver
from hallgw_daemon.drivers.form_printer import FormPrinterDriver
from hallgw_daemon.drivers.idcard import IdCardReaderDriver
from hallgw_daemon.drivers.payment_scanner import PaymentScannerDriver
from hallgw_daemon.drivers.photo import CameraDriver
from hallgw_daemon.drivers.ticket_printer import TicketPrinterDriver
from hallgw_daemon.transports import open_transport, parse_link_url
from hallgw_protocols.escpos import Ticket

pytestmark = [pytest.mark.bench, pytest.mark.timeout(600)]

VISITS = 4
SCAN_AFTER = 0.2
SHARE_TARGET = 0.20
STEPS = ("id card", "photo", "fingerprints", "page", "form", "payment code", "ticket")
FORM = desk_pb2.ApplicationForm(
    name="张三", sex="男", ethnicity="汉", birth_date={"year": 1990, "month": 1, "day": 2},
    id_number="110105199001020011", address="北京市朝阳区", phone="13800000000",
    delivery=desk_pb2.DELIVERY_METHOD_COLLECT,
    documents=[desk_pb2.DocumentApplication(document=desk_pb2.DOCUMENT_TYPE_PASSPORT,
                                            application=desk_pb2.APPLICATION_TYPE_FIRST_ISSUE)],
)  # fmt: skip
DRIVERS: dict[str, type[Driver]] = {
    "idr-d1": IdCardReaderDriver,
    "cam-d1": CameraDriver,
    "fp-d1": FingerprintScannerDriver,
    "dcam-d1": DocumentCameraDriver,
    "a4-d1": FormPrinterDriver,
    "pay-d1": PaymentScannerDriver,
    "tkt-d1": TicketPrinterDriver,
}


@pytest.fixture(scope="module")
def cupsd() -> Iterator[Cupsd]:
    with private_cupsd() as server:
        yield server


def scenario(tmp: Path, queue: str) -> Path:
    text = DESK_HALL.read_text().replace('id = "dcam-d1"\n', 'id = "dcam-d1"\nscript = "still"\n')
    printer = f'id = "a4-d1"\nkind = "form_printer"\nstation = "desk-01"\ntransport = "ipp"\nqueue = "{queue}"\n'
    path = tmp / f"{queue}.toml"
    path.write_text(text + "\n[[devices]]\n" + printer)
    return path


def nothing(_stage: str, _message: str) -> None:
    return None


async def prepare(hall: Hall) -> None:
    """What the applicant does before each step, the same for both halls."""
    await hall.ctl.insert("idr-d1", "resident-1")


async def scan_soon(hall: Hall) -> None:
    await asyncio.sleep(SCAN_AFTER)
    await hall.ctl.fault("pay-d1", "scan", "wechat")


async def timed(times: dict[str, float], step: str, work: Awaitable[Any]) -> None:
    started = time.perf_counter()
    await work
    times[step] = times.get(step, 0.0) + time.perf_counter() - started


async def visit_through(hall: Hall) -> dict[str, float]:
    await prepare(hall)
    times: dict[str, float] = {}
    await timed(times, "id card", hall.idcard.ReadIdCard(read_request(by_device("idr-d1")), timeout=10))
    await timed(
        times,
        "photo",
        hall.photos.Capture(
            photo_pb2.PhotoServiceCaptureRequest(device=by_device("cam-d1"), request_id="b-photo"), timeout=30
        ),
    )
    for finger in ("right-index", "left-index"):
        await hall.ctl.fault("fp-d1", "place", f"zoe/{finger}")
        await timed(
            times,
            "fingerprints",
            hall.fingerprints.Capture(
                fingerprint_pb2.CaptureRequest(device=by_device("fp-d1"), request_id="b-fp"), timeout=30
            ),
        )
    await timed(
        times,
        "page",
        hall.desk.CaptureDocument(
            desk_pb2.CaptureDocumentRequest(device=by_device("dcam-d1"), request_id="b-page", dpi=100), timeout=30
        ),
    )
    await timed(
        times,
        "form",
        hall.desk.PrintApplicationForm(
            desk_pb2.PrintApplicationFormRequest(device=by_device("a4-d1"), request_id="b-form", form=FORM), timeout=30
        ),
    )
    scanning = asyncio.ensure_future(scan_soon(hall))
    await timed(
        times,
        "payment code",
        hall.desk.ScanPaymentCode(
            desk_pb2.ScanPaymentCodeRequest(device=by_device("pay-d1"), request_id="b-pay"), timeout=30
        ),
    )
    await scanning
    await timed(times, "ticket", hall.desk.PrintTicket(
        desk_pb2.PrintTicketRequest(device=by_device("tkt-d1"), request_id="b-tkt", queue_number="A1", window="1"),
        timeout=30))  # fmt: skip
    return times


async def open_drivers(hall: Hall) -> dict[str, Driver]:
    links = {d["id"]: d["link"] for d in hall.ready["devices"]}
    drivers: dict[str, Driver] = {}
    for device_id, cls in DRIVERS.items():
        ctx = DriverContext(device_id=device_id, command_timeout=5.0, scanner=ScannerOptions())
        driver = cls(ctx)
        driver.attach(await open_transport(parse_link_url(links[device_id]), timeout=10))
        await driver.identify(timeout=10)
        drivers[device_id] = driver
    return drivers


async def visit_direct(hall: Hall, drivers: dict[str, Driver]) -> dict[str, float]:
    await prepare(hall)
    loop = asyncio.get_running_loop()

    def until(seconds: float = 20.0) -> float:
        return loop.time() + seconds

    def d(device_id: str, cls: type[Any]) -> Any:
        driver = drivers[device_id]
        assert isinstance(driver, cls)
        return driver

    times: dict[str, float] = {}
    await timed(times, "id card", d("idr-d1", IdCardReaderDriver).read_card(wait_until=until(2), progress=nothing))
    await timed(times, "photo", d("cam-d1", CameraDriver).capture(until=until(), progress=nothing))
    for finger in ("right-index", "left-index"):
        await hall.ctl.fault("fp-d1", "place", f"zoe/{finger}")
        await timed(times, "fingerprints", d("fp-d1", FingerprintScannerDriver).capture(
            min_quality=70, attempts=3, finger_wait=10, deadline=until(), progress=nothing))  # fmt: skip
    await timed(times, "page", d("dcam-d1", DocumentCameraDriver).capture_document(
        until=until(), dpi=100, pages=1, fmt="jpeg", progress=nothing))  # fmt: skip
    form = application_form(FORM, today=dt.date.today())
    await timed(times, "form", d("a4-d1", FormPrinterDriver).print_form(form, until=until(), progress=nothing))
    scanning = asyncio.ensure_future(scan_soon(hall))
    since = loop.time()
    await timed(times, "payment code", d("pay-d1", PaymentScannerDriver).take_code(
        since=since, until=until(), progress=nothing))  # fmt: skip
    await scanning
    ticket = Ticket("A1", "1", "2026-01-01 09:00", "")
    await timed(times, "ticket", d("tkt-d1", TicketPrinterDriver).print_ticket(ticket, progress=nothing))
    return times


async def test_bench_a_whole_visit(tmp_path: Path, cupsd: Cupsd) -> None:
    through_hall = Hall(tmp_path / "through", scenario=scenario(tmp_path, cupsd.add_pdf_queue("through")),
                        baud=0, cups=cupsd.server)  # fmt: skip
    direct_hall = Hall(tmp_path / "direct", scenario=scenario(tmp_path, cupsd.add_pdf_queue("direct")),
                       baud=0, cups=cupsd.server)  # fmt: skip
    through_hall.root.mkdir()
    direct_hall.root.mkdir()
    drivers: dict[str, Driver] = {}
    try:
        await through_hall.start()
        await through_hall.wait_all_online()
        await direct_hall.start_simulator()
        drivers = await open_drivers(direct_hall)
        rounds: list[tuple[dict[str, float], dict[str, float]]] = []
        await visit_through(through_hall)  # warm both up: first connections, font loading, caches
        await visit_direct(direct_hall, drivers)
        for _ in range(VISITS):
            rounds.append((await visit_through(through_hall), await visit_direct(direct_hall, drivers)))
    finally:
        for driver in drivers.values():
            await driver.detach()
        await direct_hall.stop()
        await through_hall.stop()

    def median(step: str, side: int) -> float:
        return statistics.median(r[side][step] for r in rounds)

    rows = ""
    for step in STEPS:
        through, direct = median(step, 0), median(step, 1)
        rows += f"| {step} | {direct * 1000:.0f} ms | {through * 1000:.0f} ms | {(through - direct) * 1000:+.0f} ms |\n"
    through_total = statistics.median(sum(r[0].values()) for r in rounds)
    direct_total = statistics.median(sum(r[1].values()) for r in rounds)
    share = (through_total - direct_total) / through_total
    text = (
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python "
        f"{platform.python_version()}, {VISITS} visits each way, medians (`make bench`).\n\n"
        "| step | devices' own (drivers in-process) | through hallgwd (gRPC) | the gateway's part |\n"
        "|---|---|---|---|\n"
        + rows
        + f"| **whole visit** | {direct_total:.2f} s | {through_total:.2f} s | **{share:.1%} of the visit** "
        f"(target < {SHARE_TARGET:.0%}) |\n"
    )
    print("\n" + text)
    record("visit", text)
    assert share < SHARE_TARGET, f"the gateway takes {share:.1%} of a visit"
