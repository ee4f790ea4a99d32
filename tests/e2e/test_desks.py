"""The desk devices through the real daemon: hallsim's payment-code scanners on a pty and over TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from google.protobuf import duration_pb2
from support.hall import DESK_HALL, Hall, by_device, error_info, read_request, running_hall

from hallgw_api.v1 import desk_pb2, device_pb2, device_service_pb2, station_pb2

pytestmark = pytest.mark.timeout(120)
VISIT = "x-hallgw-visit"


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    async with running_hall(tmp_path / "hall", scenario=DESK_HALL, baud=0) as h:
        yield h


def scan_request(device: str, request_id: str, wait: float = 5.0) -> desk_pb2.ScanPaymentCodeRequest:
    req = desk_pb2.ScanPaymentCodeRequest(device=by_device(device), request_id=request_id)
    req.wait.CopyFrom(duration_pb2.Duration(seconds=int(wait), nanos=int(wait % 1 * 1e9)))
    return req


@pytest.mark.parametrize(
    ("device", "kind", "scheme"),
    [
        ("pay-d1", "wechat", desk_pb2.PAYMENT_SCHEME_WECHAT_PAY),
        ("pay-d2", "alipay", desk_pb2.PAYMENT_SCHEME_ALIPAY),
        ("pay-d1", "invalid", desk_pb2.PAYMENT_SCHEME_UNKNOWN),
    ],
)
async def test_a_payment_code_is_scanned_with_its_scheme(hall: Hall, device: str, kind: str, scheme: int) -> None:
    call = asyncio.ensure_future(hall.desk.ScanPaymentCode(scan_request(device, f"pay-{kind}"), timeout=20))
    await asyncio.sleep(0.5)  # the applicant shows the phone a moment after the clerk asks
    await hall.ctl.fault(device, "scan", kind)
    resp = await call
    assert resp.device_id == device and resp.scheme == scheme
    assert resp.code.isdigit() and 16 <= len(resp.code) <= 24
    assert resp.code not in hall.logs()


async def test_no_code_until_the_deadline(hall: Hall) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.ScanPaymentCode(scan_request("pay-d1", "pay-none", wait=1.5), timeout=20)
    code, reason, _ = error_info(info.value)
    assert (code, reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "NO_PAYMENT_CODE")
    assert 1.4 < loop.time() - started < 4


async def test_a_claimed_desk_scans_only_for_its_visit(hall: Hall) -> None:
    visit = (await hall.stations.ClaimStation(station_pb2.ClaimStationRequest(station_id="desk-01"))).visit
    ref = device_pb2.DeviceRef(
        station=device_pb2.StationRef(station_id="desk-01", kind=device_pb2.DEVICE_KIND_PAYMENT_SCANNER)
    )
    request = desk_pb2.ScanPaymentCodeRequest(device=ref, request_id="visit-pay")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.ScanPaymentCode(request, timeout=10)
    assert error_info(info.value)[1] == "STATION_CLAIMED"
    call = asyncio.ensure_future(hall.desk.ScanPaymentCode(request, timeout=10, metadata=((VISIT, visit.visit_id),)))
    await asyncio.sleep(0.5)
    await hall.ctl.fault("pay-d1", "scan", "alipay")
    assert (await call).scheme == desk_pb2.PAYMENT_SCHEME_ALIPAY


async def test_a_wrong_device_kind_is_refused(hall: Hall) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.ScanPaymentCode(scan_request("idr-d1", "wrong"), timeout=10)
    assert error_info(info.value)[1] == "INVALID_REQUEST"


async def test_a_reader_swapped_mid_visit_does_not_end_the_visit(hall: Hall) -> None:
    visit = (await hall.stations.ClaimStation(station_pb2.ClaimStationRequest(station_id="desk-02"))).visit
    mine = ((VISIT, visit.visit_id),)
    ref = device_pb2.DeviceRef(
        station=device_pb2.StationRef(station_id="desk-02", kind=device_pb2.DEVICE_KIND_IDCARD_READER)
    )
    await hall.ctl.insert("idr-d2", "resident-1")
    assert (await hall.idcard.ReadIdCard(read_request(ref, "before"), timeout=10, metadata=mine)).device_id == "idr-d2"

    await hall.ctl.fault("idr-d2", "unplug")  # the desk's reader fails; the engineer maps the spare
    await hall.wait_oper("idr-d2", device_pb2.OPER_STATE_OFFLINE, timeout=10)
    answer = await hall.stations.AssignRole(station_pb2.AssignRoleRequest(station_id="desk-02", device_id="idr-spare"))
    assert answer.replaced_device_id == "idr-d2"
    assert [(r.kind, r.device_id) for r in answer.station.roles if r.kind == device_pb2.DEVICE_KIND_IDCARD_READER] == [
        (device_pb2.DEVICE_KIND_IDCARD_READER, "idr-spare")
    ]
    assert answer.station.visit.visit_id == visit.visit_id  # the visit goes on
    assert (await hall.device("idr-d2")).station_id == "desk-09"  # the failed reader went to the shelf

    await hall.ctl.insert("idr-spare", "resident-1")
    after = await hall.idcard.ReadIdCard(read_request(ref, "after"), timeout=10, metadata=mine)
    assert after.device_id == "idr-spare" and after.card.HasField("resident_id")
    with pytest.raises(grpc.aio.AioRpcError) as info:  # the spare serves the claimed desk now: the visit guards it
        await hall.idcard.ReadIdCard(read_request(by_device("idr-spare"), "intruder"), timeout=10)
    assert error_info(info.value)[1] == "STATION_CLAIMED"

    # The swap survives a restart of the gateway (visits do not: they live in its memory).
    await hall.stop_daemon()
    await hall.start_daemon()
    station = (await hall.stations.GetStation(station_pb2.GetStationRequest(station_id="desk-02"))).station
    assert "idr-spare" in [r.device_id for r in station.roles] and not station.HasField("visit")


async def test_a_document_page_is_captured_after_guidance(hall: Hall) -> None:
    events = hall.devices.WatchEvents(
        device_service_pb2.WatchEventsRequest(device_ids=["dcam-d1"], include_current_state=True)
    )
    stream = aiter(events)
    await anext(stream)
    await hall.ctl.fault("dcam-d1", "restart")  # an empty desk, the page placed cut off, then placed well
    request = desk_pb2.CaptureDocumentRequest(
        device=by_device("dcam-d1"), request_id="page-1", dpi=150, format=desk_pb2.PAGE_FORMAT_JPEG
    )
    call = asyncio.ensure_future(hall.desk.CaptureDocument(request, timeout=30))
    stages: list[str] = []
    async with asyncio.timeout(30):
        async for item in stream:
            if item.event.request_id != "page-1":
                continue
            if item.event.WhichOneof("payload") == "progress":
                stages.append(item.event.progress.stage)
            if item.event.WhichOneof("payload") == "finished":
                break
    events.cancel()
    resp = await call
    assert stages[0] == "PLACE_PAGE" and stages[-1] == "CAPTURED" and "PAGE_CUT_OFF" in stages, stages
    assert (resp.width, resp.height, resp.dpi, resp.pages) == (1240, 1754, 150, 1)  # A4 at 150 dpi
    page = cv2.imdecode(np.frombuffer(resp.data, np.uint8), cv2.IMREAD_COLOR)
    assert page is not None and page.shape == (1754, 1240, 3)


async def test_two_pages_as_one_pdf_and_bad_requests(hall: Hall) -> None:
    await hall.ctl.fault("dcam-d1", "restart")
    request = desk_pb2.CaptureDocumentRequest(
        device=by_device("dcam-d1"), request_id="pages-2", pages=2, dpi=100, format=desk_pb2.PAGE_FORMAT_PDF
    )
    resp = await hall.desk.CaptureDocument(request, timeout=40)
    assert resp.data.startswith(b"%PDF-") and resp.pages == 2 and resp.format == desk_pb2.PAGE_FORMAT_PDF
    assert resp.data.count(b"/Type /Page\n") + resp.data.count(b"/Type /Page ") + resp.data.count(b"/Type/Page") >= 2
    for bad in (
        desk_pb2.CaptureDocumentRequest(device=by_device("dcam-d1"), request_id="b", pages=2),
        desk_pb2.CaptureDocumentRequest(device=by_device("dcam-d1"), request_id="b", dpi=600),
        desk_pb2.CaptureDocumentRequest(device=by_device("pay-d1"), request_id="b"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await hall.desk.CaptureDocument(bad, timeout=10)
        assert error_info(info.value)[1] == "INVALID_REQUEST"


async def test_a_queue_ticket_in_chinese_mode_and_paper_out(hall: Hall) -> None:
    request = desk_pb2.PrintTicketRequest(
        device=by_device("tkt-d1"), request_id="ticket-1", queue_number="A023", window="7",
        qr="https://hall.example/q/A023", lines=["请在等候区等候叫号"],
    )  # fmt: skip
    assert (await hall.desk.PrintTicket(request, timeout=20)).device_id == "tkt-d1"
    printer = next(d for d in (await hall.ctl.request("list"))["devices"] if d["id"] == "tkt-d1")
    assert printer["tickets"] >= 1, printer
    last = "\n".join(printer["last_ticket"]["lines"])
    assert "A023" in last and "窗口：7" in last and "请在等候区等候叫号" in last
    assert printer["last_ticket"]["qr"] == ["https://hall.example/q/A023"]

    await hall.ctl.fault("tkt-d1", "paper_out", "on")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.PrintTicket(request, timeout=20)
    assert error_info(info.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "PAPER_OUT")
    await hall.ctl.fault("tkt-d1", "paper_out", "off")
    await hall.ctl.fault("tkt-d1", "cover_open", "on")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.desk.PrintTicket(request, timeout=20)
    assert error_info(info.value)[1] == "COVER_OPEN"
