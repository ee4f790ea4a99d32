"""MQTT telemetry for provincial monitoring (docs/telemetry.md)."""

from hallgw_daemon.telemetry.publisher import TelemetryPublisher

__all__ = ["TelemetryPublisher"]
