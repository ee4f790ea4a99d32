"""Telemetry for provincial monitoring: the MQTT topic tree and the JSON payloads.

Pure: topic names, payload types and their JSON form. The daemon's publisher
(``hallgw_daemon.telemetry``) decides when to send what; monitoring clients
and ``hallctl telemetry tail`` decode with :func:`decode`. The JSON Schemas
of every payload are in ``schemas/``; docs/telemetry.md describes the tree.
"""

from hallgw_protocols.telemetry.payloads import (
    SCHEMA_VERSION,
    Alarm,
    AlarmState,
    Availability,
    Birth,
    Death,
    DeviceMetrics,
    DeviceState,
    Dropped,
    GatewayMetrics,
    Payload,
    Priority,
    Severity,
    StaffAction,
    decode,
    encode,
)
from hallgw_protocols.telemetry.topics import TOPIC_ROOT, TopicKind, Topics, parse_topic

__all__ = [
    "SCHEMA_VERSION",
    "TOPIC_ROOT",
    "Alarm",
    "AlarmState",
    "Availability",
    "Birth",
    "Death",
    "DeviceMetrics",
    "DeviceState",
    "Dropped",
    "GatewayMetrics",
    "Payload",
    "Priority",
    "Severity",
    "StaffAction",
    "TopicKind",
    "Topics",
    "decode",
    "encode",
    "parse_topic",
]
