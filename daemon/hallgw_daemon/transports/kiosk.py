"""Kiosks over MQTT: one shared connection for every kiosk of the hall (docs/kiosk-protocol.md).

Theory of operation
-------------------
:class:`KioskHub` holds one MQTT v5 connection (aiomqtt, TCP_NODELAY: the
stack notes measured 88 ms per round trip without it) and subscribes to the
four filters of this gateway: its replies from every kiosk, and every kiosk's
retained status, retained state and heartbeats. Each message is parsed with
:mod:`hallgw_protocols.kiosk` and handed to the :class:`KioskLink` of its
kiosk; a message that breaks the protocol is counted and logged without its
content, never raised.

A :class:`KioskLink` is what a kiosk device is attached to (``kiosk://ID``
opens it). It knows whether the kiosk is alive: its retained status says
online and its heartbeats keep coming (:class:`~hallgw_protocols.kiosk.Liveness`:
a few missed beats, or the Last Will's "offline", and it is gone). A link
opens only while the kiosk is alive; :meth:`KioskLink.wait_gone` returns when
it stops being alive or the broker connection drops, which is the supervisor's
"link lost". Commands go out on the kiosk's ``cmd`` topic with this gateway's
Response Topic and fresh Correlation Data; replies come back to the link's
``on_reply`` callback, which the kiosk driver routes by command id (the
durable key), so an answer is never lost with its correlation.

The hub reconnects with a capped backoff. While it is away every kiosk is
gone, and commands fail with :class:`LinkClosedError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hallgw_daemon.transports.link import LinkClosedError, LinkOpenError, LinkUrl, parse_kiosk_url
from hallgw_daemon.transports.mqtt_guard import guarded
from hallgw_protocols.kiosk import (
    COMMAND_EXPIRY_S,
    Channel,
    Command,
    ForeignTopic,
    GatewayTopics,
    KioskProtocolError,
    Liveness,
    RejectionCounter,
    Reply,
    State,
    parse_heartbeat,
    parse_reply,
    parse_state,
    parse_status,
    parse_topic,
)

NODELAY: Final = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
BACKOFF_MAX: Final = 2.0
KEEPALIVE: Final = 10
ReplyHandler = Callable[[Reply, bytes | None], None]


class KioskLink:
    """One kiosk as the hub sees it (see the module docstring)."""

    def __init__(self, hub: KioskHub, kiosk_id: str) -> None:
        self.hub = hub
        self.kiosk_id = kiosk_id
        self.url = LinkUrl(scheme="kiosk", path=f"kiosk://{kiosk_id}")
        self.liveness = Liveness(misses=hub.heartbeat_misses)
        self.state: State | None = None
        self.state_at: float | None = None
        self.state_time: dt.datetime | None = None
        """When the last state arrived (wall clock, UTC), for display."""
        self.on_reply: ReplyHandler | None = None
        self._changed = asyncio.Event()

    # -- what the hub feeds in ----------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()

    @property
    def alive(self) -> bool:
        return self.hub.connected and self.liveness.online(time.monotonic())

    async def wait_alive(self, timeout: float) -> bool:
        """Until the kiosk is alive (status online and a fresh heartbeat or status), or ``timeout``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while not self.alive:
            remaining = until - loop.time()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.5)):
                    await self._changed.wait()
        return True

    async def wait_state(self, timeout: float) -> State | None:
        """The kiosk's state, waiting up to ``timeout`` for it (it follows the kiosk's status)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        while self.state is None and (remaining := until - loop.time()) > 0:
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._changed.wait()
        return self.state

    async def wait_gone(self) -> str:
        """Return (with the reason) once the kiosk is no longer alive."""
        while True:
            if not self.hub.connected:
                return "the broker connection is down"
            now = time.monotonic()
            if not self.liveness.online(now):
                return "the kiosk is offline (its last will, or its heartbeats stopped)"
            deadline = self.liveness.deadline()
            # Heartbeats only move the deadline on: wake at it (or on a change), not on every beat.
            wait = 1.0 if deadline is None else max(0.05, deadline - now + 0.01)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._changed.wait()

    # -- commands -----------------------------------------------------------------------
    async def send(self, command: Command) -> bytes:
        """Publish ``command`` on the kiosk's cmd topic; the Correlation Data it carries."""
        return await self.hub.publish_command(self.kiosk_id, command)

    async def close(self) -> None:
        self.on_reply = None

    def __repr__(self) -> str:
        return f"KioskLink({self.kiosk_id!r})"


class KioskHub:
    """The shared MQTT connection for the hall's kiosks (see the module docstring)."""

    def __init__(
        self,
        *,
        broker: str,
        hall: str,
        gateway_id: str,
        client_id: str,
        heartbeat_misses: int = 3,
        username: str | None = None,
        password: str | None = None,
        on_event: Callable[[str, dict[str, object]], None] | None = None,
    ) -> None:
        parts = urlsplit(broker)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 1883
        self.topics = GatewayTopics(hall, gateway_id)
        self.client_id = client_id
        self.heartbeat_misses = heartbeat_misses
        self._username = username
        self._password = password
        self._on_event = on_event or (lambda _e, _f: None)
        self._links: dict[str, KioskLink] = {}
        self._client: aiomqtt.Client | None = None
        self._correlation = 0
        self.rejections = RejectionCounter()
        self.connected_event = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._client is not None and self.connected_event.is_set()

    def link(self, kiosk_id: str) -> KioskLink:
        """The link of ``kiosk_id`` (created on first use; it lives as long as the hub)."""
        found = self._links.get(kiosk_id)
        if found is None:
            found = self._links[kiosk_id] = KioskLink(self, kiosk_id)
        return found

    # -- the connection -----------------------------------------------------------------
    async def run(self) -> None:
        """Connect, subscribe and dispatch for ever, reconnecting with a capped backoff."""
        attempt = 0
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, identifier=self.client_id, protocol=aiomqtt.ProtocolVersion.V5,
                    keepalive=KEEPALIVE, socket_options=NODELAY, username=self._username, password=self._password,
                ) as client:  # fmt: skip
                    for topic_filter, qos in self.topics.subscriptions():
                        await client.subscribe(topic_filter, qos=qos)
                    self._client = client
                    self.connected_event.set()
                    attempt = 0
                    self._on_event("kiosk hub connected", {"broker": f"{self.host}:{self.port}"})
                    self._notify_all()
                    async with guarded(client):
                        async for message in client.messages:
                            self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # aiomqtt.MqttError, or its TaskGroup's ExceptionGroup
                self._on_event("kiosk hub disconnected", {"error": type(err).__name__})
            finally:
                self._client = None
                self.connected_event.clear()
                self._notify_all()
            attempt += 1
            await asyncio.sleep(min(BACKOFF_MAX, 0.05 * 2 ** min(attempt, 6)))

    def _notify_all(self) -> None:
        for link in self._links.values():
            link._notify()

    def _dispatch(self, message: aiomqtt.Message) -> None:
        payload = message.payload
        if not isinstance(payload, bytes | bytearray):
            return
        try:
            topic = parse_topic(message.topic.value)
        except ForeignTopic:
            return
        if topic.hall != self.topics.hall:
            return
        link = self.link(topic.kiosk_id)
        try:
            wake = self._feed(link, topic.channel, topic.gateway_id, bytes(payload), message.properties)
        except KioskProtocolError as err:
            self.rejections.count(err)
            self._on_event(
                "kiosk message refused",
                {"kiosk_id": topic.kiosk_id, "channel": topic.channel.value, "fault": err.fault.value},
            )
            return
        if wake:
            link._notify()

    def _feed(
        self, link: KioskLink, channel: Channel, gateway_id: str | None, payload: bytes, props: Properties | None
    ) -> bool:
        """Hand one message to its link; whether the link's watchers should look again."""
        now = time.monotonic()
        if channel is Channel.REPLY:
            if gateway_id != self.topics.gateway_id:
                return False
            reply = parse_reply(payload)
            if link.on_reply is not None:
                link.on_reply(reply, _correlation_of(props))
        elif channel is Channel.STATUS and payload:
            link.liveness.on_status(parse_status(payload), now)
        elif channel is Channel.STATE and payload:
            link.state, link.state_at = parse_state(payload), now
            link.state_time = dt.datetime.now(dt.UTC)
        elif channel is Channel.HEARTBEAT:
            was_alive = link.liveness.online(now)
            link.liveness.on_heartbeat(parse_heartbeat(payload), now)
            return not was_alive  # otherwise only a later deadline: watchers wake at the old one
        return True

    async def publish_command(self, kiosk_id: str, command: Command) -> bytes:
        client = self._client
        if client is None or not self.connected_event.is_set():
            raise LinkClosedError(f"kiosk://{kiosk_id}: the broker connection is down")
        self._correlation += 1
        correlation = f"{self.client_id}:{self._correlation}".encode()
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = self.topics.response_topic(kiosk_id)
        props.CorrelationData = correlation
        props.MessageExpiryInterval = COMMAND_EXPIRY_S
        try:
            await client.publish(self.topics.kiosk(kiosk_id).cmd, command.to_bytes(), qos=1, properties=props)
        except aiomqtt.MqttError as err:
            raise LinkClosedError(f"kiosk://{kiosk_id}: publishing failed: {err}") from err
        return correlation

    async def open(self, url: LinkUrl, *, timeout: float) -> KioskLink:
        """The link of the kiosk ``url`` names, once it is alive; LinkOpenError otherwise."""
        link = self.link(parse_kiosk_url(url.path))
        if not await link.wait_alive(timeout):
            why = "the broker connection is down" if not self.connected else "the kiosk is offline"
            raise LinkOpenError(f"{url.path}: {why}")
        return link


def _correlation_of(properties: Properties | None) -> bytes | None:
    value = getattr(properties, "CorrelationData", None) if properties is not None else None
    return bytes(value) if value else None


_HUB: KioskHub | None = None


def install_hub(hub: KioskHub | None) -> None:
    """Make ``hub`` the one ``kiosk://`` links open through (the daemon installs it at start)."""
    global _HUB  # noqa: PLW0603 - one hub per daemon, like its one config
    _HUB = hub


async def open_kiosk(url: LinkUrl, *, timeout: float = 2.0) -> KioskLink:
    if _HUB is None:
        raise LinkOpenError(f"{url.path}: no [kiosks] broker is configured")
    return await _HUB.open(url, timeout=timeout)
