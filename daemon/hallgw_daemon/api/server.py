"""The gRPC server: servicers, interceptors, health per device kind, reflection."""

from __future__ import annotations

from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio  # type: ignore[attr-defined]
from grpc_reflection.v1alpha import reflection

from hallgw_api.v1 import (
    desk_pb2,
    desk_pb2_grpc,
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
from hallgw_daemon.api.auth import Authorizer
from hallgw_daemon.api.desk_service import DeskService
from hallgw_daemon.api.interceptors import instrument
from hallgw_daemon.api.kiosk_service import KioskService
from hallgw_daemon.api.photo_service import PhotoService
from hallgw_daemon.api.services import DeviceService, DocumentService, FingerprintService, IdCardService
from hallgw_daemon.api.station_service import StationService
from hallgw_daemon.config import ApiSection, TlsSection
from hallgw_daemon.core.model import DeviceKind, OperState
from hallgw_daemon.drivers.photo import MAX_UPLOAD
from hallgw_daemon.supervisor import DeviceRegistry

MAX_MESSAGE = MAX_UPLOAD + 64 * 1024
"""Largest request accepted: an uploaded photo and its envelope."""

SERVICE_NAMES = (
    device_service_pb2.DESCRIPTOR.services_by_name["DeviceService"].full_name,
    idcard_pb2.DESCRIPTOR.services_by_name["IdCardService"].full_name,
    document_pb2.DESCRIPTOR.services_by_name["DocumentService"].full_name,
    fingerprint_pb2.DESCRIPTOR.services_by_name["FingerprintService"].full_name,
    kiosk_pb2.DESCRIPTOR.services_by_name["KioskService"].full_name,
    photo_pb2.DESCRIPTOR.services_by_name["PhotoService"].full_name,
    station_pb2.DESCRIPTOR.services_by_name["StationService"].full_name,
    desk_pb2.DESCRIPTOR.services_by_name["DeskService"].full_name,
)
KIND_SERVICE = {
    DeviceKind.IDCARD_READER: SERVICE_NAMES[1],
    DeviceKind.DOCUMENT_READER: SERVICE_NAMES[2],
    DeviceKind.FINGERPRINT_SCANNER: SERVICE_NAMES[3],
    DeviceKind.KIOSK: SERVICE_NAMES[4],
    DeviceKind.CAMERA: SERVICE_NAMES[5],
    DeviceKind.PAYMENT_SCANNER: SERVICE_NAMES[7],
    DeviceKind.FORM_PRINTER: SERVICE_NAMES[7],
    DeviceKind.TICKET_PRINTER: SERVICE_NAMES[7],
    DeviceKind.DOCUMENT_CAMERA: SERVICE_NAMES[7],
}


def server_credentials(tls: TlsSection) -> grpc.ServerCredentials:
    """TLS credentials from the configured PEM files; mutual TLS when a client CA is set."""
    try:
        key, cert = Path(tls.key).read_bytes(), Path(tls.cert).read_bytes()
        ca = Path(tls.client_ca).read_bytes() if tls.client_ca else None
    except OSError as err:
        raise OSError(f"api.tls: cannot read {err.filename}: {err.strerror}") from err
    return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=ca is not None)


class ApiServer:
    """Owns the grpc.aio server and its health servicer."""

    def __init__(self, registry: DeviceRegistry, api: ApiSection) -> None:
        self.registry = registry
        # PhotoService.Check takes images up to 16 MiB; gRPC's default limit is 4 MiB.
        self.server = grpc.aio.server(options=[("grpc.max_receive_message_length", MAX_MESSAGE)])
        auth = Authorizer(api)
        device_service_pb2_grpc.add_DeviceServiceServicer_to_server(
            instrument(DeviceService(registry), device_service_pb2.DESCRIPTOR.services_by_name["DeviceService"], auth),
            self.server,
        )
        idcard_pb2_grpc.add_IdCardServiceServicer_to_server(
            instrument(IdCardService(registry), idcard_pb2.DESCRIPTOR.services_by_name["IdCardService"], auth),
            self.server,
        )
        document_pb2_grpc.add_DocumentServiceServicer_to_server(
            instrument(DocumentService(registry), document_pb2.DESCRIPTOR.services_by_name["DocumentService"], auth),
            self.server,
        )
        fingerprint_pb2_grpc.add_FingerprintServiceServicer_to_server(
            instrument(
                FingerprintService(registry), fingerprint_pb2.DESCRIPTOR.services_by_name["FingerprintService"], auth
            ),
            self.server,
        )
        kiosk_pb2_grpc.add_KioskServiceServicer_to_server(
            instrument(KioskService(registry), kiosk_pb2.DESCRIPTOR.services_by_name["KioskService"], auth),
            self.server,
        )
        desk_pb2_grpc.add_DeskServiceServicer_to_server(
            instrument(DeskService(registry), desk_pb2.DESCRIPTOR.services_by_name["DeskService"], auth),
            self.server,
        )
        station_pb2_grpc.add_StationServiceServicer_to_server(
            instrument(StationService(registry), station_pb2.DESCRIPTOR.services_by_name["StationService"], auth),
            self.server,
        )
        photo_pb2_grpc.add_PhotoServiceServicer_to_server(
            instrument(PhotoService(registry), photo_pb2.DESCRIPTOR.services_by_name["PhotoService"], auth),
            self.server,
        )
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            self.server,
        )
        try:
            if api.tls is None:
                self.port = self.server.add_insecure_port(api.listen)
            else:
                self.port = self.server.add_secure_port(api.listen, server_credentials(api.tls))
        except RuntimeError as err:  # grpcio raises this when it cannot bind
            raise OSError(f"cannot listen on {api.listen} (address in use, or not on this machine)") from err
        if self.port == 0:
            raise OSError(f"cannot listen on {api.listen}")

    async def start(self) -> None:
        await self.server.start()
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        # Stations answer whatever their devices do.
        await self.health.set(SERVICE_NAMES[6], health_pb2.HealthCheckResponse.SERVING)
        await self.update_health()

    async def update_health(self) -> None:
        """Per service: SERVING while at least one device of its kinds is usable."""
        for service in dict.fromkeys(KIND_SERVICE.values()):
            kinds = {kind for kind, name in KIND_SERVICE.items() if name == service}
            devices = [d for d in self.registry.list() if d.kind in kinds]
            usable = any(d.oper_state in (OperState.ONLINE, OperState.BUSY) for d in devices)
            status = health_pb2.HealthCheckResponse.SERVING if usable else health_pb2.HealthCheckResponse.NOT_SERVING
            await self.health.set(service, status)

    async def stop(self, grace: float) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
