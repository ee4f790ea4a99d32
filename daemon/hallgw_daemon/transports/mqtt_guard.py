"""A guard that ends an aiomqtt connection whose socket paho has closed without saying so.

aiomqtt learns that a connection ended from paho's ``on_disconnect``. Some
paths in paho close the socket and never call it: a write that fails on a
socket the broker has just reset (seen when the broker restarts under load,
as ``OSError: [Errno 9] Bad file descriptor`` from the event loop's
``add_writer``). aiomqtt's keepalive task then stops quietly (paho's
``loop_misc`` answers "no connection"), and ``client.messages`` waits for
ever: a gateway or a kiosk that looks connected and never hears again.

:func:`guarded` watches paho's socket while the connection is in use. When
the socket has been gone for two looks in a row (so a connection being set
up is never taken for a lost one), it ends the connection with an
:class:`aiomqtt.MqttError`, which the caller's reconnect loop handles like
any other loss. It touches aiomqtt's private ``_disconnected`` future and
paho's client, as aiomqtt offers no public way to end a connection abruptly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Final

import aiomqtt

__all__ = ["GUARD_PERIOD", "LostUnnoticedError", "guarded"]

GUARD_PERIOD: Final = 1.0
"""Seconds between looks at the socket: a silent loss is ended within about two of them."""


class LostUnnoticedError(aiomqtt.MqttError):
    """The socket was closed under the client without a disconnect being reported."""


def _socket_gone(client: aiomqtt.Client) -> bool:
    return client._client.socket() is None


async def _watch(client: aiomqtt.Client, period: float) -> None:
    disconnected = client._disconnected
    misses = 0
    while not disconnected.done():
        await asyncio.sleep(period)
        misses = misses + 1 if _socket_gone(client) else 0
        if misses >= 2 and not disconnected.done():
            disconnected.set_exception(LostUnnoticedError("the connection was lost without notice"))


@contextlib.asynccontextmanager
async def guarded(client: aiomqtt.Client, *, period: float = GUARD_PERIOD) -> AsyncIterator[aiomqtt.Client]:
    """Watch ``client`` (connected) for as long as the block runs (see the module docstring)."""
    watch = asyncio.get_running_loop().create_task(_watch(client, period), name="mqtt-guard")
    try:
        yield client
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
