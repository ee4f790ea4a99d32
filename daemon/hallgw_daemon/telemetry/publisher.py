"""The telemetry publisher: one MQTT v5 connection to the provincial broker.

Theory of operation
-------------------
A collector task turns bus events into messages in the :class:`Outbox` (device
state, alarms, availability) and feeds the metrics windows; a reporter adds
metrics every ``metrics_interval``. The connection task connects with a last
will (a retained Death on ``status`` carrying this session's number), publishes
the Birth (``seq`` 0), then sends the outbox in order, each message taken out
only once the broker acknowledged it (QoS 1). A lost connection leaves unsent
messages in the outbox; the next session sends them after its Birth, then a
Dropped report if the outbox overflowed, then the full current state. A
message on ``cmd/rebirth`` queues Birth and the full state again. Nothing here
ever makes a device wait: the bus drops events for a slow subscriber rather
than block, and the outbox never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import random
import socket
from importlib import metadata
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import aiomqtt

from hallgw_daemon.config import Config, TelemetrySection
from hallgw_daemon.core.bus import EventBus
from hallgw_daemon.core.events import Event, Finished, StateChanged
from hallgw_daemon.logging import get_logger
from hallgw_daemon.supervisor import DeviceRegistry
from hallgw_daemon.supervisor.backoff import backoff_delay
from hallgw_daemon.telemetry.metrics import MetricsCollector
from hallgw_daemon.telemetry.outbox import Outbox, Outgoing
from hallgw_daemon.telemetry.rollup import Rollup, device_state
from hallgw_daemon.transports.mqtt_guard import guarded
from hallgw_protocols.telemetry import Birth, Death, Dropped, Payload, Priority, Topics, encode

log = get_logger(__name__)

NODELAY: Final = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
BUS_QUEUE: Final = 20_000
"""Events the collector may fall behind by before the bus drops its oldest (it never blocks the bus)."""
STABLE_SESSION: Final = 5.0
"""A session that lasted this long (seconds) resets the reconnect backoff; shorter ones keep growing it."""
SHUTDOWN_FLUSH: Final = 1.0
"""Seconds given to sending what is queued before the shutdown Death."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def config_digest(config: Config) -> str:
    """A short digest of the effective configuration, so monitoring sees a config change."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:16]


class SessionCounter:
    """The MQTT session number, persisted so it grows across restarts (Sparkplug's bdSeq)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def next(self) -> int:
        try:
            current = int(self.path.read_text(encoding="ascii").strip() or 0)
        except (OSError, ValueError):
            current = 0
        value = current + 1
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(f"{value}\n", encoding="ascii")
            tmp.replace(self.path)
        except OSError as err:
            log.error("telemetry session counter not saved", path=str(self.path), error=str(err))
        return value


class TelemetryPublisher:
    """See module docstring."""

    def __init__(self, config: Config, registry: DeviceRegistry, bus: EventBus) -> None:
        if config.telemetry is None:
            raise ValueError("telemetry is not configured")
        self.settings: TelemetrySection = config.telemetry
        self.registry = registry
        self.bus = bus
        self.topics = Topics(config.gateway.hall, config.gateway.id)
        self.outbox = Outbox(self.settings.buffer_limit)
        self.rollup = Rollup.for_stations(config.stations)
        self.metrics = MetricsCollector(registry)
        self.sessions = SessionCounter(Path(config.gateway.state_dir) / "telemetry-session")
        self.digest = config_digest(config)
        self.client_id = self.settings.client_id or f"hallgw-{config.gateway.hall}-{config.gateway.id}"[:64]
        self.session = 0
        self.seq = 0
        self.connected = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._rng = random.Random()  # noqa: S311 - reconnect jitter
        self._password = self._read_password()

    def _read_password(self) -> str | None:
        if self.settings.password_file is None:
            return None
        try:
            return Path(self.settings.password_file).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise OSError(f"telemetry.password_file: cannot read {err.filename}: {err.strerror}") from err

    # -- what to send ----------------------------------------------------------------------
    def _put(self, topic: str, payload: Payload | None, *, retain: bool, priority: Priority) -> None:
        self.outbox.put(topic, payload, retain=retain, time=now_iso(), priority=priority)

    def _birth(self) -> Birth:
        devices = [
            {
                "device_id": d.id,
                "kind": d.kind.value,
                "station": d.station or "",
                "area": self.rollup.key(d.snapshot())[1],
                "name": d.name,
            }
            for d in self.registry.list()
        ]
        return Birth(version=_version(), config_digest=self.digest, devices=devices)

    def _state_changed(self, ev: Event) -> None:
        assert isinstance(ev.payload, StateChanged)  # noqa: S101 - the subscription filters
        snap = ev.payload.device
        self._put(self.topics.device_state(snap.device_id), device_state(snap), retain=True, priority=Priority.STATE)
        now = now_iso()
        for alarm in self.rollup.alarms(snap, now):
            topic = self.topics.alarm(alarm.alarm_id)
            if alarm.cleared_at is None:
                self._put(topic, alarm, retain=True, priority=Priority.STATE)
            else:  # the cleared message for watchers, then delete the retained alarm
                self._put(topic, alarm, retain=False, priority=Priority.STATE)
                self._put(topic, None, retain=True, priority=Priority.STATE)
        snaps = [d.snapshot() for d in self.registry.list()]
        changed = self.rollup.availability_of(self.rollup.key(snap), snaps)
        if changed is not None:
            self._put(self.topics.availability(changed.function, changed.area), changed, retain=True,
                      priority=Priority.STATE)  # fmt: skip

    def queue_full_state(self, *, birth: bool) -> None:
        """Queue the whole current state (after a reconnect, or on a rebirth request)."""
        if birth:
            self._put(self.topics.status, self._birth(), retain=True, priority=Priority.STATE)
        snaps = [d.snapshot() for d in self.registry.list()]
        for snap in snaps:
            self._put(
                self.topics.device_state(snap.device_id), device_state(snap), retain=True, priority=Priority.STATE
            )
        for avail in self.rollup.all_availability(snaps):
            self._put(self.topics.availability(avail.function, avail.area), avail, retain=True, priority=Priority.STATE)
        for alarm in list(self.rollup.raised.values()):
            self._put(self.topics.alarm(alarm.alarm_id), alarm, retain=True, priority=Priority.STATE)

    # -- tasks -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Run until cancelled."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._collect(), name="telemetry-collect")
            tg.create_task(self._report_metrics(), name="telemetry-metrics")
            tg.create_task(self.metrics.sample_loop_lag(), name="telemetry-loop-lag")
            tg.create_task(self._connection(), name="telemetry-connection")

    async def _collect(self) -> None:
        async with self.bus.subscribe(
            lambda ev: isinstance(ev.payload, StateChanged | Finished), maxsize=BUS_QUEUE
        ) as sub:
            async for ev in sub:
                if isinstance(ev.payload, Finished):
                    p = ev.payload
                    self.metrics.command_finished(
                        ev.device_id, ok=p.ok, reason=p.reason, seconds=p.duration.total_seconds()
                    )
                else:
                    self._state_changed(ev)

    async def _report_metrics(self) -> None:
        interval = self.settings.metrics_interval
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for dev in self.registry.list():
                self._put(self.topics.device_metrics(dev.id), self.metrics.device_report(dev, now - last),
                          retain=False, priority=Priority.METRICS)  # fmt: skip
            queues = {"telemetry_outbox": len(self.outbox), "event_subscribers": self.bus.subscribers}
            self._put(self.topics.gateway_metrics, self.metrics.gateway_report(now - last, queues), retain=False,
                      priority=Priority.METRICS)  # fmt: skip
            last = now

    async def _connection(self) -> None:
        url = urlsplit(self.settings.broker)
        host, port = url.hostname or "", url.port or (8883 if url.scheme == "mqtts" else 1883)
        tls = None
        if url.scheme == "mqtts":
            tls = aiomqtt.TLSParameters(
                ca_certs=self.settings.ca_cert, certfile=self.settings.client_cert, keyfile=self.settings.client_key
            )
        attempt = 0
        last_error = ""
        loop = asyncio.get_running_loop()
        while True:
            self.session = self.sessions.next()
            will = aiomqtt.Will(
                self.topics.status,
                encode(Death(reason="connection lost"), session=self.session, seq=0, time=now_iso()),
                qos=1,
                retain=True,
            )
            try:
                async with aiomqtt.Client(
                    host, port, identifier=self.client_id, protocol=aiomqtt.ProtocolVersion.V5, will=will,
                    keepalive=self.settings.keepalive, socket_options=NODELAY, tls_params=tls,
                    username=self.settings.username or None, password=self._password,
                ) as client:  # fmt: skip
                    last_error = ""
                    started = loop.time()
                    try:
                        async with guarded(client):
                            await self._session(client)
                    finally:
                        if loop.time() - started > STABLE_SESSION:
                            attempt = 0  # a session that lasted starts the backoff over
            except Exception as err:
                self._client = None
                self.connected.clear()
                if not isinstance(err, aiomqtt.MqttError):
                    log.exception("telemetry session failed; reconnecting")
                elif str(err) != last_error:
                    log.warning("telemetry broker unreachable; buffering", broker=f"{host}:{port}", error=str(err),
                                buffered=len(self.outbox))  # fmt: skip
                    last_error = str(err)
            attempt += 1
            await asyncio.sleep(backoff_delay(attempt, initial=0.05, cap=self.settings.backoff_max, rng=self._rng))

    async def _session(self, client: aiomqtt.Client) -> None:
        self.seq = 0
        await self._publish(client, self.topics.status, self._birth(), retain=True)
        await client.subscribe(self.topics.rebirth, qos=1)
        self._client = client
        self.connected.set()
        log.info("telemetry connected", session=self.session, buffered=len(self.outbox))
        dropped = self.outbox.take_dropped()
        if dropped is not None:
            counts, first, last = dropped
            self._put(self.topics.dropped, Dropped(counts=counts, first_dropped_at=first, last_dropped_at=last),
                      retain=False, priority=Priority.EVENT)  # fmt: skip
            log.warning("telemetry dropped while the broker was away", dropped=counts)
        self.queue_full_state(birth=False)
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._send_outbox(client), name="telemetry-send")
                tg.create_task(self._listen(client), name="telemetry-listen")
        except* aiomqtt.MqttError as lost:  # both tasks see the same lost connection
            raise lost.exceptions[0] from None

    async def _send_outbox(self, client: aiomqtt.Client) -> None:
        while True:
            await self.outbox.wait()
            message = self.outbox.peek()
            if message is None:
                continue
            await self._send(client, message)
            self.outbox.pop(message)

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if message.topic.matches(self.topics.rebirth):
                log.info("telemetry rebirth requested")
                self.queue_full_state(birth=True)

    async def _send(self, client: aiomqtt.Client, message: Outgoing) -> None:
        if message.payload is None:
            await client.publish(message.topic, b"", qos=1, retain=message.retain)
            return
        try:
            data = encode(message.payload, session=self.session, seq=self.seq, time=message.time)
        except ValueError as err:  # a bug upstream (a NaN metric): drop it rather than block the outbox
            log.error("telemetry message cannot be encoded; dropped", topic=message.topic, error=str(err))
            return
        await client.publish(message.topic, data, qos=1, retain=message.retain)
        self.seq += 1

    async def _publish(self, client: aiomqtt.Client, topic: str, payload: Payload, *, retain: bool) -> None:
        data = encode(payload, session=self.session, seq=self.seq, time=now_iso())
        await client.publish(topic, data, qos=1, retain=retain)
        self.seq += 1

    async def close(self) -> None:
        """Send what is queued (briefly), then the shutdown Death, so monitoring sees a clean stop."""
        client = self._client
        if client is None:
            return
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(SHUTDOWN_FLUSH):
                while (message := self.outbox.peek()) is not None:
                    await self._send(client, message)
                    self.outbox.pop(message)
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(SHUTDOWN_FLUSH):
                await self._publish(client, self.topics.status, Death(reason="shutdown"), retain=True)
        log.info("telemetry closed", session=self.session)


def _version() -> str:
    try:
        return metadata.version("hallgw")
    except metadata.PackageNotFoundError:
        return "unknown"
