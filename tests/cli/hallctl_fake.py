"""A small in-memory hall served over real gRPC, for testing hallctl.

``FakeHall`` holds devices, a card on each reader, a travel document on each
chip reader, a capture on each fingerprint scanner, a kiosk journal, frames to
trace and errors to inject; ``FakeDeviceService``, ``FakeIdCardService``,
``FakeDocumentService``, ``FakeFingerprintService`` and ``FakeKioskService``
implement the generated servicer interfaces on top of it, and fail with real
``google.rpc`` rich errors (ErrorInfo in the status details), as the daemon does.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from hallgw_api.v1 import (
    device_pb2,
    device_service_pb2,
    device_service_pb2_grpc,
    document_pb2,
    document_pb2_grpc,
    fingerprint_pb2,
    fingerprint_pb2_grpc,
    idcard_pb2,
    idcard_pb2_grpc,
    kiosk_pb2,
    kiosk_pb2_grpc,
)

WAIT_LIMIT_S = 5.0  # no fake operation may block longer than this


def ts(when: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(when)
    return stamp


@dataclass(frozen=True)
class GatewayError:
    """An error as the gateway maps it: status code, reason, action."""

    code: grpc.StatusCode
    reason: str
    message: str
    action: str = "NONE"
    with_info: bool = True
    # Extra ErrorInfo metadata (QUALITY_TOO_LOW's best score, ...).
    details: dict[str, str] = field(default_factory=dict)


def abort(context: grpc.ServicerContext, error: GatewayError, device_id: str = "") -> None:
    """Fail the call with a google.rpc status carrying ErrorInfo (unless the error has none)."""
    if not error.with_info:
        context.abort(error.code, error.message)
    info = error_details_pb2.ErrorInfo(
        reason=error.reason,
        domain="hallgw.gateway",
        metadata={"action": error.action, "device_id": device_id, **error.details},
    )
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=error.code.value[0], message=error.message, details=[detail])
    context.abort_with_status(rpc_status.to_status(status))


@dataclass
class Subscriber:
    request: device_service_pb2.WatchEventsRequest
    events: queue.Queue[device_pb2.DeviceEvent] = field(default_factory=queue.Queue)


@dataclass
class FakeHall:
    """The state behind the fake services; tests arrange it and inspect what the calls did."""

    devices: dict[str, device_pb2.Device] = field(default_factory=dict)
    cards: dict[str, idcard_pb2.IdentityCard] = field(default_factory=dict)
    read_errors: dict[str, GatewayError] = field(default_factory=dict)
    get_errors: dict[str, GatewayError] = field(default_factory=dict)
    frames: dict[str, list[device_service_pb2.TraceFramesResponse]] = field(default_factory=dict)
    stall_reads: set[str] = field(default_factory=set)
    stall_gets: set[str] = field(default_factory=set)
    end_streams: bool = False
    sequence: int = 0
    # What the calls did, for assertions.
    read_calls: list[tuple[idcard_pb2.ReadIdCardRequest, float | None]] = field(default_factory=list)
    # Travel documents and fingerprints, by device id.
    documents: dict[str, document_pb2.TravelDocument] = field(default_factory=dict)
    document_errors: dict[str, GatewayError] = field(default_factory=dict)
    document_calls: list[tuple[document_pb2.ReadTravelDocumentRequest, float | None]] = field(default_factory=list)
    captures: dict[str, fingerprint_pb2.CaptureResponse] = field(default_factory=dict)
    capture_errors: dict[str, GatewayError] = field(default_factory=dict)
    capture_calls: list[tuple[fingerprint_pb2.CaptureRequest, float | None]] = field(default_factory=list)
    admin_calls: list[device_service_pb2.SetAdminStateRequest] = field(default_factory=list)
    list_calls: list[device_service_pb2.ListDevicesRequest] = field(default_factory=list)
    # Kiosks: when each reported its consumables, the journal by request id, errors by method.
    consumables_reported: dict[str, datetime] = field(default_factory=dict)
    issuances: dict[str, kiosk_pb2.Issuance] = field(default_factory=dict)
    kiosk_errors: dict[str, GatewayError] = field(default_factory=dict)
    kiosk_calls: list[Any] = field(default_factory=list)
    read_started: threading.Event = field(default_factory=threading.Event)
    read_cancelled: threading.Event = field(default_factory=threading.Event)
    subscribers: list[Subscriber] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)

    # --- devices -----------------------------------------------------------

    def add(self, device: device_pb2.Device) -> None:
        self.devices[device.device_id] = device

    def resolve(self, ref: device_pb2.DeviceRef) -> device_pb2.Device | None:
        if ref.WhichOneof("target") == "station":
            for device in self.devices.values():
                if device.station_id == ref.station.station_id and device.kind == ref.station.kind:
                    return device
            return None
        return self.devices.get(ref.device_id)

    # --- events ------------------------------------------------------------

    def subscribe(self, request: device_service_pb2.WatchEventsRequest) -> Subscriber:
        subscriber = Subscriber(request)
        with self.lock:
            self.subscribers.append(subscriber)
            self.lock.notify_all()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self.lock:
            self.subscribers.remove(subscriber)
            self.lock.notify_all()

    def wait_for_subscribers(self, predicate: Any, timeout: float = WAIT_LIMIT_S) -> bool:
        with self.lock:
            return bool(self.lock.wait_for(lambda: predicate(self.subscribers), timeout=timeout))

    @staticmethod
    def matches(request: device_service_pb2.WatchEventsRequest, event: device_pb2.DeviceEvent) -> bool:
        if request.device_ids and event.device_id not in request.device_ids:
            return False
        if request.station_ids and event.station_id not in request.station_ids:
            return False
        return not (request.request_id and event.request_id != request.request_id)

    def publish(
        self, device: device_pb2.Device, request_id: str = "", *, sequence: int | None = None, **payload: Any
    ) -> device_pb2.DeviceEvent:
        with self.lock:
            self.sequence = sequence if sequence is not None else self.sequence + 1
            event = device_pb2.DeviceEvent(
                sequence=self.sequence,
                time=ts(datetime.now(UTC)),
                device_id=device.device_id,
                station_id=device.station_id,
                request_id=request_id,
                **payload,
            )
            for subscriber in self.subscribers:
                if self.matches(subscriber.request, event):
                    subscriber.events.put(event)
        return event


class FakeDeviceService(device_service_pb2_grpc.DeviceServiceServicer):  # type: ignore[misc]
    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall

    def _device(self, ref: device_pb2.DeviceRef, context: grpc.ServicerContext) -> device_pb2.Device:
        device = self.hall.resolve(ref)
        if device is None:
            abort(context, GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such device"))
        assert device is not None
        return device

    def ListDevices(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.hall.list_calls.append(request)
        found = [
            d
            for _, d in sorted(self.hall.devices.items())
            if (not request.kinds or d.kind in request.kinds)
            and (not request.station_ids or d.station_id in request.station_ids)
        ]
        return device_service_pb2.ListDevicesResponse(devices=found)

    def GetDevice(self, request: Any, context: grpc.ServicerContext) -> Any:
        key = request.device.device_id
        if key in self.hall.get_errors:
            abort(context, self.hall.get_errors[key], key)
        if key in self.hall.stall_gets:
            deadline = time.monotonic() + WAIT_LIMIT_S
            while context.is_active() and time.monotonic() < deadline:
                time.sleep(0.01)
        return device_service_pb2.GetDeviceResponse(device=self._device(request.device, context))

    def SetAdminState(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.hall.admin_calls.append(request)
        device = self._device(request.device, context)
        if request.admin_state == device_pb2.ADMIN_STATE_UNSPECIFIED:
            abort(context, GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", "admin_state unset"))
        device.admin_state = request.admin_state
        device.admin_reason = request.reason
        device.admin_state_since.CopyFrom(ts(datetime.now(UTC)))
        self.hall.publish(device, request.request_id, state_changed=device_pb2.DeviceStateChanged(device=device))
        return device_service_pb2.SetAdminStateResponse(device=device)

    def WatchEvents(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        subscriber = self.hall.subscribe(request)
        try:
            if request.include_current_state:
                for _, device in sorted(self.hall.devices.items()):
                    if (not request.device_ids or device.device_id in request.device_ids) and (
                        not request.station_ids or device.station_id in request.station_ids
                    ):
                        yield device_service_pb2.WatchEventsResponse(
                            event=device_pb2.DeviceEvent(
                                sequence=self.hall.sequence,
                                time=ts(datetime.now(UTC)),
                                device_id=device.device_id,
                                station_id=device.station_id,
                                state_changed=device_pb2.DeviceStateChanged(device=device),
                            )
                        )
            while context.is_active():
                try:
                    event = subscriber.events.get(timeout=0.02)
                except queue.Empty:
                    if self.hall.end_streams:
                        return
                    continue
                yield device_service_pb2.WatchEventsResponse(event=event)
        finally:
            self.hall.unsubscribe(subscriber)

    def TraceFrames(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        device = self._device(request.device, context)
        yield from self.hall.frames.get(device.device_id, [])
        while context.is_active() and not self.hall.end_streams:
            time.sleep(0.02)


class FakeIdCardService(idcard_pb2_grpc.IdCardServiceServicer):  # type: ignore[misc]
    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall

    def ReadIdCard(self, request: Any, context: grpc.ServicerContext) -> Any:
        hall = self.hall
        hall.read_calls.append((request, context.time_remaining()))
        device = hall.resolve(request.device)
        if device is None:
            abort(context, GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such reader"))
        assert device is not None
        if device.device_id in hall.read_errors:
            abort(context, hall.read_errors[device.device_id], device.device_id)
        hall.read_started.set()
        if device.device_id in hall.stall_reads:
            deadline = time.monotonic() + WAIT_LIMIT_S
            while context.is_active() and time.monotonic() < deadline:
                time.sleep(0.01)
            if not context.is_active():
                hall.read_cancelled.set()
            abort(context, GatewayError(grpc.StatusCode.DEADLINE_EXCEEDED, "NO_CARD", "no card", "RETRY"))
        # Publish progress only once the caller's watch is there, so tests of
        # the progress display are deterministic.
        hall.wait_for_subscribers(lambda subs: any(s.request.request_id == request.request_id for s in subs))
        rid = request.request_id
        hall.publish(
            device,
            rid,
            progress=device_pb2.CommandProgress(stage="WAITING_FOR_CARD", message="place the card on the reader"),
        )
        card = hall.cards.get(device.device_id)
        took = duration_pb2.Duration(nanos=250_000_000)
        if card is None:
            hall.publish(
                device,
                rid,
                finished=device_pb2.CommandFinished(operation="ReadIdCard", ok=False, reason="NO_CARD", duration=took),
            )
            abort(
                context,
                GatewayError(
                    grpc.StatusCode.FAILED_PRECONDITION, "NO_CARD", "no card was placed on the reader in time", "RETRY"
                ),
                device.device_id,
            )
        hall.publish(device, rid, progress=device_pb2.CommandProgress(stage="CARD_FOUND", message="card found"))
        hall.publish(device, rid, progress=device_pb2.CommandProgress(stage="READING", message="reading the card"))
        hall.publish(device, rid, finished=device_pb2.CommandFinished(operation="ReadIdCard", ok=True, duration=took))
        return idcard_pb2.ReadIdCardResponse(card=card, device_id=device.device_id)


def _progress(hall: FakeHall, device: device_pb2.Device, request_id: str, stages: list[tuple[str, str]]) -> None:
    for stage, message in stages:
        hall.publish(device, request_id, progress=device_pb2.CommandProgress(stage=stage, message=message))


def _finish(hall: FakeHall, device: device_pb2.Device, request_id: str, operation: str, reason: str = "") -> None:
    took = duration_pb2.Duration(nanos=750_000_000)
    finished = device_pb2.CommandFinished(operation=operation, ok=not reason, reason=reason, duration=took)
    hall.publish(device, request_id, finished=finished)


class FakeDocumentService(document_pb2_grpc.DocumentServiceServicer):  # type: ignore[misc]
    """ReadTravelDocument: the stages of a real read, then the hall's document or its error."""

    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall

    def ReadTravelDocument(self, request: Any, context: grpc.ServicerContext) -> Any:
        hall = self.hall
        hall.document_calls.append((request, context.time_remaining()))
        device = hall.resolve(request.device)
        if device is None:
            abort(context, GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such reader"))
        assert device is not None
        rid = request.request_id
        hall.wait_for_subscribers(lambda subs: any(s.request.request_id == rid for s in subs))
        if not request.mrz:
            _progress(
                hall,
                device,
                rid,
                [("WAITING_FOR_MRZ", "scan the data page on the MRZ reader"), ("MRZ_READ", "MRZ read")],
            )
        _progress(hall, device, rid, [("WAITING_FOR_DOCUMENT", "place the document's data page on the reader")])
        error = hall.document_errors.get(device.device_id)
        if error is not None:
            _finish(hall, device, rid, "ReadTravelDocument", error.reason)
            abort(context, error, device.device_id)
        _progress(
            hall,
            device,
            rid,
            [
                ("DOCUMENT_FOUND", "document found: keep it still on the reader"),
                ("READING_CHIP", "reading the chip: keep the document still on the reader"),
            ],
        )
        _finish(hall, device, rid, "ReadTravelDocument")
        document = document_pb2.TravelDocument()
        document.CopyFrom(hall.documents[device.device_id])
        if request.mrz:
            document.mrz_source = document_pb2.MRZ_SOURCE_REQUEST
        if request.skip_face:
            document.ClearField("face")
        return document_pb2.ReadTravelDocumentResponse(document=document, device_id=device.device_id)


class FakeFingerprintService(fingerprint_pb2_grpc.FingerprintServiceServicer):  # type: ignore[misc]
    """Capture: the stages of a two-attempt capture, then the hall's capture or its error."""

    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall

    def Capture(self, request: Any, context: grpc.ServicerContext) -> Any:
        hall = self.hall
        hall.capture_calls.append((request, context.time_remaining()))
        device = hall.resolve(request.device)
        if device is None:
            abort(context, GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such scanner"))
        assert device is not None
        rid = request.request_id
        hall.wait_for_subscribers(lambda subs: any(s.request.request_id == rid for s in subs))
        _progress(hall, device, rid, [("PLACE_FINGER", "place your finger on the sensor")])
        error = hall.capture_errors.get(device.device_id)
        if error is not None:
            _finish(hall, device, rid, "Capture", error.reason)
            abort(context, error, device.device_id)
        _progress(
            hall,
            device,
            rid,
            [
                ("PRESS_HARDER", "press a little harder"),
                ("LIFT_FINGER", "lift your finger"),
                ("PLACE_AGAIN", "place your finger again"),
                ("HOLD_STILL", "hold your finger still"),
                ("CAPTURED", "captured: quality 82"),
            ],
        )
        _finish(hall, device, rid, "Capture")
        response = fingerprint_pb2.CaptureResponse()
        response.CopyFrom(hall.captures[device.device_id])
        response.finger = request.finger
        response.device_id = device.device_id
        return response


_UNRESOLVED = (kiosk_pb2.ISSUANCE_STATE_IN_PROGRESS, kiosk_pb2.ISSUANCE_STATE_IN_DOUBT)


class FakeKioskService(kiosk_pb2_grpc.KioskServiceServicer):  # type: ignore[misc]
    """GetConsumables and the journal's reads, as the daemon answers them; errors injected by method name."""

    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall

    def _called(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        self.hall.kiosk_calls.append(request)
        if method in self.hall.kiosk_errors:
            abort(context, self.hall.kiosk_errors[method])

    def GetConsumables(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._called("GetConsumables", request, context)
        device = self.hall.resolve(request.device)
        if device is None or device.kind != device_pb2.DEVICE_KIND_KIOSK:
            abort(context, GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such kiosk"))
        assert device is not None
        response = kiosk_pb2.GetConsumablesResponse(device_id=device.device_id, consumables=device.consumables)
        if device.device_id in self.hall.consumables_reported:
            response.reported.CopyFrom(ts(self.hall.consumables_reported[device.device_id]))
        return response

    def GetIssuance(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._called("GetIssuance", request, context)
        found = self.hall.issuances.get(request.request_id)
        if found is None:
            abort(
                context,
                GatewayError(
                    grpc.StatusCode.NOT_FOUND, "UNKNOWN_REQUEST", "no issuance is journalled under this request id"
                ),
            )
        return kiosk_pb2.GetIssuanceResponse(issuance=found)

    def ListIssuances(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._called("ListIssuances", request, context)
        limit = request.limit or 100
        if limit > 1000:
            abort(context, GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", "limit too large"))
        if request.device_id and request.device_id not in self.hall.devices:
            abort(context, GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such device"))
        mine = [i for i in self.hall.issuances.values() if not request.device_id or i.device_id == request.device_id]

        def created(issuance: kiosk_pb2.Issuance) -> int:
            return int(issuance.created.ToNanoseconds())

        unresolved = sorted((i for i in mine if i.state in _UNRESOLVED), key=created)
        out = unresolved[:limit]
        if request.include_final and len(out) < limit:
            final = sorted((i for i in mine if i.state not in _UNRESOLVED), key=created, reverse=True)
            out += final[: limit - len(out)]
        return kiosk_pb2.ListIssuancesResponse(issuances=out)


class FakeGateway:
    """A real gRPC server on 127.0.0.1 serving a FakeHall."""

    def __init__(self, hall: FakeHall) -> None:
        self.hall = hall
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
        device_service_pb2_grpc.add_DeviceServiceServicer_to_server(FakeDeviceService(hall), self.server)
        idcard_pb2_grpc.add_IdCardServiceServicer_to_server(FakeIdCardService(hall), self.server)
        document_pb2_grpc.add_DocumentServiceServicer_to_server(FakeDocumentService(hall), self.server)
        fingerprint_pb2_grpc.add_FingerprintServiceServicer_to_server(FakeFingerprintService(hall), self.server)
        kiosk_pb2_grpc.add_KioskServiceServicer_to_server(FakeKioskService(hall), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.target = f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.hall.end_streams = True
        self.server.stop(grace=None).wait(timeout=WAIT_LIMIT_S)


# --- a hall to test with -----------------------------------------------------

# A fictional applicant; the tests fail if any of these leak without --show-pii.
NAME = "张三丰"
ID_NUMBER = "11010519491231002X"
ADDRESS = "北京市朝阳区建国路88号"
BIRTH = device_pb2.Date(year=1949, month=12, day=31)
FOREIGN_NAME = "ZHANG, JOHN SAMUEL"
FOREIGN_NUMBER = "932156198304120017"
HMT_NUMBER = "810000199001010013"
HMT_PERMIT = "H01234567"


def resident_card() -> idcard_pb2.IdentityCard:
    return idcard_pb2.IdentityCard(
        card_type=idcard_pb2.CARD_TYPE_RESIDENT_ID,
        resident_id=idcard_pb2.ResidentIdFields(
            name=NAME,
            sex=device_pb2.CodedValue(code="1", name="male", name_zh="男"),
            nation=device_pb2.CodedValue(code="01", name="Han", name_zh="汉"),
            birth_date=BIRTH,
            address=ADDRESS,
            id_number=ID_NUMBER,
            issuing_authority="北京市公安局朝阳分局",
            validity=idcard_pb2.Validity(valid_from=device_pb2.Date(year=2015, month=3, day=1), long_term=True),
        ),
        photo=idcard_pb2.CardPhoto(format=idcard_pb2.PHOTO_FORMAT_WLT, data=bytes(range(256)) * 4),
        decoded_photo=idcard_pb2.CardPhoto(format=idcard_pb2.PHOTO_FORMAT_BMP, data=b"BM" + b"\x00" * 38860),
    )


def foreign_card() -> idcard_pb2.IdentityCard:
    return idcard_pb2.IdentityCard(
        card_type=idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023,
        foreign_permanent_resident=idcard_pb2.ForeignPermanentResidentFields(
            english_name=FOREIGN_NAME,
            chinese_name="张约翰",
            sex=device_pb2.CodedValue(code="1", name="male", name_zh="男"),
            birth_date=device_pb2.Date(year=1983, month=4, day=12),
            card_number=FOREIGN_NUMBER,
            nationality="CAN",
            validity=idcard_pb2.Validity(
                valid_from=device_pb2.Date(year=2023, month=12, day=1),
                valid_until=device_pb2.Date(year=2033, month=12, day=1),
            ),
            renewal_count="01",
            previous_card_link="CAN110083041201",
        ),
        photo=idcard_pb2.CardPhoto(format=idcard_pb2.PHOTO_FORMAT_WLT, data=b"\x01" * 1024),
    )


def hmt_card() -> idcard_pb2.IdentityCard:
    return idcard_pb2.IdentityCard(
        card_type=idcard_pb2.CARD_TYPE_HMT_RESIDENCE_PERMIT,
        hmt_residence_permit=idcard_pb2.HmtResidencePermitFields(
            name="陈大文",
            sex=device_pb2.CodedValue(code="1", name="male", name_zh="男"),
            birth_date=device_pb2.Date(year=1990, month=1, day=1),
            address="广东省深圳市福田区福华路1号",
            id_number=HMT_NUMBER,
            issuing_authority="深圳市公安局",
            validity=idcard_pb2.Validity(
                valid_from=device_pb2.Date(year=2019, month=5, day=6),
                valid_until=device_pb2.Date(year=2024, month=5, day=6),
            ),
            travel_permit_number=HMT_PERMIT,
            issue_count="02",
        ),
    )


def make_hall(now: datetime | None = None) -> FakeHall:
    """Five devices in three stations, one of them offline, one under maintenance."""
    now = now or datetime.now(UTC)
    hall = FakeHall()

    def device(device_id: str, kind: device_pb2.DeviceKind, station: str, **extra: Any) -> device_pb2.Device:
        found = device_pb2.Device(
            device_id=device_id,
            kind=kind,
            station_id=station,
            name=f"{device_id} at {station}",
            admin_state=extra.pop("admin_state", device_pb2.ADMIN_STATE_ENABLED),
            oper_state=extra.pop("oper_state", device_pb2.OPER_STATE_ONLINE),
            oper_state_since=ts(now - extra.pop("oper_age", timedelta(seconds=12))),
            admin_state_since=ts(now - timedelta(hours=2)),
            link=f"tcp://127.0.0.1:7{device_id[-2:]}",
            **extra,
        )
        hall.add(found)
        return found

    device(
        "idr-07",
        device_pb2.DEVICE_KIND_IDCARD_READER,
        "window-07",
        identity={"sam_id": "05.01-20101015-0011223344-3344556677"},
        counters=device_pb2.DeviceCounters(commands_ok=41, commands_failed=2, link_errors=1, queue_depth=1),
    )
    device(
        "idr-08",
        device_pb2.DEVICE_KIND_IDCARD_READER,
        "window-08",
        oper_state=device_pb2.OPER_STATE_OFFLINE,
        oper_age=timedelta(minutes=4, seconds=5),
        last_error=device_pb2.DeviceError(
            reason="DEVICE_OFFLINE",
            message="the reader stopped answering its health probes",
            action=device_pb2.ACTION_REQUIRED_ENGINEER,
            time=ts(now - timedelta(minutes=4, seconds=5)),
        ),
        counters=device_pb2.DeviceCounters(reconnects=3, probe_failures=9),
    )
    device(
        "cam-07",
        device_pb2.DEVICE_KIND_CAMERA,
        "window-07",
        admin_state=device_pb2.ADMIN_STATE_MAINTENANCE,
        admin_reason="lens cleaning",
    )
    device("idr-24", device_pb2.DEVICE_KIND_IDCARD_READER, "area-24h")
    device("idr-hk", device_pb2.DEVICE_KIND_IDCARD_READER, "window-09", oper_state=device_pb2.OPER_STATE_BUSY)
    hall.cards["idr-07"] = resident_card()
    hall.cards["idr-24"] = foreign_card()
    hall.cards["idr-hk"] = hmt_card()
    hall.read_errors["idr-08"] = GatewayError(
        grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE", "the reader idr-08 is offline", "ENGINEER"
    )
    hall.frames["idr-07"] = [
        device_service_pb2.TraceFramesResponse(
            time=ts(now),
            direction=device_service_pb2.FRAME_DIRECTION_TO_DEVICE,
            summary="FIND_CARD",
            data=bytes.fromhex("aaaaaa9669000320012200"),
            length=11,
        ),
        device_service_pb2.TraceFramesResponse(
            time=ts(now),
            direction=device_service_pb2.FRAME_DIRECTION_FROM_DEVICE,
            summary="status 9F card found",
            data=bytes.fromhex("aaaaaa966900080000009f0000000097"),
            length=16,
        ),
        device_service_pb2.TraceFramesResponse(
            time=ts(now),
            direction=device_service_pb2.FRAME_DIRECTION_FROM_DEVICE,
            summary="READ_BASE_MSG text+photo",
            data=bytes.fromhex("aaaaaa9669050800000090") + bytes(1284),
            length=1295,
            masked=True,
        ),
        device_service_pb2.TraceFramesResponse(
            time=ts(now), error="checksum mismatch in a 16-byte frame", data=bytes.fromhex("aaaaaa96690008")
        ),
    ]
    return hall


# --- travel documents and fingerprints -----------------------------------------

# A fictional traveller; the tests fail if any of these leak without --show-pii.
PASSPORT_SURNAME = "MUSTERMANN"
PASSPORT_GIVEN = "ERIKA MARIA"
PASSPORT_NUMBER = "C01X00T47"
PASSPORT_BIRTH = "640812"
PASSPORT_PERSONAL = "ZE184226B"
PASSPORT_LINES = (
    "P<D<<MUSTERMANN<<ERIKA<MARIA<<<<<<<<<<<<<<<<",
    "C01X00T478D<<6408125F3101011ZE184226B<<<<<18",
)
FACE_JPEG = b"\xff\xd8\xff\xe0" + bytes(20_476)
FINGERPRINT_PNG = b"\x89PNG\r\n\x1a\n" + bytes(9_992)


def passport_mrz() -> document_pb2.MrzFields:
    return document_pb2.MrzFields(
        format=document_pb2.MRZ_FORMAT_TD3,
        document_code="P",
        issuing_state="D",
        document_number=PASSPORT_NUMBER,
        primary_identifier=PASSPORT_SURNAME,
        secondary_identifier=PASSPORT_GIVEN,
        nationality="D",
        date_of_birth=PASSPORT_BIRTH,
        sex="F",
        date_of_expiry="310101",
        optional_data=PASSPORT_PERSONAL,
        lines=PASSPORT_LINES,
    )


def passport() -> document_pb2.TravelDocument:
    return document_pb2.TravelDocument(
        mrz=passport_mrz(),
        mrz_source=document_pb2.MRZ_SOURCE_MRZ_READER,
        chip_mrz=passport_mrz(),
        chip_mrz_matches=True,
        face=document_pb2.FaceImage(
            jpeg=FACE_JPEG, width=480, height=640, chip_format=document_pb2.CHIP_IMAGE_FORMAT_JPEG2000
        ),
        passive_authentication=document_pb2.PassiveAuthentication(
            hashes_ok=True,
            data_groups=[
                document_pb2.DataGroupCheck(number=1, hash=document_pb2.HASH_CHECK_MATCH),
                document_pb2.DataGroupCheck(number=2, hash=document_pb2.HASH_CHECK_MATCH),
            ],
            signature=document_pb2.SIGNATURE_STATUS_VERIFIED,
            signature_message="document signer certificate issued by CSCA Germany, both valid",
        ),
        data_groups_present=[1, 2, 14],
        lds_version="1.7",
    )


def good_capture() -> fingerprint_pb2.CaptureResponse:
    def component(value: float, raw: float) -> fingerprint_pb2.QualityComponent:
        return fingerprint_pb2.QualityComponent(value=value, raw=raw)

    return fingerprint_pb2.CaptureResponse(
        image=fingerprint_pb2.FingerprintImage(png=FINGERPRINT_PNG, width=256, height=288, resolution_dpi=500),
        quality=fingerprint_pb2.FingerprintQuality(
            score=82,
            foreground=component(0.93, 0.87),
            contrast=component(0.81, 96.0),
            coherence=component(0.77, 0.84),
            moisture=component(0.9, 141.0),
            hints=["hold_still"],
            hint_texts=["hold your finger still"],
        ),
        attempt=2,
    )


def add_documents_and_fingerprints(hall: FakeHall, now: datetime | None = None) -> FakeHall:
    """Window 3 with an MRZ reader and a chip reader, window 5 with a fingerprint scanner."""
    now = now or datetime.now(UTC)
    common: dict[str, Any] = {
        "admin_state": device_pb2.ADMIN_STATE_ENABLED,
        "oper_state": device_pb2.OPER_STATE_ONLINE,
        "oper_state_since": ts(now - timedelta(seconds=30)),
    }
    hall.add(
        device_pb2.Device(
            device_id="mrz-03",
            kind=device_pb2.DEVICE_KIND_MRZ_READER,
            station_id="window-03",
            link="serial:///dev/ttyUSB3?baud=9600",
            **common,
        )
    )
    hall.add(
        device_pb2.Device(
            device_id="dr-03",
            kind=device_pb2.DEVICE_KIND_DOCUMENT_READER,
            station_id="window-03",
            link="pcsc://REINER SCT cyberJack RFID basis",
            identity={"reader": "REINER SCT cyberJack RFID basis 00 00"},
            **common,
        )
    )
    hall.add(
        device_pb2.Device(
            device_id="fps-05",
            kind=device_pb2.DEVICE_KIND_FINGERPRINT_SCANNER,
            station_id="window-05",
            link="serial:///dev/ttyUSB5?baud=57600",
            identity={
                "address": "0xFFFFFFFF",
                "baud": "57600",
                "capacity": "300",
                "packet_size": "128",
                "security_level": "3",
                "sensor": "AS608",
            },
            **common,
        )
    )
    hall.documents["dr-03"] = passport()
    hall.captures["fps-05"] = good_capture()
    return hall


# --- kiosks and their journal ----------------------------------------------------

# The business system's opaque references: never personal data.
BUSINESS_REF = "APP-2026-000417"


def kiosk(
    device_id: str,
    station: str,
    kind: str,
    consumables: dict[str, int],
    now: datetime,
    **extra: Any,
) -> device_pb2.Device:
    """A kiosk as the gateway lists it, identified and reporting its consumables."""
    identity = {
        "kiosk_kind": kind,
        "model": extra.pop("model", "SZ-KIOSK-3"),
        "firmware": "4.2.1",
        "mode": extra.pop("mode", "in_service"),
        "door": extra.pop("door", "closed"),
    }
    return device_pb2.Device(
        device_id=device_id,
        kind=device_pb2.DEVICE_KIND_KIOSK,
        station_id=station,
        name=f"{kind} kiosk {device_id}",
        admin_state=extra.pop("admin_state", device_pb2.ADMIN_STATE_ENABLED),
        oper_state=extra.pop("oper_state", device_pb2.OPER_STATE_ONLINE),
        oper_state_since=ts(now - timedelta(minutes=3)),
        admin_state_since=ts(now - timedelta(hours=2)),
        link=f"mqtt://broker/hallgw/kiosk/{device_id}",
        identity=identity,
        consumables=consumables,
        **extra,
    )


def issuance(
    request_id: str,
    device_id: str,
    state: kiosk_pb2.IssuanceState,
    created: datetime,
    **extra: Any,
) -> kiosk_pb2.Issuance:
    """A journalled issuance; ``finished`` is set for the final states."""
    found = kiosk_pb2.Issuance(
        request_id=request_id,
        device_id=device_id,
        command_id=f"cmd-{request_id}",
        operation=extra.pop("operation", kiosk_pb2.ISSUANCE_OPERATION_ISSUE_ENDORSEMENT),
        business_ref=extra.pop("business_ref", BUSINESS_REF),
        state=state,
        created=ts(created),
        attempts=extra.pop("attempts", 1),
        **extra,
    )
    if state not in _UNRESOLVED:
        found.finished.CopyFrom(ts(created + timedelta(seconds=40)))
    return found


def add_kiosks(hall: FakeHall, now: datetime | None = None) -> FakeHall:
    """Four kiosks (one offline, two with low consumables) and a journal with one issuance in each state."""
    now = now or datetime.now(UTC)
    kiosks = [
        kiosk("kio-01", "area-self", "endorsement", {"paper_pct": 80, "ribbon_pct": 60, "card_stock": 120}, now),
        kiosk("kio-02", "area-self", "endorsement", {"paper_pct": 8, "ribbon_pct": 12, "card_stock": 4}, now),
        kiosk("kio-03", "area-collect", "collection", {"slots_total": 12, "slots_occupied": 12}, now, door="open"),
        kiosk(
            "kio-04",
            "area-24h",
            "record_query",
            {"paper_pct": 55},
            now,
            oper_state=device_pb2.OPER_STATE_OFFLINE,
            mode="out_of_service",
        ),
    ]
    for device in kiosks:
        hall.add(device)
    hall.consumables_reported["kio-01"] = now - timedelta(seconds=12)
    hall.consumables_reported["kio-02"] = now - timedelta(seconds=12)
    journal = [
        issuance(
            "visit-9/done",
            "kio-01",
            kiosk_pb2.ISSUANCE_STATE_DONE,
            now - timedelta(minutes=30),
            evidence=kiosk_pb2.KioskEvidence(
                operation_serial="EZ-20260517-0042", kiosk_time=ts(now - timedelta(minutes=29))
            ),
        ),
        issuance(
            "visit-9/paper",
            "kio-02",
            kiosk_pb2.ISSUANCE_STATE_NOT_DONE,
            now - timedelta(minutes=20),
            reason="paper_out",
            action=device_pb2.ACTION_REQUIRED_STAFF,
        ),
        issuance(
            "visit-9/doubt",
            "kio-03",
            kiosk_pb2.ISSUANCE_STATE_IN_DOUBT,
            now - timedelta(minutes=10),
            operation=kiosk_pb2.ISSUANCE_OPERATION_RELEASE_CERTIFICATE,
            attempts=3,
        ),
        issuance(
            "visit-9/flight",
            "kio-01",
            kiosk_pb2.ISSUANCE_STATE_IN_PROGRESS,
            now - timedelta(seconds=5),
        ),
    ]
    for entry in journal:
        hall.issuances[entry.request_id] = entry
    return hall
