"""Telemetry payloads: frozen dataclasses, one JSON object each, inside a common envelope.

Every message is ``{"type", "schema_version", "session", "seq", "time", ...fields}``:
``session`` counts the gateway's MQTT sessions (persisted across restarts, like
Sparkplug's bdSeq), ``seq`` increases by one per message within a session so a
monitoring client sees gaps, ``time`` is the UTC time of the event (ISO 8601).
Field values are plain JSON; nothing here reads a clock: callers pass times.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final

SCHEMA_VERSION: Final = 1


class Priority(enum.IntEnum):
    """What a full buffer drops first: metrics, then events; state and alarms last."""

    METRICS = 0
    EVENT = 1
    STATE = 2


class Severity(enum.Enum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class StaffAction(enum.Enum):
    """Who acts on an alarm."""

    STAFF_CAN_CLEAR = "staff_can_clear"
    ENGINEER_NEEDED = "engineer_needed"
    AUTO_RECOVERING = "auto_recovering"


class AlarmState(enum.Enum):
    RAISED = "raised"
    CLEARED = "cleared"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Payload:
    TYPE: ClassVar[str]
    PRIORITY: ClassVar[Priority]
    RETAIN: ClassVar[bool] = False

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.value if isinstance(value, enum.Enum) else value
        return out


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Birth(_Payload):
    """The gateway came online (published on every connect, retained on ``status``)."""

    TYPE: ClassVar[str] = "birth"
    PRIORITY: ClassVar[Priority] = Priority.STATE
    RETAIN: ClassVar[bool] = True

    version: str
    config_digest: str
    devices: list[dict[str, str]]
    """Inventory: device_id, kind, station, area, name."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Death(_Payload):
    """The gateway went away: its last will (reason "connection lost") or a clean shutdown."""

    TYPE: ClassVar[str] = "death"
    PRIORITY: ClassVar[Priority] = Priority.STATE
    RETAIN: ClassVar[bool] = True

    reason: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeviceState(_Payload):
    """A device's state, retained, published on every change."""

    TYPE: ClassVar[str] = "device_state"
    PRIORITY: ClassVar[Priority] = Priority.STATE
    RETAIN: ClassVar[bool] = True

    device_id: str
    kind: str
    station: str
    admin_state: str
    admin_reason: str
    oper_state: str
    since: str
    last_error: dict[str, str] | None
    """reason, message, action, time; None when no fault was seen since start-up."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeviceMetrics(_Payload):
    """One device's counters over the last interval."""

    TYPE: ClassVar[str] = "device_metrics"
    PRIORITY: ClassVar[Priority] = Priority.METRICS

    device_id: str
    interval_s: float
    commands_ok: int
    commands_failed: dict[str, int]
    """Failures in the interval, by reason code."""
    latency_ms: dict[str, float]
    """Percentiles of command latency in the interval: p50, p90, p99, max, and count."""
    link_errors: int
    reconnects: int
    probe_failures: int
    queue_depth: int
    consumables: dict[str, Any]
    """Paper, ribbon, card stock... where the device has them; empty otherwise."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GatewayMetrics(_Payload):
    """The gateway's own health over the last interval."""

    TYPE: ClassVar[str] = "gateway_metrics"
    PRIORITY: ClassVar[Priority] = Priority.METRICS

    interval_s: float
    cpu_percent: float
    rss_bytes: int
    loop_lag_ms: dict[str, float]
    """Event-loop lag: p50, p99 and max in the interval."""
    queue_depths: dict[str, int]
    """Telemetry buffer, device command queues (sum), event subscribers."""
    devices_total: int
    devices_online: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Alarm(_Payload):
    """An alarm raised (retained while it stands) or cleared."""

    TYPE: ClassVar[str] = "alarm"
    PRIORITY: ClassVar[Priority] = Priority.STATE

    alarm_id: str
    device_id: str
    state: AlarmState
    severity: Severity
    action: StaffAction
    message: str
    raised_at: str
    cleared_at: str | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Availability(_Payload):
    """How many devices of a business function in an area can serve now (retained)."""

    TYPE: ClassVar[str] = "availability"
    PRIORITY: ClassVar[Priority] = Priority.STATE
    RETAIN: ClassVar[bool] = True

    function: str
    area: str
    available: int
    total: int
    unavailable: list[str]
    """Device ids that cannot serve (offline, faulty, disabled)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Dropped(_Payload):
    """Telemetry the gateway could not keep while the broker was away."""

    TYPE: ClassVar[str] = "dropped"
    PRIORITY: ClassVar[Priority] = Priority.EVENT

    counts: dict[str, int]
    """Messages dropped, by priority name (metrics, event, state)."""
    first_dropped_at: str
    last_dropped_at: str


Payload = Birth | Death | DeviceState | DeviceMetrics | GatewayMetrics | Alarm | Availability | Dropped
_TYPES: Final[dict[str, type[_Payload]]] = {
    c.TYPE: c for c in (Birth, Death, DeviceState, DeviceMetrics, GatewayMetrics, Alarm, Availability, Dropped)
}
_ENUM_FIELDS: Final[dict[str, type[enum.Enum]]] = {"state": AlarmState, "severity": Severity, "action": StaffAction}
ENVELOPE: Final = ("type", "schema_version", "session", "seq", "time")


def encode(payload: Payload, *, session: int, seq: int, time: str) -> bytes:
    """The JSON bytes of ``payload`` in its envelope; ValueError for a value JSON cannot carry."""
    body = {"type": payload.TYPE, "schema_version": SCHEMA_VERSION, "session": session, "seq": seq, "time": time}
    body.update(payload.fields())
    # Strict JSON: a NaN or an infinity is a ValueError here, not an unparseable message downstream.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def decode(data: bytes) -> tuple[Mapping[str, Any], Payload]:
    """(envelope, payload) of a telemetry message; ValueError when it is not one."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError) as err:  # bad UTF-8 or JSON, huge integers, deep nesting
        raise ValueError(f"not JSON: {err}") from err
    if not isinstance(body, dict):
        raise ValueError("a telemetry message is a JSON object")
    cls = _TYPES.get(str(body.get("type")))
    if cls is None:
        raise ValueError(f"unknown telemetry type {body.get('type')!r}")
    version = body.get("schema_version")
    if isinstance(version, bool) or version != SCHEMA_VERSION:  # True == 1 in Python, not in JSON
        raise ValueError(f"schema_version {version!r}, this decoder knows {SCHEMA_VERSION}")
    missing = [k for k in ENVELOPE if k not in body]
    if missing:
        raise ValueError(f"{cls.TYPE}: envelope fields {missing} missing")
    envelope = {k: body.pop(k, None) for k in ENVELOPE}
    names = {f.name for f in dataclasses.fields(cls)}
    if set(body) != names:
        raise ValueError(f"{cls.TYPE}: fields {sorted(set(body) ^ names)} missing or unknown")
    for name, enum_cls in _ENUM_FIELDS.items():
        if name in body and cls is Alarm:
            body[name] = enum_cls(body[name])
    payload = cls(**body)
    assert isinstance(payload, Payload)  # noqa: S101 - every registered type is in the union
    return envelope, payload
