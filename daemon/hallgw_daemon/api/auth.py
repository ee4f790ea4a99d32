"""Who is calling, and may they make this call.

Callers are known by the common name of their TLS client certificate (when the
server requires one) and get the role the configuration gives that name; every
other caller gets ``anonymous_role``. Each RPC needs a role (:data:`REQUIRED`);
roles are ordered, each including those below it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Final

import grpc

from hallgw_daemon.config import ApiSection
from hallgw_daemon.core.errors import PermissionDeniedError
from hallgw_daemon.core.model import Role

REQUIRED: Final[Mapping[str, Role]] = {
    "/hallgw.v1.DeviceService/ListDevices": Role.MONITOR,
    "/hallgw.v1.DeviceService/GetDevice": Role.MONITOR,
    "/hallgw.v1.DeviceService/WatchEvents": Role.MONITOR,
    "/hallgw.v1.DeviceService/SetAdminState": Role.ENGINEER,
    "/hallgw.v1.DeviceService/TraceFrames": Role.ENGINEER,
    "/hallgw.v1.IdCardService/ReadIdCard": Role.BUSINESS,
    "/hallgw.v1.DocumentService/ReadTravelDocument": Role.BUSINESS,
    "/hallgw.v1.FingerprintService/Capture": Role.BUSINESS,
    "/hallgw.v1.KioskService/IssueEndorsement": Role.BUSINESS,
    "/hallgw.v1.KioskService/ReleaseCertificate": Role.BUSINESS,
    "/hallgw.v1.KioskService/PrintTravelRecord": Role.BUSINESS,
    "/hallgw.v1.KioskService/GetConsumables": Role.MONITOR,
    "/hallgw.v1.KioskService/GetIssuance": Role.BUSINESS,
    "/hallgw.v1.KioskService/ListIssuances": Role.ENGINEER,
    "/hallgw.v1.PhotoService/Capture": Role.BUSINESS,
    "/hallgw.v1.PhotoService/Check": Role.BUSINESS,
    "/hallgw.v1.DeskService/ScanPaymentCode": Role.BUSINESS,
    "/hallgw.v1.DeskService/PrintApplicationForm": Role.BUSINESS,
    "/hallgw.v1.DeskService/PrintTicket": Role.BUSINESS,
    "/hallgw.v1.DeskService/CaptureDocument": Role.BUSINESS,
    "/hallgw.v1.StationService/ListStations": Role.MONITOR,
    "/hallgw.v1.StationService/GetStation": Role.MONITOR,
    "/hallgw.v1.StationService/ClaimStation": Role.BUSINESS,
    "/hallgw.v1.StationService/HoldStation": Role.BUSINESS,
    "/hallgw.v1.StationService/RenewClaim": Role.BUSINESS,
    "/hallgw.v1.StationService/ReleaseStation": Role.BUSINESS,
    "/hallgw.v1.StationService/BreakClaim": Role.ENGINEER,
    "/hallgw.v1.StationService/AssignRole": Role.ENGINEER,
}
"""The role each RPC needs. A method missing here needs ENGINEER (a test checks none is missing)."""

ANONYMOUS: Final = "anonymous"


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated (or anonymous) caller."""

    name: str
    role: Role


class Authorizer:
    """Maps callers to roles and checks each call against :data:`REQUIRED`."""

    def __init__(self, api: ApiSection) -> None:
        self.roles = {c.name: Role[c.role.upper()] for c in api.clients}
        self.anonymous = Role[api.anonymous_role.upper()]

    def caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
        auth = context.auth_context()
        names = list(auth.get("x509_common_name", ())) if auth else []
        if names:
            name = names[0].decode(errors="replace")
            role = self.roles.get(name)
            if role is not None:
                return Caller(name, role)
            return Caller(f"unknown certificate {name}", self.anonymous)
        return Caller(ANONYMOUS, self.anonymous)

    def check(self, method: str, context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
        """The caller, if allowed; raises PermissionDeniedError otherwise."""
        caller = self.caller(context)
        needed = REQUIRED.get(method, Role.ENGINEER)
        if caller.role < needed:
            raise PermissionDeniedError(
                f"{caller.name} has role {caller.role.name.lower()}; {method.rsplit('/', 1)[-1]} needs "
                f"{needed.name.lower()}: an engineer grants roles in [[api.clients]] of the gateway config"
            )
        return caller
