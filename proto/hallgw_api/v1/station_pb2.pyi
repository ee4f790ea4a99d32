import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from hallgw_api.v1 import device_pb2 as _device_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Visit(_message.Message):
    __slots__ = ("visit_id", "station_id", "holder", "started", "expires", "held_by_stream")
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    HELD_BY_STREAM_FIELD_NUMBER: _ClassVar[int]
    visit_id: str
    station_id: str
    holder: str
    started: _timestamp_pb2.Timestamp
    expires: _timestamp_pb2.Timestamp
    held_by_stream: bool
    def __init__(self, visit_id: _Optional[str] = ..., station_id: _Optional[str] = ..., holder: _Optional[str] = ..., started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., held_by_stream: _Optional[bool] = ...) -> None: ...

class StationRole(_message.Message):
    __slots__ = ("kind", "device_id", "admin_state", "oper_state")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_FIELD_NUMBER: _ClassVar[int]
    OPER_STATE_FIELD_NUMBER: _ClassVar[int]
    kind: _device_pb2.DeviceKind
    device_id: str
    admin_state: _device_pb2.AdminState
    oper_state: _device_pb2.OperState
    def __init__(self, kind: _Optional[_Union[_device_pb2.DeviceKind, str]] = ..., device_id: _Optional[str] = ..., admin_state: _Optional[_Union[_device_pb2.AdminState, str]] = ..., oper_state: _Optional[_Union[_device_pb2.OperState, str]] = ...) -> None: ...

class Station(_message.Message):
    __slots__ = ("station_id", "kind", "name", "area", "roles", "visit")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    VISIT_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    kind: str
    name: str
    area: str
    roles: _containers.RepeatedCompositeFieldContainer[StationRole]
    visit: Visit
    def __init__(self, station_id: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., area: _Optional[str] = ..., roles: _Optional[_Iterable[_Union[StationRole, _Mapping]]] = ..., visit: _Optional[_Union[Visit, _Mapping]] = ...) -> None: ...

class ListStationsRequest(_message.Message):
    __slots__ = ("kind",)
    KIND_FIELD_NUMBER: _ClassVar[int]
    kind: str
    def __init__(self, kind: _Optional[str] = ...) -> None: ...

class ListStationsResponse(_message.Message):
    __slots__ = ("stations",)
    STATIONS_FIELD_NUMBER: _ClassVar[int]
    stations: _containers.RepeatedCompositeFieldContainer[Station]
    def __init__(self, stations: _Optional[_Iterable[_Union[Station, _Mapping]]] = ...) -> None: ...

class GetStationRequest(_message.Message):
    __slots__ = ("station_id",)
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    def __init__(self, station_id: _Optional[str] = ...) -> None: ...

class GetStationResponse(_message.Message):
    __slots__ = ("station",)
    STATION_FIELD_NUMBER: _ClassVar[int]
    station: Station
    def __init__(self, station: _Optional[_Union[Station, _Mapping]] = ...) -> None: ...

class ClaimStationRequest(_message.Message):
    __slots__ = ("station_id", "holder", "lease")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    holder: str
    lease: _duration_pb2.Duration
    def __init__(self, station_id: _Optional[str] = ..., holder: _Optional[str] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ClaimStationResponse(_message.Message):
    __slots__ = ("visit",)
    VISIT_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ...) -> None: ...

class HoldStationRequest(_message.Message):
    __slots__ = ("station_id", "holder")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    holder: str
    def __init__(self, station_id: _Optional[str] = ..., holder: _Optional[str] = ...) -> None: ...

class HoldStationResponse(_message.Message):
    __slots__ = ("visit", "event")
    VISIT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    event: _device_pb2.DeviceEvent
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ..., event: _Optional[_Union[_device_pb2.DeviceEvent, _Mapping]] = ...) -> None: ...

class RenewClaimRequest(_message.Message):
    __slots__ = ("visit_id", "lease")
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    visit_id: str
    lease: _duration_pb2.Duration
    def __init__(self, visit_id: _Optional[str] = ..., lease: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RenewClaimResponse(_message.Message):
    __slots__ = ("visit",)
    VISIT_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ...) -> None: ...

class ReleaseStationRequest(_message.Message):
    __slots__ = ("visit_id",)
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    visit_id: str
    def __init__(self, visit_id: _Optional[str] = ...) -> None: ...

class ReleaseStationResponse(_message.Message):
    __slots__ = ("visit",)
    VISIT_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ...) -> None: ...

class BreakClaimRequest(_message.Message):
    __slots__ = ("station_id", "reason")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    reason: str
    def __init__(self, station_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class BreakClaimResponse(_message.Message):
    __slots__ = ("visit",)
    VISIT_FIELD_NUMBER: _ClassVar[int]
    visit: Visit
    def __init__(self, visit: _Optional[_Union[Visit, _Mapping]] = ...) -> None: ...

class AssignRoleRequest(_message.Message):
    __slots__ = ("station_id", "device_id")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    device_id: str
    def __init__(self, station_id: _Optional[str] = ..., device_id: _Optional[str] = ...) -> None: ...

class AssignRoleResponse(_message.Message):
    __slots__ = ("station", "replaced_device_id")
    STATION_FIELD_NUMBER: _ClassVar[int]
    REPLACED_DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    station: Station
    replaced_device_id: str
    def __init__(self, station: _Optional[_Union[Station, _Mapping]] = ..., replaced_device_id: _Optional[str] = ...) -> None: ...
