"""KioskService: issuing through kiosks exactly once, and the journal of issuances."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from typing import Final

from hallgw_api.v1 import device_pb2, kiosk_pb2, kiosk_pb2_grpc
from hallgw_daemon.api import convert
from hallgw_daemon.api.interceptors import Ctx
from hallgw_daemon.api.services import call_deadline, check_request_id, resolve
from hallgw_daemon.core.errors import DeviceOfflineError, InternalError, InvalidRequestError
from hallgw_daemon.core.model import DeviceKind, OperState
from hallgw_daemon.drivers.kiosk import KioskDriver
from hallgw_daemon.ledger import Entry, Ledger, Operation, State, UnknownRequestError, params_digest
from hallgw_daemon.ledger.model import check_token
from hallgw_daemon.supervisor import DeviceRegistry, ManagedDevice
from hallgw_protocols.kiosk import (
    Destination,
    EndorsementType,
    IssueEndorsement,
    PrintTravelRecord,
    ReleaseCertificate,
    SideEffectCommand,
)

DEFAULT_WAIT: Final = 120.0
"""How long a call without a deadline waits for the outcome."""
MAX_LIST: Final = 1000
OPERATION_TO_PB: Final = {
    Operation.ISSUE_ENDORSEMENT: kiosk_pb2.ISSUANCE_OPERATION_ISSUE_ENDORSEMENT,
    Operation.RELEASE_CERTIFICATE: kiosk_pb2.ISSUANCE_OPERATION_RELEASE_CERTIFICATE,
    Operation.PRINT_TRAVEL_RECORD: kiosk_pb2.ISSUANCE_OPERATION_PRINT_TRAVEL_RECORD,
}
DESTINATIONS: Final = {
    kiosk_pb2.DESTINATION_HONG_KONG: Destination.HONG_KONG,
    kiosk_pb2.DESTINATION_MACAO: Destination.MACAO,
}
ENDORSEMENT_TYPES: Final = {
    kiosk_pb2.ENDORSEMENT_TYPE_INDIVIDUAL_TOURISM: EndorsementType.INDIVIDUAL_TOURISM,
    kiosk_pb2.ENDORSEMENT_TYPE_GROUP_TOURISM: EndorsementType.GROUP_TOURISM,
    kiosk_pb2.ENDORSEMENT_TYPE_BUSINESS: EndorsementType.BUSINESS,
    kiosk_pb2.ENDORSEMENT_TYPE_FAMILY_VISIT: EndorsementType.FAMILY_VISIT,
    kiosk_pb2.ENDORSEMENT_TYPE_STAY: EndorsementType.STAY,
    kiosk_pb2.ENDORSEMENT_TYPE_OTHER: EndorsementType.OTHER,
}


def issuance(entry: Entry, *, in_progress: bool = False) -> kiosk_pb2.Issuance:
    """The journal entry as the API shows it."""
    msg = kiosk_pb2.Issuance(
        request_id=entry.request_id,
        device_id=entry.kiosk_id,
        command_id=entry.command_id,
        operation=OPERATION_TO_PB[entry.operation],
        business_ref=entry.business_ref,
        created=convert.timestamp(entry.created_at),
        attempts=entry.attempts,
    )
    if entry.state is State.DONE:
        msg.state = kiosk_pb2.ISSUANCE_STATE_DONE
        outcome = entry.outcome
        serial = getattr(outcome, "operation_serial", "")
        kiosk_time = getattr(outcome, "kiosk_time", None)
        msg.evidence.operation_serial = serial
        if isinstance(kiosk_time, dt.datetime):
            msg.evidence.kiosk_time.CopyFrom(convert.timestamp(kiosk_time))
    elif entry.state is State.NOT_DONE:
        msg.state = kiosk_pb2.ISSUANCE_STATE_NOT_DONE
        msg.reason = str(getattr(entry.outcome, "reason", "")).lower()
        action = getattr(entry.outcome, "action", None)
        if action is not None:
            msg.action = convert.ACTION_TO_PB[action]
    else:
        msg.state = kiosk_pb2.ISSUANCE_STATE_IN_PROGRESS if in_progress else kiosk_pb2.ISSUANCE_STATE_IN_DOUBT
    if entry.finished_at is not None:
        msg.finished.CopyFrom(convert.timestamp(entry.finished_at))
    return msg


class KioskService(kiosk_pb2_grpc.KioskServiceServicer):  # type: ignore[misc]  # generated base is untyped
    """Endorsements, certificate releases and travel records, each exactly once."""

    def __init__(self, registry: DeviceRegistry) -> None:
        self.registry = registry

    @staticmethod
    def _ledger() -> Ledger:
        ledger = KioskDriver.ledger
        if ledger is None:
            raise InvalidRequestError("this gateway has no kiosks configured ([kiosks] in its config)")
        return ledger

    def _shown(self, entry: Entry) -> kiosk_pb2.Issuance:
        """The entry, IN_PROGRESS rather than IN_DOUBT while its kiosk's driver follows it."""
        dev = self.registry.devices.get(entry.kiosk_id)
        driver = dev.driver if dev is not None else None
        following = isinstance(driver, KioskDriver) and driver.following(entry.command_id)
        return issuance(entry, in_progress=following)

    def _kiosk(self, ref: device_pb2.DeviceRef) -> ManagedDevice:
        dev = resolve(self.registry, ref, default_kind=DeviceKind.KIOSK)
        if dev.kind is not DeviceKind.KIOSK:
            raise InvalidRequestError(f"device {dev.id} is a {dev.kind.value}, not a kiosk")
        return dev

    async def _issue(
        self,
        *,
        ref: device_pb2.DeviceRef,
        request_id: str,
        business_ref: str,
        operation: Operation,
        params: dict[str, object],
        build: type[SideEffectCommand],
        context: Ctx,
    ) -> kiosk_pb2.Issuance:
        check_request_id(request_id)
        for name, value in (("request_id", request_id), ("business_ref", business_ref)):
            try:
                check_token(value, name)  # what the journal can key and keep
            except ValueError as err:
                raise InvalidRequestError(str(err)) from None
        dev = self._kiosk(ref)
        digest = params_digest({k: v.value if isinstance(v, enum.Enum) else v for k, v in params.items()})
        try:
            build(command_id="check", business_ref=business_ref, time="2000-01-01T00:00:00.000Z", **params)  # type: ignore[arg-type]
        except ValueError as err:  # the protocol's own field rules, said once here rather than by the kiosk
            raise InvalidRequestError(f"invalid {operation.value} parameters: {err}") from None
        ledger = self._ledger()
        known = await ledger.get(request_id)
        if known is not None and known.state.final:
            # Final outcomes answer at once, whatever the kiosk's state now (a mismatch is refused by begin).
            await ledger.begin(request_id, dev.id, operation, business_ref, digest)
            return issuance(known)
        deadline = call_deadline(context)
        wait = DEFAULT_WAIT if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
        progress = dev.progress(request_id)

        def make(command_id: str, time: str) -> SideEffectCommand:
            return build(command_id=command_id, business_ref=business_ref, time=time, **params)  # type: ignore[arg-type]

        async def run(driver: KioskDriver) -> tuple[Entry, bool]:
            return await driver.issue(
                make,
                request_id=request_id,
                operation=operation,
                business_ref=business_ref,
                digest=digest,
                progress=progress,
                wait=wait,
            )

        entry, in_progress = await dev.run_command(
            operation.value, run, KioskDriver, request_id=request_id, deadline=None
        )
        return issuance(entry, in_progress=in_progress)

    async def IssueEndorsement(
        self, request: kiosk_pb2.IssueEndorsementRequest, context: Ctx
    ) -> kiosk_pb2.IssueEndorsementResponse:
        if request.destination not in DESTINATIONS:
            raise InvalidRequestError("destination must be HONG_KONG or MACAO")
        if request.endorsement_type not in ENDORSEMENT_TYPES:
            raise InvalidRequestError("endorsement_type must be set")
        params: dict[str, object] = {
            "destination": DESTINATIONS[request.destination],
            "endorsement_type": ENDORSEMENT_TYPES[request.endorsement_type],
            "entries": request.entries or None,
            "valid_days": request.valid_days,
            "stay_days": request.stay_days,
        }
        msg = await self._issue(
            ref=request.device, request_id=request.request_id, business_ref=request.business_ref,
            operation=Operation.ISSUE_ENDORSEMENT, params=params, build=IssueEndorsement, context=context,
        )  # fmt: skip
        return kiosk_pb2.IssueEndorsementResponse(issuance=msg)

    async def ReleaseCertificate(
        self, request: kiosk_pb2.ReleaseCertificateRequest, context: Ctx
    ) -> kiosk_pb2.ReleaseCertificateResponse:
        which = request.WhichOneof("target")
        if which is None:
            raise InvalidRequestError("slot or pickup_ref must be set")
        params: dict[str, object] = {
            "slot": request.slot if which == "slot" else None,
            "pickup_ref": request.pickup_ref if which == "pickup_ref" else None,
        }
        msg = await self._issue(
            ref=request.device, request_id=request.request_id, business_ref=request.business_ref,
            operation=Operation.RELEASE_CERTIFICATE, params=params, build=ReleaseCertificate, context=context,
        )  # fmt: skip
        return kiosk_pb2.ReleaseCertificateResponse(issuance=msg)

    async def PrintTravelRecord(
        self, request: kiosk_pb2.PrintTravelRecordRequest, context: Ctx
    ) -> kiosk_pb2.PrintTravelRecordResponse:
        params: dict[str, object] = {"record_ref": request.record_ref, "copies": request.copies}
        msg = await self._issue(
            ref=request.device, request_id=request.request_id, business_ref=request.business_ref,
            operation=Operation.PRINT_TRAVEL_RECORD, params=params, build=PrintTravelRecord, context=context,
        )  # fmt: skip
        return kiosk_pb2.PrintTravelRecordResponse(issuance=msg)

    async def GetConsumables(
        self, request: kiosk_pb2.GetConsumablesRequest, context: Ctx
    ) -> kiosk_pb2.GetConsumablesResponse:
        dev = self._kiosk(request.device)
        if dev.oper_state not in (OperState.ONLINE, OperState.BUSY):
            raise DeviceOfflineError(
                f"kiosk {dev.id} is {dev.oper_state.value}: its last report is in the device's consumables",
                device_id=dev.id,
            )
        driver = dev.driver
        if not isinstance(driver, KioskDriver):
            raise InternalError(f"device {dev.id} has no kiosk driver")
        msg = kiosk_pb2.GetConsumablesResponse(device_id=dev.id, consumables=dict(driver.consumables()))
        when = driver.state_time()
        if when is not None:
            msg.reported.CopyFrom(convert.timestamp(when))
        return msg

    async def GetIssuance(self, request: kiosk_pb2.GetIssuanceRequest, context: Ctx) -> kiosk_pb2.GetIssuanceResponse:
        check_request_id(request.request_id)
        entry = await self._ledger().get(request.request_id)
        if entry is None:
            raise UnknownRequestError("no issuance is journalled under this request id")
        return kiosk_pb2.GetIssuanceResponse(issuance=self._shown(entry))

    async def ListIssuances(
        self, request: kiosk_pb2.ListIssuancesRequest, context: Ctx
    ) -> kiosk_pb2.ListIssuancesResponse:
        limit = request.limit or 100
        if limit > MAX_LIST:
            raise InvalidRequestError(f"limit must be at most {MAX_LIST}")
        ledger = self._ledger()
        device = request.device_id or None
        if device is not None:
            self.registry.get(device)
        entries = await ledger.unresolved(device)
        out = [self._shown(e) for e in entries[:limit]]
        if request.include_final and len(out) < limit:
            out += [issuance(e) for e in await ledger.recent(device, limit - len(out))]
        return kiosk_pb2.ListIssuancesResponse(issuances=out)


__all__ = ["KioskService", "issuance"]
