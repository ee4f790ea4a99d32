import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hallgw_api.v1 import device_pb2 as _device_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FrameDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FRAME_DIRECTION_UNSPECIFIED: _ClassVar[FrameDirection]
    FRAME_DIRECTION_TO_DEVICE: _ClassVar[FrameDirection]
    FRAME_DIRECTION_FROM_DEVICE: _ClassVar[FrameDirection]
FRAME_DIRECTION_UNSPECIFIED: FrameDirection
FRAME_DIRECTION_TO_DEVICE: FrameDirection
FRAME_DIRECTION_FROM_DEVICE: FrameDirection

class ListDevicesRequest(_message.Message):
    __slots__ = ("kinds", "station_ids")
    KINDS_FIELD_NUMBER: _ClassVar[int]
    STATION_IDS_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[_device_pb2.DeviceKind]
    station_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kinds: _Optional[_Iterable[_Union[_device_pb2.DeviceKind, str]]] = ..., station_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices",)
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[_device_pb2.Device]
    def __init__(self, devices: _Optional[_Iterable[_Union[_device_pb2.Device, _Mapping]]] = ...) -> None: ...

class GetDeviceRequest(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ...) -> None: ...

class GetDeviceResponse(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.Device
    def __init__(self, device: _Optional[_Union[_device_pb2.Device, _Mapping]] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("device_ids", "station_ids", "request_id", "include_current_state", "visit_id")
    DEVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    STATION_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CURRENT_STATE_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    device_ids: _containers.RepeatedScalarFieldContainer[str]
    station_ids: _containers.RepeatedScalarFieldContainer[str]
    request_id: str
    include_current_state: bool
    visit_id: str
    def __init__(self, device_ids: _Optional[_Iterable[str]] = ..., station_ids: _Optional[_Iterable[str]] = ..., request_id: _Optional[str] = ..., include_current_state: _Optional[bool] = ..., visit_id: _Optional[str] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _device_pb2.DeviceEvent
    def __init__(self, event: _Optional[_Union[_device_pb2.DeviceEvent, _Mapping]] = ...) -> None: ...

class SetAdminStateRequest(_message.Message):
    __slots__ = ("device", "admin_state", "reason", "request_id")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    admin_state: _device_pb2.AdminState
    reason: str
    request_id: str
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., admin_state: _Optional[_Union[_device_pb2.AdminState, str]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SetAdminStateResponse(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.Device
    def __init__(self, device: _Optional[_Union[_device_pb2.Device, _Mapping]] = ...) -> None: ...

class TraceFramesRequest(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ...) -> None: ...

class TraceFramesResponse(_message.Message):
    __slots__ = ("time", "direction", "summary", "data", "masked", "length", "error")
    TIME_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    MASKED_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    direction: FrameDirection
    summary: str
    data: bytes
    masked: bool
    length: int
    error: str
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., direction: _Optional[_Union[FrameDirection, str]] = ..., summary: _Optional[str] = ..., data: _Optional[bytes] = ..., masked: _Optional[bool] = ..., length: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...
