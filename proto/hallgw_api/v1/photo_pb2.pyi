import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from hallgw_api.v1 import device_pb2 as _device_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PhotoServiceCaptureRequest(_message.Message):
    __slots__ = ("device", "request_id", "wait", "hold_frames")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    HOLD_FRAMES_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    wait: _duration_pb2.Duration
    hold_frames: int
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., hold_frames: _Optional[int] = ...) -> None: ...

class Photo(_message.Message):
    __slots__ = ("jpeg", "width", "height")
    JPEG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    width: int
    height: int
    def __init__(self, jpeg: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("x", "y", "width", "height")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    x: int
    y: int
    width: int
    height: int
    def __init__(self, x: _Optional[int] = ..., y: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class ComplianceCheck(_message.Message):
    __slots__ = ("name", "value", "low", "high", "unit", "passed", "hint")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    HINT_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    low: float
    high: float
    unit: str
    passed: bool
    hint: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ..., low: _Optional[float] = ..., high: _Optional[float] = ..., unit: _Optional[str] = ..., passed: _Optional[bool] = ..., hint: _Optional[str] = ...) -> None: ...

class ComplianceReport(_message.Message):
    __slots__ = ("passed", "checks", "hints", "hint_texts", "faces", "face", "crop", "image_width", "image_height")
    PASSED_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    HINTS_FIELD_NUMBER: _ClassVar[int]
    HINT_TEXTS_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    CROP_FIELD_NUMBER: _ClassVar[int]
    IMAGE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    IMAGE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    passed: bool
    checks: _containers.RepeatedCompositeFieldContainer[ComplianceCheck]
    hints: _containers.RepeatedScalarFieldContainer[str]
    hint_texts: _containers.RepeatedScalarFieldContainer[str]
    faces: int
    face: Box
    crop: Box
    image_width: int
    image_height: int
    def __init__(self, passed: _Optional[bool] = ..., checks: _Optional[_Iterable[_Union[ComplianceCheck, _Mapping]]] = ..., hints: _Optional[_Iterable[str]] = ..., hint_texts: _Optional[_Iterable[str]] = ..., faces: _Optional[int] = ..., face: _Optional[_Union[Box, _Mapping]] = ..., crop: _Optional[_Union[Box, _Mapping]] = ..., image_width: _Optional[int] = ..., image_height: _Optional[int] = ...) -> None: ...

class PhotoServiceCaptureResponse(_message.Message):
    __slots__ = ("photo", "report", "device_id", "frames_judged")
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    FRAMES_JUDGED_FIELD_NUMBER: _ClassVar[int]
    photo: Photo
    report: ComplianceReport
    device_id: str
    frames_judged: int
    def __init__(self, photo: _Optional[_Union[Photo, _Mapping]] = ..., report: _Optional[_Union[ComplianceReport, _Mapping]] = ..., device_id: _Optional[str] = ..., frames_judged: _Optional[int] = ...) -> None: ...

class PhotoServiceCheckRequest(_message.Message):
    __slots__ = ("image", "overlay")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    overlay: bool
    def __init__(self, image: _Optional[bytes] = ..., overlay: _Optional[bool] = ...) -> None: ...

class PhotoServiceCheckResponse(_message.Message):
    __slots__ = ("report", "corrected", "corrected_report", "overlay_png")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_REPORT_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_PNG_FIELD_NUMBER: _ClassVar[int]
    report: ComplianceReport
    corrected: Photo
    corrected_report: ComplianceReport
    overlay_png: bytes
    def __init__(self, report: _Optional[_Union[ComplianceReport, _Mapping]] = ..., corrected: _Optional[_Union[Photo, _Mapping]] = ..., corrected_report: _Optional[_Union[ComplianceReport, _Mapping]] = ..., overlay_png: _Optional[bytes] = ...) -> None: ...
