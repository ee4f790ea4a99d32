"""The gRPC calls hallctl makes, and nothing else.

A ``Gateway`` holds one channel to the daemon and offers the calls as typed
methods. Unary calls carry the ``--timeout`` deadline; streams run until the
caller stops iterating, and are cancelled then, so the daemon stops sending at
once (Ctrl-C included). Failures surface as ``grpc.RpcError``; ``errors``
classifies them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Generator
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from google.protobuf import duration_pb2
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
    kiosk_pb2,
    kiosk_pb2_grpc,
    photo_pb2,
    photo_pb2_grpc,
    station_pb2,
    station_pb2_grpc,
)

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT_S = 10.0
# Added to --wait for the deadline of ReadIdCard: after a card is placed, finding,
# selecting and reading it takes about a second on a real reader; the rest
# covers the network and a loaded gateway.
READ_MARGIN_S = 5.0
# Added to --wait for the deadline of ReadTravelDocument: Basic Access Control,
# reading EF.COM, EF.SOD, DG1 and a DG2 of 15-30 KB under secure messaging and
# checking the signature take several seconds on a real chip reader.
DOCUMENT_MARGIN_S = 15.0
# Added to --wait for each attempt of Capture: uploading a 256x288 image over a
# 57600-baud UART takes about 6 s, scoring it a fraction of a second.
CAPTURE_MARGIN_S = 8.0
CHECK_TIMEOUT_S = 30.0
MAX_RESPONSE = 256 * 1024 * 1024
"""Checking an uploaded photo decodes and analyses it: allow more than a plain query."""
# The attempts the gateway makes when the request leaves max_attempts at 0.
DEFAULT_ATTEMPTS = 3
# The most issuances one ListIssuances call may return (the API's limit).
MAX_ISSUANCES = 1000
# How long read-id keeps listening for the call's last events after the call returned.
EVENT_GRACE_S = 0.3

_Response = TypeVar("_Response", bound=Message)


def _user_agent() -> str:
    try:
        return f"hallctl/{metadata.version('hallgw')}"
    except metadata.PackageNotFoundError:
        return "hallctl"


@dataclasses.dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for a TLS connection: the CA that signed the gateway, and our certificate if it asks for one."""

    ca_cert: Path
    client_cert: Path | None = None
    client_key: Path | None = None
    server_name: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        """Channel credentials; raises OSError naming a file that cannot be read."""
        if (self.client_cert is None) != (self.client_key is None):
            raise OSError("--client-cert and --client-key go together")
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca_cert.read_bytes(),
            private_key=self.client_key.read_bytes() if self.client_key else None,
            certificate_chain=self.client_cert.read_bytes() if self.client_cert else None,
        )


class Gateway:
    """A connection to one hallgw daemon."""

    def __init__(self, target: str, *, timeout: float = DEFAULT_TIMEOUT_S, tls: TlsFiles | None = None) -> None:
        self.target = target
        self.timeout = timeout
        # The user agent lets the daemon's per-RPC log line tell hallctl calls from business systems.
        options: list[tuple[str, Any]] = [
            ("grpc.primary_user_agent", _user_agent()),
            # A photo check's analysis picture of a large upload is a large PNG (gRPC's default is 4 MiB).
            ("grpc.max_receive_message_length", MAX_RESPONSE),
        ]
        if tls is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            if tls.server_name:
                options.append(("grpc.ssl_target_name_override", tls.server_name))
            self._channel = grpc.secure_channel(target, tls.credentials(), options=options)
        # The generated stubs are untyped; every use below states its types.
        self._devices: Any = device_service_pb2_grpc.DeviceServiceStub(self._channel)
        self._idcards: Any = idcard_pb2_grpc.IdCardServiceStub(self._channel)
        self._documents: Any = document_pb2_grpc.DocumentServiceStub(self._channel)
        self._fingerprints: Any = fingerprint_pb2_grpc.FingerprintServiceStub(self._channel)
        self._photos: Any = photo_pb2_grpc.PhotoServiceStub(self._channel)
        self._stations: Any = station_pb2_grpc.StationServiceStub(self._channel)
        self._kiosks: Any = kiosk_pb2_grpc.KioskServiceStub(self._channel)

    def close(self) -> None:
        """Close the channel (cancels any call still running)."""
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- devices ---------------------------------------------------------

    def list_devices(
        self, kinds: list[device_pb2.DeviceKind] | None = None, station_ids: list[str] | None = None
    ) -> list[device_pb2.Device]:
        """ListDevices, optionally filtered by kinds and stations."""
        request = device_service_pb2.ListDevicesRequest(kinds=kinds or [], station_ids=station_ids or [])
        response: device_service_pb2.ListDevicesResponse = self._devices.ListDevices(request, timeout=self.timeout)
        return list(response.devices)

    def get_device(self, ref: device_pb2.DeviceRef) -> device_pb2.Device:
        """GetDevice: one device by id or by station and kind."""
        request = device_service_pb2.GetDeviceRequest(device=ref)
        response: device_service_pb2.GetDeviceResponse = self._devices.GetDevice(request, timeout=self.timeout)
        return response.device

    def set_admin_state(
        self, ref: device_pb2.DeviceRef, state: device_pb2.AdminState, *, reason: str, request_id: str
    ) -> device_pb2.Device:
        """SetAdminState; returns the device after the change."""
        request = device_service_pb2.SetAdminStateRequest(
            device=ref, admin_state=state, reason=reason, request_id=request_id
        )
        response: device_service_pb2.SetAdminStateResponse = self._devices.SetAdminState(request, timeout=self.timeout)
        return response.device

    def watch_events(
        self, request: device_service_pb2.WatchEventsRequest
    ) -> Generator[device_pb2.DeviceEvent, None, None]:
        """WatchEvents: yields events until the daemon ends the stream or the caller stops iterating."""
        call = self._devices.WatchEvents(request)
        try:
            for response in call:
                yield response.event
        finally:
            call.cancel()

    def trace_frames(self, ref: device_pb2.DeviceRef) -> Generator[device_service_pb2.TraceFramesResponse, None, None]:
        """TraceFrames: yields frames until the daemon ends the stream or the caller stops iterating."""
        call = self._devices.TraceFrames(device_service_pb2.TraceFramesRequest(device=ref))
        try:
            yield from call
        finally:
            call.cancel()

    # --- calls with progress ----------------------------------------------

    def _with_progress(
        self,
        method: Any,
        request: Message,
        response_type: type[_Response],
        *,
        device_id: str,
        request_id: str,
        deadline: float,
        on_event: Callable[[device_pb2.DeviceEvent], None],
    ) -> _Response:
        """Run a unary call returning ``response_type``, reporting its progress events to ``on_event``.

        ``device_id`` is the device the call's reference resolves to (from
        GetDevice), so the event watch can be narrowed to it. The watch is opened
        first, so that an event published as soon as the call starts is not
        missed on a gateway that subscribes the watcher promptly; whatever
        happens to the watch, the call's own result decides the outcome.
        """
        watch = self._devices.WatchEvents(
            device_service_pb2.WatchEventsRequest(device_ids=[device_id], request_id=request_id),
            timeout=deadline + 1.0,
        )
        call: grpc.Future[_Response] = method.future(request, timeout=deadline)
        # The watch has no end of its own. Once the call is done, the events it
        # published just before returning may still be on their way: give them a
        # moment (the call's "finished" event ends the wait early), then stop.
        stop_watch = threading.Timer(EVENT_GRACE_S, watch.cancel)
        stop_watch.daemon = True
        call.add_done_callback(lambda _: stop_watch.start())
        try:
            # A failed or cancelled watch only means less progress is shown.
            with contextlib.suppress(grpc.RpcError):
                for response in watch:
                    event: device_pb2.DeviceEvent = response.event
                    if event.request_id != request_id:
                        continue
                    on_event(event)
                    if event.WhichOneof("payload") == "finished":
                        break
            return call.result()
        finally:
            # Reached with the call still running only on an interrupt: tell the
            # daemon to stop waiting for an applicant nobody will look at.
            stop_watch.cancel()
            call.cancel()
            watch.cancel()

    # --- ID cards --------------------------------------------------------

    def read_id_card(
        self,
        ref: device_pb2.DeviceRef,
        *,
        device_id: str,
        request_id: str,
        wait: float,
        on_event: Callable[[device_pb2.DeviceEvent], None],
    ) -> idcard_pb2.ReadIdCardResponse:
        """ReadIdCard, reporting the call's progress events to ``on_event`` while it runs.

        ``device_id`` is the reader ``ref`` resolves to (from GetDevice). The
        deadline is ``wait`` plus the time to read the card once it is there.
        """
        request = idcard_pb2.ReadIdCardRequest(device=ref, request_id=request_id, card_wait=_duration(wait))
        return self._with_progress(
            self._idcards.ReadIdCard,
            request,
            idcard_pb2.ReadIdCardResponse,
            device_id=device_id,
            request_id=request_id,
            deadline=wait + READ_MARGIN_S,
            on_event=on_event,
        )

    # --- travel documents ------------------------------------------------

    def read_travel_document(
        self,
        ref: device_pb2.DeviceRef,
        *,
        device_id: str,
        request_id: str,
        mrz: str,
        wait: float,
        skip_face: bool,
        on_event: Callable[[device_pb2.DeviceEvent], None],
    ) -> document_pb2.ReadTravelDocumentResponse:
        """ReadTravelDocument, reporting the call's progress events to ``on_event`` while it runs.

        The deadline is ``wait`` (for the MRZ scan and the document together)
        plus the time to read and check the chip.
        """
        request = document_pb2.ReadTravelDocumentRequest(
            device=ref, request_id=request_id, mrz=mrz, document_wait=_duration(wait), skip_face=skip_face
        )
        return self._with_progress(
            self._documents.ReadTravelDocument,
            request,
            document_pb2.ReadTravelDocumentResponse,
            device_id=device_id,
            request_id=request_id,
            deadline=wait + DOCUMENT_MARGIN_S,
            on_event=on_event,
        )

    # --- fingerprints ----------------------------------------------------

    def capture_fingerprint(
        self,
        ref: device_pb2.DeviceRef,
        *,
        device_id: str,
        request_id: str,
        finger: fingerprint_pb2.FingerPosition,
        min_quality: int,
        attempts: int,
        wait: float,
        on_event: Callable[[device_pb2.DeviceEvent], None],
    ) -> fingerprint_pb2.CaptureResponse:
        """Capture, reporting the call's progress events to ``on_event`` while it runs.

        ``min_quality`` and ``attempts`` 0 leave the choice to the gateway.
        ``wait`` is per attempt, so the deadline covers every attempt's wait and
        upload.
        """
        request = fingerprint_pb2.CaptureRequest(
            device=ref,
            request_id=request_id,
            finger=finger,
            min_quality=min_quality,
            max_attempts=attempts,
            finger_wait=_duration(wait),
        )
        return self._with_progress(
            self._fingerprints.Capture,
            request,
            fingerprint_pb2.CaptureResponse,
            device_id=device_id,
            request_id=request_id,
            deadline=(attempts or DEFAULT_ATTEMPTS) * (wait + CAPTURE_MARGIN_S) + READ_MARGIN_S,
            on_event=on_event,
        )

    # --- stations ----------------------------------------------------------

    def list_stations(self, kind: str = "") -> list[station_pb2.Station]:
        """ListStations: every station (of ``kind``) with its roles and visit."""
        response: station_pb2.ListStationsResponse = self._stations.ListStations(
            station_pb2.ListStationsRequest(kind=kind), timeout=self.timeout
        )
        return list(response.stations)

    def get_station(self, station_id: str) -> station_pb2.Station:
        """GetStation: one station."""
        response: station_pb2.GetStationResponse = self._stations.GetStation(
            station_pb2.GetStationRequest(station_id=station_id), timeout=self.timeout
        )
        return response.station

    def assign_role(self, station_id: str, device_id: str) -> station_pb2.AssignRoleResponse:
        """AssignRole: the device takes its kind's role at the station."""
        response: station_pb2.AssignRoleResponse = self._stations.AssignRole(
            station_pb2.AssignRoleRequest(station_id=station_id, device_id=device_id), timeout=self.timeout
        )
        return response

    def break_claim(self, station_id: str, reason: str) -> station_pb2.Visit:
        """BreakClaim: end whatever visit holds the station."""
        response: station_pb2.BreakClaimResponse = self._stations.BreakClaim(
            station_pb2.BreakClaimRequest(station_id=station_id, reason=reason), timeout=self.timeout
        )
        return response.visit

    # --- photos ------------------------------------------------------------

    def capture_photo(
        self,
        ref: device_pb2.DeviceRef,
        *,
        device_id: str,
        request_id: str,
        wait: float,
        hold: int,
        on_event: Callable[[device_pb2.DeviceEvent], None],
    ) -> photo_pb2.PhotoServiceCaptureResponse:
        """Take a photo, reporting the guidance events to ``on_event`` while it runs (``hold`` 0: the gateway's)."""
        request = photo_pb2.PhotoServiceCaptureRequest(
            device=ref, request_id=request_id, wait=_duration(wait), hold_frames=hold
        )
        return self._with_progress(
            self._photos.Capture,
            request,
            photo_pb2.PhotoServiceCaptureResponse,
            device_id=device_id,
            request_id=request_id,
            deadline=wait + READ_MARGIN_S,
            on_event=on_event,
        )

    def check_photo(self, image: bytes, *, overlay: bool) -> photo_pb2.PhotoServiceCheckResponse:
        """Check an image against the photo standard (and draw the analysis with ``overlay``)."""
        request = photo_pb2.PhotoServiceCheckRequest(image=image, overlay=overlay)
        response: photo_pb2.PhotoServiceCheckResponse = self._photos.Check(
            request, timeout=max(self.timeout, CHECK_TIMEOUT_S)
        )
        return response

    # --- kiosks and their journal -----------------------------------------

    def get_consumables(self, ref: device_pb2.DeviceRef) -> kiosk_pb2.GetConsumablesResponse:
        """GetConsumables: a kiosk's consumables as it last reported them."""
        request = kiosk_pb2.GetConsumablesRequest(device=ref)
        response: kiosk_pb2.GetConsumablesResponse = self._kiosks.GetConsumables(request, timeout=self.timeout)
        return response

    def get_issuance(self, request_id: str) -> kiosk_pb2.Issuance:
        """GetIssuance: one journalled issuance by its request id."""
        request = kiosk_pb2.GetIssuanceRequest(request_id=request_id)
        response: kiosk_pb2.GetIssuanceResponse = self._kiosks.GetIssuance(request, timeout=self.timeout)
        return response.issuance

    def list_issuances(
        self, *, device_id: str = "", include_final: bool = False, limit: int = 0
    ) -> list[kiosk_pb2.Issuance]:
        """ListIssuances: those not final yet, oldest first; with ``include_final``, then final ones, newest first.

        ``limit`` 0 leaves it to the gateway (100).
        """
        request = kiosk_pb2.ListIssuancesRequest(device_id=device_id, include_final=include_final, limit=limit)
        response: kiosk_pb2.ListIssuancesResponse = self._kiosks.ListIssuances(request, timeout=self.timeout)
        return list(response.issuances)


def _duration(seconds: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(round(seconds * 1e9))
    return duration
