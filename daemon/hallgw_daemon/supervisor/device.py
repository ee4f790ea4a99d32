"""One supervised device: its state, its command lane and its supervision task.

Theory of operation
-------------------
``supervise()`` runs for the daemon's lifetime: open the link (CONNECTING),
identify the device, go ONLINE, then probe on a cadence while waiting for the
link to drop. A lost link is OFFLINE at once; ``offline_after_failures``
failed probes in a row are OFFLINE too. A device that reports its own
liveness (``Driver.self_reporting``: kiosks, by heartbeat and last will) is
never probed; its link closing is what takes it OFFLINE. Each reconnect waits a capped,
jittered backoff. A SAM fault keeps the link but shows ERROR until a probe
succeeds again. Business calls go through :meth:`run_command`, which checks
admin and operating state first so an offline or disabled device answers at
once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from hallgw_daemon.commands import CommandLane
from hallgw_daemon.config import DeviceConfig, Supervision
from hallgw_daemon.core.bus import EventBus
from hallgw_daemon.core.errors import (
    DeviceDisabledError,
    DeviceOfflineError,
    GatewayError,
    InternalError,
    SamFaultError,
)
from hallgw_daemon.core.events import Finished, LinkFault, Progress, StateChanged
from hallgw_daemon.core.model import (
    AdminState,
    Counters,
    DeviceId,
    DeviceKind,
    DeviceSnapshot,
    ErrorRecord,
    OperState,
    StationId,
    utcnow,
)
from hallgw_daemon.drivers import Driver, DriverContext, TraceRecord, driver_for
from hallgw_daemon.logging import get_logger
from hallgw_daemon.supervisor.backoff import backoff_delay
from hallgw_daemon.transports import LinkOpenError, open_transport, parse_link_url

log = get_logger(__name__)

DEVICE_FAULTS = frozenset({"SAM_FAULT", "DEVICE_PROTOCOL_ERROR", "DEVICE_TIMEOUT", "DEVICE_OFFLINE"})
"""Reasons of a failed call that say something about the device, so they become its last_error.
No card, a card pulled out mid-read or a full queue are about the applicant or the load."""
T = TypeVar("T")
D = TypeVar("D", bound=Driver)


class ManagedDevice:
    """A device, its lane and its supervision loop."""

    def __init__(
        self,
        config: DeviceConfig,
        settings: Supervision,
        bus: EventBus,
        *,
        admin: tuple[AdminState, str] = (AdminState.ENABLED, ""),
        rng: random.Random | None = None,
        on_admin_change: Callable[[ManagedDevice], None] | None = None,
    ) -> None:
        self.id = DeviceId(config.id)
        self.kind: DeviceKind = config.kind
        self.station = StationId(config.station) if config.station else None
        self.name = config.name or config.id
        self.settings = settings
        self.link_url = parse_link_url(config.link)
        self._bus = bus
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._on_admin_change = on_admin_change
        self.admin_state, self.admin_reason = admin
        self.admin_since = utcnow()
        self.oper_state = OperState.CONNECTING  # until the first connection succeeds or fails
        self.oper_since = utcnow()
        self.last_error: ErrorRecord | None = None
        self.identity: Mapping[str, str] = {}
        self._counters = dict.fromkeys(
            ("commands_ok", "commands_failed", "link_errors", "reconnects", "probe_failures"), 0
        )
        self.lane = CommandLane(device_id=self.id, queue_limit=settings.queue_limit)
        self.lane.on_change = self._lane_changed
        driver_cls = driver_for(self.kind)
        if driver_cls is None:
            raise InternalError(f"no driver is installed for kind {self.kind.value}")
        self.ctx = DriverContext(
            device_id=self.id,
            command_timeout=settings.command_timeout,
            on_link_fault=self._link_fault,
            lighting=config.lighting,
            scanner=config.scanner,
        )
        self.driver: Driver = driver_cls(self.ctx)
        self._attached = False
        self.access_check: Callable[[StationId | None], None] = lambda _station: None
        """Raises when the station is claimed for a visit the current call does not name (the registry's)."""
        self._snapshot: DeviceSnapshot | None = None
        self._error_changed = False
        self._snapshot_key: tuple[object, ...] = ()

    # -- snapshot and events -------------------------------------------------------
    def snapshot(self) -> DeviceSnapshot:
        """The device now; the same (cached) object while nothing changed, so readers can reuse conversions."""
        key = (
            self.station, self.admin_state, self.admin_since, self.admin_reason, self.oper_state, self.oper_since,
            self.last_error, id(self.identity), *self._counters.values(), self.lane.depth,
            tuple(self.driver.consumables().items()),
        )  # fmt: skip
        if self._snapshot is not None and key == self._snapshot_key:
            return self._snapshot
        self._snapshot_key, self._snapshot = key, self._make_snapshot()
        return self._snapshot

    def _make_snapshot(self) -> DeviceSnapshot:
        return DeviceSnapshot(
            device_id=self.id,
            kind=self.kind,
            station_id=self.station,
            name=self.name,
            link=self.link_url.display(),
            admin_state=self.admin_state,
            admin_since=self.admin_since,
            admin_reason=self.admin_reason,
            oper_state=self.oper_state,
            oper_since=self.oper_since,
            last_error=self.last_error,
            identity=dict(self.identity),
            counters=Counters(**self._counters, queue_depth=self.lane.depth),
            consumables=dict(self.driver.consumables()),
        )

    def move_to(self, station: StationId | None) -> None:
        """Fill a role at another station (or none): an engineer swapped devices; watchers see it."""
        if station == self.station:
            return
        self.station = station
        self._publish_state()

    def _publish_state(self, request_id: str = "") -> None:
        self._error_changed = False
        self._bus.publish(
            device_id=self.id,
            station_id=self.station,
            payload=StateChanged(device=self.snapshot()),
            request_id=request_id,
        )

    def _set_oper(self, state: OperState) -> None:
        if state is self.oper_state:
            if self._error_changed:  # same state, new fault: watchers (telemetry) must see it
                self._publish_state()
            return
        # Busy and back is every command's rhythm (its own "command" line says more): debug only.
        working = {state, self.oper_state} == {OperState.ONLINE, OperState.BUSY}
        (log.debug if working else log.info)(
            "device state", device_id=self.id, oper_state=state.value, previous=self.oper_state.value
        )
        self.oper_state = state
        self.oper_since = utcnow()
        self._publish_state()

    def _record_error(self, err: GatewayError) -> None:
        """Remember a device fault; the same fault again keeps its first time (no event per retry)."""
        last = self.last_error
        if last is not None and (last.reason, last.message, last.action) == (err.reason, err.message, err.action):
            return
        self.last_error = ErrorRecord(reason=err.reason, message=err.message, action=err.action, time=utcnow())
        self._error_changed = True

    def _lane_changed(self) -> None:
        if self.oper_state in (OperState.ONLINE, OperState.BUSY):
            self._set_oper(OperState.BUSY if self.lane.busy else OperState.ONLINE)

    def _link_fault(self, message: str, discarded: int) -> None:
        self._counters["link_errors"] += 1
        log.warning("link fault", device_id=self.id, fault=message, discarded=discarded)
        self._bus.publish(
            device_id=self.id, station_id=self.station, payload=LinkFault(message=message, discarded_bytes=discarded)
        )

    def add_tap(self, tap: Callable[[TraceRecord], None]) -> None:
        self.ctx.taps.add(tap)

    def remove_tap(self, tap: Callable[[TraceRecord], None]) -> None:
        self.ctx.taps.discard(tap)

    # -- admin state ---------------------------------------------------------------
    def set_admin(self, state: AdminState, reason: str, *, request_id: str = "") -> DeviceSnapshot:
        if state is not self.admin_state or reason != self.admin_reason:
            log.info("admin state", device_id=self.id, admin_state=state.value, previous=self.admin_state.value)
            self.admin_state, self.admin_reason, self.admin_since = state, reason, utcnow()
            if self._on_admin_change is not None:
                self._on_admin_change(self)
            self._publish_state(request_id)
        return self.snapshot()

    # -- business calls --------------------------------------------------------------
    def progress(self, request_id: str) -> Callable[[str, str], None]:
        """A progress callback that publishes events tagged with ``request_id``."""

        def emit(stage: str, message: str) -> None:
            self._bus.publish(
                device_id=self.id,
                station_id=self.station,
                request_id=request_id,
                payload=Progress(stage=stage, message=message),
            )

        return emit

    def check_usable(self) -> None:
        """Raise what a business call on this device would fail with now: disabled, offline or faulty."""
        if self.admin_state is not AdminState.ENABLED:
            why = f" ({self.admin_reason})" if self.admin_reason else ""
            raise DeviceDisabledError(
                f"device {self.id} is {self.admin_state.value}{why}: enable it to use it", device_id=self.id
            )
        if self.oper_state not in (OperState.ONLINE, OperState.BUSY):
            detail = f": {self.last_error.message}" if self.last_error else ""
            if self.oper_state is OperState.ERROR:
                raise SamFaultError(f"device {self.id} reports a fault{detail}", device_id=self.id)
            raise DeviceOfflineError(
                f"device {self.id} is {self.oper_state.value}{detail}; check its cable and power", device_id=self.id
            )

    async def run_command(
        self,
        operation: str,
        fn: Callable[[D], Awaitable[T]],
        driver_type: type[D],
        *,
        request_id: str,
        deadline: float | None,
    ) -> T:
        """Run a business operation on this device's lane, with all the checks and records."""
        self.access_check(self.station)
        self.check_usable()
        driver = self.driver
        if not isinstance(driver, driver_type):
            raise InternalError(f"device {self.id} has no {driver_type.__name__}")
        started = time.monotonic()
        ok, reason = False, "INTERNAL"
        try:
            result = await self.lane.run(lambda: fn(driver), deadline=deadline)
            ok, reason = True, ""
            return result
        except GatewayError as err:
            reason = err.reason
            if err.reason in DEVICE_FAULTS:
                self._record_error(err)  # last_error is for the device's faults, not the applicant's
                if self._error_changed:
                    self._publish_state(request_id)
            raise
        except TimeoutError:
            reason = "DEADLINE_EXCEEDED"
            raise
        except asyncio.CancelledError:
            reason = "CANCELLED"
            raise
        finally:
            self._counters["commands_ok" if ok else "commands_failed"] += 1
            duration = time.monotonic() - started
            log.info(
                "command",
                device_id=self.id,
                operation=operation,
                ok=ok,
                reason=reason,
                request_id=request_id,
                seconds=round(duration, 4),
            )
            self._bus.publish(
                device_id=self.id,
                station_id=self.station,
                request_id=request_id,
                payload=Finished(operation=operation, ok=ok, reason=reason, duration=dt.timedelta(seconds=duration)),
            )

    # -- supervision -------------------------------------------------------------------
    async def supervise(self) -> None:
        """Run for ever: connect, identify, probe, reconnect (see module docstring)."""
        attempt = 0
        was_online = False
        while True:
            # Reconnect attempts of an offline device keep it OFFLINE: no event flapping per attempt.
            connected = await self._connect()
            if connected:
                attempt = 0
                if was_online:
                    self._counters["reconnects"] += 1
                was_online = True
                await self._run_connected()
                await self._detach()
            attempt += 1
            delay = backoff_delay(
                attempt, initial=self.settings.backoff_initial, cap=self.settings.backoff_max, rng=self._rng
            )
            await asyncio.sleep(delay)

    async def _connect(self) -> bool:
        try:
            link = await open_transport(self.link_url, timeout=self.settings.command_timeout)
        except LinkOpenError as err:
            self._fail_offline(DeviceOfflineError(f"cannot open the link: {err}", device_id=self.id))
            return False
        self.driver.attach(link)
        self._attached = True
        try:
            self.identity = await self.driver.identify(timeout=self.settings.probe_timeout * 2)
        except SamFaultError as err:
            self._record_error(err)
            self._set_oper(OperState.ERROR)
            return True
        except GatewayError as err:
            await self._detach()
            self._fail_offline(
                DeviceOfflineError(f"the device did not identify itself: {err.message}", device_id=self.id)
            )
            return False
        self._set_oper(OperState.ONLINE)
        return True

    def _fail_offline(self, err: GatewayError) -> None:
        if self.oper_state is not OperState.OFFLINE or self.last_error is None or self.last_error.reason != err.reason:
            log.warning("device offline", device_id=self.id, error=err.message)
        self._record_error(err)
        self._set_oper(OperState.OFFLINE)

    async def _run_connected(self) -> None:
        closed = asyncio.create_task(self.driver.wait_closed(), name=f"wait-closed:{self.id}")
        try:
            failures = 0
            # A self-reporting device (a kiosk) is watched by its heartbeats: polling a thousand
            # of them each second would cost the gateway more than all their messages.
            interval = None if self.driver.self_reporting else self.settings.probe_interval
            while True:
                done, _ = await asyncio.wait({closed}, timeout=interval)
                if done:
                    self._fail_offline(DeviceOfflineError(f"link lost: {closed.result()}", device_id=self.id))
                    return
                ok = await self._probe()
                if ok is None:
                    continue  # a user command is using the device: that proves it alive
                if ok:
                    failures = 0
                    continue
                failures += 1
                self._counters["probe_failures"] += 1
                if failures >= self.settings.offline_after_failures:
                    self._fail_offline(
                        DeviceOfflineError(f"{failures} health probes failed in a row", device_id=self.id)
                    )
                    return
        finally:
            closed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closed

    async def _probe(self) -> bool | None:
        async def probe() -> bool:
            await self.driver.probe(timeout=self.settings.probe_timeout)
            return True

        try:
            result = await self.lane.try_probe(probe)
        except SamFaultError as err:
            self._record_error(err)
            self._set_oper(OperState.ERROR)
            return True  # answering: connected, but faulty
        except GatewayError as err:
            log.info("probe failed", device_id=self.id, error=err.message)
            return False
        if result and self.oper_state is OperState.ERROR:
            # Recovered from a fault: identify again before taking calls.
            try:
                self.identity = await self.lane.run(
                    lambda: self.driver.identify(timeout=self.settings.probe_timeout * 2)
                )
            except GatewayError as err:
                self._record_error(err)
                self._set_oper(OperState.ERROR)  # still faulty: publishes the new error if it changed
                return True
            self._set_oper(OperState.ONLINE)
        return result

    async def _detach(self) -> None:
        if self._attached:
            self._attached = False
            with contextlib.suppress(Exception):
                await self.driver.detach()
