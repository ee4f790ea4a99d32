import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from hallgw_api.v1 import device_pb2 as _device_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CardType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CARD_TYPE_UNSPECIFIED: _ClassVar[CardType]
    CARD_TYPE_RESIDENT_ID: _ClassVar[CardType]
    CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017: _ClassVar[CardType]
    CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023: _ClassVar[CardType]
    CARD_TYPE_HMT_RESIDENCE_PERMIT: _ClassVar[CardType]

class PhotoFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PHOTO_FORMAT_UNSPECIFIED: _ClassVar[PhotoFormat]
    PHOTO_FORMAT_WLT: _ClassVar[PhotoFormat]
    PHOTO_FORMAT_BMP: _ClassVar[PhotoFormat]
CARD_TYPE_UNSPECIFIED: CardType
CARD_TYPE_RESIDENT_ID: CardType
CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017: CardType
CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023: CardType
CARD_TYPE_HMT_RESIDENCE_PERMIT: CardType
PHOTO_FORMAT_UNSPECIFIED: PhotoFormat
PHOTO_FORMAT_WLT: PhotoFormat
PHOTO_FORMAT_BMP: PhotoFormat

class ReadIdCardRequest(_message.Message):
    __slots__ = ("device", "request_id", "card_wait")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CARD_WAIT_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    card_wait: _duration_pb2.Duration
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., card_wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ReadIdCardResponse(_message.Message):
    __slots__ = ("card", "device_id")
    CARD_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    card: IdentityCard
    device_id: str
    def __init__(self, card: _Optional[_Union[IdentityCard, _Mapping]] = ..., device_id: _Optional[str] = ...) -> None: ...

class IdentityCard(_message.Message):
    __slots__ = ("card_type", "resident_id", "foreign_permanent_resident", "hmt_residence_permit", "photo", "decoded_photo")
    CARD_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESIDENT_ID_FIELD_NUMBER: _ClassVar[int]
    FOREIGN_PERMANENT_RESIDENT_FIELD_NUMBER: _ClassVar[int]
    HMT_RESIDENCE_PERMIT_FIELD_NUMBER: _ClassVar[int]
    PHOTO_FIELD_NUMBER: _ClassVar[int]
    DECODED_PHOTO_FIELD_NUMBER: _ClassVar[int]
    card_type: CardType
    resident_id: ResidentIdFields
    foreign_permanent_resident: ForeignPermanentResidentFields
    hmt_residence_permit: HmtResidencePermitFields
    photo: CardPhoto
    decoded_photo: CardPhoto
    def __init__(self, card_type: _Optional[_Union[CardType, str]] = ..., resident_id: _Optional[_Union[ResidentIdFields, _Mapping]] = ..., foreign_permanent_resident: _Optional[_Union[ForeignPermanentResidentFields, _Mapping]] = ..., hmt_residence_permit: _Optional[_Union[HmtResidencePermitFields, _Mapping]] = ..., photo: _Optional[_Union[CardPhoto, _Mapping]] = ..., decoded_photo: _Optional[_Union[CardPhoto, _Mapping]] = ...) -> None: ...

class CardPhoto(_message.Message):
    __slots__ = ("format", "data")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    format: PhotoFormat
    data: bytes
    def __init__(self, format: _Optional[_Union[PhotoFormat, str]] = ..., data: _Optional[bytes] = ...) -> None: ...

class Validity(_message.Message):
    __slots__ = ("valid_from", "valid_until", "long_term")
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    LONG_TERM_FIELD_NUMBER: _ClassVar[int]
    valid_from: _device_pb2.Date
    valid_until: _device_pb2.Date
    long_term: bool
    def __init__(self, valid_from: _Optional[_Union[_device_pb2.Date, _Mapping]] = ..., valid_until: _Optional[_Union[_device_pb2.Date, _Mapping]] = ..., long_term: _Optional[bool] = ...) -> None: ...

class ResidentIdFields(_message.Message):
    __slots__ = ("name", "sex", "nation", "birth_date", "address", "id_number", "issuing_authority", "validity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    NATION_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ISSUING_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    sex: _device_pb2.CodedValue
    nation: _device_pb2.CodedValue
    birth_date: _device_pb2.Date
    address: str
    id_number: str
    issuing_authority: str
    validity: Validity
    def __init__(self, name: _Optional[str] = ..., sex: _Optional[_Union[_device_pb2.CodedValue, _Mapping]] = ..., nation: _Optional[_Union[_device_pb2.CodedValue, _Mapping]] = ..., birth_date: _Optional[_Union[_device_pb2.Date, _Mapping]] = ..., address: _Optional[str] = ..., id_number: _Optional[str] = ..., issuing_authority: _Optional[str] = ..., validity: _Optional[_Union[Validity, _Mapping]] = ...) -> None: ...

class ForeignPermanentResidentFields(_message.Message):
    __slots__ = ("english_name", "chinese_name", "sex", "birth_date", "card_number", "nationality", "validity", "card_version", "authority_code", "renewal_count", "previous_card_link")
    ENGLISH_NAME_FIELD_NUMBER: _ClassVar[int]
    CHINESE_NAME_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    CARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    NATIONALITY_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    CARD_VERSION_FIELD_NUMBER: _ClassVar[int]
    AUTHORITY_CODE_FIELD_NUMBER: _ClassVar[int]
    RENEWAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_CARD_LINK_FIELD_NUMBER: _ClassVar[int]
    english_name: str
    chinese_name: str
    sex: _device_pb2.CodedValue
    birth_date: _device_pb2.Date
    card_number: str
    nationality: str
    validity: Validity
    card_version: str
    authority_code: str
    renewal_count: str
    previous_card_link: str
    def __init__(self, english_name: _Optional[str] = ..., chinese_name: _Optional[str] = ..., sex: _Optional[_Union[_device_pb2.CodedValue, _Mapping]] = ..., birth_date: _Optional[_Union[_device_pb2.Date, _Mapping]] = ..., card_number: _Optional[str] = ..., nationality: _Optional[str] = ..., validity: _Optional[_Union[Validity, _Mapping]] = ..., card_version: _Optional[str] = ..., authority_code: _Optional[str] = ..., renewal_count: _Optional[str] = ..., previous_card_link: _Optional[str] = ...) -> None: ...

class HmtResidencePermitFields(_message.Message):
    __slots__ = ("name", "sex", "birth_date", "address", "id_number", "issuing_authority", "validity", "travel_permit_number", "issue_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ISSUING_AUTHORITY_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_PERMIT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ISSUE_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    sex: _device_pb2.CodedValue
    birth_date: _device_pb2.Date
    address: str
    id_number: str
    issuing_authority: str
    validity: Validity
    travel_permit_number: str
    issue_count: str
    def __init__(self, name: _Optional[str] = ..., sex: _Optional[_Union[_device_pb2.CodedValue, _Mapping]] = ..., birth_date: _Optional[_Union[_device_pb2.Date, _Mapping]] = ..., address: _Optional[str] = ..., id_number: _Optional[str] = ..., issuing_authority: _Optional[str] = ..., validity: _Optional[_Union[Validity, _Mapping]] = ..., travel_permit_number: _Optional[str] = ..., issue_count: _Optional[str] = ...) -> None: ...
