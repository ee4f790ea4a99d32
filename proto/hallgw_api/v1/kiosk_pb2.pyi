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

class Destination(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESTINATION_UNSPECIFIED: _ClassVar[Destination]
    DESTINATION_HONG_KONG: _ClassVar[Destination]
    DESTINATION_MACAO: _ClassVar[Destination]

class EndorsementType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENDORSEMENT_TYPE_UNSPECIFIED: _ClassVar[EndorsementType]
    ENDORSEMENT_TYPE_INDIVIDUAL_TOURISM: _ClassVar[EndorsementType]
    ENDORSEMENT_TYPE_GROUP_TOURISM: _ClassVar[EndorsementType]
    ENDORSEMENT_TYPE_BUSINESS: _ClassVar[EndorsementType]
    ENDORSEMENT_TYPE_FAMILY_VISIT: _ClassVar[EndorsementType]
    ENDORSEMENT_TYPE_STAY: _ClassVar[EndorsementType]
    ENDORSEMENT_TYPE_OTHER: _ClassVar[EndorsementType]

class IssuanceOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ISSUANCE_OPERATION_UNSPECIFIED: _ClassVar[IssuanceOperation]
    ISSUANCE_OPERATION_ISSUE_ENDORSEMENT: _ClassVar[IssuanceOperation]
    ISSUANCE_OPERATION_RELEASE_CERTIFICATE: _ClassVar[IssuanceOperation]
    ISSUANCE_OPERATION_PRINT_TRAVEL_RECORD: _ClassVar[IssuanceOperation]

class IssuanceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ISSUANCE_STATE_UNSPECIFIED: _ClassVar[IssuanceState]
    ISSUANCE_STATE_DONE: _ClassVar[IssuanceState]
    ISSUANCE_STATE_NOT_DONE: _ClassVar[IssuanceState]
    ISSUANCE_STATE_IN_PROGRESS: _ClassVar[IssuanceState]
    ISSUANCE_STATE_IN_DOUBT: _ClassVar[IssuanceState]
DESTINATION_UNSPECIFIED: Destination
DESTINATION_HONG_KONG: Destination
DESTINATION_MACAO: Destination
ENDORSEMENT_TYPE_UNSPECIFIED: EndorsementType
ENDORSEMENT_TYPE_INDIVIDUAL_TOURISM: EndorsementType
ENDORSEMENT_TYPE_GROUP_TOURISM: EndorsementType
ENDORSEMENT_TYPE_BUSINESS: EndorsementType
ENDORSEMENT_TYPE_FAMILY_VISIT: EndorsementType
ENDORSEMENT_TYPE_STAY: EndorsementType
ENDORSEMENT_TYPE_OTHER: EndorsementType
ISSUANCE_OPERATION_UNSPECIFIED: IssuanceOperation
ISSUANCE_OPERATION_ISSUE_ENDORSEMENT: IssuanceOperation
ISSUANCE_OPERATION_RELEASE_CERTIFICATE: IssuanceOperation
ISSUANCE_OPERATION_PRINT_TRAVEL_RECORD: IssuanceOperation
ISSUANCE_STATE_UNSPECIFIED: IssuanceState
ISSUANCE_STATE_DONE: IssuanceState
ISSUANCE_STATE_NOT_DONE: IssuanceState
ISSUANCE_STATE_IN_PROGRESS: IssuanceState
ISSUANCE_STATE_IN_DOUBT: IssuanceState

class IssueEndorsementRequest(_message.Message):
    __slots__ = ("device", "request_id", "business_ref", "destination", "endorsement_type", "entries", "valid_days", "stay_days")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_REF_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    ENDORSEMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    VALID_DAYS_FIELD_NUMBER: _ClassVar[int]
    STAY_DAYS_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    business_ref: str
    destination: Destination
    endorsement_type: EndorsementType
    entries: int
    valid_days: int
    stay_days: int
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., business_ref: _Optional[str] = ..., destination: _Optional[_Union[Destination, str]] = ..., endorsement_type: _Optional[_Union[EndorsementType, str]] = ..., entries: _Optional[int] = ..., valid_days: _Optional[int] = ..., stay_days: _Optional[int] = ...) -> None: ...

class ReleaseCertificateRequest(_message.Message):
    __slots__ = ("device", "request_id", "business_ref", "slot", "pickup_ref")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_REF_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PICKUP_REF_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    business_ref: str
    slot: str
    pickup_ref: str
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., business_ref: _Optional[str] = ..., slot: _Optional[str] = ..., pickup_ref: _Optional[str] = ...) -> None: ...

class PrintTravelRecordRequest(_message.Message):
    __slots__ = ("device", "request_id", "business_ref", "record_ref", "copies")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_REF_FIELD_NUMBER: _ClassVar[int]
    RECORD_REF_FIELD_NUMBER: _ClassVar[int]
    COPIES_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    business_ref: str
    record_ref: str
    copies: int
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., business_ref: _Optional[str] = ..., record_ref: _Optional[str] = ..., copies: _Optional[int] = ...) -> None: ...

class KioskEvidence(_message.Message):
    __slots__ = ("operation_serial", "kiosk_time")
    OPERATION_SERIAL_FIELD_NUMBER: _ClassVar[int]
    KIOSK_TIME_FIELD_NUMBER: _ClassVar[int]
    operation_serial: str
    kiosk_time: _timestamp_pb2.Timestamp
    def __init__(self, operation_serial: _Optional[str] = ..., kiosk_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Issuance(_message.Message):
    __slots__ = ("request_id", "device_id", "command_id", "operation", "business_ref", "state", "evidence", "reason", "action", "created", "finished", "attempts")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_REF_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    device_id: str
    command_id: str
    operation: IssuanceOperation
    business_ref: str
    state: IssuanceState
    evidence: KioskEvidence
    reason: str
    action: _device_pb2.ActionRequired
    created: _timestamp_pb2.Timestamp
    finished: _timestamp_pb2.Timestamp
    attempts: int
    def __init__(self, request_id: _Optional[str] = ..., device_id: _Optional[str] = ..., command_id: _Optional[str] = ..., operation: _Optional[_Union[IssuanceOperation, str]] = ..., business_ref: _Optional[str] = ..., state: _Optional[_Union[IssuanceState, str]] = ..., evidence: _Optional[_Union[KioskEvidence, _Mapping]] = ..., reason: _Optional[str] = ..., action: _Optional[_Union[_device_pb2.ActionRequired, str]] = ..., created: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ...) -> None: ...

class IssueEndorsementResponse(_message.Message):
    __slots__ = ("issuance",)
    ISSUANCE_FIELD_NUMBER: _ClassVar[int]
    issuance: Issuance
    def __init__(self, issuance: _Optional[_Union[Issuance, _Mapping]] = ...) -> None: ...

class ReleaseCertificateResponse(_message.Message):
    __slots__ = ("issuance",)
    ISSUANCE_FIELD_NUMBER: _ClassVar[int]
    issuance: Issuance
    def __init__(self, issuance: _Optional[_Union[Issuance, _Mapping]] = ...) -> None: ...

class PrintTravelRecordResponse(_message.Message):
    __slots__ = ("issuance",)
    ISSUANCE_FIELD_NUMBER: _ClassVar[int]
    issuance: Issuance
    def __init__(self, issuance: _Optional[_Union[Issuance, _Mapping]] = ...) -> None: ...

class GetConsumablesRequest(_message.Message):
    __slots__ = ("device",)
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ...) -> None: ...

class GetConsumablesResponse(_message.Message):
    __slots__ = ("device_id", "consumables", "reported")
    class ConsumablesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    CONSUMABLES_FIELD_NUMBER: _ClassVar[int]
    REPORTED_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    consumables: _containers.ScalarMap[str, int]
    reported: _timestamp_pb2.Timestamp
    def __init__(self, device_id: _Optional[str] = ..., consumables: _Optional[_Mapping[str, int]] = ..., reported: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetIssuanceRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class GetIssuanceResponse(_message.Message):
    __slots__ = ("issuance",)
    ISSUANCE_FIELD_NUMBER: _ClassVar[int]
    issuance: Issuance
    def __init__(self, issuance: _Optional[_Union[Issuance, _Mapping]] = ...) -> None: ...

class ListIssuancesRequest(_message.Message):
    __slots__ = ("device_id", "include_final", "limit")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FINAL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    include_final: bool
    limit: int
    def __init__(self, device_id: _Optional[str] = ..., include_final: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...

class ListIssuancesResponse(_message.Message):
    __slots__ = ("issuances",)
    ISSUANCES_FIELD_NUMBER: _ClassVar[int]
    issuances: _containers.RepeatedCompositeFieldContainer[Issuance]
    def __init__(self, issuances: _Optional[_Iterable[_Union[Issuance, _Mapping]]] = ...) -> None: ...
