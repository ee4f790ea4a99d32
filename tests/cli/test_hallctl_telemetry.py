"""``hallctl telemetry tail`` against a real mosquitto: human lines, JSON lines, bad messages, failures."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from support.broker import Broker, BrokerTls, client, mosquitto_broker
from support.pki import Pki
from typer.testing import CliRunner

from hallgw_daemon.cli.main import app
from hallgw_daemon.cli.telemetry import Undecodable, view
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
    StaffAction,
    Topics,
    encode,
)

ENTRY = [sys.executable, "-c", "from hallgw_daemon.cli.main import main; main()"]
WAIT_S = 15.0
T0 = "2026-05-17T10:15:02.123Z"
GW1 = Topics("hall-a", "gw-1")
GW2 = Topics("hall-a", "gw-2")

BIRTH = Birth(
    version="0.1.0",
    config_digest="0123456789abcdef0123",
    devices=[
        {"device_id": f"idr-0{i}", "kind": "idcard_reader", "station": f"window-0{i}", "area": "window", "name": ""}
        for i in range(1, 6)
    ],
)
IDR03_OFFLINE = DeviceState(
    device_id="idr-03",
    kind="idcard_reader",
    station="window-03",
    admin_state="enabled",
    admin_reason="",
    oper_state="offline",
    since=T0,
    last_error={"reason": "DEVICE_OFFLINE", "message": "no answer", "action": "engineer", "time": T0},
)
WINDOWS = Availability(function="id_card_reading", area="window", available=3, total=4, unavailable=["idr-03"])
ALARM = Alarm(
    alarm_id="idr-03.offline",
    device_id="idr-03",
    state=AlarmState.RAISED,
    severity=Severity.MAJOR,
    action=StaffAction.ENGINEER_NEEDED,
    message="idr-03 does not answer",
    raised_at=T0,
    cleared_at=None,
)
METRICS = DeviceMetrics(
    device_id="idr-01",
    interval_s=60.0,
    commands_ok=12,
    commands_failed={"NO_CARD": 2},
    latency_ms={"p50": 12.0, "p90": 30.0, "p99": 40.5, "max": 41.0, "count": 14},
    link_errors=0,
    reconnects=0,
    probe_failures=0,
    queue_depth=0,
    consumables={},
)
GATEWAY = GatewayMetrics(
    interval_s=60.0,
    cpu_percent=3.5,
    rss_bytes=45_100_000,
    loop_lag_ms={"p50": 0.2, "p99": 1.5, "max": 2.0},
    queue_depths={"telemetry": 0},
    devices_total=5,
    devices_online=4,
)
DROPPED = Dropped(counts={"metrics": 12}, first_dropped_at=T0, last_dropped_at="2026-05-17T10:20:00.000Z")


def message(payload: Payload, seq: int, *, session: int = 4) -> bytes:
    return encode(payload, session=session, seq=seq, time=T0)


def hallctl_env() -> dict[str, str]:
    """The environment of hallctl subprocesses: wide, colourless, no MQTT settings from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLGW_") and k != "FORCE_COLOR"}
    env["COLUMNS"] = "200"
    return env


class Tail:
    """``hallctl telemetry tail`` as a process, read line by line with a deadline on each read."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, *args: str) -> Tail:
        process = await asyncio.create_subprocess_exec(
            *ENTRY,
            "telemetry",
            "tail",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=hallctl_env(),
        )
        return cls(process)

    async def line(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), WAIT_S)
        assert line, f"hallctl ended early: {await self.finish()}"
        return line.decode().rstrip("\n")

    async def finish(self) -> tuple[int, str, str]:
        """(exit code, the rest of stdout, stderr)."""
        try:
            out, err = await asyncio.wait_for(self.process.communicate(), WAIT_S)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise
        assert self.process.returncode is not None
        return self.process.returncode, out.decode(), err.decode()


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


async def publish(url: str, *messages: tuple[str, bytes, bool]) -> None:
    """Publish (topic, payload, retain) in order, each acknowledged (QoS 1)."""
    async with client(url) as publisher:
        for topic, payload, retain in messages:
            await publisher.publish(topic, payload, qos=1, retain=retain)


async def retained_gateway(url: str) -> None:
    await publish(
        url,
        (GW1.status, message(BIRTH, 0), True),
        (GW1.device_state("idr-03"), message(IDR03_OFFLINE, 1), True),
        (GW1.availability("id_card_reading", "window"), message(WINDOWS, 2), True),
    )


LIVE = [
    (GW1.alarm("idr-03.offline"), message(ALARM, 3), True),
    (GW1.device_metrics("idr-01"), message(METRICS, 4), False),
    (GW1.gateway_metrics, message(GATEWAY, 5), False),
    (GW1.alarm("idr-03.offline"), b"", True),  # the alarm cleared: its retained message removed
    (GW1.dropped, message(DROPPED, 6), False),
]


async def test_tail_prints_one_line_per_message(broker: Broker) -> None:
    await retained_gateway(broker.url)
    tail = await Tail.start("--broker", broker.url, "--count", "8")
    retained = [await tail.line()]  # the first line: subscribed, so live messages reach it too
    await publish(broker.url, *LIVE)
    retained += [await tail.line() for _ in range(2)]
    code, rest, err = await tail.finish()
    assert code == 0, err
    assert err == ""
    # Retained messages come first, in the broker's order; each is flagged.
    assert sorted(retained) == [
        "10:15:02.123Z hall-a/gw-1 availability id_card_reading/window 3 of 4 (unavailable: idr-03) seq 2 [retained]",
        "10:15:02.123Z hall-a/gw-1 birth session 4: 5 devices, version 0.1.0, config 0123456789ab seq 0 [retained]",
        "10:15:02.123Z hall-a/gw-1 device idr-03 state offline (DEVICE_OFFLINE, engineer) seq 1 [retained]",
    ]
    assert rest.splitlines() == [
        # Live subscribers get retain=False, also for messages the broker keeps.
        "10:15:02.123Z hall-a/gw-1 alarm idr-03.offline raised major engineer_needed: idr-03 does not answer seq 3",
        "10:15:02.123Z hall-a/gw-1 device idr-01 metrics 60s: 12 ok, 2 failed (NO_CARD 2), p50 12 ms, p99 40.5 ms, "
        "queue 0 seq 4",
        "10:15:02.123Z hall-a/gw-1 gateway metrics 60s: 4/5 devices online, cpu 3.5%, rss 45.1 MB, "
        "loop lag p99 1.5 ms, queues telemetry 0 seq 5",
        "--:--:--.---Z hall-a/gw-1 alarm idr-03.offline cleared (retained removed)",
        "10:15:02.123Z hall-a/gw-1 dropped while the broker was away: metrics 12 "
        "(10:15:02.123Z to 10:20:00.000Z) seq 6",
    ]


async def test_tail_json_lines(broker: Broker) -> None:
    await retained_gateway(broker.url)
    tail = await Tail.start("--broker", broker.url, "--json", "--count", "8")
    lines = [await tail.line()]
    await publish(broker.url, *LIVE)
    code, rest, err = await tail.finish()
    assert code == 0, err
    records = [json.loads(line) for line in lines + rest.splitlines()]
    assert len(records) == 8
    by_seq = {r["envelope"]["seq"]: r for r in records if r["envelope"] is not None}
    state = by_seq[1]
    assert state["topic"] == "hallgw/v1/hall-a/gw-1/device/idr-03/state"
    assert state["retain"] is True
    assert (state["hall"], state["gateway"], state["kind"]) == ("hall-a", "gw-1", "device_state")
    assert state["envelope"] == {"type": "device_state", "schema_version": 1, "session": 4, "seq": 1, "time": T0}
    assert state["payload"] == IDR03_OFFLINE.fields()
    alarm = by_seq[3]
    assert alarm["retain"] is False
    assert alarm["payload"]["severity"] == "major"
    assert alarm["payload"]["action"] == "engineer_needed"
    (removed,) = [r for r in records if r.get("retained_removed")]
    assert removed == {
        "topic": GW1.alarm("idr-03.offline"),
        "retain": False,
        "hall": "hall-a",
        "gateway": "gw-1",
        "kind": "alarm",
        "retained_removed": True,
        "envelope": None,
        "payload": None,
    }


async def test_a_bad_message_is_a_warning_and_the_tail_goes_on(broker: Broker) -> None:
    await publish(broker.url, (GW1.status, message(BIRTH, 0), True))
    tail = await Tail.start("--broker", broker.url, "--count", "5")
    await tail.line()
    await publish(
        broker.url,
        (GW1.device_state("idr-03"), b"\xff{not json", False),
        (GW1.device_state("idr-03"), message(ALARM, 1), False),  # valid, on the wrong topic
        (f"{GW1.base}/something/else", b"{}", False),
        (GW1.device_state("idr-03"), message(IDR03_OFFLINE, 2), False),
    )
    code, rest, err = await tail.finish()
    assert code == 0, err
    assert "Traceback" not in err
    warnings = err.splitlines()
    assert len(warnings) == 3
    assert warnings[0].startswith("hallctl: warning: hallgw/v1/hall-a/gw-1/device/idr-03/state: cannot decode")
    assert "not JSON" in warnings[0]
    assert warnings[1].endswith(": alarm payload on a device_state topic; skipped")
    assert warnings[2].startswith("hallctl: warning: hallgw/v1/hall-a/gw-1/something/else: unknown")
    assert rest.splitlines() == [
        "10:15:02.123Z hall-a/gw-1 device idr-03 state offline (DEVICE_OFFLINE, engineer) seq 2"
    ]


async def test_hall_and_gateway_narrow_the_subscription(broker: Broker) -> None:
    await publish(
        broker.url,
        (GW1.status, message(BIRTH, 0, session=1), True),
        (GW2.status, message(BIRTH, 0, session=2), True),
        (Topics("hall-b", "gw-2").status, message(BIRTH, 0, session=3), True),
    )
    tail = await Tail.start("--broker", broker.url, "--hall", "hall-a", "--gateway", "gw-2", "--json", "--count", "1")
    code, out, err = await tail.finish()
    assert code == 0, err
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert (record["topic"], record["envelope"]["session"]) == (GW2.status, 2)


async def test_ctrl_c_ends_the_tail_with_exit_0(broker: Broker) -> None:
    await publish(broker.url, (GW1.status, message(BIRTH, 0), True))
    tail = await Tail.start("--broker", broker.url)
    await tail.line()
    tail.process.send_signal(signal.SIGINT)
    code, _, err = await tail.finish()
    assert code == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
async def test_a_closed_pipe_ends_the_tail_quietly(broker: Broker, json_flag: list[str]) -> None:
    # `hallctl telemetry tail | head -1`, with pipefail so that hallctl's exit code shows.
    await publish(broker.url, (GW1.status, message(BIRTH, 0), True))
    command = " ".join([*ENTRY[:2], repr(ENTRY[2]), "telemetry tail --broker", broker.url, *json_flag])
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        f"set -o pipefail; {command} | head -n 1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=hallctl_env(),
    )
    tail = Tail(process)
    await tail.line()  # head printed it and is gone
    await publish(broker.url, *[(GW1.device_metrics("idr-01"), message(METRICS, i), False) for i in range(50)])
    code, _, err = await tail.finish()
    assert code == 0, err
    assert "Traceback" not in err


async def test_unreachable_broker_exits_3(broker: Broker) -> None:
    await broker.stop()
    tail = await Tail.start("--broker", broker.url)
    code, out, err = await tail.finish()
    assert code == 3
    assert out == ""
    assert err.startswith(f"hallctl: BROKER_UNREACHABLE: cannot reach the MQTT broker at {broker.url}: ")
    assert err.count("\n") == 1  # one clear line, no traceback


async def test_a_broker_that_goes_away_mid_tail_exits_3(broker: Broker) -> None:
    await publish(broker.url, (GW1.status, message(BIRTH, 0), True))
    tail = await Tail.start("--broker", broker.url, "--json")
    await tail.line()
    await broker.stop()
    code, out, err = await tail.finish()
    assert code == 3
    assert json.loads(out)["error"]["reason"] == "BROKER_UNREACHABLE"
    assert err.startswith(f"hallctl: BROKER_UNREACHABLE: lost the connection to the MQTT broker at {broker.url}")


async def test_mqtts_with_client_certificate_and_password(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    tls = BrokerTls(*pki.issue("broker", server=True), ca_cert=pki.ca, require_certificate=True)
    password_file = tmp_path / "password"
    password_file.write_text("s3cret\n")
    async with mosquitto_broker(tmp_path / "broker", tls=tls, users={"monitor": "s3cret"}) as broker:
        async with client(broker.url, username="monitor", password="s3cret") as publisher:  # noqa: S106
            await publisher.publish(GW1.status, message(BIRTH, 0), qos=1, retain=True)
        cert, key = pki.issue("engineer")
        login = ["--mqtt-ca-cert", str(pki.ca), "--mqtt-client-cert", str(cert), "--mqtt-client-key", str(key)]
        login += ["--username", "monitor", "--password-file", str(password_file)]
        tail = await Tail.start("--broker", broker.tls_url, *login, "--count", "1")
        code, out, err = await tail.finish()
        assert code == 0, err
        assert out.startswith("10:15:02.123Z hall-a/gw-1 birth session 4")

        password_file.write_text("wrong\n")
        tail = await Tail.start("--broker", broker.tls_url, *login, "--count", "1")
        code, out, err = await tail.finish()
        assert code == 2
        assert err.startswith(f"hallctl: BROKER_REFUSED: the MQTT broker at {broker.tls_url} refused the connection")


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--broker", "http://127.0.0.1:1883"], "expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"),
        (["--broker", "mqtt://user@127.0.0.1"], "only a scheme, host and port"),
        (["--broker", "mqtt://127.0.0.1", "--mqtt-ca-cert", "ca.pem"], "need an mqtts:// broker"),
        (["--broker", "mqtts://127.0.0.1", "--mqtt-client-key", "k.pem"], "--mqtt-client-key needs"),
        (["--broker", "mqtt://127.0.0.1", "--password-file", "p"], "--password-file needs --username"),
        (["--broker", "mqtt://127.0.0.1", "--hall", "a/b"], "hall 'a/b' cannot be a topic segment"),
        (["--broker", "mqtt://127.0.0.1", "--gateway", "+"], "gateway '+' cannot be a topic segment"),
        (["--broker", "mqtts://127.0.0.1", "--mqtt-ca-cert", "/nonexistent/ca.pem"], "ca.pem: No such file"),
        (["--broker", "mqtts://127.0.0.1", "--mqtt-client-cert", __file__], f"--mqtt-client-cert {__file__}: "),
        (["--broker", "mqtt://h", "-u", "u", "--password-file", "/nonexistent/p"], "/nonexistent/p: No such file"),
    ],
)
def test_usage_errors_exit_2(runner: CliRunner, args: list[str], complaint: str) -> None:
    result = runner.invoke(app, ["telemetry", "tail", *args])
    assert result.exit_code == 2, result.output
    assert "INVALID_REQUEST" in result.output
    assert complaint in result.output


def test_the_global_json_flag_applies_to_the_tail(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--json", "telemetry", "tail", "--broker", "mqtt://127.0.0.1/x"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["reason"] == "INVALID_REQUEST"


# --- the lines themselves (no broker) ---------------------------------------


def plain(topic: str, data: bytes, *, retain: bool = False) -> str:
    console = Console(width=300, no_color=True)
    with console.capture() as capture:
        console.print(view(topic, data, retain=retain).line, soft_wrap=True)
    return capture.get().rstrip("\n")


@pytest.mark.parametrize(
    ("payload", "facts"),
    [
        (
            DeviceState(**{**IDR03_OFFLINE.fields(), "oper_state": "online"}),  # the last error no longer explains
            "device idr-03 state online",
        ),
        (
            DeviceState(**{**IDR03_OFFLINE.fields(), "admin_state": "maintenance", "admin_reason": "lens"}),
            "device idr-03 state offline, admin maintenance (lens) (DEVICE_OFFLINE, engineer)",
        ),
        (
            Alarm(**{**ALARM.fields(), "state": AlarmState.CLEARED, "cleared_at": T0}),
            "alarm idr-03.offline cleared major engineer_needed (raised 10:15:02.123Z)",
        ),
    ],
)
def test_lines_of_payloads(payload: Payload, facts: str) -> None:
    topic = GW1.alarm("idr-03.offline") if isinstance(payload, Alarm) else GW1.device_state("idr-03")
    assert plain(topic, message(payload, 9)) == f"10:15:02.123Z hall-a/gw-1 {facts} seq 9"


def test_death_and_rebirth_lines() -> None:
    death = message(Death(reason="connection lost"), 0)
    assert plain(GW1.status, death, retain=True) == (
        "10:15:02.123Z hall-a/gw-1 death session 4: connection lost seq 0 [retained]"
    )
    assert plain(GW1.rebirth, b"please") == "--:--:--.---Z hall-a/gw-1 rebirth requested"


def test_fields_of_the_wrong_json_type_are_undecodable() -> None:
    body: dict[str, Any] = json.loads(message(BIRTH, 0))
    body["devices"] = 5
    with pytest.raises(Undecodable, match="birth: a field of the wrong type"):
        view(GW1.status, json.dumps(body).encode(), retain=False)
