"""StationService: stations with their roles, and the claims that tie a station to one visit.

The claims themselves live in :class:`~hallgw_daemon.supervisor.stations.StationRegistry`
(docs/stations.md). A holder is named by the caller's name (its certificate's CN,
or ``anonymous``) and the label the request gives, so STATION_CLAIMED can tell a
second client who is using the desk. ``HoldStation`` keeps its claim while its
stream is open: the stream's end (the caller hung up, or its connection died)
ends the visit, whatever the reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Final

from hallgw_api.v1 import station_pb2, station_pb2_grpc
from hallgw_daemon.api import convert
from hallgw_daemon.api.interceptors import Ctx, caller_var
from hallgw_daemon.core.errors import InvalidRequestError, UnknownVisitError
from hallgw_daemon.core.events import Event
from hallgw_daemon.core.visits import ClaimMode, Visit
from hallgw_daemon.supervisor import DeviceRegistry

MAX_LABEL: Final = 64
MAX_REASON: Final = 200


def _visit(visit: Visit) -> station_pb2.Visit:
    msg = station_pb2.Visit(
        visit_id=visit.visit_id,
        station_id=visit.station_id,
        holder=visit.holder,
        started=convert.timestamp(visit.started),
        held_by_stream=visit.mode is ClaimMode.STREAM,
    )
    if visit.expires is not None:
        msg.expires.CopyFrom(convert.timestamp(visit.expires))
    return msg


def _holder(label: str) -> str:
    if len(label) > MAX_LABEL or not label.isprintable():
        raise InvalidRequestError(f"holder must be printable and at most {MAX_LABEL} characters")
    caller = caller_var.get() or "anonymous"
    return f"{caller} ({label})" if label else caller


def _lease(request: station_pb2.ClaimStationRequest | station_pb2.RenewClaimRequest) -> float | None:
    return request.lease.ToTimedelta().total_seconds() if request.HasField("lease") else None


class StationService(station_pb2_grpc.StationServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Stations, their roles and their visits."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry
        self.stations = registry.stations

    def _station(self, station_id: str) -> station_pb2.Station:
        config = self.stations.station(station_id)
        msg = station_pb2.Station(
            station_id=config.id, kind=config.kind.value, name=config.name or config.id, area=config.area_name
        )
        for dev in self.registry.at(config.id):
            snap = dev.snapshot()
            msg.roles.append(
                station_pb2.StationRole(
                    kind=convert.KIND_TO_PB[dev.kind],
                    device_id=dev.id,
                    admin_state=convert.ADMIN_TO_PB[snap.admin_state],
                    oper_state=convert.OPER_TO_PB[snap.oper_state],
                )
            )
        visit = self.stations.visit_at(config.id)
        if visit is not None:
            msg.visit.CopyFrom(_visit(visit))
        return msg

    async def ListStations(
        self, request: station_pb2.ListStationsRequest, context: Ctx
    ) -> station_pb2.ListStationsResponse:
        kinds = {"window", "desk", "booth", "area24"}
        if request.kind and request.kind not in kinds:
            raise InvalidRequestError(f"kind must be one of {', '.join(sorted(kinds))} (or empty for all)")
        chosen = [
            s
            for s in sorted(self.stations.stations)
            if not request.kind or self.stations.stations[s].kind.value == request.kind
        ]
        return station_pb2.ListStationsResponse(stations=[self._station(s) for s in chosen])

    async def GetStation(self, request: station_pb2.GetStationRequest, context: Ctx) -> station_pb2.GetStationResponse:
        return station_pb2.GetStationResponse(station=self._station(request.station_id))

    async def ClaimStation(
        self, request: station_pb2.ClaimStationRequest, context: Ctx
    ) -> station_pb2.ClaimStationResponse:
        visit = self.stations.claim(
            request.station_id, holder=_holder(request.holder), mode=ClaimMode.LEASE, lease=_lease(request)
        )
        return station_pb2.ClaimStationResponse(visit=_visit(visit))

    async def HoldStation(
        self, request: station_pb2.HoldStationRequest, context: Ctx
    ) -> AsyncIterator[station_pb2.HoldStationResponse]:
        visit = self.stations.claim(request.station_id, holder=_holder(request.holder), mode=ClaimMode.STREAM)

        def accept(ev: Event) -> bool:
            return ev.visit_id == visit.visit_id

        try:
            async with self.registry.bus.subscribe(accept) as sub:
                yield station_pb2.HoldStationResponse(visit=_visit(visit))
                async for ev in sub:
                    yield station_pb2.HoldStationResponse(event=convert.event(ev))
        finally:
            with contextlib.suppress(UnknownVisitError):  # already ended (broken by an engineer)
                self.stations.release(visit.visit_id, why="its stream closed")

    async def RenewClaim(self, request: station_pb2.RenewClaimRequest, context: Ctx) -> station_pb2.RenewClaimResponse:
        return station_pb2.RenewClaimResponse(visit=_visit(self.stations.renew(request.visit_id, _lease(request))))

    async def ReleaseStation(
        self, request: station_pb2.ReleaseStationRequest, context: Ctx
    ) -> station_pb2.ReleaseStationResponse:
        return station_pb2.ReleaseStationResponse(visit=_visit(self.stations.release(request.visit_id)))

    async def AssignRole(self, request: station_pb2.AssignRoleRequest, context: Ctx) -> station_pb2.AssignRoleResponse:
        _, replaced = self.registry.assign(request.station_id, request.device_id)
        return station_pb2.AssignRoleResponse(
            station=self._station(request.station_id), replaced_device_id=replaced.id if replaced else ""
        )

    async def BreakClaim(self, request: station_pb2.BreakClaimRequest, context: Ctx) -> station_pb2.BreakClaimResponse:
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_REASON or not reason.isprintable():
            raise InvalidRequestError(f"reason is required: printable, at most {MAX_REASON} characters")
        visit = self.stations.break_claim(request.station_id, reason=reason, engineer=caller_var.get() or "anonymous")
        return station_pb2.BreakClaimResponse(visit=_visit(visit))
