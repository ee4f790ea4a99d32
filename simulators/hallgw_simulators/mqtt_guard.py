"""The device side's guard against an MQTT connection whose socket paho closed without saying so.

Real kiosks face the same client library fault as the gateway (the daemon's
``hallgw_daemon.transports.mqtt_guard`` explains it): paho can close the
socket after a failed write and never report the disconnect, so aiomqtt's
``client.messages`` waits for ever and the kiosk stays away after a broker
restart. :func:`guarded` ends such a connection with an
:class:`aiomqtt.MqttError` once the socket has been gone for two looks in a
row, and the kiosk's reconnect loop takes it from there. (The simulators never
import the daemon, so this is their own copy.)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Final

import aiomqtt

__all__ = ["GUARD_PERIOD", "guarded"]

GUARD_PERIOD: Final = 1.0


async def _watch(client: aiomqtt.Client, period: float) -> None:
    disconnected = client._disconnected
    misses = 0
    while not disconnected.done():
        await asyncio.sleep(period)
        misses = misses + 1 if client._client.socket() is None else 0
        if misses >= 2 and not disconnected.done():
            disconnected.set_exception(aiomqtt.MqttError("the connection was lost without notice"))


@contextlib.asynccontextmanager
async def guarded(client: aiomqtt.Client, *, period: float = GUARD_PERIOD) -> AsyncIterator[aiomqtt.Client]:
    """Watch ``client`` (connected) for as long as the block runs."""
    watch = asyncio.get_running_loop().create_task(_watch(client, period), name="mqtt-guard")
    try:
        yield client
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
