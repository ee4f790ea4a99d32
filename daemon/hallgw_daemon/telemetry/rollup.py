"""From device snapshots to what monitoring acts on: device state, alarms and availability.

Alarms (``<device>.offline``, ``<device>.fault``) stand while an *enabled*
device is offline or faulty; a device taken out of service raises none. The
action monitoring sees follows the device's last error: RETRY ->
auto_recovering, RESET/STAFF -> staff_can_clear, ENGINEER -> engineer_needed.
Availability counts, per business function and area, the enabled devices that
are online or busy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Final

from hallgw_daemon.config import StationConfig
from hallgw_daemon.core.model import Action, AdminState, DeviceKind, DeviceSnapshot, OperState
from hallgw_protocols.telemetry import Alarm, AlarmState, Availability, DeviceState, Severity, StaffAction

FUNCTION_OF_KIND: Final = {
    DeviceKind.IDCARD_READER: "id_card_reading",
    DeviceKind.MRZ_READER: "travel_document_reading",
    DeviceKind.DOCUMENT_READER: "travel_document_reading",
    DeviceKind.FINGERPRINT_SCANNER: "fingerprint_capture",
    DeviceKind.KIOSK: "self_service_certificates",
    DeviceKind.CAMERA: "photo_taking",
    DeviceKind.LIGHTING: "photo_taking",
    DeviceKind.PAYMENT_SCANNER: "fee_payment",
    DeviceKind.FORM_PRINTER: "form_printing",
    DeviceKind.TICKET_PRINTER: "queue_tickets",
    DeviceKind.DOCUMENT_CAMERA: "document_capture",
}
"""The business function a device kind serves, as availability names it."""
UNASSIGNED: Final = "unassigned"
_ACTION: Final = {
    Action.NONE: StaffAction.AUTO_RECOVERING,
    Action.RETRY: StaffAction.AUTO_RECOVERING,
    Action.RESET: StaffAction.STAFF_CAN_CLEAR,
    Action.STAFF: StaffAction.STAFF_CAN_CLEAR,
    Action.ENGINEER: StaffAction.ENGINEER_NEEDED,
}


def iso(snap_time: object) -> str:
    text: str = snap_time.isoformat().replace("+00:00", "Z")  # type: ignore[attr-defined]
    return text


def device_state(snap: DeviceSnapshot) -> DeviceState:
    err = snap.last_error
    return DeviceState(
        device_id=snap.device_id,
        kind=snap.kind.value,
        station=snap.station_id or "",
        admin_state=snap.admin_state.value,
        admin_reason=snap.admin_reason,
        oper_state=snap.oper_state.value,
        since=iso(snap.oper_since),
        last_error=None
        if err is None
        else {"reason": err.reason, "message": err.message, "action": err.action.value, "time": iso(err.time)},
    )


def usable(snap: DeviceSnapshot) -> bool:
    return snap.admin_state is AdminState.ENABLED and snap.oper_state in (OperState.ONLINE, OperState.BUSY)


@dataclasses.dataclass(slots=True)
class Rollup:
    """Alarms raised and availability published, kept to publish only changes."""

    areas: dict[str, str]
    """Station id -> area."""
    raised: dict[str, Alarm] = dataclasses.field(default_factory=dict)
    availability: dict[tuple[str, str], Availability] = dataclasses.field(default_factory=dict)

    @classmethod
    def for_stations(cls, stations: Iterable[StationConfig]) -> Rollup:
        return cls(areas={s.id: s.area_name for s in stations})

    def key(self, snap: DeviceSnapshot) -> tuple[str, str]:
        function = FUNCTION_OF_KIND.get(snap.kind, snap.kind.value)
        area = self.areas.get(snap.station_id or "", UNASSIGNED)
        return function, area

    def alarms(self, snap: DeviceSnapshot, now: str) -> list[Alarm]:
        """Alarms of this device to publish now: newly raised and newly cleared."""
        wanted: dict[str, tuple[Severity, str]] = {}
        if snap.admin_state is AdminState.ENABLED:
            detail = f": {snap.last_error.message}" if snap.last_error else ""
            if snap.oper_state is OperState.OFFLINE:
                wanted[f"{snap.device_id}.offline"] = (Severity.MAJOR, f"{snap.device_id} is offline{detail}")
            elif snap.oper_state is OperState.ERROR:
                wanted[f"{snap.device_id}.fault"] = (Severity.CRITICAL, f"{snap.device_id} reports a fault{detail}")
        action = _ACTION[snap.last_error.action] if snap.last_error else StaffAction.ENGINEER_NEEDED
        out: list[Alarm] = []
        for alarm_id, (severity, message) in wanted.items():
            if alarm_id not in self.raised:
                alarm = Alarm(
                    alarm_id=alarm_id, device_id=snap.device_id, state=AlarmState.RAISED, severity=severity,
                    action=action, message=message, raised_at=now, cleared_at=None,
                )  # fmt: skip
                self.raised[alarm_id] = alarm
                out.append(alarm)
        prefix = f"{snap.device_id}."
        for alarm_id in [a for a in self.raised if a.startswith(prefix) and a not in wanted]:
            cleared = dataclasses.replace(self.raised.pop(alarm_id), state=AlarmState.CLEARED, cleared_at=now)
            out.append(cleared)
        return out

    def availability_of(self, key: tuple[str, str], snaps: Iterable[DeviceSnapshot]) -> Availability | None:
        """The availability of ``key`` if it changed since last published."""
        members = [s for s in snaps if self.key(s) == key]
        down = sorted(str(s.device_id) for s in members if not usable(s))
        value = Availability(
            function=key[0], area=key[1], available=len(members) - len(down), total=len(members), unavailable=down
        )
        if self.availability.get(key) == value:
            return None
        self.availability[key] = value
        return value

    def all_availability(self, snaps: list[DeviceSnapshot]) -> list[Availability]:
        """Every function/area's current availability (for a birth or a rebirth)."""
        keys = sorted({self.key(s) for s in snaps})
        for key in keys:
            self.availability_of(key, snaps)
        return [self.availability[k] for k in keys]
