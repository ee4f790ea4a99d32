"""The test broker itself: start, stop, kill, restart on the same port, retained messages, collect."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from support.broker import (
    Broker,
    BrokerTls,
    CollectTimeout,
    Message,
    client,
    collect,
    count,
    mosquitto_broker,
    subscriber,
)
from support.pki import Pki

WAIT_S = 10.0


async def refused(broker: Broker) -> bool:
    try:
        _, writer = await asyncio.open_connection(broker.host, broker.port)
    except ConnectionRefusedError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


async def round_trip(url: str, topic: str = "probe/1") -> list[Message]:
    async with subscriber(url, topic) as sub, client(url) as publisher:
        await publisher.publish(topic, b"ping", qos=1)
        return await sub.collect(until=count(1), timeout=WAIT_S)


async def test_starts_on_a_free_port_and_stops(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path) as broker:
        assert broker.running
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
        received = await round_trip(broker.url)
        assert [(m.topic, m.payload, m.retain) for m in received] == [("probe/1", b"ping", False)]
        assert "set_tcp_nodelay true" in broker.config_path.read_text()
        await broker.stop()
        assert not broker.running
        assert await refused(broker)
    assert "running" in broker.log_path.read_text()


async def test_a_stop_right_after_the_start_is_clean(tmp_path: Path) -> None:
    # mosquitto 2.0 can lose a SIGTERM that comes right after its "running" line;
    # start() returns only once the broker answers MQTT, past that window.
    async with mosquitto_broker(tmp_path) as broker:
        for _ in range(10):
            await broker.restart()
            assert broker.last_exit == 0  # SIGTERM was heard, no kill needed
    assert broker.last_exit == 0


async def test_two_brokers_side_by_side(tmp_path: Path) -> None:
    async with (
        mosquitto_broker(tmp_path / "a") as first,
        mosquitto_broker(tmp_path / "b") as second,
    ):
        assert first.port != second.port
        async with subscriber(second.url, "#") as sub:
            await round_trip(first.url)  # a message on the first broker...
            await round_trip(second.url, "probe/2")
            seen = await sub.collect(until=count(1), timeout=WAIT_S)
        assert [m.topic for m in seen] == ["probe/2"]  # ...never reaches the second


async def test_a_retained_message_survives_a_client_reconnect(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path) as broker:
        async with client(broker.url) as publisher:
            await publisher.publish("hall/state", b"online", qos=1, retain=True)
        for _ in range(2):  # a late subscriber, twice: the broker keeps it
            received = await collect(broker.url, "hall/#", until=count(1), timeout=WAIT_S)
            assert [(m.topic, m.payload, m.retain) for m in received] == [("hall/state", b"online", True)]


async def test_restart_keeps_the_port_and_clients_reconnect(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path) as broker:
        port = broker.port
        async with client(broker.url) as held:  # a live connection: the old port has sockets in it
            await held.publish("hall/state", b"online", qos=1, retain=True)
            await broker.restart()
            with pytest.raises(aiomqtt.MqttError):
                await held.publish("hall/x", b"x", qos=1)
        assert broker.port == port
        assert broker.starts == 2
        await round_trip(broker.url)
        # No persistence: a restarted broker has forgotten retained messages, as after a crash.
        with pytest.raises(CollectTimeout):
            await collect(broker.url, "hall/#", until=count(1), timeout=0.3)


async def test_kill_drops_clients_and_a_restart_follows(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path) as broker:
        async with subscriber(broker.url, "#") as sub:
            await broker.kill()
            assert broker.last_exit == -9
            with pytest.raises(aiomqtt.MqttError):
                await sub.collect(until=count(1), timeout=WAIT_S)
        assert not broker.running
        assert await refused(broker)
        await broker.restart()
        await round_trip(broker.url)


async def test_collect_stops_when_the_predicate_holds_and_reports_a_timeout(tmp_path: Path) -> None:
    async with (
        mosquitto_broker(tmp_path) as broker,
        subscriber(broker.url, "t/#") as sub,
        client(broker.url) as publisher,
    ):
        for i in range(5):
            await publisher.publish(f"t/{i}", str(i).encode(), qos=1)
        got = await sub.collect(until=lambda ms: any(m.payload == b"2" for m in ms), timeout=WAIT_S)
        assert [m.topic for m in got] == ["t/0", "t/1", "t/2"]
        rest = await sub.collect(until=count(5), timeout=WAIT_S)  # reads on from where it stopped
        assert [m.payload for m in rest] == [b"0", b"1", b"2", b"3", b"4"]
        with pytest.raises(CollectTimeout) as caught:
            await sub.collect(until=count(6), timeout=0.2)
        assert len(caught.value.messages) == 5
        assert isinstance(caught.value, TimeoutError)


async def test_v5_properties_reach_the_subscriber(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path) as broker:
        async with subscriber(broker.url, "p") as sub, client(broker.url) as publisher:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.ContentType = "application/json"
            await publisher.publish("p", b"{}", qos=1, properties=props)
            (message,) = await sub.collect(until=count(1), timeout=WAIT_S)
        assert message.properties is not None
        assert message.properties.json()["ContentType"] == "application/json"  # type: ignore[no-untyped-call]


MONITOR_LOGIN = {"monitor": "s3cret"}


async def test_users_turn_anonymous_access_off(tmp_path: Path) -> None:
    async with mosquitto_broker(tmp_path, users=MONITOR_LOGIN) as broker:
        with pytest.raises(aiomqtt.MqttCodeError):
            async with client(broker.url):
                pass
        with pytest.raises(aiomqtt.MqttCodeError):
            async with client(broker.url, username="monitor", password="s3cret!"):  # noqa: S106
                pass
        async with client(broker.url, username="monitor", password=MONITOR_LOGIN["monitor"]) as ok:
            await ok.publish("x", b"1", qos=1)


async def test_tls_listener_with_client_certificates(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    cert, key = pki.issue("broker", server=True)
    tls = BrokerTls(cert=cert, key=key, ca_cert=pki.ca, require_certificate=True)
    async with mosquitto_broker(tmp_path / "broker", tls=tls) as broker:
        assert broker.tls_url == f"mqtts://127.0.0.1:{broker.tls_port}"
        context = ssl.create_default_context(cafile=pki.ca)
        # TLS 1.2: the broker checks the client certificate inside the handshake, which
        # fails at once. (With 1.3 it closes after the handshake, and aiomqtt waits
        # for a CONNACK until its timeout.)
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises(aiomqtt.MqttError, match="handshake failure"):  # no client certificate
            async with client(broker.tls_url, tls_context=context):
                pass
        context.load_cert_chain(*pki.issue("monitor"))
        received = await collect(broker.url, "#", until=count(0), timeout=WAIT_S)
        assert received == []
        async with subscriber(broker.tls_url, "s", tls_context=context) as sub, client(broker.url) as plain:
            await plain.publish("s", b"secure", qos=1)
            (message,) = await sub.collect(until=count(1), timeout=WAIT_S)
        assert message.payload == b"secure"


async def test_a_broker_that_cannot_start_says_why(tmp_path: Path) -> None:
    broker = Broker(tmp_path, tls=BrokerTls(cert=tmp_path / "missing.crt", key=tmp_path / "k", ca_cert=tmp_path / "c"))
    with pytest.raises(RuntimeError, match="mosquitto exited before it was ready"):
        await broker.start()
    assert not broker.running
