"""Device ids, kinds and states, and the snapshot of a device that every interface shows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import NewType

DeviceId = NewType("DeviceId", str)
StationId = NewType("StationId", str)


class DeviceKind(enum.Enum):
    """Device families. The value is the config's ``kind`` string."""

    IDCARD_READER = "idcard_reader"
    MRZ_READER = "mrz_reader"
    """An OCR reader that sends a document's MRZ lines as text over a serial line."""
    DOCUMENT_READER = "document_reader"
    """A PC/SC reader for the chips of e-passports and other ICAO 9303 travel documents."""
    FINGERPRINT_SCANNER = "fingerprint_scanner"
    """An AS608 / ZFM / R30x fingerprint module, on a serial line or USB."""
    KIOSK = "kiosk"
    """An intelligent certificate device (endorsement, collection, record query) over MQTT."""
    CAMERA = "camera"
    """A photo machine's camera (a local device, a video source or a network stream), read by OpenCV."""
    LIGHTING = "lighting"
    """A photo machine's studio lights behind a DMX interface (Enttec DMX USB Pro protocol)."""
    PAYMENT_SCANNER = "payment_scanner"
    """A desk's serial barcode scanner that reads the applicant's WeChat Pay or Alipay payment code."""
    FORM_PRINTER = "form_printer"
    """An A4 printer behind a CUPS queue, for application forms."""
    TICKET_PRINTER = "ticket_printer"
    """An ESC/POS thermal printer for queue tickets."""
    DOCUMENT_CAMERA = "document_camera"
    """A desk's overhead camera that photographs supporting documents."""


LINK_SCHEMES: dict[DeviceKind, frozenset[str]] = {
    DeviceKind.IDCARD_READER: frozenset({"serial", "tcp"}),
    DeviceKind.MRZ_READER: frozenset({"serial", "tcp"}),
    DeviceKind.DOCUMENT_READER: frozenset({"pcsc"}),
    DeviceKind.FINGERPRINT_SCANNER: frozenset({"serial", "tcp", "usb", "usbip"}),
    DeviceKind.KIOSK: frozenset({"kiosk"}),
    DeviceKind.CAMERA: frozenset({"camera"}),
    DeviceKind.LIGHTING: frozenset({"serial", "tcp"}),
    DeviceKind.PAYMENT_SCANNER: frozenset({"serial", "tcp"}),
    DeviceKind.FORM_PRINTER: frozenset({"ipp"}),
    DeviceKind.TICKET_PRINTER: frozenset({"serial", "tcp", "usb"}),
    DeviceKind.DOCUMENT_CAMERA: frozenset({"camera"}),
}
"""The link URL schemes each kind's driver speaks."""


class StationKind(enum.Enum):
    """What a station is."""

    WINDOW = "window"
    DESK = "desk"
    BOOTH = "booth"
    AREA24 = "area24"


class AdminState(enum.Enum):
    """What staff decided: only ENABLED devices take business calls."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    MAINTENANCE = "maintenance"


class OperState(enum.Enum):
    """What the gateway observes."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    BUSY = "busy"
    ERROR = "error"


class Action(enum.Enum):
    """What must happen for a failed operation to succeed."""

    NONE = "none"
    RETRY = "retry"
    RESET = "reset"
    STAFF = "staff"
    ENGINEER = "engineer"


class Role(enum.IntEnum):
    """What a caller of the API may do; each role includes the ones below it."""

    NONE = 0
    """Nothing (callers the configuration does not know, where anonymous access is off)."""
    MONITOR = 1
    """Inventory, state and events: no personal data."""
    BUSINESS = 2
    """Business operations (reading cards), plus MONITOR."""
    ENGINEER = 3
    """Admin states and frame traces, plus BUSINESS."""


def utcnow() -> dt.datetime:
    """Wall-clock time for records (never for timeouts)."""
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRecord:
    """A failure remembered on a device (never carries personal data)."""

    reason: str
    message: str
    action: Action
    time: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    """Per-device counters since start-up."""

    commands_ok: int = 0
    commands_failed: int = 0
    link_errors: int = 0
    reconnects: int = 0
    probe_failures: int = 0
    queue_depth: int = 0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSnapshot:
    """A device as seen at one moment: what ListDevices, events and the CLI show."""

    device_id: DeviceId
    kind: DeviceKind
    station_id: StationId | None
    name: str
    link: str
    admin_state: AdminState
    admin_since: dt.datetime
    admin_reason: str
    oper_state: OperState
    oper_since: dt.datetime
    last_error: ErrorRecord | None
    identity: Mapping[str, str]
    counters: Counters
    consumables: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Consumables and capacity as the device last reported them (kiosks: paper_pct, card_stock, ...)."""
