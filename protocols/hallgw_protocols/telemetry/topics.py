"""The topic tree: ``hallgw/v1/<hall>/<gateway>/...``.

| topic | retained | payload |
|---|---|---|
| ``status`` | yes | Birth on every connect; Death as the last will |
| ``metrics`` | no | GatewayMetrics, periodic |
| ``device/<id>/state`` | yes | DeviceState, on every change |
| ``device/<id>/metrics`` | no | DeviceMetrics, periodic |
| ``alarm/<alarm id>`` | while raised | Alarm, raised and cleared |
| ``availability/<function>/<area>`` | yes | Availability, on every change |
| ``dropped`` | no | Dropped: telemetry lost while the broker was away |
| ``cmd/rebirth`` | (subscribed by the gateway) | any payload: re-publish everything |
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Final

TOPIC_ROOT: Final = "hallgw/v1"
_SEGMENT: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class TopicKind(enum.Enum):
    """What a topic carries."""

    STATUS = "status"
    GATEWAY_METRICS = "metrics"
    DEVICE_STATE = "device_state"
    DEVICE_METRICS = "device_metrics"
    ALARM = "alarm"
    AVAILABILITY = "availability"
    DROPPED = "dropped"
    REBIRTH = "rebirth"


def _segment(value: str, what: str) -> str:
    if not _SEGMENT.fullmatch(value):  # match() would let a trailing newline through '$'
        raise ValueError(f"{what} {value!r} cannot be a topic segment (letters, digits, '_', '.', '-')")
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one gateway."""

    hall: str
    gateway: str
    root: str = TOPIC_ROOT

    def __post_init__(self) -> None:
        _segment(self.hall, "hall")
        _segment(self.gateway, "gateway")

    @property
    def base(self) -> str:
        return f"{self.root}/{self.hall}/{self.gateway}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def gateway_metrics(self) -> str:
        return f"{self.base}/metrics"

    def device_state(self, device_id: str) -> str:
        return f"{self.base}/device/{_segment(device_id, 'device id')}/state"

    def device_metrics(self, device_id: str) -> str:
        return f"{self.base}/device/{_segment(device_id, 'device id')}/metrics"

    def alarm(self, alarm_id: str) -> str:
        return f"{self.base}/alarm/{_segment(alarm_id, 'alarm id')}"

    def availability(self, function: str, area: str) -> str:
        return f"{self.base}/availability/{_segment(function, 'function')}/{_segment(area, 'area')}"

    @property
    def dropped(self) -> str:
        return f"{self.base}/dropped"

    @property
    def rebirth(self) -> str:
        return f"{self.base}/cmd/rebirth"

    @property
    def everything(self) -> str:
        """The subscription that gets every message of this gateway."""
        return f"{self.base}/#"


def parse_topic(topic: str, root: str = TOPIC_ROOT) -> tuple[TopicKind, str, str, tuple[str, ...]]:
    """(kind, hall, gateway, remaining parameters) of a telemetry topic; ValueError if it is none."""
    prefix = root + "/"
    if not topic.startswith(prefix):
        raise ValueError(f"not a hallgw telemetry topic: {topic!r}")
    parts = topic[len(prefix) :].split("/")
    if len(parts) < 3:
        raise ValueError(f"not a hallgw telemetry topic: {topic!r}")
    hall, gateway, rest = parts[0], parts[1], parts[2:]
    kind: TopicKind | None = None
    params: tuple[str, ...] = ()
    match rest:
        case ["status"]:
            kind = TopicKind.STATUS
        case ["metrics"]:
            kind = TopicKind.GATEWAY_METRICS
        case ["device", device_id, "state"]:
            kind, params = TopicKind.DEVICE_STATE, (device_id,)
        case ["device", device_id, "metrics"]:
            kind, params = TopicKind.DEVICE_METRICS, (device_id,)
        case ["alarm", alarm_id]:
            kind, params = TopicKind.ALARM, (alarm_id,)
        case ["availability", function, area]:
            kind, params = TopicKind.AVAILABILITY, (function, area)
        case ["dropped"]:
            kind = TopicKind.DROPPED
        case ["cmd", "rebirth"]:
            kind = TopicKind.REBIRTH
    if kind is None:
        raise ValueError(f"unknown hallgw telemetry topic: {topic!r}")
    if not all(_SEGMENT.fullmatch(s) for s in (hall, gateway, *params)):
        # Empty or wildcard segments: a subscription filter or a topic no gateway publishes.
        raise ValueError(f"bad segment in hallgw telemetry topic: {topic!r}")
    return kind, hall, gateway, params
