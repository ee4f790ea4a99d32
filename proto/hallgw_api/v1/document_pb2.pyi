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

class MrzFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MRZ_FORMAT_UNSPECIFIED: _ClassVar[MrzFormat]
    MRZ_FORMAT_TD1: _ClassVar[MrzFormat]
    MRZ_FORMAT_TD2: _ClassVar[MrzFormat]
    MRZ_FORMAT_TD3: _ClassVar[MrzFormat]

class MrzSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MRZ_SOURCE_UNSPECIFIED: _ClassVar[MrzSource]
    MRZ_SOURCE_REQUEST: _ClassVar[MrzSource]
    MRZ_SOURCE_MRZ_READER: _ClassVar[MrzSource]

class ChipImageFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHIP_IMAGE_FORMAT_UNSPECIFIED: _ClassVar[ChipImageFormat]
    CHIP_IMAGE_FORMAT_JPEG: _ClassVar[ChipImageFormat]
    CHIP_IMAGE_FORMAT_JPEG2000: _ClassVar[ChipImageFormat]

class HashCheck(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HASH_CHECK_UNSPECIFIED: _ClassVar[HashCheck]
    HASH_CHECK_MATCH: _ClassVar[HashCheck]
    HASH_CHECK_MISMATCH: _ClassVar[HashCheck]
    HASH_CHECK_NOT_LISTED: _ClassVar[HashCheck]

class SignatureStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGNATURE_STATUS_UNSPECIFIED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_VERIFIED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_NOT_VERIFIED: _ClassVar[SignatureStatus]
    SIGNATURE_STATUS_INVALID: _ClassVar[SignatureStatus]
MRZ_FORMAT_UNSPECIFIED: MrzFormat
MRZ_FORMAT_TD1: MrzFormat
MRZ_FORMAT_TD2: MrzFormat
MRZ_FORMAT_TD3: MrzFormat
MRZ_SOURCE_UNSPECIFIED: MrzSource
MRZ_SOURCE_REQUEST: MrzSource
MRZ_SOURCE_MRZ_READER: MrzSource
CHIP_IMAGE_FORMAT_UNSPECIFIED: ChipImageFormat
CHIP_IMAGE_FORMAT_JPEG: ChipImageFormat
CHIP_IMAGE_FORMAT_JPEG2000: ChipImageFormat
HASH_CHECK_UNSPECIFIED: HashCheck
HASH_CHECK_MATCH: HashCheck
HASH_CHECK_MISMATCH: HashCheck
HASH_CHECK_NOT_LISTED: HashCheck
SIGNATURE_STATUS_UNSPECIFIED: SignatureStatus
SIGNATURE_STATUS_VERIFIED: SignatureStatus
SIGNATURE_STATUS_NOT_VERIFIED: SignatureStatus
SIGNATURE_STATUS_INVALID: SignatureStatus

class ReadTravelDocumentRequest(_message.Message):
    __slots__ = ("device", "request_id", "mrz", "document_wait", "skip_face")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MRZ_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_WAIT_FIELD_NUMBER: _ClassVar[int]
    SKIP_FACE_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    mrz: str
    document_wait: _duration_pb2.Duration
    skip_face: bool
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., mrz: _Optional[str] = ..., document_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., skip_face: _Optional[bool] = ...) -> None: ...

class ReadTravelDocumentResponse(_message.Message):
    __slots__ = ("document", "device_id")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    document: TravelDocument
    device_id: str
    def __init__(self, document: _Optional[_Union[TravelDocument, _Mapping]] = ..., device_id: _Optional[str] = ...) -> None: ...

class MrzFields(_message.Message):
    __slots__ = ("format", "document_code", "issuing_state", "document_number", "primary_identifier", "secondary_identifier", "nationality", "date_of_birth", "sex", "date_of_expiry", "optional_data", "optional_data_2", "lines")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_CODE_FIELD_NUMBER: _ClassVar[int]
    ISSUING_STATE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    SECONDARY_IDENTIFIER_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    DATE_OF_EXPIRY_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_DATA_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_DATA_2_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    format: MrzFormat
    document_code: str
    issuing_state: str
    document_number: str
    primary_identifier: str
    secondary_identifier: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    optional_data: str
    optional_data_2: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, format: _Optional[_Union[MrzFormat, str]] = ..., document_code: _Optional[str] = ..., issuing_state: _Optional[str] = ..., document_number: _Optional[str] = ..., primary_identifier: _Optional[str] = ..., secondary_identifier: _Optional[str] = ..., nationality: _Optional[str] = ..., date_of_birth: _Optional[str] = ..., sex: _Optional[str] = ..., date_of_expiry: _Optional[str] = ..., optional_data: _Optional[str] = ..., optional_data_2: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ...) -> None: ...

class FaceImage(_message.Message):
    __slots__ = ("jpeg", "width", "height", "chip_format")
    JPEG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    CHIP_FORMAT_FIELD_NUMBER: _ClassVar[int]
    jpeg: bytes
    width: int
    height: int
    chip_format: ChipImageFormat
    def __init__(self, jpeg: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., chip_format: _Optional[_Union[ChipImageFormat, str]] = ...) -> None: ...

class DataGroupCheck(_message.Message):
    __slots__ = ("number", "hash")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    number: int
    hash: HashCheck
    def __init__(self, number: _Optional[int] = ..., hash: _Optional[_Union[HashCheck, str]] = ...) -> None: ...

class PassiveAuthentication(_message.Message):
    __slots__ = ("hashes_ok", "data_groups", "signature", "signature_message")
    HASHES_OK_FIELD_NUMBER: _ClassVar[int]
    DATA_GROUPS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    hashes_ok: bool
    data_groups: _containers.RepeatedCompositeFieldContainer[DataGroupCheck]
    signature: SignatureStatus
    signature_message: str
    def __init__(self, hashes_ok: _Optional[bool] = ..., data_groups: _Optional[_Iterable[_Union[DataGroupCheck, _Mapping]]] = ..., signature: _Optional[_Union[SignatureStatus, str]] = ..., signature_message: _Optional[str] = ...) -> None: ...

class TravelDocument(_message.Message):
    __slots__ = ("mrz", "mrz_source", "chip_mrz", "chip_mrz_matches", "face", "passive_authentication", "data_groups_present", "lds_version")
    MRZ_FIELD_NUMBER: _ClassVar[int]
    MRZ_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CHIP_MRZ_FIELD_NUMBER: _ClassVar[int]
    CHIP_MRZ_MATCHES_FIELD_NUMBER: _ClassVar[int]
    FACE_FIELD_NUMBER: _ClassVar[int]
    PASSIVE_AUTHENTICATION_FIELD_NUMBER: _ClassVar[int]
    DATA_GROUPS_PRESENT_FIELD_NUMBER: _ClassVar[int]
    LDS_VERSION_FIELD_NUMBER: _ClassVar[int]
    mrz: MrzFields
    mrz_source: MrzSource
    chip_mrz: MrzFields
    chip_mrz_matches: bool
    face: FaceImage
    passive_authentication: PassiveAuthentication
    data_groups_present: _containers.RepeatedScalarFieldContainer[int]
    lds_version: str
    def __init__(self, mrz: _Optional[_Union[MrzFields, _Mapping]] = ..., mrz_source: _Optional[_Union[MrzSource, str]] = ..., chip_mrz: _Optional[_Union[MrzFields, _Mapping]] = ..., chip_mrz_matches: _Optional[bool] = ..., face: _Optional[_Union[FaceImage, _Mapping]] = ..., passive_authentication: _Optional[_Union[PassiveAuthentication, _Mapping]] = ..., data_groups_present: _Optional[_Iterable[int]] = ..., lds_version: _Optional[str] = ...) -> None: ...
