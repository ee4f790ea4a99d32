from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_UNKNOWN_DEVICE: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_REQUEST: _ClassVar[ErrorReason]
    ERROR_REASON_DEVICE_OFFLINE: _ClassVar[ErrorReason]
    ERROR_REASON_DEVICE_DISABLED: _ClassVar[ErrorReason]
    ERROR_REASON_DEVICE_BUSY: _ClassVar[ErrorReason]
    ERROR_REASON_NO_CARD: _ClassVar[ErrorReason]
    ERROR_REASON_CARD_READ_FAILED: _ClassVar[ErrorReason]
    ERROR_REASON_SAM_FAULT: _ClassVar[ErrorReason]
    ERROR_REASON_DEVICE_PROTOCOL_ERROR: _ClassVar[ErrorReason]
    ERROR_REASON_DEVICE_TIMEOUT: _ClassVar[ErrorReason]
    ERROR_REASON_DEADLINE_EXCEEDED: _ClassVar[ErrorReason]
    ERROR_REASON_CANCELLED: _ClassVar[ErrorReason]
    ERROR_REASON_INTERNAL: _ClassVar[ErrorReason]
    ERROR_REASON_UNSUPPORTED_CARD: _ClassVar[ErrorReason]
    ERROR_REASON_PERMISSION_DENIED: _ClassVar[ErrorReason]
    ERROR_REASON_NO_DOCUMENT: _ClassVar[ErrorReason]
    ERROR_REASON_MRZ_INVALID: _ClassVar[ErrorReason]
    ERROR_REASON_BAC_DENIED: _ClassVar[ErrorReason]
    ERROR_REASON_DOCUMENT_REMOVED: _ClassVar[ErrorReason]
    ERROR_REASON_CHIP_READ_FAILED: _ClassVar[ErrorReason]
    ERROR_REASON_UNSUPPORTED_DOCUMENT: _ClassVar[ErrorReason]
    ERROR_REASON_NO_FINGER: _ClassVar[ErrorReason]
    ERROR_REASON_QUALITY_TOO_LOW: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_UNKNOWN_DEVICE: ErrorReason
ERROR_REASON_INVALID_REQUEST: ErrorReason
ERROR_REASON_DEVICE_OFFLINE: ErrorReason
ERROR_REASON_DEVICE_DISABLED: ErrorReason
ERROR_REASON_DEVICE_BUSY: ErrorReason
ERROR_REASON_NO_CARD: ErrorReason
ERROR_REASON_CARD_READ_FAILED: ErrorReason
ERROR_REASON_SAM_FAULT: ErrorReason
ERROR_REASON_DEVICE_PROTOCOL_ERROR: ErrorReason
ERROR_REASON_DEVICE_TIMEOUT: ErrorReason
ERROR_REASON_DEADLINE_EXCEEDED: ErrorReason
ERROR_REASON_CANCELLED: ErrorReason
ERROR_REASON_INTERNAL: ErrorReason
ERROR_REASON_UNSUPPORTED_CARD: ErrorReason
ERROR_REASON_PERMISSION_DENIED: ErrorReason
ERROR_REASON_NO_DOCUMENT: ErrorReason
ERROR_REASON_MRZ_INVALID: ErrorReason
ERROR_REASON_BAC_DENIED: ErrorReason
ERROR_REASON_DOCUMENT_REMOVED: ErrorReason
ERROR_REASON_CHIP_READ_FAILED: ErrorReason
ERROR_REASON_UNSUPPORTED_DOCUMENT: ErrorReason
ERROR_REASON_NO_FINGER: ErrorReason
ERROR_REASON_QUALITY_TOO_LOW: ErrorReason
