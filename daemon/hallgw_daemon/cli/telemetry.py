"""``hallctl telemetry``: the gateways' MQTT telemetry, decoded for engineers.

``tail`` subscribes to ``hallgw/v1/<hall>/<gateway>/#`` on a broker (MQTT v5)
and prints each message as one line, or as one JSON object per line. It is a
monitoring client like the provincial centre's, so what it shows is what they
get: retained state first (flagged ``[retained]``), then the live stream.

A message that does not decode is a warning on stderr, never the end of the
tail: a monitoring tool must survive a bad publisher. Decoding is pure
(:func:`describe`, :func:`view`), the I/O is in :func:`tail_messages`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import ssl
import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, NoReturn, assert_never
from urllib.parse import urlsplit

import aiomqtt
import typer
from rich.text import Text

from hallgw_protocols.telemetry import (
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
    Severity,
    TopicKind,
    Topics,
    decode,
    parse_topic,
)
from hallgw_protocols.telemetry.topics import TOPIC_ROOT

from . import render
from .client import DEFAULT_TIMEOUT_S
from .errors import CliError, ExitCode, usage_error

DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
NODELAY: Final = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
_HEALTHY: Final = frozenset({"online", "busy"})
_EXPECTED: Final[dict[TopicKind, tuple[type[Payload], ...]]] = {
    TopicKind.STATUS: (Birth, Death),
    TopicKind.GATEWAY_METRICS: (GatewayMetrics,),
    TopicKind.DEVICE_STATE: (DeviceState,),
    TopicKind.DEVICE_METRICS: (DeviceMetrics,),
    TopicKind.ALARM: (Alarm,),
    TopicKind.AVAILABILITY: (Availability,),
    TopicKind.DROPPED: (Dropped,),
}

telemetry_app = typer.Typer(
    name="telemetry",
    help="The gateways' MQTT telemetry (what provincial monitoring receives).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- connecting --------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class BrokerLogin:
    """Where the broker is and how to log in: TLS for ``mqtts://``, a user name and password."""

    url: str
    host: str
    port: int
    tls: ssl.SSLContext | None = None
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``mqtt://HOST[:PORT]`` or ``mqtts://HOST[:PORT]``; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"--broker {url!r}: expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    if parts.username is not None or parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise ValueError(f"--broker {url!r}: only a scheme, host and port (use --username and --password-file)")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as err:
        raise ValueError(f"--broker {url!r}: {err}") from err
    return parts.scheme, parts.hostname, port


def tls_context(ca_cert: Path | None, client_cert: Path | None, client_key: Path | None) -> ssl.SSLContext:
    """Verify the broker against ``ca_cert`` (else the system's CAs); present a client certificate if given."""
    try:
        context = ssl.create_default_context(cafile=ca_cert)
    except OSError as err:  # ssl.SSLError too: not a PEM certificate
        raise usage_error(f"--mqtt-ca-cert {ca_cert}: {err.strerror or err}") from err
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert, client_key)
        except OSError as err:
            files = f"--mqtt-client-cert {client_cert}" + (f", --mqtt-client-key {client_key}" if client_key else "")
            raise usage_error(f"{files}: {err.strerror or err}") from err
    return context


def read_password(path: Path) -> str:
    """The first line of a password file (a file, so that it stays out of ``ps`` and shell history)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise usage_error(f"--password-file {path}: {getattr(err, 'strerror', None) or err}") from err
    if not lines or not lines[0]:
        raise usage_error(f"--password-file {path}: the first line must hold the password")
    return lines[0]


def subscription(hall: str | None, gateway: str | None) -> str:
    """``hallgw/v1/<hall or +>/<gateway or +>/#``."""
    try:
        Topics(hall or "any", gateway or "any")  # validates both as topic segments
    except ValueError as err:
        raise usage_error(str(err)) from err
    return f"{TOPIC_ROOT}/{hall or '+'}/{gateway or '+'}/#"


# --- describing one message --------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Shown:
    """A message as hallctl shows it: the line for people, the object for ``--json``."""

    line: Text
    record: dict[str, Any]


class Undecodable(ValueError):
    """A message on the tailed tree that is not telemetry hallctl knows; the text says why."""


def clock(time: object) -> str:
    """``10:15:02.123Z`` of an ISO 8601 UTC time; the text itself when it is not one."""
    if not isinstance(time, str):
        return "--:--:--.---Z"
    try:
        parsed = datetime.fromisoformat(time)
    except ValueError:
        return time
    return parsed.strftime("%H:%M:%S.%f")[:-3] + "Z"


def _counts(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in values.items())


def _ms(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    return f"{key} {value:g} ms" if isinstance(value, int | float) else ""


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def _device_state(payload: DeviceState) -> tuple[str, str]:
    facts = f"device {payload.device_id} state {payload.oper_state}"
    if payload.admin_state != "enabled":
        facts += f", admin {payload.admin_state}"
        if payload.admin_reason:
            facts += f" ({payload.admin_reason})"
    healthy = payload.oper_state in _HEALTHY
    if payload.last_error and not healthy:
        # The last error stays after a recovery; it explains only a device that is down.
        facts += f" ({payload.last_error.get('reason', '?')}, {payload.last_error.get('action', '?')})"
    return facts, "" if healthy else "red"


def _device_metrics(payload: DeviceMetrics) -> str:
    failed = sum(payload.commands_failed.values())
    return _join(
        f"device {payload.device_id} metrics {payload.interval_s:g}s: {payload.commands_ok} ok",
        f"{failed} failed ({_counts(payload.commands_failed)})" if failed else "0 failed",
        _ms(payload.latency_ms, "p50"),
        _ms(payload.latency_ms, "p99"),
        f"link errors {payload.link_errors}" if payload.link_errors else "",
        f"reconnects {payload.reconnects}" if payload.reconnects else "",
        f"probe failures {payload.probe_failures}" if payload.probe_failures else "",
        f"queue {payload.queue_depth}",
        _counts(payload.consumables),
    )


def _gateway_metrics(payload: GatewayMetrics) -> str:
    return _join(
        f"gateway metrics {payload.interval_s:g}s: {payload.devices_online}/{payload.devices_total} devices online",
        f"cpu {payload.cpu_percent:g}%",
        f"rss {payload.rss_bytes / 1e6:.1f} MB",
        _ms(payload.loop_lag_ms, "p99").replace("p99", "loop lag p99"),
        f"queues {_counts(payload.queue_depths)}" if payload.queue_depths else "",
    )


def _alarm(payload: Alarm) -> tuple[str, str]:
    facts = f"alarm {payload.alarm_id} {payload.state.value} {payload.severity.value} {payload.action.value}"
    if payload.state is AlarmState.CLEARED:
        return f"{facts} (raised {clock(payload.raised_at)})", "green"
    return f"{facts}: {payload.message}", "bold red" if payload.severity is Severity.CRITICAL else "yellow"


def _availability(payload: Availability) -> tuple[str, str]:
    facts = f"availability {payload.function}/{payload.area} {payload.available} of {payload.total}"
    if payload.unavailable:
        facts += f" (unavailable: {', '.join(payload.unavailable)})"
    return facts, "" if payload.available == payload.total else "yellow"


def describe(payload: Payload, envelope: Mapping[str, Any]) -> tuple[str, str]:
    """(the key facts, a rich style) of one payload: ``device idr-03 state offline (DEVICE_OFFLINE, engineer)``."""
    session = envelope.get("session")
    match payload:
        case Birth():
            version, digest = payload.version, payload.config_digest[:12]
            described = f"birth session {session}: {len(payload.devices)} devices, version {version}, config {digest}"
            style = "green"
        case Death():
            described, style = f"death session {session}: {payload.reason}", "bold red"
        case DeviceState():
            described, style = _device_state(payload)
        case DeviceMetrics():
            described, style = _device_metrics(payload), "dim"
        case GatewayMetrics():
            described, style = _gateway_metrics(payload), "dim"
        case Alarm():
            described, style = _alarm(payload)
        case Availability():
            described, style = _availability(payload)
        case Dropped():
            when = f"{clock(payload.first_dropped_at)} to {clock(payload.last_dropped_at)}"
            described, style = f"dropped while the broker was away: {_counts(payload.counts)} ({when})", "yellow"
        case _:
            assert_never(payload)  # a new payload type needs its line here
    return described, style


def _subject(kind: TopicKind, params: tuple[str, ...]) -> str:
    """What a topic is about, for messages without a payload: ``alarm idr-03.offline``."""
    match kind:
        case TopicKind.DEVICE_STATE:
            return f"device {params[0]} state"
        case TopicKind.DEVICE_METRICS:
            return f"device {params[0]} metrics"
        case TopicKind.ALARM:
            return f"alarm {params[0]}"
        case TopicKind.AVAILABILITY:
            return f"availability {params[0]}/{params[1]}"
        case TopicKind.GATEWAY_METRICS:
            return "gateway metrics"
        case _:
            return str(kind.value)


def _line(time: object, where: str, facts: str, style: str, *, seq: object, retain: bool) -> Text:
    text = Text(clock(time), style="dim")
    text.append(" ")
    text.append(where, style="bold")
    text.append(" ")
    text.append(facts, style=style)
    if seq is not None:
        text.append(f" seq {seq}", style="dim")
    if retain:
        text.append(" [retained]", style="cyan")
    return text


def view(topic: str, data: bytes, *, retain: bool) -> Shown:
    """How hallctl shows one message; :class:`Undecodable` when it is not telemetry it knows."""
    try:
        kind, hall, gateway, params = parse_topic(topic)
    except ValueError as err:
        raise Undecodable(str(err)) from err
    where = f"{hall}/{gateway}"
    base: dict[str, Any] = {"topic": topic, "retain": retain, "hall": hall, "gateway": gateway, "kind": kind.value}
    if kind is TopicKind.REBIRTH:
        # A monitoring client's command to the gateway: its payload means nothing.
        return Shown(_line(None, where, "rebirth requested", "cyan", seq=None, retain=retain), base)
    if not data:
        # A retained message deleted (an alarm that cleared, a device removed).
        facts = f"{_subject(kind, params)} cleared (retained removed)"
        return Shown(
            _line(None, where, facts, "green", seq=None, retain=retain),
            {**base, "retained_removed": True, "envelope": None, "payload": None},
        )
    try:
        envelope, payload = decode(data)
    except (ValueError, TypeError) as err:  # TypeError: a field of the wrong JSON type
        raise Undecodable(f"cannot decode the payload ({len(data)} bytes): {err}") from err
    if not isinstance(payload, _EXPECTED[kind]):
        raise Undecodable(f"{payload.TYPE} payload on a {kind.value} topic")
    try:
        facts, style = describe(payload, envelope)
    except (TypeError, ValueError, AttributeError) as err:  # decode() checks names, not JSON types
        raise Undecodable(f"{payload.TYPE}: a field of the wrong type: {err}") from err
    return Shown(
        _line(envelope.get("time"), where, facts, style, seq=envelope.get("seq"), retain=retain),
        {**base, "envelope": dict(envelope), "payload": payload.fields()},
    )


# --- tailing -----------------------------------------------------------------


def _broker_error(login: BrokerLogin, err: aiomqtt.MqttError, *, connected: bool) -> CliError:
    """Classify an MQTT failure: refused (our credentials or rights) or unreachable (network, broker down)."""
    if isinstance(err, aiomqtt.MqttCodeError) and not connected:
        return CliError(
            code="MQTT",
            reason="BROKER_REFUSED",
            message=f"the MQTT broker at {login.url} refused the connection: {err}",
            action="none",
            exit_code=ExitCode.USAGE,
        )
    if connected:
        message = f"lost the connection to the MQTT broker at {login.url}: {err}"
    else:
        message = f"cannot reach the MQTT broker at {login.url}: {err}"
    return CliError(
        code="MQTT", reason="BROKER_UNREACHABLE", message=message, action="engineer", exit_code=ExitCode.UNREACHABLE
    )


async def tail_messages(
    login: BrokerLogin,
    topic_filter: str,
    on_message: Callable[[str, bytes, bool], None],
    *,
    count: int | None,
    timeout: float,
) -> None:
    """Subscribe and hand every message to ``on_message(topic, payload, retain)``; after ``count``, return."""
    mqtt = aiomqtt.Client(
        login.host,
        login.port,
        username=login.username,
        password=login.password,
        tls_context=login.tls,
        protocol=aiomqtt.ProtocolVersion.V5,
        socket_options=NODELAY,
        timeout=timeout,
    )
    connected = False
    try:
        async with mqtt:
            connected = True
            granted = await mqtt.subscribe(topic_filter, qos=1)
            refusals = [code for code in granted if getattr(code, "is_failure", False)]
            if refusals:
                raise CliError(
                    code="MQTT",
                    reason="BROKER_REFUSED",
                    message=f"the MQTT broker at {login.url} refused the subscription to {topic_filter}: {refusals[0]}",
                    action="none",
                    exit_code=ExitCode.USAGE,
                )
            seen = 0
            async for message in mqtt.messages:
                payload = message.payload  # bytes as received; the wider type is for publishing
                data = bytes(payload) if isinstance(payload, bytes | bytearray) else b""
                on_message(message.topic.value, data, bool(message.retain))
                seen += 1
                if count is not None and seen >= count:
                    return
    except aiomqtt.MqttError as err:
        raise _broker_error(login, err, connected=connected) from err


def _fail(error: CliError, *, json_output: bool) -> NoReturn:
    if json_output:
        typer.echo(json.dumps(error.to_json(), ensure_ascii=False))
    render.make_console(stderr=True).print(Text(error.line(), style="red"), soft_wrap=True)
    raise typer.Exit(int(error.exit_code))


@contextlib.contextmanager
def _reporting(*, json_output: bool) -> Iterator[None]:
    """One error line and the exit code, as the other commands do; Ctrl-C ends a tail with 0."""
    try:
        yield
    except CliError as error:
        _fail(error, json_output=json_output)
    except KeyboardInterrupt:
        raise typer.Exit(int(ExitCode.OK)) from None
    except BrokenPipeError:
        # `hallctl telemetry tail | head` closed our stdout: a normal way to stop.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(int(ExitCode.OK)) from None
    except OSError as exc:  # not a file of ours (those are checked where read): the terminal, the system
        _fail(
            CliError("LOCAL", "INTERNAL", str(exc.strerror or exc), "engineer", ExitCode.INTERNAL),
            json_output=json_output,
        )


class _LineConsole(render.PipeConsole):
    """Stdout for lines (soft-wrapped, so no width to set): a closed pipe is BrokenPipeError, not exit 1."""

    def __init__(self) -> None:
        super().__init__(highlight=False)


def _root_option(ctx: typer.Context, name: str, default: Any) -> Any:
    """A global option of ``hallctl`` (given before ``telemetry``)."""
    value = ctx.find_root().params.get(name)
    return default if value is None else value


@telemetry_app.command()
def tail(  # noqa: PLR0917 - typer passes options by position
    ctx: typer.Context,
    broker: Annotated[
        str,
        typer.Option(
            "--broker", "-b", envvar="HALLGW_MQTT_BROKER", metavar="URL", help="mqtt://HOST[:PORT] or mqtts://..."
        ),
    ],
    hall: Annotated[str | None, typer.Option("--hall", metavar="HALL", help="Only this hall (default: all).")] = None,
    gateway: Annotated[
        str | None, typer.Option("--gateway", metavar="GATEWAY", help="Only this gateway (default: all).")
    ] = None,
    json_flag: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, metavar="N", help="Stop after N messages.")
    ] = None,
    mqtt_ca_cert: Annotated[
        Path | None,
        typer.Option(
            "--mqtt-ca-cert", envvar="HALLGW_MQTT_CA_CERT", metavar="PEM", help="mqtts: the CA of the broker."
        ),
    ] = None,
    mqtt_client_cert: Annotated[
        Path | None,
        typer.Option(
            "--mqtt-client-cert", envvar="HALLGW_MQTT_CLIENT_CERT", metavar="PEM", help="mqtts: our certificate."
        ),
    ] = None,
    mqtt_client_key: Annotated[
        Path | None,
        typer.Option(
            "--mqtt-client-key", envvar="HALLGW_MQTT_CLIENT_KEY", metavar="PEM", help="The key of --mqtt-client-cert."
        ),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", "-u", envvar="HALLGW_MQTT_USERNAME", help="MQTT user name.")
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file", envvar="HALLGW_MQTT_PASSWORD_FILE", metavar="FILE", help="MQTT password: first line."
        ),
    ] = None,
) -> None:
    """Show the telemetry stream decoded, one line per message. Ctrl-C stops (exit 0)."""
    json_output = json_flag or bool(_root_option(ctx, "json_output", False))
    timeout = float(_root_option(ctx, "timeout", DEFAULT_TIMEOUT_S))
    console = _LineConsole()
    warnings = render.make_console(stderr=True)

    def show(topic: str, data: bytes, retain: bool) -> None:
        try:
            shown = view(topic, data, retain=retain)
        except Undecodable as err:
            warnings.print(Text(f"hallctl: warning: {topic}: {err}; skipped", style="yellow"), soft_wrap=True)
            return
        if json_output:
            typer.echo(json.dumps(shown.record, ensure_ascii=False, separators=(",", ":")))
        else:
            console.print(shown.line, soft_wrap=True)

    with _reporting(json_output=json_output):
        try:
            scheme, host, port = parse_broker_url(broker)
        except ValueError as err:
            raise usage_error(str(err)) from err
        tls_files = (mqtt_ca_cert, mqtt_client_cert, mqtt_client_key)
        if scheme == "mqtt" and any(tls_files):
            raise usage_error("--mqtt-ca-cert, --mqtt-client-cert and --mqtt-client-key need an mqtts:// broker")
        if mqtt_client_key is not None and mqtt_client_cert is None:
            raise usage_error("--mqtt-client-key needs --mqtt-client-cert")
        if password_file is not None and username is None:
            raise usage_error("--password-file needs --username")
        login = BrokerLogin(
            url=broker,
            host=host,
            port=port,
            tls=tls_context(*tls_files) if scheme == "mqtts" else None,
            username=username,
            password=read_password(password_file) if password_file is not None else None,
        )
        topic_filter = subscription(hall, gateway)
        asyncio.run(tail_messages(login, topic_filter, show, count=count, timeout=timeout))
