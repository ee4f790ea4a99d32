import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from hallgw_api.v1 import device_pb2 as _device_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FingerPosition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINGER_POSITION_UNSPECIFIED: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_THUMB: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_INDEX: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_MIDDLE: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_RING: _ClassVar[FingerPosition]
    FINGER_POSITION_RIGHT_LITTLE: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_THUMB: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_INDEX: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_MIDDLE: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_RING: _ClassVar[FingerPosition]
    FINGER_POSITION_LEFT_LITTLE: _ClassVar[FingerPosition]
FINGER_POSITION_UNSPECIFIED: FingerPosition
FINGER_POSITION_RIGHT_THUMB: FingerPosition
FINGER_POSITION_RIGHT_INDEX: FingerPosition
FINGER_POSITION_RIGHT_MIDDLE: FingerPosition
FINGER_POSITION_RIGHT_RING: FingerPosition
FINGER_POSITION_RIGHT_LITTLE: FingerPosition
FINGER_POSITION_LEFT_THUMB: FingerPosition
FINGER_POSITION_LEFT_INDEX: FingerPosition
FINGER_POSITION_LEFT_MIDDLE: FingerPosition
FINGER_POSITION_LEFT_RING: FingerPosition
FINGER_POSITION_LEFT_LITTLE: FingerPosition

class CaptureRequest(_message.Message):
    __slots__ = ("device", "request_id", "finger", "min_quality", "max_attempts", "finger_wait")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FINGER_FIELD_NUMBER: _ClassVar[int]
    MIN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FINGER_WAIT_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    finger: FingerPosition
    min_quality: int
    max_attempts: int
    finger_wait: _duration_pb2.Duration
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., finger: _Optional[_Union[FingerPosition, str]] = ..., min_quality: _Optional[int] = ..., max_attempts: _Optional[int] = ..., finger_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class QualityComponent(_message.Message):
    __slots__ = ("value", "raw")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    value: float
    raw: float
    def __init__(self, value: _Optional[float] = ..., raw: _Optional[float] = ...) -> None: ...

class FingerprintQuality(_message.Message):
    __slots__ = ("score", "foreground", "contrast", "coherence", "moisture", "hints", "hint_texts")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FOREGROUND_FIELD_NUMBER: _ClassVar[int]
    CONTRAST_FIELD_NUMBER: _ClassVar[int]
    COHERENCE_FIELD_NUMBER: _ClassVar[int]
    MOISTURE_FIELD_NUMBER: _ClassVar[int]
    HINTS_FIELD_NUMBER: _ClassVar[int]
    HINT_TEXTS_FIELD_NUMBER: _ClassVar[int]
    score: int
    foreground: QualityComponent
    contrast: QualityComponent
    coherence: QualityComponent
    moisture: QualityComponent
    hints: _containers.RepeatedScalarFieldContainer[str]
    hint_texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, score: _Optional[int] = ..., foreground: _Optional[_Union[QualityComponent, _Mapping]] = ..., contrast: _Optional[_Union[QualityComponent, _Mapping]] = ..., coherence: _Optional[_Union[QualityComponent, _Mapping]] = ..., moisture: _Optional[_Union[QualityComponent, _Mapping]] = ..., hints: _Optional[_Iterable[str]] = ..., hint_texts: _Optional[_Iterable[str]] = ...) -> None: ...

class FingerprintImage(_message.Message):
    __slots__ = ("png", "width", "height", "resolution_dpi")
    PNG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_DPI_FIELD_NUMBER: _ClassVar[int]
    png: bytes
    width: int
    height: int
    resolution_dpi: int
    def __init__(self, png: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., resolution_dpi: _Optional[int] = ...) -> None: ...

class CaptureResponse(_message.Message):
    __slots__ = ("image", "quality", "attempt", "finger", "device_id")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FINGER_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    image: FingerprintImage
    quality: FingerprintQuality
    attempt: int
    finger: FingerPosition
    device_id: str
    def __init__(self, image: _Optional[_Union[FingerprintImage, _Mapping]] = ..., quality: _Optional[_Union[FingerprintQuality, _Mapping]] = ..., attempt: _Optional[int] = ..., finger: _Optional[_Union[FingerPosition, str]] = ..., device_id: _Optional[str] = ...) -> None: ...
