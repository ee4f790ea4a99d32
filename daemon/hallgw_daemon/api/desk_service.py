"""DeskService: the desk devices of the one-visit workflow (docs/desk.md).

Each call runs in its device's command lane like every business call, so a
claimed station refuses it unless it names the visit, and its progress events
carry the request id and the visit. Payment codes, form fields and document
images pass through in memory only: never logged, traced or written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Final

from hallgw_api.v1 import desk_pb2, desk_pb2_grpc, device_pb2
from hallgw_daemon.api.interceptors import Ctx
from hallgw_daemon.api.services import call_deadline, check_request_id, requested_wait, resolve, wait_until
from hallgw_daemon.core.errors import InvalidRequestError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.document_camera import DocumentCameraDriver, DocumentCapture
from hallgw_daemon.drivers.form_pdf import (
    ApplicationForm,
    ApplicationType,
    Delivery,
    DocumentRequest,
    DocumentType,
    Sex,
)
from hallgw_daemon.drivers.form_printer import FormPrinterDriver, PrintJob
from hallgw_daemon.drivers.payment_scanner import PaymentScannerDriver
from hallgw_daemon.drivers.ticket_printer import PrintResult, TicketPrinterDriver
from hallgw_daemon.supervisor import DeviceRegistry, ManagedDevice
from hallgw_protocols import LocalProtocolError
from hallgw_protocols.escpos import Ticket
from hallgw_protocols.payment_scanner import PaymentCode, PaymentScheme

DEFAULT_SCAN_WAIT: Final = 30.0
DEFAULT_PAGE_WAIT: Final = 30.0
MAX_PAGES: Final = 10
FORMAT_OF_PB: Final = {
    desk_pb2.PAGE_FORMAT_UNSPECIFIED: "jpeg",
    desk_pb2.PAGE_FORMAT_JPEG: "jpeg",
    desk_pb2.PAGE_FORMAT_PDF: "pdf",
}
FORMAT_TO_PB: Final = {"jpeg": desk_pb2.PAGE_FORMAT_JPEG, "pdf": desk_pb2.PAGE_FORMAT_PDF}
DEFAULT_PRINT_WAIT: Final = 60.0
MAX_TICKET_LINES: Final = 6
DOCUMENT_OF_PB: Final = {
    desk_pb2.DOCUMENT_TYPE_PASSPORT: DocumentType.PASSPORT,
    desk_pb2.DOCUMENT_TYPE_HK_MACAO_PERMIT: DocumentType.HK_MACAO_PERMIT,
    desk_pb2.DOCUMENT_TYPE_TAIWAN_PERMIT: DocumentType.TAIWAN_PERMIT,
}
APPLICATION_OF_PB: Final = {
    desk_pb2.APPLICATION_TYPE_FIRST_ISSUE: ApplicationType.FIRST_ISSUE,
    desk_pb2.APPLICATION_TYPE_RENEWAL: ApplicationType.RENEWAL,
    desk_pb2.APPLICATION_TYPE_REPLACEMENT_LOST: ApplicationType.REPLACEMENT,
    desk_pb2.APPLICATION_TYPE_REPLACEMENT_DAMAGED: ApplicationType.RENEWAL,  # a damaged document is renewed (换发)
    desk_pb2.APPLICATION_TYPE_REISSUE_AFTER_EXPIRY: ApplicationType.REISSUE_AFTER_EXPIRY,
    desk_pb2.APPLICATION_TYPE_AMENDMENT: ApplicationType.AMENDMENT,
}
DELIVERY_OF_PB: Final = {
    desk_pb2.DELIVERY_METHOD_COLLECT: Delivery.COLLECT_AT_HALL,
    desk_pb2.DELIVERY_METHOD_MAIL: Delivery.MAIL,
}


def application_form(msg: desk_pb2.ApplicationForm, *, today: dt.date) -> ApplicationForm:
    """The form to render; INVALID_REQUEST naming the field (never its value) when one is unusable."""
    try:
        sex = Sex(msg.sex)
    except ValueError:
        raise InvalidRequestError("form.sex must be 男 or 女, as on the ID card") from None
    try:
        birth = dt.date(msg.birth_date.year, msg.birth_date.month, msg.birth_date.day)
    except ValueError:
        raise InvalidRequestError("form.birth_date is not a date") from None
    documents = []
    for index, item in enumerate(msg.documents):
        document, application = DOCUMENT_OF_PB.get(item.document), APPLICATION_OF_PB.get(item.application)
        if document is None or application is None:
            raise InvalidRequestError(f"form.documents[{index}] needs a document and an application type")
        documents.append(DocumentRequest(document=document, application=application))
    delivery = DELIVERY_OF_PB.get(msg.delivery)
    if delivery is None:
        raise InvalidRequestError("form.delivery must be COLLECT or MAIL")
    try:
        return ApplicationForm(
            name=msg.name,
            sex=sex,
            ethnicity=msg.ethnicity,
            birth_date=birth,
            id_number=msg.id_number,
            address=msg.address,
            documents=tuple(documents),
            phone=msg.phone,
            delivery=delivery,
            mail_address=msg.delivery_address,
            date=today,
        )
    except ValueError as err:  # the form names the field, never its value
        raise InvalidRequestError(f"form: {err}") from None


SCHEME_TO_PB: Final = {
    PaymentScheme.WECHAT_PAY: desk_pb2.PAYMENT_SCHEME_WECHAT_PAY,
    PaymentScheme.ALIPAY: desk_pb2.PAYMENT_SCHEME_ALIPAY,
    PaymentScheme.UNIONPAY: desk_pb2.PAYMENT_SCHEME_UNIONPAY,
    PaymentScheme.UNKNOWN: desk_pb2.PAYMENT_SCHEME_UNKNOWN,
}


def _device(registry: DeviceRegistry, ref: device_pb2.DeviceRef, kind: DeviceKind, what: str) -> ManagedDevice:
    dev = resolve(registry, ref, default_kind=kind)
    if dev.kind is not kind:
        raise InvalidRequestError(f"device {dev.id} is a {dev.kind.value}, not {what}")
    return dev


class DeskService(desk_pb2_grpc.DeskServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Payment codes, application forms, queue tickets and document pages."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    async def ScanPaymentCode(
        self, request: desk_pb2.ScanPaymentCodeRequest, context: Ctx
    ) -> desk_pb2.ScanPaymentCodeResponse:
        check_request_id(request.request_id)
        dev = _device(self.registry, request.device, DeviceKind.PAYMENT_SCANNER, "a payment-code scanner")
        deadline = call_deadline(context)
        until = wait_until(requested_wait(request, "wait", DEFAULT_SCAN_WAIT, deadline), deadline)
        since = asyncio.get_running_loop().time()
        progress = dev.progress(request.request_id)

        async def scan(driver: PaymentScannerDriver) -> PaymentCode:
            return await driver.take_code(since=since, until=until, progress=progress)

        code = await dev.run_command(
            "ScanPaymentCode", scan, PaymentScannerDriver, request_id=request.request_id, deadline=deadline
        )
        return desk_pb2.ScanPaymentCodeResponse(code=code.code, scheme=SCHEME_TO_PB[code.scheme], device_id=dev.id)

    async def CaptureDocument(
        self, request: desk_pb2.CaptureDocumentRequest, context: Ctx
    ) -> desk_pb2.CaptureDocumentResponse:
        check_request_id(request.request_id)
        dev = _device(self.registry, request.device, DeviceKind.DOCUMENT_CAMERA, "a document camera")
        fmt = FORMAT_OF_PB.get(request.format)
        if fmt is None:
            raise InvalidRequestError("format must be PAGE_FORMAT_JPEG or PAGE_FORMAT_PDF")
        dpi = request.dpi or 200
        if not 100 <= dpi <= 300:
            raise InvalidRequestError("dpi must be 100 to 300 (0: 200)")
        pages = request.pages or 1
        if not 1 <= pages <= MAX_PAGES:
            raise InvalidRequestError(f"pages must be 1 to {MAX_PAGES} (0: 1)")
        if fmt == "jpeg" and pages > 1:
            raise InvalidRequestError("a JPEG holds one page: ask for PAGE_FORMAT_PDF for several")
        deadline = call_deadline(context)
        until = wait_until(requested_wait(request, "wait", DEFAULT_PAGE_WAIT, deadline), deadline)
        progress = dev.progress(request.request_id)

        async def capture(driver: DocumentCameraDriver) -> DocumentCapture:
            return await driver.capture_document(until=until, dpi=dpi, pages=pages, fmt=fmt, progress=progress)

        result = await dev.run_command(
            "CaptureDocument", capture, DocumentCameraDriver, request_id=request.request_id, deadline=deadline
        )
        return desk_pb2.CaptureDocumentResponse(
            data=result.data,
            format=FORMAT_TO_PB[result.fmt],
            pages=result.pages,
            width=result.width,
            height=result.height,
            dpi=result.dpi,
            device_id=dev.id,
        )

    async def PrintApplicationForm(
        self, request: desk_pb2.PrintApplicationFormRequest, context: Ctx
    ) -> desk_pb2.PrintApplicationFormResponse:
        check_request_id(request.request_id)
        dev = _device(self.registry, request.device, DeviceKind.FORM_PRINTER, "a form printer")
        form = application_form(request.form, today=dt.date.today())
        deadline = call_deadline(context)
        until = wait_until(requested_wait(request, "wait", DEFAULT_PRINT_WAIT, deadline), deadline)
        progress = dev.progress(request.request_id)

        async def print_form(driver: FormPrinterDriver) -> PrintJob:
            return await driver.print_form(form, until=until, progress=progress)

        job = await dev.run_command(
            "PrintApplicationForm", print_form, FormPrinterDriver, request_id=request.request_id, deadline=deadline
        )
        return desk_pb2.PrintApplicationFormResponse(
            job_id=job.job_id, job_state=job.state.name.lower(), pages=job.pages, device_id=dev.id
        )

    async def PrintTicket(self, request: desk_pb2.PrintTicketRequest, context: Ctx) -> desk_pb2.PrintTicketResponse:
        check_request_id(request.request_id)
        dev = _device(self.registry, request.device, DeviceKind.TICKET_PRINTER, "a ticket printer")
        if len(request.lines) > MAX_TICKET_LINES:
            raise InvalidRequestError(f"a ticket has at most {MAX_TICKET_LINES} extra lines")
        now = dt.datetime.now().astimezone()
        try:
            ticket = Ticket(
                queue_number=request.queue_number,
                window=request.window,
                issued_at=now.strftime("%Y-%m-%d %H:%M"),
                qr=request.qr,
                lines=tuple(request.lines),
            )
        except LocalProtocolError as err:
            raise InvalidRequestError(f"ticket: {err}") from None
        progress = dev.progress(request.request_id)

        async def print_ticket(driver: TicketPrinterDriver) -> PrintResult:
            return await driver.print_ticket(ticket, progress=progress)

        await dev.run_command(
            "PrintTicket",
            print_ticket,
            TicketPrinterDriver,
            request_id=request.request_id,
            deadline=call_deadline(context),
        )
        return desk_pb2.PrintTicketResponse(device_id=dev.id)
