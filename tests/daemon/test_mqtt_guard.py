"""The MQTT guard ends a connection whose socket paho closed without reporting it (real mosquitto).

The fault is made exactly as it happens: paho's own ``_sock_close`` runs, and
no ``on_disconnect`` follows. Without the guard, ``client.messages`` would
wait for ever (the control case shows it still waiting); with it, the wait
ends in an ``MqttError`` within about two guard periods. The simulators' copy
of the guard is held to the same behaviour.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiomqtt
import pytest
from support.broker import Broker, mosquitto_broker

from hallgw_daemon.transports import mqtt_guard as daemon_guard
from hallgw_simulators import mqtt_guard as sim_guard

PERIOD = 0.1

Guard = Callable[..., AbstractAsyncContextManager[aiomqtt.Client]]


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


def _client(broker: Broker, name: str) -> aiomqtt.Client:
    host, port = broker.url.removeprefix("mqtt://").rsplit(":", 1)
    return aiomqtt.Client(host, int(port), identifier=name, protocol=aiomqtt.ProtocolVersion.V5)


async def _next(client: aiomqtt.Client) -> aiomqtt.Message:
    async for message in client.messages:
        return message
    raise AssertionError("the message iterator ended")


@pytest.mark.parametrize("guarded", [daemon_guard.guarded, sim_guard.guarded], ids=["daemon", "simulators"])
async def test_a_silently_closed_socket_ends_the_connection(broker: Broker, guarded: Guard) -> None:
    async with _client(broker, "guarded") as client, guarded(client, period=PERIOD):
        await client.subscribe("t/#")
        client._client._sock_close()  # paho drops the socket; no on_disconnect follows
        with pytest.raises(aiomqtt.MqttError):
            async with asyncio.timeout(5 * PERIOD):
                await _next(client)


async def test_without_the_guard_the_wait_never_ends(broker: Broker) -> None:
    """The control case: the fault is real, and the guard is what ends it."""
    async with _client(broker, "bare") as client:
        await client.subscribe("t/#")
        client._client._sock_close()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(5 * PERIOD):
                await _next(client)
        client._disconnected.set_result(None)  # let the context exit


async def test_a_healthy_connection_is_left_alone(broker: Broker) -> None:
    async with _client(broker, "healthy") as client, daemon_guard.guarded(client, period=PERIOD):
        await client.subscribe("t/#")
        await asyncio.sleep(4 * PERIOD)
        await client.publish("t/x", b"still here", qos=1)
        async with asyncio.timeout(2):
            message = await _next(client)
        assert message.payload == b"still here"
