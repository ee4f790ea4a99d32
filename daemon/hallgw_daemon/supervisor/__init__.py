"""Supervision: each device's connect / identify / probe / reconnect loop, and the hall's registry."""

from hallgw_daemon.supervisor.backoff import backoff_delay
from hallgw_daemon.supervisor.device import ManagedDevice
from hallgw_daemon.supervisor.registry import DeviceRegistry

__all__ = ["DeviceRegistry", "ManagedDevice", "backoff_delay"]
