"""One applicant's visit at a pre-acceptance desk, end to end against the real daemon, hallsim and a real CUPS.

The business system claims desk-01, reads the ID card, takes the photo, two
fingerprints and a supporting document page, prints the application form (to a
private cupsd's cups-pdf queue, whose PDF is read back), scans the payment
code, prints the queue ticket and releases the desk. A second client is refused
the desk meanwhile. Then the faults: the form printer's queue stopped mid-visit,
the payment scanner unplugged. What the visit handled (the card's name and
number, the payment code) never reaches the gateway's logs, the frame traces or
the events.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from support.cups import Cupsd, private_cupsd
from support.forms import image_difference, page_image, pdf_text
from support.hall import DESK_HALL, Hall, by_device, error_info, read_request, running_hall

from hallgw_api.v1 import (
    desk_pb2,
    device_pb2,
    device_service_pb2,
    fingerprint_pb2,
    idcard_pb2,
    photo_pb2,
    station_pb2,
)
from hallgw_daemon.api.desk_service import application_form
from hallgw_daemon.drivers.form_pdf import render_application_form

pytestmark = pytest.mark.timeout(180)
VISIT = "x-hallgw-visit"


@pytest.fixture(scope="module")
def cupsd() -> Iterator[Cupsd]:
    with private_cupsd() as server:
        yield server


@pytest.fixture
async def hall(tmp_path: Path, cupsd: Cupsd) -> AsyncIterator[Hall]:
    queue = cupsd.add_pdf_queue(f"desk{tmp_path.name[-6:].replace('-', '_')}")
    scenario = tmp_path / "desks.toml"
    printer = f'id = "a4-d1"\nkind = "form_printer"\nstation = "desk-01"\ntransport = "ipp"\nqueue = "{queue}"\n'
    scenario.write_text(DESK_HALL.read_text() + "\n[[devices]]\n" + printer)
    async with running_hall(tmp_path / "hall", scenario=scenario, baud=0, cups=cupsd.server) as h:
        h.queue = queue  # type: ignore[attr-defined]
        yield h


def role(kind: int) -> device_pb2.DeviceRef:
    return device_pb2.DeviceRef(station=device_pb2.StationRef(station_id="desk-01", kind=kind))  # type: ignore[arg-type]


def seconds(value: float) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=int(value), nanos=int(value % 1 * 1e9))


def form_from(card: idcard_pb2.IdentityCard) -> desk_pb2.ApplicationForm:
    """The form as a business system fills it from the card it read, and the applicant's choices."""
    fields = card.resident_id
    return desk_pb2.ApplicationForm(
        name=fields.name, sex=fields.sex.name_zh, ethnicity=fields.nation.name_zh, birth_date=fields.birth_date,
        id_number=fields.id_number, address=fields.address,
        documents=[
            desk_pb2.DocumentApplication(
                document=desk_pb2.DOCUMENT_TYPE_PASSPORT, application=desk_pb2.APPLICATION_TYPE_FIRST_ISSUE
            ),
            desk_pb2.DocumentApplication(
                document=desk_pb2.DOCUMENT_TYPE_HK_MACAO_PERMIT, application=desk_pb2.APPLICATION_TYPE_RENEWAL
            ),
        ],
        phone="13800138000", delivery=desk_pb2.DELIVERY_METHOD_COLLECT,
    )  # fmt: skip


async def test_a_whole_visit_at_a_desk(hall: Hall, cupsd: Cupsd, tmp_path: Path) -> None:
    queue: str = hall.queue  # type: ignore[attr-defined]
    visit = (
        await hall.stations.ClaimStation(station_pb2.ClaimStationRequest(station_id="desk-01", holder="pre-acceptance"))
    ).visit
    meta = ((VISIT, visit.visit_id),)
    events = hall.devices.WatchEvents(device_service_pb2.WatchEventsRequest(visit_id=visit.visit_id))
    seen: list[device_pb2.DeviceEvent] = []

    async def watch() -> None:
        async for item in events:
            seen.append(item.event)

    watching = asyncio.ensure_future(watch())
    await asyncio.sleep(0.3)
    started = asyncio.get_running_loop().time()

    # 1. The ID card.
    await hall.ctl.insert("idr-d1", "resident-1")
    card = (
        await hall.idcard.ReadIdCard(
            read_request(role(device_pb2.DEVICE_KIND_IDCARD_READER), "v/id"), timeout=10, metadata=meta
        )
    ).card
    assert card.HasField("resident_id")

    # A second client is refused the desk while the visit lasts.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.ClaimStation(station_pb2.ClaimStationRequest(station_id="desk-01", holder="other"))
    assert error_info(info.value)[1] == "STATION_CLAIMED"

    # 2. The photo.
    camera = role(device_pb2.DEVICE_KIND_CAMERA)
    photo_request = photo_pb2.PhotoServiceCaptureRequest(device=camera, request_id="v/photo", wait=seconds(15))
    photo = await hall.photos.Capture(photo_request, timeout=30, metadata=meta)
    assert photo.report.passed and (photo.photo.width, photo.photo.height) == (354, 472)

    # 3. Two fingerprints.
    for finger, position in (("right-index", fingerprint_pb2.FINGER_POSITION_RIGHT_INDEX),
                             ("left-index", fingerprint_pb2.FINGER_POSITION_LEFT_INDEX)):  # fmt: skip
        await hall.ctl.fault("fp-d1", "place", f"zoe/{finger}")
        print_ = await hall.fingerprints.Capture(
            fingerprint_pb2.CaptureRequest(device=role(device_pb2.DEVICE_KIND_FINGERPRINT_SCANNER),
                                           request_id=f"v/fp-{finger}", finger=position),
            timeout=30, metadata=meta,
        )  # fmt: skip
        assert print_.quality.score >= 70

    # 4. A supporting document page.
    await hall.ctl.fault("dcam-d1", "restart")
    page = await hall.desk.CaptureDocument(
        desk_pb2.CaptureDocumentRequest(device=role(device_pb2.DEVICE_KIND_DOCUMENT_CAMERA), request_id="v/page",
                                        dpi=100, format=desk_pb2.PAGE_FORMAT_PDF),
        timeout=30, metadata=meta,
    )  # fmt: skip
    assert page.data.startswith(b"%PDF-") and page.pages == 1

    # 5. The application form, from the card, printed through CUPS.
    form = form_from(card)
    printer = role(device_pb2.DEVICE_KIND_PRINTER)
    form_request = desk_pb2.PrintApplicationFormRequest(device=printer, request_id="v/form", form=form)
    job = await hall.desk.PrintApplicationForm(form_request, timeout=30, metadata=meta)
    assert job.job_state == "completed" and job.pages == 1
    printed = await asyncio.to_thread(cupsd.printed, queue, job.job_id)
    # The form as the gateway submitted it over IPP holds the applicant's name and the documents chosen.
    sent = pdf_text(cupsd.submitted(job.job_id))
    assert fields_of(card).name in sent and fields_of(card).id_number in sent
    # Chosen: passport (first issue), HK/Macao permit (renewal); not the Taiwan permit; collected at the hall.
    for chosen in (
        "■普通护照■首次申请",
        "■往来港澳通行证□首次申请□失效重新申请■换发",
        "□往来台湾通行证",
        "■到出入境接待大厅领取",
    ):
        assert chosen in sent, (chosen, sent)
    assert fields_of(card).id_number in pdf_text(printed)  # the ASCII text survives cups-pdf's re-distilling
    # The Chinese text (name, document names) is drawn in the embedded font: the printed page is the form
    # rendered from the same card and choices, pixel for pixel (docs/form-printer.md).
    original = tmp_path / "form.pdf"
    original.write_bytes(render_application_form(application_form(form, today=dt.date.today())))
    assert image_difference(page_image(original), page_image(printed)) < 1e-4

    # 6. The payment code.
    scan = asyncio.ensure_future(hall.desk.ScanPaymentCode(
        desk_pb2.ScanPaymentCodeRequest(device=role(device_pb2.DEVICE_KIND_PAYMENT_SCANNER), request_id="v/pay"),
        timeout=20, metadata=meta,
    ))  # fmt: skip
    await asyncio.sleep(0.5)
    await hall.ctl.fault("pay-d1", "scan", "wechat")
    code = await scan
    assert code.scheme == desk_pb2.PAYMENT_SCHEME_WECHAT_PAY

    # 7. The queue ticket, and the desk is released.
    await hall.desk.PrintTicket(
        desk_pb2.PrintTicketRequest(device=role(device_pb2.DEVICE_KIND_TICKET_PRINTER), request_id="v/ticket",
                                    queue_number="B105", window="3"),
        timeout=20, metadata=meta,
    )  # fmt: skip
    await hall.stations.ReleaseStation(station_pb2.ReleaseStationRequest(visit_id=visit.visit_id))
    elapsed = asyncio.get_running_loop().time() - started
    await asyncio.sleep(0.3)
    events.cancel()
    watching.cancel()

    finished = {e.request_id: e.finished.ok for e in seen if e.WhichOneof("payload") == "finished"}
    assert {"v/id", "v/photo", "v/fp-right-index", "v/fp-left-index", "v/page", "v/form", "v/pay", "v/ticket"} <= {
        rid for rid, ok in finished.items() if ok
    }, finished
    assert all(e.visit_id == visit.visit_id for e in seen)
    assert elapsed < 60

    # What the visit handled stays out of the gateway's logs and events.
    logs = hall.logs()
    text = "".join(str(e) for e in seen)
    for secret in (fields_of(card).name, fields_of(card).id_number, code.code):
        assert secret not in logs and secret not in text


def fields_of(card: idcard_pb2.IdentityCard) -> idcard_pb2.ResidentIdFields:
    return card.resident_id


async def test_a_stopped_queue_and_an_unplugged_scanner_are_clear_errors(hall: Hall, cupsd: Cupsd) -> None:
    queue: str = hall.queue  # type: ignore[attr-defined]
    await hall.ctl.insert("idr-d1", "resident-1")
    card = (await hall.idcard.ReadIdCard(read_request(by_device("idr-d1")), timeout=10)).card
    cupsd.tool("cupsdisable", queue)
    try:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await hall.desk.PrintApplicationForm(
                desk_pb2.PrintApplicationFormRequest(
                    device=by_device("a4-d1"), request_id="stopped", form=form_from(card)
                ),
                timeout=30,
            )
        assert error_info(info.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "PRINTER_STOPPED")
    finally:
        cupsd.tool("cupsenable", queue)
    bad = form_from(card)
    bad.sex = "X"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.PrintApplicationForm(
            desk_pb2.PrintApplicationFormRequest(device=by_device("a4-d1"), request_id="bad", form=bad), timeout=30
        )
    assert error_info(info.value)[1] == "INVALID_REQUEST" and fields_of(card).name not in (info.value.details() or "")

    await hall.ctl.fault("pay-d1", "unplug")
    await hall.wait_oper("pay-d1", device_pb2.OPER_STATE_OFFLINE, timeout=10)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.ScanPaymentCode(
            desk_pb2.ScanPaymentCodeRequest(device=by_device("pay-d1"), request_id="x"), timeout=10
        )
    assert error_info(info.value)[1] == "DEVICE_OFFLINE"
    await hall.ctl.fault("pay-d1", "replug")
    await hall.wait_oper("pay-d1", device_pb2.OPER_STATE_ONLINE, timeout=10)


async def test_a_printer_that_stops_mid_job_fails_the_print_clearly(hall: Hall, cupsd: Cupsd) -> None:
    """The desk's printer takes the form and stops (it never finishes the page): when the wait ends the call
    fails with PRINT_FAILED naming the job, and the job is canceled, so it never prints later unattended."""
    queue: str = hall.queue  # type: ignore[attr-defined]
    held: list[asyncio.StreamWriter] = []

    async def stuck_printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(stuck_printer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    cupsd.tool("lpadmin", "-p", queue, "-v", f"socket://127.0.0.1:{port}")
    try:
        await hall.ctl.insert("idr-d1", "resident-1")
        card = (await hall.idcard.ReadIdCard(read_request(by_device("idr-d1")), timeout=10)).card
        request = desk_pb2.PrintApplicationFormRequest(
            device=by_device("a4-d1"), request_id="stuck", form=form_from(card), wait=seconds(3)
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await hall.desk.PrintApplicationForm(request, timeout=30)
        code, reason, details = error_info(info.value)
        assert (code, reason) == (grpc.StatusCode.ABORTED, "PRINT_FAILED"), info.value.details()
        assert details["job_id"] and details["job_state"] == "processing", details
        jobs = cupsd.tool("lpstat", "-W", "not-completed", "-o", queue)
        assert f"{queue}-{details['job_id']} " not in jobs  # canceled: nothing left to print
    finally:
        for writer in held:
            writer.close()
        server.close()
        cupsd.tool("lpadmin", "-p", queue, "-v", f"cups-pdf:/{queue}")
