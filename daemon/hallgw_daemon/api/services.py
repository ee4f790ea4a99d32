"""The servicers of ``hallgw.v1``: DeviceService, IdCardService, DocumentService and FingerprintService."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Final

from google.protobuf.message import Message

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
)
from hallgw_daemon.api import convert
from hallgw_daemon.api.interceptors import Ctx
from hallgw_daemon.core.errors import InternalError, InvalidRequestError, MrzInvalidError
from hallgw_daemon.core.events import Event, StateChanged
from hallgw_daemon.core.model import AdminState, DeviceKind, DeviceSnapshot
from hallgw_daemon.drivers.base import TraceRecord
from hallgw_daemon.drivers.document import DocumentRead, DocumentReaderDriver
from hallgw_daemon.drivers.fingerprint import DEFAULT_ATTEMPTS, DEFAULT_MINIMUM, Capture, FingerprintScannerDriver
from hallgw_daemon.drivers.idcard import CardResult, IdCardReaderDriver
from hallgw_daemon.drivers.mrz import MrzReaderDriver
from hallgw_daemon.supervisor import DeviceRegistry, ManagedDevice
from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.icao9303 import Mrz, parse_mrz

DEFAULT_CARD_WAIT: Final = 10.0
"""Card wait when the call has neither card_wait nor a deadline."""
DEFAULT_FINGER_WAIT: Final = 20.0
"""Finger wait when the call has neither finger_wait nor a deadline."""
MAX_ATTEMPTS: Final = 10
DEFAULT_DOCUMENT_WAIT: Final = 20.0
"""Document wait when the call has neither document_wait nor a deadline."""
MAX_MRZ_TEXT: Final = 200
DEADLINE_MARGIN: Final = 0.25
"""Answer this long before the caller's deadline, so the caller gets our reason, not its own timeout."""
LAST_LOOK: Final = 0.1
"""Time kept for the final find-card exchange of a card wait."""
MAX_REQUEST_ID: Final = 128
TRACE_QUEUE: Final = 512


def resolve(
    registry: DeviceRegistry, ref: device_pb2.DeviceRef, *, default_kind: DeviceKind | None = None
) -> ManagedDevice:
    """The device a DeviceRef names."""
    which = ref.WhichOneof("target")
    if which == "device_id":
        return registry.get(ref.device_id)
    if which == "station":
        if not ref.station.station_id:
            raise InvalidRequestError("device.station.station_id is empty")
        kind = (
            default_kind
            if ref.station.kind == device_pb2.DEVICE_KIND_UNSPECIFIED and default_kind
            else convert.kind(ref.station.kind)
        )
        return registry.at_station(ref.station.station_id, kind)
    raise InvalidRequestError("device must be set: a device_id or a station")


def call_deadline(context: Ctx) -> float | None:
    """The loop time to answer by: the caller's deadline less a margin, or None without one."""
    remaining = context.time_remaining()
    if remaining is None:
        return None
    return asyncio.get_running_loop().time() + remaining - DEADLINE_MARGIN


def wait_until(wait: float, deadline: float | None) -> float:
    """When a wait for the applicant ends: ``wait`` from now, and early enough to answer before the deadline."""
    now = asyncio.get_running_loop().time()
    return min(now + wait, deadline - LAST_LOOK if deadline is not None else float("inf"))


def requested_wait(request: Message, field: str, default: float, deadline: float | None) -> float:
    """Seconds to wait for the applicant: the request's ``field`` (a Duration), else until the deadline,
    else ``default``. A negative wait is INVALID_REQUEST."""
    if request.HasField(field):
        wait: float = getattr(request, field).ToTimedelta().total_seconds()
        if wait < 0:
            raise InvalidRequestError(f"{field} must not be negative")
        return wait
    return default if deadline is None else float("inf")


def check_request_id(request_id: str) -> None:
    if len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
        raise InvalidRequestError(f"request_id must be printable and at most {MAX_REQUEST_ID} characters")


class DeviceCache:
    """Device messages by device, rebuilt only when the device's snapshot changed."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[DeviceSnapshot, device_pb2.Device]] = {}

    def message(self, dev: ManagedDevice) -> device_pb2.Device:
        snap = dev.snapshot()
        cached = self._cache.get(dev.id)
        if cached is not None and cached[0] is snap:
            return cached[1]
        msg = convert.device(snap)
        self._cache[dev.id] = (snap, msg)
        return msg


class DeviceService(device_service_pb2_grpc.DeviceServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Inventory, admin state, live events and frame traces."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry
        self.cache = DeviceCache()

    async def ListDevices(
        self, request: device_service_pb2.ListDevicesRequest, context: Ctx
    ) -> device_service_pb2.ListDevicesResponse:
        kinds = {convert.kind(k) for k in request.kinds}
        stations = set(request.station_ids)
        devices = [
            self.cache.message(d)
            for d in self.registry.list()
            if (not kinds or d.kind in kinds) and (not stations or d.station in stations)
        ]
        return device_service_pb2.ListDevicesResponse(devices=devices)

    async def GetDevice(
        self, request: device_service_pb2.GetDeviceRequest, context: Ctx
    ) -> device_service_pb2.GetDeviceResponse:
        dev = resolve(self.registry, request.device)
        return device_service_pb2.GetDeviceResponse(device=self.cache.message(dev))

    async def SetAdminState(
        self, request: device_service_pb2.SetAdminStateRequest, context: Ctx
    ) -> device_service_pb2.SetAdminStateResponse:
        dev = resolve(self.registry, request.device)
        state = convert.admin_state(request.admin_state)
        check_request_id(request.request_id)
        reason = request.reason.strip()
        if state is not AdminState.ENABLED and not reason:
            raise InvalidRequestError("reason is required to disable a device or put it into maintenance")
        if len(reason) > 500:
            raise InvalidRequestError("reason must be at most 500 characters")
        snap = dev.set_admin(state, reason, request_id=request.request_id)
        return device_service_pb2.SetAdminStateResponse(device=convert.device(snap))

    async def WatchEvents(
        self, request: device_service_pb2.WatchEventsRequest, context: Ctx
    ) -> AsyncIterator[device_service_pb2.WatchEventsResponse]:
        for device_id in request.device_ids:
            self.registry.get(device_id)  # unknown ids are an error, not a silent empty stream
        devices, stations, rid = set(request.device_ids), set(request.station_ids), request.request_id
        visit = request.visit_id

        def accept(ev: Event) -> bool:
            return (
                (not devices or ev.device_id in devices)
                and (not stations or ev.station_id in stations)
                and (not rid or ev.request_id == rid)
                and (not visit or ev.visit_id == visit)
            )

        async with self.registry.bus.subscribe(accept) as sub:
            if request.include_current_state:
                for dev in self.registry.list():
                    if (not devices or dev.id in devices) and (not stations or dev.station in stations):
                        snap = dev.snapshot()
                        ev = Event(
                            sequence=0,
                            time=snap.oper_since,
                            device_id=dev.id,
                            station_id=dev.station,
                            request_id="",
                            payload=StateChanged(device=snap),
                        )
                        yield device_service_pb2.WatchEventsResponse(event=convert.event(ev))
            async for ev in sub:
                yield device_service_pb2.WatchEventsResponse(event=convert.event(ev))

    async def TraceFrames(
        self, request: device_service_pb2.TraceFramesRequest, context: Ctx
    ) -> AsyncIterator[device_service_pb2.TraceFramesResponse]:
        dev = resolve(self.registry, request.device)
        queue: asyncio.Queue[TraceRecord] = asyncio.Queue(TRACE_QUEUE)

        def tap(rec: TraceRecord) -> None:
            if queue.full():  # a slow tracer loses old frames; the link never waits
                queue.get_nowait()
            queue.put_nowait(rec)

        dev.add_tap(tap)
        try:
            while True:
                yield convert.trace(await queue.get())
        finally:
            dev.remove_tap(tap)


class IdCardService(idcard_pb2_grpc.IdCardServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Reads ID cards."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    async def ReadIdCard(self, request: idcard_pb2.ReadIdCardRequest, context: Ctx) -> idcard_pb2.ReadIdCardResponse:
        check_request_id(request.request_id)
        dev = resolve(self.registry, request.device, default_kind=DeviceKind.IDCARD_READER)
        if dev.kind is not DeviceKind.IDCARD_READER:
            raise InvalidRequestError(f"device {dev.id} is a {dev.kind.value}, not an ID card reader")
        deadline = call_deadline(context)
        wait = requested_wait(request, "card_wait", DEFAULT_CARD_WAIT, deadline)
        # The last look for a card must end before the deadline, so the caller hears NO_CARD.
        until = wait_until(wait, deadline)
        progress = dev.progress(request.request_id)

        async def read(driver: IdCardReaderDriver) -> CardResult:
            return await driver.read_card(wait_until=until, progress=progress)

        result = await dev.run_command(
            "ReadIdCard", read, IdCardReaderDriver, request_id=request.request_id, deadline=deadline
        )
        return idcard_pb2.ReadIdCardResponse(card=convert.identity_card(result), device_id=dev.id)


def request_mrz(text: str) -> Mrz:
    """The MRZ a caller passed, parsed and checked."""
    if len(text) > MAX_MRZ_TEXT:
        raise InvalidRequestError(f"mrz must be at most {MAX_MRZ_TEXT} characters (2 or 3 MRZ lines)")
    try:
        return parse_mrz(text)
    except RemoteProtocolError as err:  # the messages name checks and shapes, never the values
        raise MrzInvalidError(f"the MRZ in the request is not valid: {err}") from err


class DocumentService(document_pb2_grpc.DocumentServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Reads travel documents: MRZ from the request or the station's MRZ reader, then the chip."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    def _mrz_reader(self, dev: ManagedDevice) -> ManagedDevice:
        if dev.station is None:
            raise InvalidRequestError(f"device {dev.id} has no station, so no MRZ reader: pass the MRZ in the request")
        found = [d for d in self.registry.list() if d.station == dev.station and d.kind is DeviceKind.MRZ_READER]
        if not found:
            raise InvalidRequestError(f"station {dev.station} has no MRZ reader: pass the MRZ in the request")
        return found[0]

    async def ReadTravelDocument(
        self, request: document_pb2.ReadTravelDocumentRequest, context: Ctx
    ) -> document_pb2.ReadTravelDocumentResponse:
        check_request_id(request.request_id)
        dev = resolve(self.registry, request.device, default_kind=DeviceKind.DOCUMENT_READER)
        if dev.kind is not DeviceKind.DOCUMENT_READER:
            raise InvalidRequestError(f"device {dev.id} is a {dev.kind.value}, not a document reader")
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = call_deadline(context)
        wait = requested_wait(request, "document_wait", DEFAULT_DOCUMENT_WAIT, deadline)
        until = wait_until(wait, deadline)
        given = request_mrz(request.mrz) if request.mrz.strip() else None
        scanner = self._mrz_reader(dev) if given is None else None
        progress = dev.progress(request.request_id)

        async def read(driver: DocumentReaderDriver) -> DocumentRead:
            mrz = given
            if scanner is not None:
                scanner.check_usable()
                mrz_driver = scanner.driver
                if not isinstance(mrz_driver, MrzReaderDriver):
                    raise InternalError(f"device {scanner.id} has no MRZ reader driver")
                mrz = await mrz_driver.take_scan(
                    since=started - MrzReaderDriver.freshness, until=until, progress=progress
                )
            assert mrz is not None  # noqa: S101 - given, or scanned above
            return await driver.read_document(mrz, wait_until=until, progress=progress)

        result = await dev.run_command(
            "ReadTravelDocument", read, DocumentReaderDriver, request_id=request.request_id, deadline=deadline
        )
        return document_pb2.ReadTravelDocumentResponse(
            document=convert.travel_document(result, from_reader=given is None, include_face=not request.skip_face),
            device_id=dev.id,
        )


class FingerprintService(fingerprint_pb2_grpc.FingerprintServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Captures fingerprints with a quality the applicant can act on."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    async def Capture(self, request: fingerprint_pb2.CaptureRequest, context: Ctx) -> fingerprint_pb2.CaptureResponse:
        check_request_id(request.request_id)
        dev = resolve(self.registry, request.device, default_kind=DeviceKind.FINGERPRINT_SCANNER)
        if dev.kind is not DeviceKind.FINGERPRINT_SCANNER:
            raise InvalidRequestError(f"device {dev.id} is a {dev.kind.value}, not a fingerprint scanner")
        if request.finger not in fingerprint_pb2.FingerPosition.values():
            raise InvalidRequestError("finger must be a finger position 0..10 (ISO/ANSI codes)")
        if request.min_quality > 100:
            raise InvalidRequestError("min_quality must be between 0 (the default) and 100")
        if request.max_attempts > MAX_ATTEMPTS:
            raise InvalidRequestError(f"max_attempts must be between 0 (the default) and {MAX_ATTEMPTS}")
        minimum = request.min_quality or DEFAULT_MINIMUM
        attempts = request.max_attempts or DEFAULT_ATTEMPTS
        deadline = call_deadline(context)
        wait = requested_wait(request, "finger_wait", DEFAULT_FINGER_WAIT, deadline)
        # The last look for a finger must end before the deadline, so the caller hears NO_FINGER.
        last_look = wait_until(float("inf"), deadline)
        progress = dev.progress(request.request_id)

        async def capture(driver: FingerprintScannerDriver) -> Capture:
            return await driver.capture(
                min_quality=minimum, attempts=attempts, finger_wait=wait, deadline=last_look, progress=progress
            )

        result = await dev.run_command(
            "CaptureFingerprint", capture, FingerprintScannerDriver, request_id=request.request_id, deadline=deadline
        )
        return convert.capture_response(result, finger=request.finger, device_id=dev.id)
