"""A private Mosquitto for tests, and MQTT clients to talk to it.

``async with mosquitto_broker(tmp_path) as broker:`` runs ``mosquitto`` on
127.0.0.1 and a free port with a generated config, and stops it afterwards.
The broker can be stopped, killed and restarted on the same port, so tests can
take it away from a publisher and bring it back (the port may be in TIME_WAIT
from the old connections; mosquitto binds with SO_REUSEADDR, so that is fine).

The config follows the measurements in the stack notes: TCP_NODELAY on the
broker (Nagle plus delayed ACK costs 40 ms per round trip otherwise), no cap on
queued QoS 1 messages (the default of 1000 silently drops bursts), the log on
stderr (stdout is block-buffered in a pipe). Readiness is the broker's own
"running" log line, read by a thread that also keeps the log, so a test that
blocks the event loop cannot make the broker stall on a full pipe.

:func:`client` makes an aiomqtt client as the project uses them (MQTT v5,
TCP_NODELAY); :func:`subscriber` and :func:`collect` gather messages until a
predicate over everything received holds, within a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import aiomqtt
from paho.mqtt.properties import Properties

MOSQUITTO: Final = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOST: Final = "127.0.0.1"
START_TIMEOUT_S: Final = 10.0
STOP_TIMEOUT_S: Final = 5.0
NODELAY: Final = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
_RUNNING: Final = re.compile(r"mosquitto version \S+ running")  # logged once every listener is open
# MQTT 3.1.1 CONNECT: clean session, keepalive 60, empty client id; and DISCONNECT.
_CONNECT: Final = bytes.fromhex("10 0c 0004 4d515454 04 02 003c 0000")
_DISCONNECT: Final = bytes.fromhex("e0 00")
_PORT_IN_USE: Final = "Address already in use"
_PORT_ATTEMPTS: Final = 3  # a free port can be taken by someone else before mosquitto binds it


class BrokerError(RuntimeError):
    """The test broker did not start or stop as asked; the message carries its log."""


@dataclasses.dataclass(frozen=True, slots=True)
class BrokerTls:
    """A second, TLS listener: the broker's certificate and key, and the CA its clients trust.

    With ``require_certificate``, clients must present a certificate signed by ``ca_cert``.
    """

    cert: Path
    key: Path
    ca_cert: Path
    require_certificate: bool = False


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def password_line(username: str, password: str) -> str:
    """A line of a mosquitto password file (the ``$6$`` salted SHA-512 that ``mosquitto_passwd`` writes)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return f"{username}:$6${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


class Broker:
    """One mosquitto process on fixed ports; :func:`mosquitto_broker` makes and cleans one up."""

    host: Final = HOST

    def __init__(self, workdir: Path, *, tls: BrokerTls | None = None, users: Mapping[str, str] | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.tls = tls
        self.users = dict(users or {})
        self.port = free_port()
        self.tls_port = free_port() if tls is not None else None
        self.config_path = workdir / "mosquitto.conf"
        self.log_path = workdir / "mosquitto.log"
        self.starts = 0
        self.last_exit: int | None = None
        """The exit status of the last run: 0 after a clean stop, -9 after a kill."""
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._log: list[str] = []
        self._log_lock = threading.Lock()

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT``: the plain listener."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def tls_url(self) -> str:
        """``mqtts://127.0.0.1:PORT``: the TLS listener (only with ``tls``)."""
        if self.tls_port is None:
            raise BrokerError("this broker has no TLS listener (pass tls=BrokerTls(...))")
        return f"mqtts://{self.host}:{self.tls_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        """Everything the broker logged, over all its runs."""
        with self._log_lock:
            return "".join(self._log)

    def _config(self) -> str:
        lines = [
            "# generated by tests/support/broker.py",
            "per_listener_settings false",
            f"allow_anonymous {'false' if self.users else 'true'}",
            "persistence false",
            "log_dest stderr",
            "log_timestamp_format %H:%M:%S",
            "set_tcp_nodelay true",
            "max_queued_messages 0",  # no cap: the default (1000) silently drops QoS 1 bursts
            "max_inflight_messages 0",  # no cap beyond the client's own receive maximum
        ]
        if os.geteuid() == 0:
            # Started as root, mosquitto switches to user "mosquitto" before it reads
            # the password file, and that user cannot enter pytest's 0700 tmp dirs
            # ("Unable to open pwfile"). "root" keeps the test process's rights.
            lines.append("user root")
        if self.users:
            password_file = self.workdir / "passwords"
            password_file.write_text("".join(password_line(u, p) + "\n" for u, p in self.users.items()))
            password_file.chmod(0o600)
            lines.append(f"password_file {password_file}")
        lines.append(f"listener {self.port} {self.host}")
        if self.tls is not None:
            lines += [
                f"listener {self.tls_port} {self.host}",
                f"certfile {self.tls.cert}",
                f"keyfile {self.tls.key}",
                f"cafile {self.tls.ca_cert}",
                f"require_certificate {'true' if self.tls.require_certificate else 'false'}",
            ]
        return "\n".join(lines) + "\n"

    def _read_log(self, stream: Callable[[], bytes], ready: asyncio.Future[None]) -> None:
        """Thread: keep the log, resolve ``ready`` at the running line or at exit."""
        loop = ready.get_loop()

        def resolve(error: BrokerError | None) -> None:
            if ready.done():
                return
            if error is None:
                ready.set_result(None)
            else:
                ready.set_exception(error)

        with self.log_path.open("ab") as copy:
            while line := stream():
                copy.write(line)
                copy.flush()
                text = line.decode(errors="replace")
                with self._log_lock:
                    self._log.append(text)
                if _RUNNING.search(text) and not ready.done():
                    loop.call_soon_threadsafe(resolve, None)
        error = BrokerError(f"mosquitto exited before it was ready; its log:\n{self.log}")
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(resolve, error)

    async def _spawn(self) -> None:
        self.config_path.write_text(self._config())
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        process = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child; its wait is in a thread
            [MOSQUITTO, "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C at the terminal stops the test, which stops the broker
        )
        assert process.stderr is not None
        self._process = process
        self.starts += 1
        self._reader = threading.Thread(
            target=self._read_log, args=(process.stderr.readline, ready), name=f"mosquitto-log-{process.pid}"
        )
        self._reader.start()
        try:
            await asyncio.wait_for(ready, START_TIMEOUT_S)
        except TimeoutError:
            await self.kill()
            raise BrokerError(f"mosquitto was not ready within {START_TIMEOUT_S}s; its log:\n{self.log}") from None
        except BrokerError:
            await self._reap()
            raise
        await self._handshake()

    async def _handshake(self) -> None:
        """An MQTT CONNECT answered: the broker's main loop runs.

        The running line is logged just before mosquitto 2.0 sets the flag its
        SIGTERM handler clears, so a stop right after that line can be lost
        (2 in 20 tries hung). A CONNACK comes from inside the loop.
        """
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(_CONNECT)
            await writer.drain()
            connack = await asyncio.wait_for(reader.readexactly(4), START_TIMEOUT_S)
            writer.write(_DISCONNECT)
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()
        if connack[0] != 0x20:
            raise BrokerError(f"mosquitto answered CONNECT with {connack.hex()}; its log:\n{self.log}")

    async def start(self) -> None:
        """Start the broker and return once it accepts connections."""
        if self.running:
            raise BrokerError("the broker is already running")
        # Only the first start may move to other ports (someone took the free one
        # first); a restart keeps its ports, so that clients can reconnect.
        attempts = _PORT_ATTEMPTS if self.starts == 0 else 1
        for attempt in range(attempts):
            with self._log_lock:
                mark = len(self._log)
            try:
                await self._spawn()
            except BrokerError:
                with self._log_lock:
                    taken = any(_PORT_IN_USE in line for line in self._log[mark:])
                if not taken or attempt == attempts - 1:
                    raise
                self.port = free_port()
                if self.tls_port is not None:
                    self.tls_port = free_port()
            else:
                return

    async def _reap(self) -> None:
        process, reader = self._process, self._reader
        if process is not None:
            self.last_exit = await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
            self._process = None
        if reader is not None:
            await asyncio.to_thread(reader.join, STOP_TIMEOUT_S)
            self._reader = None

    async def stop(self) -> None:
        """SIGTERM and wait: clients see the connection close (their wills are published first)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
        await self._reap()

    async def kill(self) -> None:
        """SIGKILL and wait: the broker vanishes without a word to its clients."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        await self._reap()

    async def restart(self) -> None:
        """Stop (if running) and start again on the same ports, with nothing retained (no persistence)."""
        await self.stop()
        await self.start()


@contextlib.asynccontextmanager
async def mosquitto_broker(
    workdir: Path, *, tls: BrokerTls | None = None, users: Mapping[str, str] | None = None
) -> AsyncIterator[Broker]:
    """A running broker whose config and log live in ``workdir``; stopped on exit.

    ``users`` (name to password) turns anonymous access off on every listener.
    """
    broker = Broker(workdir, tls=tls, users=users)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


# --- clients ---------------------------------------------------------------


def client(
    url: str,
    *,
    identifier: str | None = None,
    username: str | None = None,
    password: str | None = None,
    tls_context: ssl.SSLContext | None = None,
    will: aiomqtt.Will | None = None,
) -> aiomqtt.Client:
    """An aiomqtt client for ``mqtt://HOST:PORT`` (or ``mqtts://`` with ``tls_context``): MQTT v5, TCP_NODELAY."""
    parts = urlsplit(url)
    if parts.scheme not in {"mqtt", "mqtts"} or parts.hostname is None or parts.port is None:
        raise ValueError(f"expected mqtt://HOST:PORT or mqtts://HOST:PORT, got {url!r}")
    if (parts.scheme == "mqtts") != (tls_context is not None):
        raise ValueError("mqtts:// needs a tls_context, and mqtt:// takes none")
    return aiomqtt.Client(
        parts.hostname,
        parts.port,
        identifier=identifier,
        username=username,
        password=password,
        tls_context=tls_context,
        will=will,
        protocol=aiomqtt.ProtocolVersion.V5,
        socket_options=NODELAY,
        timeout=START_TIMEOUT_S,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    """A message as a subscriber received it."""

    topic: str
    payload: bytes
    retain: bool
    qos: int
    properties: Properties | None

    @classmethod
    def of(cls, message: aiomqtt.Message) -> Message:
        payload = message.payload
        if not isinstance(payload, bytes | bytearray):  # received messages carry bytes
            raise TypeError(f"unexpected payload type {type(payload).__name__}")
        return cls(message.topic.value, bytes(payload), bool(message.retain), message.qos, message.properties)


class CollectTimeout(TimeoutError):
    """The predicate did not hold in time; ``messages`` is what did arrive."""

    def __init__(self, message: str, messages: list[Message]) -> None:
        super().__init__(message)
        self.messages = messages


Until = Callable[[list[Message]], bool]


class Subscriber:
    """A subscribed client; :meth:`collect` reads on until a predicate over all received messages holds."""

    def __init__(self, mqtt: aiomqtt.Client, topic_filter: str) -> None:
        self.client = mqtt
        self.topic_filter = topic_filter
        self.messages: list[Message] = []
        """Every message received since subscribing, in order."""

    async def collect(self, *, until: Until, timeout: float) -> list[Message]:
        """All messages so far (a copy) once ``until(messages)`` holds; CollectTimeout after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while not until(self.messages):
                    self.messages.append(Message.of(await anext(self.client.messages)))
        except TimeoutError:
            topics = ", ".join(m.topic for m in self.messages[-10:]) or "none"
            raise CollectTimeout(
                f"{self.topic_filter}: condition not met within {timeout}s after {len(self.messages)} messages "
                f"(last topics: {topics})",
                list(self.messages),
            ) from None
        return list(self.messages)


@contextlib.asynccontextmanager
async def subscriber(
    url: str,
    topic_filter: str,
    *,
    qos: int = 1,
    username: str | None = None,
    password: str | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> AsyncIterator[Subscriber]:
    """A client subscribed to ``topic_filter`` (the SUBACK has arrived when this enters)."""
    async with client(url, username=username, password=password, tls_context=tls_context) as mqtt:
        await mqtt.subscribe(topic_filter, qos=qos)
        yield Subscriber(mqtt, topic_filter)


async def collect(
    url: str,
    topic_filter: str,
    *,
    until: Until,
    timeout: float,
    qos: int = 1,
    username: str | None = None,
    password: str | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> list[Message]:
    """Subscribe to ``topic_filter`` and return the messages received once ``until(messages)`` holds.

    Retained messages arrive first, flagged ``retain``. Raises :class:`CollectTimeout`
    (a ``TimeoutError``) with what did arrive when the predicate does not hold in time.
    """
    async with subscriber(
        url, topic_filter, qos=qos, username=username, password=password, tls_context=tls_context
    ) as sub:
        return await sub.collect(until=until, timeout=timeout)


def count(n: int) -> Until:
    """A predicate: at least ``n`` messages."""
    return lambda messages: len(messages) >= n
