"""Typed events published on the bus and streamed by WatchEvents."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hallgw_daemon.core.model import DeviceId, DeviceSnapshot, StationId


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged:
    """A device's admin or operating state changed."""

    device: DeviceSnapshot


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """A call made progress (``stage`` is a stable code per family)."""

    stage: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    """A call finished."""

    operation: str
    ok: bool
    reason: str
    duration: dt.timedelta


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class LinkFault:
    """A link fault the codec recovered from."""

    message: str
    discarded_bytes: int


Payload = StateChanged | Progress | Finished | LinkFault


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One event of the gateway. ``sequence`` is set by the bus."""

    sequence: int
    time: dt.datetime
    device_id: DeviceId
    station_id: StationId | None
    request_id: str
    payload: Payload
    visit_id: str = ""
    """The visit holding the device's station when the event happened; empty when none."""
