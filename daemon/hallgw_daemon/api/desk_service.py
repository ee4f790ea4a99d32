"""DeskService: the desk devices of the one-visit workflow (docs/desk.md).

Each call runs in its device's command lane like every business call, so a
claimed station refuses it unless it names the visit, and its progress events
carry the request id and the visit. Payment codes, form fields and document
images pass through in memory only: never logged, traced or written.
"""

from __future__ import annotations

import asyncio
from typing import Final

from hallgw_api.v1 import desk_pb2, desk_pb2_grpc, device_pb2
from hallgw_daemon.api.interceptors import Ctx
from hallgw_daemon.api.services import call_deadline, check_request_id, requested_wait, resolve, wait_until
from hallgw_daemon.core.errors import InvalidRequestError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.document_camera import DocumentCameraDriver, DocumentCapture
from hallgw_daemon.drivers.payment_scanner import PaymentScannerDriver
from hallgw_daemon.supervisor import DeviceRegistry, ManagedDevice
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
