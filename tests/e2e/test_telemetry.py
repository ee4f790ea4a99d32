"""Telemetry against a real Mosquitto and the real daemon: what provincial monitoring relies on."""

import asyncio
import json
import secrets
import signal
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from support.broker import Broker, BrokerTls, Message, client, mosquitto_broker, subscriber
from support.hall import by_device, read_request, running_hall
from support.pki import Pki

from hallgw_protocols.telemetry import Topics, decode, parse_topic
from hallgw_protocols.telemetry.schemas import load_schema
from hallgw_simulators.deck import build_deck

TOPICS = Topics("demo-hall", "gw-01")


def telemetry_config(broker: Broker, *, url: str | None = None, **overrides: object) -> str:
    settings: dict[str, object] = {
        "broker": url or broker.url, "keepalive": 2, "metrics_interval": 0.5, "backoff_max": 1.0,
    }  # fmt: skip
    settings.update(overrides)
    return "[telemetry]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())


def payloads(messages: list[Message], kind: str | None = None) -> list[dict[str, Any]]:
    """Decoded bodies (envelope and fields) of the non-empty messages, optionally of one type; each schema-checked."""
    out = []
    for m in messages:
        if not m.payload or m.topic == TOPICS.rebirth:  # deletions, and commands monitoring sends
            continue
        try:
            body = json.loads(m.payload)
        except ValueError as err:
            raise AssertionError(f"not JSON on {m.topic} (retain={m.retain}): {m.payload[:80]!r}") from err
        jsonschema.Draft202012Validator(load_schema(body["type"])).validate(body)
        decode(m.payload)  # the decoder accepts what the gateway sends
        parse_topic(m.topic)
        if kind is None or body["type"] == kind:
            out.append(body | {"_topic": m.topic, "_retain": m.retain})
    return out


def has(kind: str, n: int = 1, **fields: object) -> Any:
    def check(messages: list[Message]) -> bool:
        found = [p for p in payloads(messages, kind) if all(p.get(k) == v for k, v in fields.items())]
        return len(found) >= n

    return check


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


async def test_birth_late_state_death_on_sigkill_and_rebirth(tmp_path: Path, broker: Broker) -> None:
    async with running_hall(tmp_path / "hall", baud=0, extra_config=telemetry_config(broker)) as hall:
        # A monitoring client that connects late gets the retained status and states.
        async with subscriber(broker.url, TOPICS.everything) as sub:
            got = await sub.collect(until=has("device_state", 5, oper_state="online"), timeout=10)
            births = payloads(got, "birth")
            assert births and births[0]["_retain"]
            session = births[-1]["session"]
            assert [d["device_id"] for d in births[-1]["devices"]] == ["idr-01", "idr-02", "idr-03", "idr-04", "idr-05"]
            retained_states = [p for p in payloads(got, "device_state") if p["_retain"]]
            assert {p["device_id"] for p in retained_states} == {"idr-01", "idr-02", "idr-03", "idr-04", "idr-05"}
            # Rebirth on command: birth again in the same session, later in the sequence.
            async with client(broker.url) as monitor:
                await monitor.publish(TOPICS.rebirth, b"{}", qos=1)
            got = await sub.collect(until=has("birth", 2), timeout=10)
            rebirth = payloads(got, "birth")[-1]
            assert rebirth["session"] == session and rebirth["seq"] > 0
        # SIGKILL: the broker publishes the last will.
        async with subscriber(broker.url, TOPICS.status) as sub:
            await sub.collect(until=has("birth"), timeout=5)  # the retained birth
            assert hall.gw is not None
            hall.gw.send_signal(signal.SIGKILL)
            got = await sub.collect(until=has("death"), timeout=10)
            death = payloads(got, "death")[-1]
            assert (death["reason"], death["session"]) == ("connection lost", session)
        await hall.start_daemon()
        reborn = await collect_status(broker, lambda p: p["type"] == "birth")
        assert reborn["session"] == session + 1  # persisted across the restart


async def collect_status(broker: Broker, want: Any) -> dict[str, Any]:
    async with subscriber(broker.url, TOPICS.status) as sub:
        got = await sub.collect(until=lambda ms: any(want(p) for p in payloads(ms)), timeout=10)
    return next(p for p in payloads(got) if want(p))


async def test_alarms_and_availability_follow_devices(tmp_path: Path, broker: Broker) -> None:
    async with running_hall(tmp_path / "hall", baud=0, extra_config=telemetry_config(broker)) as hall:
        avail = TOPICS.availability("id_card_reading", "window")
        async with subscriber(broker.url, TOPICS.everything) as sub:
            await sub.collect(until=has("availability", available=4, total=4), timeout=10)
            await hall.ctl.fault("idr-03", "unplug")
            got = await sub.collect(until=has("availability", available=3, total=4), timeout=10)
            down = [p for p in payloads(got, "availability") if p["available"] == 3][-1]
            assert down["unavailable"] == ["idr-03"] and down["_topic"] == avail
            alarm = [p for p in payloads(got, "alarm") if p["alarm_id"] == "idr-03.offline"][-1]
            assert (alarm["state"], alarm["severity"], alarm["action"]) == ("raised", "major", "engineer_needed")
            await hall.ctl.fault("idr-03", "replug")
            got = await sub.collect(until=has("alarm", state="cleared", alarm_id="idr-03.offline"), timeout=10)
            await sub.collect(until=lambda ms: payloads(ms, "availability")[-1]["available"] == 4, timeout=10)
        # The cleared alarm left no retained message; the availability is retained.
        async with subscriber(broker.url, f"{TOPICS.base}/+/#") as late:
            got = await late.collect(until=has("availability", available=4), timeout=10)
            await asyncio.sleep(0.3)  # retained messages all come at once on subscribe
            assert not [m for m in late.messages if "/alarm/" in m.topic and m.retain]


async def test_buffered_while_broker_away_then_delivered_in_order(tmp_path: Path, broker: Broker) -> None:
    config = telemetry_config(broker, buffer_limit=40, metrics_interval=0.2)
    async with running_hall(tmp_path / "hall", baud=0, extra_config=config) as hall:
        first = await collect_status(broker, lambda p: p["type"] == "birth")
        await broker.stop()
        await hall.ctl.fault("idr-03", "unplug")
        await hall.wait_oper("idr-03", 1)  # OFFLINE
        await hall.ctl.fault("idr-03", "replug")
        await hall.wait_oper("idr-03", 3)  # ONLINE
        await asyncio.sleep(3)  # metrics pile up past the buffer limit
        await broker.start()
        async with subscriber(broker.url, TOPICS.everything) as sub:
            got = await sub.collect(until=has("dropped"), timeout=15)
        bodies = payloads(got)
        live = [p for p in bodies if not p["_retain"] and p["session"] > first["session"]]
        assert live[0]["type"] == "birth"  # the new session starts with its birth
        seqs = [p["seq"] for p in live]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        states = [p["oper_state"] for p in live if p["type"] == "device_state" and p["device_id"] == "idr-03"]
        assert states[:2] == ["offline", "online"]  # kept (state is dropped last) and in order
        dropped = next(p for p in live if p["type"] == "dropped")
        assert dropped["counts"]["metrics"] > 0 and dropped["counts"]["state"] == 0
        assert live.index(dropped) > max(
            i for i, p in enumerate(live) if p["type"] == "device_state" and p["seq"] < dropped["seq"]
        )


async def test_no_personal_data_in_any_telemetry(tmp_path: Path, broker: Broker) -> None:
    async with running_hall(tmp_path / "hall", baud=0, extra_config=telemetry_config(broker)) as hall:
        deck = build_deck(int(hall.ready["seed"]))
        async with subscriber(broker.url, "hallgw/#") as sub:
            for card in deck:
                await hall.ctl.insert("idr-01", card)
                await hall.idcard.ReadIdCard(read_request(by_device("idr-01")), timeout=5)
            await hall.ctl.fault("idr-02", "remove_mid_read")
            await hall.ctl.insert("idr-02", "resident-2")
            with pytest.raises(Exception):  # noqa: B017, PT011 - CARD_READ_FAILED, any form
                await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=5)

            def reported(ms: list[Message]) -> bool:
                metrics = payloads(ms, "device_metrics")
                return sum(p["commands_ok"] for p in metrics) >= len(deck) and any(
                    p["commands_failed"].get("CARD_READ_FAILED") for p in metrics
                )

            got = await sub.collect(until=reported, timeout=15)
        blob = b"\n".join(m.payload for m in got)
        for value in deck.sensitive_values():
            assert value.encode() not in blob and value.encode("utf-16-le") not in blob


async def test_mutual_tls_and_credentials_to_the_broker(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    broker_cert, broker_key = pki.issue("broker", server=True)
    gw_cert, gw_key = pki.issue("gw-01")
    password = tmp_path / "mqtt-password"
    secret = secrets.token_urlsafe(12)  # a throw-away broker account
    password.write_text(secret + "\n")
    tls = BrokerTls(cert=broker_cert, key=broker_key, ca_cert=pki.ca, require_certificate=True)
    async with mosquitto_broker(tmp_path / "broker", tls=tls, users={"gw-01": secret}) as broker:
        config = telemetry_config(
            broker, url=broker.tls_url, username="gw-01", password_file=str(password), ca_cert=str(pki.ca),
            client_cert=str(gw_cert), client_key=str(gw_key),
        )  # fmt: skip
        async with running_hall(tmp_path / "hall", baud=0, extra_config=config):
            context = ssl.create_default_context(cafile=str(pki.ca))
            context.load_cert_chain(gw_cert, gw_key)
            async with subscriber(broker.tls_url, TOPICS.status, username="gw-01", password=secret,
                                  tls_context=context) as sub:  # fmt: skip
                got = await sub.collect(until=has("birth"), timeout=10)
            assert payloads(got, "birth")[-1]["_retain"]


async def test_a_frozen_gateway_is_declared_dead_within_the_keepalive(tmp_path: Path, broker: Broker) -> None:
    async with running_hall(tmp_path / "hall", baud=0, extra_config=telemetry_config(broker, keepalive=2)) as hall:
        await collect_status(broker, lambda p: p["type"] == "birth")
        assert hall.gw is not None
        loop = asyncio.get_running_loop()
        async with subscriber(broker.url, TOPICS.status) as sub:
            await sub.collect(until=has("birth"), timeout=5)
            hall.gw.send_signal(signal.SIGSTOP)  # alive but silent: no FIN, only the keepalive tells
            started = loop.time()
            try:
                await sub.collect(until=has("death"), timeout=10)
                took = loop.time() - started
            finally:
                hall.gw.send_signal(signal.SIGCONT)
        assert took < 3 * 2  # MQTT: 1.5 x keepalive, plus up to a keepalive of scheduling on the broker


async def test_device_work_does_not_wait_for_an_absent_broker(tmp_path: Path, broker: Broker) -> None:
    async with running_hall(tmp_path / "hall", baud=0, extra_config=telemetry_config(broker)) as hall:
        await collect_status(broker, lambda p: p["type"] == "birth")
        await hall.ctl.insert("idr-01", "resident-1")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await hall.idcard.ReadIdCard(read_request(by_device("idr-01")), timeout=5)
        with_broker = loop.time() - started
        await broker.kill()
        started = loop.time()
        for _ in range(5):
            await hall.idcard.ReadIdCard(read_request(by_device("idr-01")), timeout=5)
        without = (loop.time() - started) / 5
        assert without < max(0.2, 3 * with_broker)
