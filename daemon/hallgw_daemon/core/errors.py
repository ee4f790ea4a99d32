"""Errors a caller can see: each has a stable reason code and the action required.

The API layer maps them to gRPC status codes in one place (``api/errors.py``);
docs/api.md lists every reason. Messages never carry personal data.
"""

from __future__ import annotations

from collections.abc import Mapping

from hallgw_daemon.core.model import Action


class GatewayError(Exception):
    """Base class: ``reason`` is the stable code, ``action`` what to do."""

    reason = "INTERNAL"
    action = Action.ENGINEER

    def __init__(
        self,
        message: str,
        *,
        device_id: str | None = None,
        action: Action | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.device_id = device_id
        self.details: dict[str, str] = dict(details or {})
        """Extra facts for the caller (ErrorInfo metadata); never personal data."""
        if action is not None:
            self.action = action


class UnknownDeviceError(GatewayError):
    reason = "UNKNOWN_DEVICE"
    action = Action.NONE


class InvalidRequestError(GatewayError):
    reason = "INVALID_REQUEST"
    action = Action.NONE


class DeviceOfflineError(GatewayError):
    reason = "DEVICE_OFFLINE"
    action = Action.ENGINEER


class DeviceDisabledError(GatewayError):
    reason = "DEVICE_DISABLED"
    action = Action.STAFF


class DeviceBusyError(GatewayError):
    reason = "DEVICE_BUSY"
    action = Action.RETRY


class NoCardError(GatewayError):
    reason = "NO_CARD"
    action = Action.RETRY


class CardReadFailedError(GatewayError):
    reason = "CARD_READ_FAILED"
    action = Action.RETRY


class UnsupportedCardError(GatewayError):
    reason = "UNSUPPORTED_CARD"
    action = Action.STAFF


class SamFaultError(GatewayError):
    """The reader's security module reports a fault (self-test, authorisation)."""

    reason = "SAM_FAULT"
    action = Action.RESET


class DeviceProtocolError(GatewayError):
    """The device sent bytes the protocol does not allow."""

    reason = "DEVICE_PROTOCOL_ERROR"
    action = Action.RETRY


class DeviceTimeoutError(GatewayError, TimeoutError):
    """The device did not answer in time."""

    reason = "DEVICE_TIMEOUT"
    action = Action.RETRY


class DeadlineExceededError(GatewayError, TimeoutError):
    """The caller's deadline passed first."""

    reason = "DEADLINE_EXCEEDED"
    action = Action.RETRY


class LinkLostError(GatewayError):
    """The link to the device went away mid-command."""

    reason = "DEVICE_OFFLINE"
    action = Action.ENGINEER


class PermissionDeniedError(GatewayError):
    """The caller's role does not allow this call."""

    reason = "PERMISSION_DENIED"
    action = Action.ENGINEER


class InternalError(GatewayError):
    reason = "INTERNAL"
    action = Action.ENGINEER


class NoDocumentError(GatewayError):
    """No travel document (or MRZ scan) arrived before the deadline."""

    reason = "NO_DOCUMENT"
    action = Action.RETRY


class MrzInvalidError(GatewayError):
    """The MRZ fails its check digits or layout."""

    reason = "MRZ_INVALID"
    action = Action.RETRY


class BacDeniedError(GatewayError):
    """The chip refused Basic Access Control: the MRZ is not this chip's."""

    reason = "BAC_DENIED"
    action = Action.RETRY


class DocumentRemovedError(GatewayError):
    """The document left the reader during the read."""

    reason = "DOCUMENT_REMOVED"
    action = Action.RETRY


class ChipReadFailedError(GatewayError):
    """The chip's answers could not be read or authenticated."""

    reason = "CHIP_READ_FAILED"
    action = Action.RETRY


class UnsupportedDocumentError(GatewayError):
    """The card on the reader is not an ICAO travel document."""

    reason = "UNSUPPORTED_DOCUMENT"
    action = Action.STAFF


class NoFingerError(GatewayError):
    """No finger was placed on the scanner before the deadline."""

    reason = "NO_FINGER"
    action = Action.RETRY


class QualityTooLowError(GatewayError):
    """Every attempt scored below the minimum; ``details`` carries the best attempt's score and hints."""

    reason = "QUALITY_TOO_LOW"
    action = Action.RETRY


class PhotoNotCompliantError(GatewayError):
    """No frame met the photo standard in time; ``details`` names the checks failed and the hints."""

    reason = "PHOTO_NOT_COMPLIANT"
    action = Action.RETRY


class ImageInvalidError(GatewayError):
    """An uploaded image cannot be decoded or is too large."""

    reason = "IMAGE_INVALID"
    action = Action.NONE


class NoPaymentCodeError(GatewayError):
    """No payment code was scanned before the deadline."""

    reason = "NO_PAYMENT_CODE"
    action = Action.RETRY


class PaperOutError(GatewayError):
    """The printer is out of paper."""

    reason = "PAPER_OUT"
    action = Action.STAFF


class CoverOpenError(GatewayError):
    """The printer's cover is open."""

    reason = "COVER_OPEN"
    action = Action.STAFF


class PrinterStoppedError(GatewayError):
    """The print queue is stopped or does not accept jobs."""

    reason = "PRINTER_STOPPED"
    action = Action.STAFF


class PrintFailedError(GatewayError):
    """A print job stopped, was aborted or canceled; ``details`` has its id and state."""

    reason = "PRINT_FAILED"
    action = Action.RETRY


class NoPageError(GatewayError):
    """The document camera found no whole page before the deadline; ``details`` has the hints."""

    reason = "NO_PAGE"
    action = Action.RETRY


class StationClaimedError(GatewayError):
    """The station is claimed by another caller; ``details`` names the holder and the visit."""

    reason = "STATION_CLAIMED"
    action = Action.STAFF


class UnknownVisitError(GatewayError):
    """The visit was released or its lease expired."""

    reason = "UNKNOWN_VISIT"
    action = Action.NONE
