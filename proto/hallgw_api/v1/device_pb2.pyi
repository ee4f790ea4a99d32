import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEVICE_KIND_UNSPECIFIED: _ClassVar[DeviceKind]
    DEVICE_KIND_IDCARD_READER: _ClassVar[DeviceKind]
    DEVICE_KIND_FINGERPRINT_SCANNER: _ClassVar[DeviceKind]
    DEVICE_KIND_CAMERA: _ClassVar[DeviceKind]
    DEVICE_KIND_DOCUMENT_READER: _ClassVar[DeviceKind]
    DEVICE_KIND_KIOSK: _ClassVar[DeviceKind]
    DEVICE_KIND_LIGHTING: _ClassVar[DeviceKind]
    DEVICE_KIND_PAYMENT_SCANNER: _ClassVar[DeviceKind]
    DEVICE_KIND_PRINTER: _ClassVar[DeviceKind]
    DEVICE_KIND_MRZ_READER: _ClassVar[DeviceKind]
    DEVICE_KIND_TICKET_PRINTER: _ClassVar[DeviceKind]
    DEVICE_KIND_DOCUMENT_CAMERA: _ClassVar[DeviceKind]

class AdminState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADMIN_STATE_UNSPECIFIED: _ClassVar[AdminState]
    ADMIN_STATE_ENABLED: _ClassVar[AdminState]
    ADMIN_STATE_DISABLED: _ClassVar[AdminState]
    ADMIN_STATE_MAINTENANCE: _ClassVar[AdminState]

class OperState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPER_STATE_UNSPECIFIED: _ClassVar[OperState]
    OPER_STATE_OFFLINE: _ClassVar[OperState]
    OPER_STATE_CONNECTING: _ClassVar[OperState]
    OPER_STATE_ONLINE: _ClassVar[OperState]
    OPER_STATE_BUSY: _ClassVar[OperState]
    OPER_STATE_ERROR: _ClassVar[OperState]

class ActionRequired(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_REQUIRED_UNSPECIFIED: _ClassVar[ActionRequired]
    ACTION_REQUIRED_NONE: _ClassVar[ActionRequired]
    ACTION_REQUIRED_RETRY: _ClassVar[ActionRequired]
    ACTION_REQUIRED_RESET: _ClassVar[ActionRequired]
    ACTION_REQUIRED_STAFF: _ClassVar[ActionRequired]
    ACTION_REQUIRED_ENGINEER: _ClassVar[ActionRequired]
DEVICE_KIND_UNSPECIFIED: DeviceKind
DEVICE_KIND_IDCARD_READER: DeviceKind
DEVICE_KIND_FINGERPRINT_SCANNER: DeviceKind
DEVICE_KIND_CAMERA: DeviceKind
DEVICE_KIND_DOCUMENT_READER: DeviceKind
DEVICE_KIND_KIOSK: DeviceKind
DEVICE_KIND_LIGHTING: DeviceKind
DEVICE_KIND_PAYMENT_SCANNER: DeviceKind
DEVICE_KIND_PRINTER: DeviceKind
DEVICE_KIND_MRZ_READER: DeviceKind
DEVICE_KIND_TICKET_PRINTER: DeviceKind
DEVICE_KIND_DOCUMENT_CAMERA: DeviceKind
ADMIN_STATE_UNSPECIFIED: AdminState
ADMIN_STATE_ENABLED: AdminState
ADMIN_STATE_DISABLED: AdminState
ADMIN_STATE_MAINTENANCE: AdminState
OPER_STATE_UNSPECIFIED: OperState
OPER_STATE_OFFLINE: OperState
OPER_STATE_CONNECTING: OperState
OPER_STATE_ONLINE: OperState
OPER_STATE_BUSY: OperState
OPER_STATE_ERROR: OperState
ACTION_REQUIRED_UNSPECIFIED: ActionRequired
ACTION_REQUIRED_NONE: ActionRequired
ACTION_REQUIRED_RETRY: ActionRequired
ACTION_REQUIRED_RESET: ActionRequired
ACTION_REQUIRED_STAFF: ActionRequired
ACTION_REQUIRED_ENGINEER: ActionRequired

class DeviceRef(_message.Message):
    __slots__ = ("device_id", "station")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATION_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    station: StationRef
    def __init__(self, device_id: _Optional[str] = ..., station: _Optional[_Union[StationRef, _Mapping]] = ...) -> None: ...

class StationRef(_message.Message):
    __slots__ = ("station_id", "kind")
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    station_id: str
    kind: DeviceKind
    def __init__(self, station_id: _Optional[str] = ..., kind: _Optional[_Union[DeviceKind, str]] = ...) -> None: ...

class DeviceError(_message.Message):
    __slots__ = ("reason", "message", "action", "time")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    reason: str
    message: str
    action: ActionRequired
    time: _timestamp_pb2.Timestamp
    def __init__(self, reason: _Optional[str] = ..., message: _Optional[str] = ..., action: _Optional[_Union[ActionRequired, str]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("device_id", "kind", "station_id", "name", "admin_state", "oper_state", "oper_state_since", "admin_state_since", "admin_reason", "last_error", "link", "identity", "counters", "consumables")
    class IdentityEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ConsumablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_FIELD_NUMBER: _ClassVar[int]
    OPER_STATE_FIELD_NUMBER: _ClassVar[int]
    OPER_STATE_SINCE_FIELD_NUMBER: _ClassVar[int]
    ADMIN_STATE_SINCE_FIELD_NUMBER: _ClassVar[int]
    ADMIN_REASON_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_FIELD_NUMBER: _ClassVar[int]
    COUNTERS_FIELD_NUMBER: _ClassVar[int]
    CONSUMABLES_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    kind: DeviceKind
    station_id: str
    name: str
    admin_state: AdminState
    oper_state: OperState
    oper_state_since: _timestamp_pb2.Timestamp
    admin_state_since: _timestamp_pb2.Timestamp
    admin_reason: str
    last_error: DeviceError
    link: str
    identity: _containers.ScalarMap[str, str]
    counters: DeviceCounters
    consumables: _containers.ScalarMap[str, int]
    def __init__(self, device_id: _Optional[str] = ..., kind: _Optional[_Union[DeviceKind, str]] = ..., station_id: _Optional[str] = ..., name: _Optional[str] = ..., admin_state: _Optional[_Union[AdminState, str]] = ..., oper_state: _Optional[_Union[OperState, str]] = ..., oper_state_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., admin_state_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., admin_reason: _Optional[str] = ..., last_error: _Optional[_Union[DeviceError, _Mapping]] = ..., link: _Optional[str] = ..., identity: _Optional[_Mapping[str, str]] = ..., counters: _Optional[_Union[DeviceCounters, _Mapping]] = ..., consumables: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DeviceCounters(_message.Message):
    __slots__ = ("commands_ok", "commands_failed", "link_errors", "reconnects", "probe_failures", "queue_depth")
    COMMANDS_OK_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FAILED_FIELD_NUMBER: _ClassVar[int]
    LINK_ERRORS_FIELD_NUMBER: _ClassVar[int]
    RECONNECTS_FIELD_NUMBER: _ClassVar[int]
    PROBE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    QUEUE_DEPTH_FIELD_NUMBER: _ClassVar[int]
    commands_ok: int
    commands_failed: int
    link_errors: int
    reconnects: int
    probe_failures: int
    queue_depth: int
    def __init__(self, commands_ok: _Optional[int] = ..., commands_failed: _Optional[int] = ..., link_errors: _Optional[int] = ..., reconnects: _Optional[int] = ..., probe_failures: _Optional[int] = ..., queue_depth: _Optional[int] = ...) -> None: ...

class DeviceEvent(_message.Message):
    __slots__ = ("sequence", "time", "device_id", "station_id", "request_id", "visit_id", "state_changed", "progress", "finished", "link_fault")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    STATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VISIT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    LINK_FAULT_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    time: _timestamp_pb2.Timestamp
    device_id: str
    station_id: str
    request_id: str
    visit_id: str
    state_changed: DeviceStateChanged
    progress: CommandProgress
    finished: CommandFinished
    link_fault: LinkFault
    def __init__(self, sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., device_id: _Optional[str] = ..., station_id: _Optional[str] = ..., request_id: _Optional[str] = ..., visit_id: _Optional[str] = ..., state_changed: _Optional[_Union[DeviceStateChanged, _Mapping]] = ..., progress: _Optional[_Union[CommandProgress, _Mapping]] = ..., finished: _Optional[_Union[CommandFinished, _Mapping]] = ..., link_fault: _Optional[_Union[LinkFault, _Mapping]] = ...) -> None: ...

class DeviceStateChanged(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: Device
    def __init__(self, device: _Optional[_Union[Device, _Mapping]] = ...) -> None: ...

class CommandProgress(_message.Message):
    __slots__ = ("stage", "message")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    message: str
    def __init__(self, stage: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CommandFinished(_message.Message):
    __slots__ = ("operation", "ok", "reason", "duration")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    operation: str
    ok: bool
    reason: str
    duration: _duration_pb2.Duration
    def __init__(self, operation: _Optional[str] = ..., ok: _Optional[bool] = ..., reason: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class LinkFault(_message.Message):
    __slots__ = ("message", "discarded_bytes")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DISCARDED_BYTES_FIELD_NUMBER: _ClassVar[int]
    message: str
    discarded_bytes: int
    def __init__(self, message: _Optional[str] = ..., discarded_bytes: _Optional[int] = ...) -> None: ...

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class CodedValue(_message.Message):
    __slots__ = ("code", "name", "name_zh")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    name_zh: str
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., name_zh: _Optional[str] = ...) -> None: ...
