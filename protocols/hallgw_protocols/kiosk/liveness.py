"""The gateway's view of whether a kiosk is there: retained status, last will, heartbeats.

Pure: the caller passes a monotonic ``now`` (seconds) with every event and asks
:meth:`Liveness.online` when it needs to know. The rules (docs/kiosk-protocol.md,
Liveness):

- ``status`` online with a session at least as new as the one held: online;
- ``status`` offline (the last will, or a clean stop) of the session held, or
  of a newer one: offline; of an older session: a stale will, ignored;
- online, but no heartbeat for ``misses`` x ``interval_s``: offline (the
  connection may look alive to the broker for 1.5 x keepalive longer);
- a heartbeat whose ``seq`` or uptime went back: the kiosk restarted, so its
  commands in doubt need a query.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from hallgw_protocols.kiosk.messages import Heartbeat, Online, Status

MISSED_HEARTBEATS: Final = 3
"""Heartbeats missing in a row before a kiosk counts as offline."""
DEFAULT_HEARTBEAT_S: Final = 10
"""The heartbeat period until the kiosk's first heartbeat states its own."""


@dataclasses.dataclass(frozen=True, slots=True)
class Beat:
    """What one heartbeat told."""

    restarted: bool
    """The kiosk restarted since the previous heartbeat (seq or uptime went back)."""


class Liveness:
    """Online or not, for one kiosk."""

    __slots__ = ("_interval", "_last_beat", "_last_seq", "_last_uptime", "_misses", "_online", "_session")

    def __init__(self, misses: int = MISSED_HEARTBEATS) -> None:
        if misses < 1:
            raise ValueError("misses must be at least 1")
        self._misses = misses
        self._online = False
        self._session: int | None = None
        self._interval = DEFAULT_HEARTBEAT_S
        self._last_beat: float | None = None
        self._last_seq: int | None = None
        self._last_uptime: int | None = None

    @property
    def session(self) -> int | None:
        """The kiosk's connection session the gateway holds (None before any status)."""
        return self._session

    def on_status(self, status: Status, now: float) -> bool:
        """Apply a status message; returns False if it was stale (an older session's) and ignored."""
        if self._session is not None and status.session < self._session:
            return False
        self._session = status.session
        self._online = status.status is Online.ONLINE
        if self._online:
            self._last_beat = now  # the heartbeat clock starts with the connection
        return True

    def on_heartbeat(self, heartbeat: Heartbeat, now: float) -> Beat:
        """Apply a heartbeat (it also proves the kiosk is connected)."""
        restarted = (self._last_seq is not None and heartbeat.seq < self._last_seq) or (
            self._last_uptime is not None and heartbeat.uptime_s < self._last_uptime
        )
        self._last_seq, self._last_uptime = heartbeat.seq, heartbeat.uptime_s
        self._interval = heartbeat.interval_s
        self._last_beat = now
        self._online = True
        return Beat(restarted=restarted)

    def deadline(self) -> float | None:
        """When the kiosk counts as offline if no heartbeat comes; None while offline."""
        if not self._online or self._last_beat is None:
            return None
        return self._last_beat + self._misses * self._interval

    def online(self, now: float) -> bool:
        deadline = self.deadline()
        return deadline is not None and now <= deadline
