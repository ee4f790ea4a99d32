"""A simulated kiosk (endorsement, collection or record query machine) on a real MQTT broker.

Theory of operation
-------------------
A kiosk is a whole computer with its own MQTT v5 connection (one per kiosk, as
real kiosks have), speaking docs/kiosk-protocol.md through
:mod:`hallgw_protocols.kiosk`:

* **Connection.** Client id = kiosk id, ``clean_start = false``, Session
  Expiry Interval :data:`~hallgw_protocols.kiosk.SESSION_EXPIRY_S`, keepalive
  :data:`~hallgw_protocols.kiosk.MAX_KEEPALIVE_S`, ``TCP_NODELAY``, and a Last
  Will of a retained ``status`` ``offline`` (``connection lost``) carrying the
  session of that connection. On every connect the kiosk raises its session
  counter (on disk), subscribes to its ``cmd`` (QoS 1), publishes ``status``
  ``online`` and ``state`` (both retained), then anything it could not publish
  while away (progress and completions of a command that ran on while the
  link was down), in order. It reconnects with a capped, jittered backoff.
* **Commands.** Each command on ``cmd`` needs a Response Topic inside the
  kiosk's own tree (else it is dropped and counted). Side-effecting commands
  go through the :class:`~hallgw_protocols.kiosk.CommandWindow`: the window is
  written to ``<state_dir>/<kiosk id>/window.json`` after every change and
  before acting on it, and loaded at start. ``accepted`` / ``rejected`` /
  ``duplicate`` go out at once, then ``progress`` per stage, then one
  ``completion``. A repeat of a command in flight *joins* it (its progress and
  completion also go to the repeat's Correlation Data), and so does a
  ``query_outcome`` for it. ``query_outcome`` for an id never seen spends it
  (``not_received``, the fence).
* **Stages.** endorsement: ``waiting_for_card``, ``card_inserted``,
  ``writing`` (the chip write: the irreversible step), ``printing``,
  ``waiting_for_pickup``, ``document_taken``. collection: ``dispensing`` (the
  slot opens: irreversible), ``waiting_for_pickup``, ``document_taken``.
  record query: ``fetching_record``, ``printing`` (irreversible),
  ``waiting_for_pickup``, ``document_taken``. Each stage lasts ``step_delay``.
  When the irreversible step completes, the kiosk's "hardware" records it in
  ``kiosk.json`` with the operation serial: after a ``restart`` mid-command the
  kiosk settles each unfinished command from that record (``done`` with the
  serial, else ``not_done`` ``interrupted``) before it connects, and publishes
  the completion to the reply topic and Correlation Data it had.
* **State.** Consumables (endorsement: receipt paper, ribbon, card stock;
  record query: paper; collection: none), slots (collection: named ``A-01``
  ... ``F-20``, all holding a document at first; a release empties one), door,
  mode, the active command. ``state`` is republished on every change.
  ``heartbeat`` every ``heartbeat_interval`` seconds, the first after a random
  phase so that a fleet does not beat in step.

Faults (:meth:`KioskDevice.apply_fault`, :data:`FAULTS`): see docs/simulators.md.
No personal data: commands carry opaque references only, and the kiosk keeps
none of them beyond its command window (ids and parameter digests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import json
import logging
import os
import random
import socket
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hallgw_protocols.kiosk import (
    COMMANDS_BY_KIND,
    DELIVERY,
    MAX_KEEPALIVE_S,
    SESSION_EXPIRY_S,
    Accepted,
    Action,
    Admission,
    Channel,
    CommandKind,
    CommandWindow,
    Completion,
    Consumables,
    ConsumablesAnswer,
    Done,
    Door,
    Duplicate,
    FinalOutcome,
    GetConsumables,
    Heartbeat,
    InProgress,
    IssueEndorsement,
    KioskKind,
    KioskProtocolError,
    KioskTopics,
    Message,
    Mode,
    NotDone,
    Online,
    OutcomeAnswer,
    Ping,
    Pong,
    PrintTravelRecord,
    Progress,
    QueryOutcome,
    Reason,
    Rejected,
    ReleaseCertificate,
    SideEffectCommand,
    Slots,
    Stage,
    State,
    Status,
    WindowStoreError,
    check_correlation_data,
    parse_command,
    rejection_for,
)
from hallgw_simulators.faults import FaultArg, FaultError, count_arg, no_args, switch_arg
from hallgw_simulators.mqtt_guard import guarded

__all__ = [
    "DEFAULT_HEARTBEAT_S",
    "DEFAULT_PICKUP_TIMEOUT_S",
    "DEFAULT_STEP_DELAY_S",
    "FAULTS",
    "KIND",
    "KioskDevice",
    "KioskTiming",
    "broker_address",
    "slot_names",
]

KIND: Final = "kiosk"
"""The device kind in the daemon config (the kiosk's own kind is ``kiosk_kind``)."""
DEFAULT_HEARTBEAT_S: Final = 5
DEFAULT_STEP_DELAY_S: Final = 0.01
DEFAULT_PICKUP_TIMEOUT_S: Final = 0.05
"""How long a kiosk waits for a document to be taken before it gives up on the applicant (``never_taken``)."""
DEFAULT_SLOTS: Final = 120
PAPER_SHEETS: Final = 2000
RIBBON_PRINTS: Final = 2000
CARD_STOCK: Final = 1000
MAX_SLOW_ACK_MS: Final = 600_000
MAX_CARD_STOCK: Final = 1_000_000
MAX_SLOTS: Final = 10_000
NODELAY: Final = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
CONNECT_TIMEOUT_S: Final = 10.0
PUBLISH_TIMEOUT_S: Final = 5.0
STOP_TIMEOUT_S: Final = 2.0
DROP_GRACE_S: Final = 1.0
"""How long a dropped connection may take to end before its loop is started afresh."""
RECORD_FORMAT: Final = "hallsim-kiosk"
RECORD_VERSION: Final = 1
MODELS: Final[Mapping[KioskKind, tuple[str, str]]] = {
    KioskKind.ENDORSEMENT: ("SE-3000", "4.2.1"),
    KioskKind.COLLECTION: ("CL-120", "2.8.0"),
    KioskKind.RECORD_QUERY: ("RQ-200", "1.6.3"),
}
"""Simulated vendor model and firmware per kind."""

_log = logging.getLogger(__name__)


def now_utc() -> str:
    """The protocol's time: UTC, milliseconds, ``Z``."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def broker_address(url: str) -> tuple[str, int]:
    """(host, port) of ``mqtt://HOST:PORT``; ValueError for anything else."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "mqtt" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"expected mqtt://HOST:PORT, got {url!r}")
    return parts.hostname, port


def slot_names(total: int) -> list[str]:
    """The slot names of a collection kiosk: rows A, B, ... of 20 (``A-01`` ... ``A-20``, ``B-01`` ...)."""
    names = []
    for index in range(total):
        row, col = divmod(index, 20)
        prefix = ""
        while True:
            prefix = chr(ord("A") + row % 26) + prefix
            row = row // 26 - 1
            if row < 0:
                break
        names.append(f"{prefix}-{col + 1:02d}")
    return names


@dataclasses.dataclass(frozen=True, slots=True)
class KioskTiming:
    """How fast a kiosk works: quick for tests, slower for a demo."""

    heartbeat_interval: int = DEFAULT_HEARTBEAT_S
    """Seconds between heartbeats (1 to 3600)."""
    step_delay: float = DEFAULT_STEP_DELAY_S
    """Seconds each stage of a command takes."""
    pickup_timeout: float = DEFAULT_PICKUP_TIMEOUT_S
    """Seconds the kiosk waits for a document that is never taken."""

    def __post_init__(self) -> None:
        if not 1 <= self.heartbeat_interval <= 3600:
            raise ValueError("heartbeat_interval must be 1 to 3600 s")
        if not 0 <= self.step_delay <= 600 or not 0 <= self.pickup_timeout <= 3600:
            raise ValueError("step_delay must be 0 to 600 s and pickup_timeout 0 to 3600 s")


class _StepFailed(Exception):
    """A command step failed before anything irreversible happened."""

    def __init__(self, outcome: NotDone) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


@dataclasses.dataclass(slots=True)
class _Faults:
    silence: bool = False
    slow_ack_ms: int = 0
    duplicate_delivery: bool = False
    jam: bool = False
    """One shot: the next command ends not done (jam) before its irreversible step."""
    card_removed: bool = False
    """One shot: the next endorsement's permit is pulled out during the write."""
    never_taken: bool = False
    """One shot: the next document is never taken."""
    offline_mid: bool = False
    """One shot: the connection drops after the next command's first progress."""

    def describe(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_Target = tuple[str, bytes]
"""(response topic, correlation data) of one request."""


class KioskDevice:
    """One kiosk of the hall, with its own MQTT connection and durable command window."""

    kind: Final = KIND
    transport: Final = "mqtt"

    def __init__(
        self,
        *,
        kiosk_id: str,
        kiosk_kind: KioskKind | str,
        hall: str,
        broker_host: str,
        broker_port: int,
        state_dir: Path,
        seed: int = 0,
        station: str = "",
        name: str | None = None,
        timing: KioskTiming = KioskTiming(),
        slots: int = DEFAULT_SLOTS,
        window_size: int | None = None,
    ) -> None:
        self.kiosk_id = kiosk_id
        self.device_id = kiosk_id
        self.kiosk_kind = KioskKind(kiosk_kind)
        self.topics = KioskTopics(hall, kiosk_id)
        self.broker_host = broker_host
        self.broker_port = broker_port
        self.station = station
        self.name = name
        self.timing = timing
        self.seed = seed
        self.dir = state_dir.resolve() / kiosk_id
        self.window_path = self.dir / "window.json"
        self.record_path = self.dir / "kiosk.json"
        self.model, self.firmware = MODELS[self.kiosk_kind]
        if self.kiosk_kind is KioskKind.COLLECTION and not 1 <= slots <= MAX_SLOTS:
            raise ValueError(f"a collection kiosk has 1 to {MAX_SLOTS} slots")
        self._slot_total = slots
        self._window_size = window_size
        self._rng = random.Random(f"{seed}:{kiosk_id}")  # noqa: S311 - simulation jitter, not crypto
        self.faults = _Faults()
        # Durable state (loaded by start()).
        self.window = CommandWindow() if window_size is None else CommandWindow(window_size)
        self._record: dict[str, Any] = {}
        # Runtime.
        self._client: aiomqtt.Client | None = None
        self._live: aiomqtt.Client | None = None
        """The connection being made or used (even while replies are held back)."""
        self._send_lock = asyncio.Lock()
        self._backlog: list[tuple[str, bytes, bytes | None]] = []
        self._want_online = asyncio.Event()
        self._online = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._joins: dict[str, list[_Target]] = {}
        self._progress_seq: dict[str, int] = {}
        self._started_at = 0.0
        self._beat_seq = 0
        self._started = False

    # -- where it is ----------------------------------------------------------------------
    @property
    def link_url(self) -> str:
        """The kiosk's link in the daemon config: its id in the topic tree."""
        return f"kiosk://{self.kiosk_id}"

    @property
    def connected(self) -> bool:
        return self._online.is_set()

    @property
    def session(self) -> int:
        return int(self._record.get("session", 0))

    @property
    def counts(self) -> dict[str, int]:
        """Counters kept across restarts: done (issuances), not_done, rejected, duplicates, ..."""
        return dict(self._record.get("counts", {}))

    @property
    def mode(self) -> Mode:
        return Mode(self._record["mode"])

    @property
    def door(self) -> Door:
        return Door(self._record["door"])

    @property
    def occupied_slots(self) -> list[str]:
        return [name for name, full in self._record.get("slots", {}).items() if full]

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the durable state, settle commands a restart interrupted, and connect (in the background)."""
        if self._started:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._load()
        self._recover()
        self._started_at = asyncio.get_running_loop().time()
        self._beat_seq = 0
        self._want_online.set()
        self._run_task = asyncio.create_task(self._run(), name=f"kiosk-{self.kiosk_id}")
        self._started = True

    async def wait_online(self, timeout: float = CONNECT_TIMEOUT_S) -> None:
        """Return once the kiosk is connected and has published its status and state."""
        async with asyncio.timeout(timeout):
            await self._online.wait()

    async def stop(self) -> None:
        """A clean stop: ``status`` ``offline`` (``shutdown``), then a normal disconnect (no will)."""
        if not self._started:
            return
        self._started = False
        await self._cancel_commands()
        client = self._client
        if client is not None and self._online.is_set():
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                status = Status(time=now_utc(), status=Online.OFFLINE, session=self.session, reason="shutdown")
                await client.publish(self.topics.status, status.to_bytes(), qos=1, retain=True, timeout=2)
        await self._cancel_run()

    async def _crash(self) -> None:
        """Stop as a power cut would: the connection drops (the broker publishes the will), nothing is said."""
        self._started = False
        self._abort_connection()
        await self._cancel_commands()
        await self._cancel_run()

    async def _cancel_commands(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._running.clear()

    async def _cancel_run(self) -> None:
        task, self._run_task = self._run_task, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
            live = self._live
            if not done and live is not None:
                # The broker did not confirm the disconnect in time: close the socket ourselves.
                sock = live._client.socket()
                if isinstance(sock, socket.socket):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                if not live._disconnected.done():
                    live._disconnected.set_result(None)
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._client = None
        self._online.clear()
        self._want_online.clear()

    # -- durable state --------------------------------------------------------------------
    def _fresh_record(self) -> dict[str, Any]:
        kind = self.kiosk_kind
        return {
            "format": RECORD_FORMAT,
            "version": RECORD_VERSION,
            "kiosk_id": self.kiosk_id,
            "kind": kind.value,
            "session": 0,
            "serial": 0,
            "commands_total": 0,
            "mode": Mode.IN_SERVICE.value,
            "door": Door.CLOSED.value,
            "paper": None if kind is KioskKind.COLLECTION else PAPER_SHEETS,
            "ribbon": RIBBON_PRINTS if kind is KioskKind.ENDORSEMENT else None,
            "card_stock": CARD_STOCK if kind is KioskKind.ENDORSEMENT else None,
            "slots": dict.fromkeys(slot_names(self._slot_total), True) if kind is KioskKind.COLLECTION else {},
            "counts": {
                "done": 0,
                "not_done": 0,
                "rejected": 0,
                "duplicates": 0,
                "protocol_rejections": 0,
                "dropped": 0,
                "ignored": 0,
                "uncollected": 0,
                "queries": 0,
            },
            "pending": {},
        }

    def _load(self) -> None:
        record = self._fresh_record()
        if self.record_path.exists():
            stored = json.loads(self.record_path.read_text(encoding="utf-8"))
            if stored.get("format") != RECORD_FORMAT or stored.get("kiosk_id") != self.kiosk_id:
                raise WindowStoreError(f"{self.record_path} is not the record of kiosk {self.kiosk_id}")
            record.update(stored)
            record["counts"] = {**self._fresh_record()["counts"], **stored.get("counts", {})}
        self._record = record
        if self.window_path.exists():
            self.window = CommandWindow.from_json(self.window_path.read_bytes(), size=self._window_size)
        else:
            self.window = CommandWindow() if self._window_size is None else CommandWindow(self._window_size)

    def _save_window(self) -> None:
        _write_atomically(self.window_path, self.window.to_json())

    def _save_record(self) -> None:
        _write_atomically(self.record_path, json.dumps(self._record, separators=(",", ":")))

    def _count(self, name: str, n: int = 1) -> None:
        self._record["counts"][name] = self._record["counts"].get(name, 0) + n

    def _recover(self) -> None:
        """Settle every command a restart interrupted, from the hardware record; queue their completions."""
        pending: dict[str, Any] = self._record["pending"]
        for entry in self.window.in_progress():
            info = pending.get(entry.command_id, {})
            outcome: FinalOutcome
            if info.get("serial"):
                outcome = Done(serial=info["serial"], completed_at=info["completed_at"])
            else:
                outcome = NotDone(
                    reason=Reason.INTERRUPTED,
                    action=Action.RETRY,
                    message="the kiosk restarted before the first irreversible step",
                )
                self._count("not_done")
            self.window.remember(entry.command_id, outcome)
            self._save_window()
            if entry.command is not None:
                completion = Completion(
                    time=now_utc(), command_id=entry.command_id, command=entry.command, outcome=outcome
                ).to_bytes()
                for topic, correlation in info.get("targets", []):
                    self._backlog.append((topic, completion, bytes.fromhex(correlation)))
        for command_id in list(pending):
            known = self.window.lookup(command_id)
            if known is None or known.final:
                del pending[command_id]
        self._save_record()

    # -- the connection -------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = 0.05
        while True:
            await self._want_online.wait()
            try:
                await self._connect_once()
                backoff = 0.05
            except* (aiomqtt.MqttError, OSError) as group:
                _log.debug("kiosk %s: connection ended: %s", self.kiosk_id, group.exceptions[0])
            self._client = None
            self._online.clear()
            if self._want_online.is_set():
                await asyncio.sleep(backoff * (0.5 + self._rng.random()))
                backoff = min(backoff * 2, 2.0)

    def _mqtt_client(self) -> aiomqtt.Client:
        session = self.session
        will = aiomqtt.Will(
            self.topics.status,
            Status(time=now_utc(), status=Online.OFFLINE, session=session, reason="connection lost").to_bytes(),
            qos=DELIVERY[Channel.STATUS].qos,
            retain=True,
        )
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        client = aiomqtt.Client(
            self.broker_host,
            self.broker_port,
            identifier=self.kiosk_id,
            protocol=aiomqtt.ProtocolVersion.V5,
            will=will,
            clean_start=False,
            properties=properties,
            keepalive=MAX_KEEPALIVE_S,
            socket_options=NODELAY,
            timeout=CONNECT_TIMEOUT_S,
            logger=_log,
        )
        client.pending_calls_threshold = 10_000
        return client

    async def _connect_once(self) -> None:
        self._record["session"] = self.session + 1
        self._save_record()
        client = self._mqtt_client()
        self._live = client
        async with client, guarded(client):
            # The connection's end is read here or by the loop below; never left unretrieved.
            client._disconnected.add_done_callback(_retrieve)
            heartbeats: asyncio.Task[None] | None = None
            try:
                async with self._send_lock:
                    await client.subscribe(self.topics.cmd, qos=DELIVERY[Channel.CMD].qos)
                    status = Status(time=now_utc(), status=Online.ONLINE, session=self.session, reason="")
                    await client.publish(self.topics.status, status.to_bytes(), qos=1, retain=True)
                    await client.publish(self.topics.state, self._state().to_bytes(), qos=1, retain=True)
                    backlog, self._backlog = self._backlog, []
                    for index, (topic, payload, correlation) in enumerate(backlog):
                        try:
                            await client.publish(topic, payload, qos=1, properties=_reply_properties(correlation))
                        except aiomqtt.MqttError:
                            self._backlog[:0] = backlog[index:]
                            raise
                    self._client = client
                self._online.set()
                heartbeats = asyncio.create_task(self._heartbeats(), name=f"kiosk-{self.kiosk_id}-heartbeat")
                async for message in client.messages:
                    await self._on_message(message)
            finally:
                self._online.clear()
                self._client = None
                if heartbeats is not None:
                    heartbeats.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await heartbeats

    def _abort_connection(self) -> None:
        """Close the socket without DISCONNECT: the broker sees the connection lost and publishes the will."""
        self._want_online.clear()
        client, self._client = self._client, None
        if client is None:
            return
        sock = client._client.socket()  # aiomqtt offers no abrupt close
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        # An abrupt close can leave the MQTT client unaware of it (its writer callback fails on the
        # closed socket): if the connection loop has not ended shortly, start it afresh.
        watchdog = asyncio.get_running_loop().create_task(self._ensure_dropped())
        self._tasks.add(watchdog)
        watchdog.add_done_callback(self._tasks.discard)

    async def _ensure_dropped(self) -> None:
        await asyncio.sleep(DROP_GRACE_S)
        if not self._online.is_set() or not self._started:
            return
        _log.debug("kiosk %s: the dropped connection lingered; restarting its loop", self.kiosk_id)
        task = self._run_task
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
        self._online.clear()
        self._client = None
        if self._started:
            self._run_task = asyncio.create_task(self._run(), name=f"kiosk-{self.kiosk_id}")

    async def _send(self, topic: str, message: Message, *, correlation: bytes | None = None, keep: bool = True) -> None:
        """Publish a reply (QoS 1) or, with ``keep=False``, a heartbeat (QoS 0).

        While the kiosk is away, replies wait in the backlog and go out, in
        order, right after the next connect; heartbeats are dropped. The lock
        orders the publishes; the acknowledgement is awaited outside it, so a
        connection that dies under a publish never holds up the next one.
        """
        if self.faults.silence:
            return
        payload = message.to_bytes()
        async with self._send_lock:
            client = self._client
            if client is None:
                if keep:
                    self._backlog.append((topic, payload, correlation))
                return
            qos = 1 if keep else 0
            # Tasks start in the order they are made: the publishes leave in this order.
            sent = asyncio.create_task(
                client.publish(
                    topic, payload, qos=qos, properties=_reply_properties(correlation), timeout=PUBLISH_TIMEOUT_S
                )
            )
            sent.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved even if nobody waits
            await asyncio.sleep(0)
        try:
            # Shielded: cancelling the caller must end the caller even when the publish itself
            # swallows the cancellation and completes (which would lose it, and a heartbeat loop
            # would never stop).
            await asyncio.shield(sent)
        except (aiomqtt.MqttError, TimeoutError):
            if keep:
                self._backlog.append((topic, payload, correlation))

    async def _publish_state(self) -> None:
        """Publish the retained state (dropped while away: it is published again on connect)."""
        if self.faults.silence:
            return
        async with self._send_lock:
            client = self._client
            if client is None:
                return
            sent = asyncio.create_task(
                client.publish(
                    self.topics.state, self._state().to_bytes(), qos=1, retain=True, timeout=PUBLISH_TIMEOUT_S
                )
            )
            await asyncio.sleep(0)
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            await sent

    async def _heartbeats(self) -> None:
        interval = self.timing.heartbeat_interval
        await asyncio.sleep(self._rng.uniform(0, interval))
        loop = asyncio.get_running_loop()
        while True:
            beat = Heartbeat(
                time=now_utc(),
                seq=self._beat_seq,
                uptime_s=int(loop.time() - self._started_at),
                interval_s=interval,
                commands_total=int(self._record["commands_total"]),
            )
            self._beat_seq += 1
            await self._send(self.topics.heartbeat, beat, keep=False)
            await asyncio.sleep(interval)

    # -- state ----------------------------------------------------------------------------
    def _consumables(self) -> Consumables:
        rec = self._record
        return Consumables(
            paper_pct=_pct(rec["paper"], PAPER_SHEETS),
            ribbon_pct=_pct(rec["ribbon"], RIBBON_PRINTS),
            card_stock=rec["card_stock"],
        )

    def _slots(self) -> Slots | None:
        if self.kiosk_kind is not KioskKind.COLLECTION:
            return None
        slots: dict[str, bool] = self._record["slots"]
        return Slots(total=len(slots), occupied=sum(slots.values()))

    def _state(self) -> State:
        active = next(iter(self._running), None)
        if active is None:
            active = next((e.command_id for e in self.window.in_progress()), None)
        return State(
            time=now_utc(),
            kind=self.kiosk_kind,
            model=self.model,
            firmware=self.firmware,
            mode=self.mode,
            door=self.door,
            consumables=self._consumables(),
            slots=self._slots(),
            command_window=self.window.size,
            active_command=active,
        )

    def describe(self) -> dict[str, Any]:
        """State for the control protocol: where it is, its state, counts and faults."""
        slots = self._slots()
        return {
            "id": self.kiosk_id,
            "kind": self.kind,
            "kiosk_kind": self.kiosk_kind.value,
            "station": self.station,
            "name": self.name,
            "transport": self.transport,
            "link": self.link_url,
            "topic_base": self.topics.base,
            "broker": f"mqtt://{self.broker_host}:{self.broker_port}",
            "connected": self.connected,
            "session": self.session,
            "mode": self._record.get("mode"),
            "door": self._record.get("door"),
            "consumables": self._consumables().to_dict() if self._record else None,
            "slots": None
            if slots is None
            else {"total": slots.total, "occupied": slots.occupied, "occupied_slots": self.occupied_slots},
            "active_command": next(iter(self._running), None),
            "serial": self._record.get("serial", 0),
            "commands_total": self._record.get("commands_total", 0),
            "window": len(self.window),
            "counts": self.counts,
            "faults": {**self.faults.describe(), "offline": self._started and not self._want_online.is_set()},
        }

    # -- commands -------------------------------------------------------------------------
    async def _on_message(self, message: aiomqtt.Message) -> None:
        if self.faults.silence:
            self._count("ignored")
            return
        props = message.properties
        response_topic = getattr(props, "ResponseTopic", None)
        correlation = getattr(props, "CorrelationData", None)
        try:
            if not isinstance(response_topic, str):
                raise ValueError("no response topic")
            self.topics.reply_gateway(response_topic)
            correlation = check_correlation_data(correlation)
        except (ValueError, KioskProtocolError):
            self._count("dropped")
            self._save_record()
            return
        payload = message.payload
        target: _Target = (response_topic, correlation)
        try:
            if not isinstance(payload, bytes | bytearray):
                raise TypeError
            command = parse_command(bytes(payload))
        except KioskProtocolError as err:
            self._count("protocol_rejections")
            await self._ack(target, rejection_for(err, time=now_utc()))
            return
        except TypeError:
            self._count("dropped")
            return
        if isinstance(command, Ping):
            await self._send(response_topic, Pong(time=now_utc()), correlation=correlation)
        elif isinstance(command, GetConsumables):
            answer = ConsumablesAnswer(time=now_utc(), consumables=self._consumables(), slots=self._slots())
            await self._send(response_topic, answer, correlation=correlation)
        elif isinstance(command, QueryOutcome):
            await self._query(command, target)
        else:
            await self._admit(command, target)

    async def _query(self, query: QueryOutcome, target: _Target) -> None:
        known = query.command_id in self.window
        entry = self.window.fence(query.command_id)
        self._count("queries")
        if not known:
            self._save_window()  # the fence is durable before it is told
        if not entry.final and query.command_id in self._running:
            self._joins.setdefault(query.command_id, []).append(target)
        answer = OutcomeAnswer(
            time=now_utc(), command_id=entry.command_id, command=entry.command, outcome=entry.outcome
        )
        await self._send(target[0], answer, correlation=target[1])

    async def _ack(self, target: _Target, reply: Accepted | Rejected | Duplicate) -> None:
        if self.faults.slow_ack_ms:
            await asyncio.sleep(self.faults.slow_ack_ms / 1000)
        await self._send(target[0], reply, correlation=target[1])

    async def _admit(self, command: SideEffectCommand, target: _Target) -> None:
        admit = self.window.admit(command)
        cid = command.command_id
        if admit.admission is Admission.REUSED:
            self._count("protocol_rejections")
            self._save_record()
            message = "this command id was used for another command; nothing recorded"
            await self._ack(
                target,
                Rejected(
                    time=now_utc(), command_id=cid, reason=Reason.COMMAND_ID_REUSED, action=Action.NONE, message=message
                ),
            )
            return
        if admit.admission is Admission.DUPLICATE:
            self._count("duplicates")
            self._save_record()
            if not admit.entry.final and cid in self._running:
                self._joins.setdefault(cid, []).append(target)
            await self._ack(target, Duplicate(time=now_utc(), command_id=cid, outcome=admit.entry.outcome))
            return
        refusal = self._refusal(command)
        if refusal is not None:
            rejected = Rejected(
                time=now_utc(), command_id=cid, reason=refusal[0], action=refusal[1], message=refusal[2]
            )
            self.window.remember(cid, rejected.as_outcome())
            self._save_window()
            self._count("rejected")
            self._save_record()
            await self._ack(target, rejected)
            return
        self._record["commands_total"] += 1
        info: dict[str, Any] = {"targets": [[target[0], target[1].hex()]], "serial": None, "completed_at": None}
        if isinstance(command, ReleaseCertificate):
            info["slot"] = command.slot if command.slot is not None else self.occupied_slots[0]
        self._record["pending"][cid] = info
        self._save_window()  # write-ahead: recorded in progress before anything is done
        self._save_record()
        self._joins[cid] = [target]
        self._progress_seq[cid] = 0
        # Registered before the ack goes out, so that a repeat arriving meanwhile joins it.
        task = asyncio.create_task(self._execute(command, self._ack(target, Accepted(time=now_utc(), command_id=cid))))
        self._running[cid] = task

        self._tasks.add(task)

        def forget(_task: asyncio.Task[None]) -> None:
            self._running.pop(cid, None)
            self._tasks.discard(task)

        task.add_done_callback(forget)

    def _refusal(self, command: SideEffectCommand) -> tuple[Reason, Action, str] | None:  # noqa: PLR0911
        """Why the kiosk cannot start this command now, or None."""
        if command.KIND is not COMMANDS_BY_KIND[self.kiosk_kind]:
            return Reason.UNSUPPORTED_COMMAND, Action.NONE, f"a {self.kiosk_kind.value} kiosk does not do this"
        if self.mode is Mode.OUT_OF_SERVICE:
            return Reason.OUT_OF_SERVICE, Action.STAFF, "the kiosk is out of service"
        if self.mode is Mode.MAINTENANCE:
            return Reason.MAINTENANCE, Action.NONE, "an engineer is working on the kiosk"
        if self.door is Door.OPEN:
            return Reason.DOOR_OPEN, Action.STAFF, "the service door is open: close it"
        if self._running:
            return Reason.BUSY, Action.RETRY, "another command runs on the kiosk"
        rec = self._record
        if rec["paper"] is not None and rec["paper"] <= 0:
            return Reason.PAPER_OUT, Action.STAFF, "paper out: load paper"
        if rec["ribbon"] is not None and rec["ribbon"] <= 0:
            return Reason.RIBBON_OUT, Action.STAFF, "printer ribbon out: replace the ribbon"
        if rec["card_stock"] is not None and rec["card_stock"] <= 0:
            return Reason.CARD_STOCK_EMPTY, Action.STAFF, "card stock empty: load blank cards"
        if isinstance(command, ReleaseCertificate):
            slots: dict[str, bool] = rec["slots"]
            if command.slot is not None and command.slot not in slots:
                return Reason.PICKUP_UNKNOWN, Action.NONE, "no such slot on this kiosk"
            if command.slot is not None and not slots[command.slot]:
                return Reason.SLOT_EMPTY, Action.STAFF, "the slot holds no document"
            if command.slot is None and not any(slots.values()):
                return Reason.PICKUP_UNKNOWN, Action.NONE, "no document waits under this pickup reference"
        return None

    def _plan(self, command: SideEffectCommand) -> list[tuple[Stage, str]]:
        if isinstance(command, IssueEndorsement):
            return [
                (Stage.WAITING_FOR_CARD, "insert your permit"),
                (Stage.CARD_INSERTED, "permit inserted"),
                (Stage.WRITING, "writing the endorsement"),
                (Stage.PRINTING, "printing"),
                (Stage.WAITING_FOR_PICKUP, "take your permit"),
                (Stage.DOCUMENT_TAKEN, "permit taken"),
            ]
        if isinstance(command, ReleaseCertificate):
            return [
                (Stage.DISPENSING, "releasing the document"),
                (Stage.WAITING_FOR_PICKUP, "take your document"),
                (Stage.DOCUMENT_TAKEN, "document taken"),
            ]
        return [
            (Stage.FETCHING_RECORD, "fetching the record"),
            (Stage.PRINTING, "printing"),
            (Stage.WAITING_FOR_PICKUP, "take your record"),
            (Stage.DOCUMENT_TAKEN, "record taken"),
        ]

    _IRREVERSIBLE: Final = {
        CommandKind.ISSUE_ENDORSEMENT: Stage.WRITING,
        CommandKind.RELEASE_CERTIFICATE: Stage.DISPENSING,
        CommandKind.PRINT_TRAVEL_RECORD: Stage.PRINTING,
    }

    async def _execute(self, command: SideEffectCommand, ack: Awaitable[None]) -> None:
        await ack
        cid = command.command_id
        faults = self.faults
        jam, removed, never_taken, drop = faults.jam, faults.card_removed, faults.never_taken, faults.offline_mid
        faults.jam = faults.card_removed = faults.never_taken = faults.offline_mid = False
        await self._publish_state()
        outcome: FinalOutcome
        try:
            committed = False
            for index, (stage, text) in enumerate(self._plan(command)):
                if jam and not committed:
                    raise _StepFailed(NotDone(reason=Reason.JAM, action=Action.STAFF, message="jam: clear the kiosk"))
                if stage is Stage.DOCUMENT_TAKEN and never_taken:
                    self._count("uncollected")
                    self._save_record()
                    break
                self.window.remember(cid, InProgress(stage=stage))
                self._save_window()
                await self._progress(cid, stage, text)
                if index == 0 and drop:
                    self._abort_connection()
                wait = self.timing.step_delay
                if stage is Stage.WAITING_FOR_PICKUP and never_taken:
                    wait = max(wait, self.timing.pickup_timeout)
                await asyncio.sleep(wait)
                if stage is self._IRREVERSIBLE[command.KIND]:
                    if removed:
                        raise _StepFailed(
                            NotDone(
                                reason=Reason.CARD_REMOVED,
                                action=Action.RETRY,
                                message="the permit was pulled out during the write; rolled back",
                            )
                        )
                    self._commit(command)
                    committed = True
            info = self._record["pending"][cid]
            outcome = Done(serial=info["serial"], completed_at=info["completed_at"])
        except _StepFailed as failed:
            outcome = failed.outcome
            self._count("not_done")
        self.window.remember(cid, outcome)
        self._save_window()  # the final outcome is durable before anyone is told
        self._record["pending"].pop(cid, None)
        self._save_record()
        targets = self._joins.pop(cid, [])
        self._progress_seq.pop(cid, None)
        self._running.pop(cid, None)
        completion = Completion(time=now_utc(), command_id=cid, command=command.KIND, outcome=outcome)
        for topic, correlation in targets:
            for _ in range(2 if faults.duplicate_delivery else 1):
                await self._send(topic, completion, correlation=correlation)
        await self._publish_state()

    def _commit(self, command: SideEffectCommand) -> None:
        """The irreversible step happened: the hardware's record, with the operation serial."""
        rec = self._record
        rec["serial"] += 1
        serial = f"{self.kiosk_id.upper()[:40]}-{rec['serial']:08d}"
        info = rec["pending"][command.command_id]
        info["serial"] = serial
        info["completed_at"] = now_utc()
        if isinstance(command, PrintTravelRecord):
            rec["paper"] = max(0, rec["paper"] - command.copies)
        elif isinstance(command, IssueEndorsement):
            rec["paper"] = max(0, rec["paper"] - 1)
            rec["ribbon"] = max(0, rec["ribbon"] - 1)
            rec["card_stock"] = max(0, rec["card_stock"] - 1)
        elif isinstance(command, ReleaseCertificate):
            rec["slots"][info["slot"]] = False
        self._count("done")
        self._save_record()

    async def _progress(self, cid: str, stage: Stage, text: str) -> None:
        seq = self._progress_seq.get(cid, 0) + 1
        self._progress_seq[cid] = seq
        progress = Progress(time=now_utc(), command_id=cid, seq=seq, stage=stage, message=text)
        for topic, correlation in list(self._joins.get(cid, [])):
            await self._send(topic, progress, correlation=correlation)

    # -- faults ---------------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one fault by name (:data:`FAULTS`); raises :class:`FaultError`."""
        handler = _FAULT_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(_FAULT_HANDLERS)}")
        await handler(self, name, args)

    async def _f_offline(self, name: str, args: Sequence[FaultArg]) -> None:
        words = [str(a) for a in args]
        if words == ["mid"]:
            self.faults.offline_mid = True
            return
        if words not in ([], ["now"]):
            raise FaultError("offline takes no argument (drop now) or 'mid' (during the next command)")
        self._abort_connection()

    async def _f_online(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        # Online from now on: a drop armed for the next command ('offline mid') is called off too,
        # or it would take the kiosk away later with nobody left to bring it back.
        self.faults.offline_mid = False
        self._want_online.set()

    async def _f_restart(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        await self._crash()
        self._backlog.clear()
        self._joins.clear()
        self._progress_seq.clear()
        await self.start()

    def _need(self, name: str, key: str) -> None:
        if self._record.get(key) is None:
            raise FaultError(f"{name}: a {self.kiosk_kind.value} kiosk has no {key.replace('_', ' ')}")

    async def _f_paper_out(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self._need(name, "paper")
        self._record["paper"] = 0
        await self._changed()

    async def _f_ribbon_out(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self._need(name, "ribbon")
        self._record["ribbon"] = 0
        await self._changed()

    async def _f_card_stock(self, name: str, args: Sequence[FaultArg]) -> None:
        self._need(name, "card_stock")
        self._record["card_stock"] = count_arg(name, args, MAX_CARD_STOCK)
        await self._changed()

    async def _f_jam(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.faults.jam = True

    async def _f_card_removed(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        if self.kiosk_kind is not KioskKind.ENDORSEMENT:
            raise FaultError("card_removed: only an endorsement kiosk takes a permit")
        self.faults.card_removed = True

    async def _f_never_taken(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.faults.never_taken = True

    async def _f_slow_ack(self, name: str, args: Sequence[FaultArg]) -> None:
        self.faults.slow_ack_ms = count_arg(name, args, MAX_SLOW_ACK_MS)

    async def _f_duplicate_delivery(self, name: str, args: Sequence[FaultArg]) -> None:
        self.faults.duplicate_delivery = switch_arg(name, args, default=True)

    async def _f_silence(self, name: str, args: Sequence[FaultArg]) -> None:
        self.faults.silence = switch_arg(name, args)

    async def _f_door(self, name: str, args: Sequence[FaultArg]) -> None:
        self._record["door"] = _choice(name, args, [d.value for d in Door])
        await self._changed()

    async def _f_mode(self, name: str, args: Sequence[FaultArg]) -> None:
        self._record["mode"] = _choice(name, args, [m.value for m in Mode])
        await self._changed()

    async def _f_fill(self, name: str, args: Sequence[FaultArg]) -> None:
        if self.kiosk_kind is not KioskKind.COLLECTION:
            raise FaultError("fill: only a collection kiosk has slots")
        slots: dict[str, bool] = self._record["slots"]
        wanted = [str(a) for a in args] or list(slots)
        unknown = [s for s in wanted if s not in slots]
        if unknown:
            raise FaultError(
                f"fill: no slot {unknown[0]!r} (slots are {next(iter(slots))} ... {next(reversed(slots))})"
            )
        for slot in wanted:
            slots[slot] = True
        await self._changed()

    async def _f_clear(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.faults = _Faults()
        fresh = self._fresh_record()
        for key in ("paper", "ribbon", "card_stock", "mode", "door"):
            self._record[key] = fresh[key]
        self._want_online.set()
        await self._changed()

    async def _changed(self) -> None:
        self._save_record()
        await self._publish_state()


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def _choice(name: str, args: Sequence[FaultArg], choices: list[str]) -> str:
    if len(args) != 1 or str(args[0]) not in choices:
        raise FaultError(f"{name} takes one of {', '.join(choices)}")
    return str(args[0])


def _pct(value: int | None, capacity: int) -> int | None:
    if value is None:
        return None
    return min(100, -(-value * 100 // capacity))


def _reply_properties(correlation: bytes | None) -> Properties | None:
    if correlation is None:
        return None
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.CorrelationData = correlation
    return properties


def _write_atomically(path: Path, text: str) -> None:
    staging = path.with_name(f".{path.name}.new")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)


_FaultHandler = Callable[[KioskDevice, str, Sequence[FaultArg]], Awaitable[None]]
_FAULT_HANDLERS: Final[dict[str, _FaultHandler]] = {
    "offline": KioskDevice._f_offline,
    "online": KioskDevice._f_online,
    "restart": KioskDevice._f_restart,
    "paper_out": KioskDevice._f_paper_out,
    "ribbon_out": KioskDevice._f_ribbon_out,
    "card_stock": KioskDevice._f_card_stock,
    "jam": KioskDevice._f_jam,
    "card_removed": KioskDevice._f_card_removed,
    "never_taken": KioskDevice._f_never_taken,
    "slow_ack": KioskDevice._f_slow_ack,
    "duplicate_delivery": KioskDevice._f_duplicate_delivery,
    "silence": KioskDevice._f_silence,
    "door": KioskDevice._f_door,
    "mode": KioskDevice._f_mode,
    "fill": KioskDevice._f_fill,
    "clear": KioskDevice._f_clear,
}
FAULTS: Final = tuple(_FAULT_HANDLERS)
"""The kiosk's faults, by name."""
