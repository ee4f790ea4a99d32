"""A visit's payment code, form fields and document pages reach only the caller (and the printer).

A desk hall runs with telemetry to a real Mosquitto and a private cupsd. With
every desk device's frame trace open, the test reads a card, prints the
application form, scans a payment code and captures a document page, through
the API and through hallctl. Then it searches telemetry, the traces, hallctl's
output and every file the hall left (logs, state) for the payment code, the
form's personal fields, and any image or PDF.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from support.broker import Broker, mosquitto_broker, subscriber
from support.cups import Cupsd, private_cupsd
from support.hall import DESK_HALL, by_device, hallctl, read_request, running_hall
from support.privacy import Traces, device_metrics_after_reads

from hallgw_api.v1 import desk_pb2

pytestmark = pytest.mark.timeout(180)
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-")
PHONE = "13912345678"
DESK_DEVICES = ("idr-d1", "pay-d1", "tkt-d1", "dcam-d1", "a4-d1")


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


@pytest.fixture(scope="module")
def cupsd() -> Iterator[Cupsd]:
    with private_cupsd() as server:
        yield server


async def test_a_visits_personal_data_stays_with_the_caller(tmp_path: Path, broker: Broker, cupsd: Cupsd) -> None:
    queue = cupsd.add_pdf_queue("privacy")
    scenario = tmp_path / "desks.toml"
    printer = f'id = "a4-d1"\nkind = "form_printer"\nstation = "desk-01"\ntransport = "ipp"\nqueue = "{queue}"\n'
    scenario.write_text(DESK_HALL.read_text() + "\n[[devices]]\n" + printer)
    telemetry = f'[telemetry]\nbroker = "{broker.url}"\nkeepalive = 2\nmetrics_interval = 0.3\n'
    root = tmp_path / "hall"
    async with (
        running_hall(root, scenario=scenario, baud=0, cups=cupsd.server, extra_config=telemetry) as hall,
        subscriber(broker.url, "#") as monitor,
    ):
        traces = Traces(hall, DESK_DEVICES)
        await asyncio.sleep(0.3)

        await hall.ctl.insert("idr-d1", "resident-1")
        card = (await hall.idcard.ReadIdCard(read_request(by_device("idr-d1")), timeout=10)).card.resident_id
        form = desk_pb2.ApplicationForm(
            name=card.name, sex=card.sex.name_zh, ethnicity=card.nation.name_zh, birth_date=card.birth_date,
            id_number=card.id_number, address=card.address, phone=PHONE, delivery=desk_pb2.DELIVERY_METHOD_COLLECT,
            documents=[desk_pb2.DocumentApplication(
                document=desk_pb2.DOCUMENT_TYPE_PASSPORT, application=desk_pb2.APPLICATION_TYPE_FIRST_ISSUE)],
        )  # fmt: skip
        await hall.desk.PrintApplicationForm(
            desk_pb2.PrintApplicationFormRequest(device=by_device("a4-d1"), request_id="p-form", form=form), timeout=30
        )
        bad = desk_pb2.ApplicationForm()
        bad.CopyFrom(form)
        bad.delivery = desk_pb2.DELIVERY_METHOD_MAIL  # without an address: refused, naming only the field
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await hall.desk.PrintApplicationForm(
                desk_pb2.PrintApplicationFormRequest(device=by_device("a4-d1"), request_id="p-bad", form=bad),
                timeout=30,
            )

        scan = asyncio.ensure_future(
            hall.desk.ScanPaymentCode(desk_pb2.ScanPaymentCodeRequest(device=by_device("pay-d1"), request_id="p-pay"))
        )
        await asyncio.sleep(0.5)
        await hall.ctl.fault("pay-d1", "scan", "alipay")
        code = (await scan).code
        await hall.ctl.fault("dcam-d1", "restart")
        page = await hall.desk.CaptureDocument(
            desk_pb2.CaptureDocumentRequest(device=by_device("dcam-d1"), request_id="p-page", dpi=100), timeout=30
        )
        ticket = desk_pb2.PrintTicketRequest(
            device=by_device("tkt-d1"), request_id="p-tkt", queue_number="C7", window="2"
        )
        await hall.desk.PrintTicket(ticket, timeout=20)
        listed, out, err = await hallctl(hall, "devices", "--json")
        code_show, shown, shown_err = await hallctl(hall, "show", "pay-d1", "--json")
        assert listed == 0 and code_show == 0, err + shown_err

        got = await monitor.collect(
            until=device_metrics_after_reads(("idr-d1", "a4-d1", "pay-d1", "dcam-d1")), timeout=10
        )
        await traces.stopped()

        secrets = [code, card.name, card.id_number, card.address, PHONE]
        blobs = {
            "telemetry": b"".join(m.payload for m in got),
            "a trace": traces.text(),
            "hallctl output": (out + err + shown + shown_err).encode(),
            "an error": (refused.value.details() or "").encode(),
        }
        for where, blob in blobs.items():
            for secret in secrets:
                assert secret.encode() not in blob, f"personal data in {where}"
            assert not any(sig in blob for sig in SIGNATURES), f"an image or PDF in {where}"
        assert page.data[:3] == b"\xff\xd8\xff" and page.data[200:264] not in blobs["telemetry"]

    # The hall stopped: its logs are complete. No file it left holds the visit's data or an image.
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"personal data in {path.relative_to(root)}"
        assert not any(sig in data for sig in SIGNATURES), f"an image or PDF in {path.relative_to(root)}"
