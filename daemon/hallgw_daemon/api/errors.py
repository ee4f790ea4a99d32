"""Domain errors to gRPC statuses, in one place (AIP-193: code, message, ErrorInfo)."""

from __future__ import annotations

from typing import Final

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from hallgw_daemon.core.errors import GatewayError

DOMAIN: Final = "hallgw.gateway"

STATUS_OF_REASON: Final[dict[str, grpc.StatusCode]] = {
    "UNKNOWN_DEVICE": grpc.StatusCode.NOT_FOUND,
    "INVALID_REQUEST": grpc.StatusCode.INVALID_ARGUMENT,
    "DEVICE_OFFLINE": grpc.StatusCode.UNAVAILABLE,
    "DEVICE_DISABLED": grpc.StatusCode.FAILED_PRECONDITION,
    "DEVICE_BUSY": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "NO_CARD": grpc.StatusCode.FAILED_PRECONDITION,
    "CARD_READ_FAILED": grpc.StatusCode.ABORTED,
    "SAM_FAULT": grpc.StatusCode.FAILED_PRECONDITION,
    "DEVICE_PROTOCOL_ERROR": grpc.StatusCode.UNAVAILABLE,
    "DEVICE_TIMEOUT": grpc.StatusCode.DEADLINE_EXCEEDED,
    "DEADLINE_EXCEEDED": grpc.StatusCode.DEADLINE_EXCEEDED,
    "CANCELLED": grpc.StatusCode.CANCELLED,
    "INTERNAL": grpc.StatusCode.INTERNAL,
    "UNSUPPORTED_CARD": grpc.StatusCode.FAILED_PRECONDITION,
    "PERMISSION_DENIED": grpc.StatusCode.PERMISSION_DENIED,
    "NO_DOCUMENT": grpc.StatusCode.DEADLINE_EXCEEDED,
    "MRZ_INVALID": grpc.StatusCode.INVALID_ARGUMENT,
    "BAC_DENIED": grpc.StatusCode.FAILED_PRECONDITION,
    "DOCUMENT_REMOVED": grpc.StatusCode.ABORTED,
    "CHIP_READ_FAILED": grpc.StatusCode.ABORTED,
    "UNSUPPORTED_DOCUMENT": grpc.StatusCode.FAILED_PRECONDITION,
    "NO_FINGER": grpc.StatusCode.DEADLINE_EXCEEDED,
    "QUALITY_TOO_LOW": grpc.StatusCode.FAILED_PRECONDITION,
    "REQUEST_ID_REUSED": grpc.StatusCode.ALREADY_EXISTS,
    "UNKNOWN_REQUEST": grpc.StatusCode.NOT_FOUND,
    "LEDGER_UNAVAILABLE": grpc.StatusCode.UNAVAILABLE,
    "LEDGER_CONFLICT": grpc.StatusCode.INTERNAL,
    "PHOTO_NOT_COMPLIANT": grpc.StatusCode.DEADLINE_EXCEEDED,
    "IMAGE_INVALID": grpc.StatusCode.INVALID_ARGUMENT,
    "NO_PAYMENT_CODE": grpc.StatusCode.DEADLINE_EXCEEDED,
    "PAPER_OUT": grpc.StatusCode.FAILED_PRECONDITION,
    "COVER_OPEN": grpc.StatusCode.FAILED_PRECONDITION,
    "PRINTER_STOPPED": grpc.StatusCode.FAILED_PRECONDITION,
    "PRINT_FAILED": grpc.StatusCode.ABORTED,
    "NO_PAGE": grpc.StatusCode.DEADLINE_EXCEEDED,
    "STATION_CLAIMED": grpc.StatusCode.FAILED_PRECONDITION,
    "UNKNOWN_VISIT": grpc.StatusCode.NOT_FOUND,
}
"""Every reason code and its status; docs/api.md lists the same table (a test checks)."""


def to_rpc_status(err: GatewayError) -> grpc.Status:
    """The rich status for ``err``: code, message, and ErrorInfo(reason, action, device_id)."""
    code = STATUS_OF_REASON.get(err.reason, grpc.StatusCode.INTERNAL)
    metadata = {"action": err.action.name}
    if err.device_id:
        metadata["device_id"] = err.device_id
    metadata.update(err.details)
    info = error_details_pb2.ErrorInfo(reason=err.reason, domain=DOMAIN, metadata=metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=err.message, details=[detail])
    result: grpc.Status = rpc_status.to_status(status)
    return result
