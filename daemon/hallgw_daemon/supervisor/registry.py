"""The hall's devices: lookup by id or by station and kind, admin-state persistence, supervision tasks."""

from __future__ import annotations

import asyncio
import json
import os
import random
from pathlib import Path

from hallgw_daemon.config import Config
from hallgw_daemon.core.bus import EventBus
from hallgw_daemon.core.errors import InvalidRequestError, UnknownDeviceError
from hallgw_daemon.core.model import AdminState, DeviceKind, StationId
from hallgw_daemon.core.visits import Visit
from hallgw_daemon.logging import get_logger
from hallgw_daemon.supervisor.device import ManagedDevice
from hallgw_daemon.supervisor.stations import StationRegistry

log = get_logger(__name__)

RESTART_DELAY = 1.0
"""Pause before restarting a device task that crashed (a bug, not a device fault)."""


class AdminStateStore:
    """Admin states survive restarts: an engineer's "disabled" must not silently revert.

    Stored as JSON (device id -> state, reason) with an atomic rename; holds no personal data.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, tuple[AdminState, str]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            log.warning(
                "admin state file unreadable; starting with every device enabled", path=str(self.path), error=str(err)
            )
            return {}
        out: dict[str, tuple[AdminState, str]] = {}
        for device_id, entry in raw.items() if isinstance(raw, dict) else ():
            try:
                out[device_id] = (AdminState(entry["state"]), str(entry.get("reason", "")))
            except (KeyError, TypeError, ValueError):
                log.warning("admin state entry ignored", device_id=device_id)
        return out

    def save(self, devices: list[ManagedDevice]) -> None:
        data = {d.id: {"state": d.admin_state.value, "reason": d.admin_reason} for d in devices}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class RoleStore:
    """Roles an engineer reassigned survive restarts: device id -> station id (or null), JSON, atomic."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str | None]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as err:
            log.warning("role file unreadable; the config's roles apply", path=str(self.path), error=str(err))
            return {}
        if not isinstance(raw, dict):
            return {}
        return {str(k): (str(v) if v is not None else None) for k, v in raw.items() if isinstance(v, str | None)}

    def save(self, moved: dict[str, str | None]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(moved, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class DeviceRegistry:
    """Every configured device, built from the config."""

    def __init__(
        self, config: Config, bus: EventBus, *, seed: int | None = None, restart_delay: float = RESTART_DELAY
    ) -> None:
        self.bus = bus
        self.restart_delay = restart_delay
        self.task_crashes: dict[str, int] = {}
        """Crashes of each device's task since start-up (bugs, not device faults)."""
        self.store = AdminStateStore(Path(config.gateway.state_dir) / "admin-state.json")
        saved = self.store.load()
        rng = random.Random(seed)  # noqa: S311 - jitter, not cryptography
        self.devices: dict[str, ManagedDevice] = {}
        for dev in config.devices:
            self.devices[dev.id] = ManagedDevice(
                dev,
                config.supervision_for(dev),
                bus,
                admin=saved.get(dev.id, (AdminState.ENABLED, "")),
                rng=random.Random(rng.random()),  # noqa: S311
                on_admin_change=self._admin_changed,
            )
        self.stations = StationRegistry(config.stations, on_end=self._visit_ended)
        self.roles = RoleStore(Path(config.gateway.state_dir) / "roles.json")
        self._moved: dict[str, str | None] = {}
        for device_id, station in self.roles.load().items():
            managed = self.devices.get(device_id)
            if managed is None or (station is not None and station not in self.stations.stations):
                log.warning("reassigned role ignored: no such device or station", device_id=device_id)
                continue
            managed.station = StationId(station) if station else None
            self._moved[device_id] = station
        bus.visit_of = self.stations.visit_id_at
        for managed in self.devices.values():
            managed.access_check = self.stations.check_access

    def _visit_ended(self, visit: Visit, _why: str) -> None:
        """Drop every personal buffer the station's drivers hold: the visit is over."""
        for dev in self.devices.values():
            if dev.station == visit.station_id:
                dev.driver.drop_personal_data()

    def assign(self, station_id: str, device_id: str) -> tuple[ManagedDevice, ManagedDevice | None]:
        """Make ``device_id`` fill its kind's role at ``station_id``; the device it replaces has no station
        (it takes the newcomer's old one, if any). A visit at the station goes on. Persisted."""
        self.stations.station(station_id)
        dev = self.get(device_id)
        if dev.kind is DeviceKind.KIOSK:
            raise InvalidRequestError("kiosks are addressed by id, not by role: they are not reassigned")
        if dev.station == station_id:
            return dev, None
        replaced = next((d for d in self.at(station_id) if d.kind is dev.kind), None)
        old_station = dev.station
        if replaced is not None:
            replaced.move_to(old_station)
            self._moved[replaced.id] = old_station
        dev.move_to(StationId(station_id))
        self._moved[dev.id] = station_id
        try:
            self.roles.save(self._moved)
        except OSError as err:
            log.error("reassigned roles not saved", path=str(self.roles.path), error=str(err))
        log.info(
            "role reassigned",
            station_id=station_id,
            kind=dev.kind.value,
            device_id=dev.id,
            replaced=replaced.id if replaced else None,
        )
        return dev, replaced

    def at(self, station_id: str) -> list[ManagedDevice]:
        """The devices that fill a station's roles, by kind."""
        return sorted((d for d in self.devices.values() if d.station == station_id), key=lambda d: d.kind.value)

    def _admin_changed(self, _device: ManagedDevice) -> None:
        try:
            self.store.save(list(self.devices.values()))
        except OSError as err:
            log.error("admin state not saved", path=str(self.store.path), error=str(err))

    def get(self, device_id: str) -> ManagedDevice:
        try:
            return self.devices[device_id]
        except KeyError:
            raise UnknownDeviceError(f"no device {device_id!r} is configured on this gateway") from None

    def at_station(self, station_id: str, kind: DeviceKind) -> ManagedDevice:
        for dev in self.devices.values():
            if dev.station == station_id and dev.kind is kind:
                return dev
        raise UnknownDeviceError(f"station {station_id!r} has no {kind.value} configured")

    def list(self) -> list[ManagedDevice]:
        return [self.devices[k] for k in sorted(self.devices)]

    async def run(self) -> None:
        """Supervise every device until cancelled; a crashed device task is restarted alone."""
        async with asyncio.TaskGroup() as tg:
            for dev in self.devices.values():
                tg.create_task(self._keep_supervising(dev), name=f"supervise:{dev.id}")

    async def _keep_supervising(self, dev: ManagedDevice) -> None:
        while True:
            try:
                await dev.supervise()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.task_crashes[dev.id] = self.task_crashes.get(dev.id, 0) + 1
                log.exception("device task crashed; restarting it", device_id=dev.id, crashes=self.task_crashes[dev.id])
                await asyncio.sleep(self.restart_delay)
