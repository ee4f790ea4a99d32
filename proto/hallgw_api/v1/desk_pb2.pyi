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

class PaymentScheme(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_SCHEME_UNSPECIFIED: _ClassVar[PaymentScheme]
    PAYMENT_SCHEME_WECHAT_PAY: _ClassVar[PaymentScheme]
    PAYMENT_SCHEME_ALIPAY: _ClassVar[PaymentScheme]
    PAYMENT_SCHEME_UNIONPAY: _ClassVar[PaymentScheme]
    PAYMENT_SCHEME_UNKNOWN: _ClassVar[PaymentScheme]

class DocumentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_TYPE_UNSPECIFIED: _ClassVar[DocumentType]
    DOCUMENT_TYPE_PASSPORT: _ClassVar[DocumentType]
    DOCUMENT_TYPE_HK_MACAO_PERMIT: _ClassVar[DocumentType]
    DOCUMENT_TYPE_TAIWAN_PERMIT: _ClassVar[DocumentType]

class ApplicationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLICATION_TYPE_UNSPECIFIED: _ClassVar[ApplicationType]
    APPLICATION_TYPE_FIRST_ISSUE: _ClassVar[ApplicationType]
    APPLICATION_TYPE_RENEWAL: _ClassVar[ApplicationType]
    APPLICATION_TYPE_REPLACEMENT_LOST: _ClassVar[ApplicationType]
    APPLICATION_TYPE_REPLACEMENT_DAMAGED: _ClassVar[ApplicationType]
    APPLICATION_TYPE_REISSUE_AFTER_EXPIRY: _ClassVar[ApplicationType]
    APPLICATION_TYPE_AMENDMENT: _ClassVar[ApplicationType]

class DeliveryMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_METHOD_UNSPECIFIED: _ClassVar[DeliveryMethod]
    DELIVERY_METHOD_COLLECT: _ClassVar[DeliveryMethod]
    DELIVERY_METHOD_MAIL: _ClassVar[DeliveryMethod]

class PageFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAGE_FORMAT_UNSPECIFIED: _ClassVar[PageFormat]
    PAGE_FORMAT_JPEG: _ClassVar[PageFormat]
    PAGE_FORMAT_PDF: _ClassVar[PageFormat]
PAYMENT_SCHEME_UNSPECIFIED: PaymentScheme
PAYMENT_SCHEME_WECHAT_PAY: PaymentScheme
PAYMENT_SCHEME_ALIPAY: PaymentScheme
PAYMENT_SCHEME_UNIONPAY: PaymentScheme
PAYMENT_SCHEME_UNKNOWN: PaymentScheme
DOCUMENT_TYPE_UNSPECIFIED: DocumentType
DOCUMENT_TYPE_PASSPORT: DocumentType
DOCUMENT_TYPE_HK_MACAO_PERMIT: DocumentType
DOCUMENT_TYPE_TAIWAN_PERMIT: DocumentType
APPLICATION_TYPE_UNSPECIFIED: ApplicationType
APPLICATION_TYPE_FIRST_ISSUE: ApplicationType
APPLICATION_TYPE_RENEWAL: ApplicationType
APPLICATION_TYPE_REPLACEMENT_LOST: ApplicationType
APPLICATION_TYPE_REPLACEMENT_DAMAGED: ApplicationType
APPLICATION_TYPE_REISSUE_AFTER_EXPIRY: ApplicationType
APPLICATION_TYPE_AMENDMENT: ApplicationType
DELIVERY_METHOD_UNSPECIFIED: DeliveryMethod
DELIVERY_METHOD_COLLECT: DeliveryMethod
DELIVERY_METHOD_MAIL: DeliveryMethod
PAGE_FORMAT_UNSPECIFIED: PageFormat
PAGE_FORMAT_JPEG: PageFormat
PAGE_FORMAT_PDF: PageFormat

class ScanPaymentCodeRequest(_message.Message):
    __slots__ = ("device", "request_id", "wait")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    wait: _duration_pb2.Duration
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ScanPaymentCodeResponse(_message.Message):
    __slots__ = ("code", "scheme", "device_id")
    CODE_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    scheme: PaymentScheme
    device_id: str
    def __init__(self, code: _Optional[str] = ..., scheme: _Optional[_Union[PaymentScheme, str]] = ..., device_id: _Optional[str] = ...) -> None: ...

class DocumentApplication(_message.Message):
    __slots__ = ("document", "application")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FIELD_NUMBER: _ClassVar[int]
    document: DocumentType
    application: ApplicationType
    def __init__(self, document: _Optional[_Union[DocumentType, str]] = ..., application: _Optional[_Union[ApplicationType, str]] = ...) -> None: ...

class ApplicationForm(_message.Message):
    __slots__ = ("name", "sex", "ethnicity", "birth_date", "id_number", "address", "documents", "phone", "delivery", "delivery_address")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    ETHNICITY_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    ID_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    sex: str
    ethnicity: str
    birth_date: _device_pb2.Date
    id_number: str
    address: str
    documents: _containers.RepeatedCompositeFieldContainer[DocumentApplication]
    phone: str
    delivery: DeliveryMethod
    delivery_address: str
    def __init__(self, name: _Optional[str] = ..., sex: _Optional[str] = ..., ethnicity: _Optional[str] = ..., birth_date: _Optional[_Union[_device_pb2.Date, _Mapping]] = ..., id_number: _Optional[str] = ..., address: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[DocumentApplication, _Mapping]]] = ..., phone: _Optional[str] = ..., delivery: _Optional[_Union[DeliveryMethod, str]] = ..., delivery_address: _Optional[str] = ...) -> None: ...

class PrintApplicationFormRequest(_message.Message):
    __slots__ = ("device", "request_id", "form", "wait")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    form: ApplicationForm
    wait: _duration_pb2.Duration
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., form: _Optional[_Union[ApplicationForm, _Mapping]] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class PrintApplicationFormResponse(_message.Message):
    __slots__ = ("job_id", "job_state", "pages", "device_id")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_STATE_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: int
    job_state: str
    pages: int
    device_id: str
    def __init__(self, job_id: _Optional[int] = ..., job_state: _Optional[str] = ..., pages: _Optional[int] = ..., device_id: _Optional[str] = ...) -> None: ...

class PrintTicketRequest(_message.Message):
    __slots__ = ("device", "request_id", "queue_number", "window", "qr", "lines")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    QR_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    queue_number: str
    window: str
    qr: str
    lines: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., queue_number: _Optional[str] = ..., window: _Optional[str] = ..., qr: _Optional[str] = ..., lines: _Optional[_Iterable[str]] = ...) -> None: ...

class PrintTicketResponse(_message.Message):
    __slots__ = ("device_id",)
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    def __init__(self, device_id: _Optional[str] = ...) -> None: ...

class CaptureDocumentRequest(_message.Message):
    __slots__ = ("device", "request_id", "wait", "dpi", "pages", "format")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    DPI_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    device: _device_pb2.DeviceRef
    request_id: str
    wait: _duration_pb2.Duration
    dpi: int
    pages: int
    format: PageFormat
    def __init__(self, device: _Optional[_Union[_device_pb2.DeviceRef, _Mapping]] = ..., request_id: _Optional[str] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., dpi: _Optional[int] = ..., pages: _Optional[int] = ..., format: _Optional[_Union[PageFormat, str]] = ...) -> None: ...

class CaptureDocumentResponse(_message.Message):
    __slots__ = ("data", "format", "pages", "width", "height", "dpi", "device_id")
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PAGES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    DPI_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    format: PageFormat
    pages: int
    width: int
    height: int
    dpi: int
    device_id: str
    def __init__(self, data: _Optional[bytes] = ..., format: _Optional[_Union[PageFormat, str]] = ..., pages: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., dpi: _Optional[int] = ..., device_id: _Optional[str] = ...) -> None: ...
