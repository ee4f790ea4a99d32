"""systemd's notify protocol: READY, STATUS, STOPPING and watchdog pings (sd_notify(3)).

The pings are sent from the event loop, so a loop that hangs stops them and
systemd restarts the daemon after ``WatchdogSec``: an unattended 24-hour area
heals itself. Outside systemd (no ``NOTIFY_SOCKET``) every call is a no-op.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class Notifier:
    """Sends datagrams to the socket systemd named in ``NOTIFY_SOCKET``."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        address = env.get("NOTIFY_SOCKET", "")
        self._address = "\0" + address[1:] if address.startswith("@") else address
        self._sock: socket.socket | None = None
        if self._address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.setblocking(False)
        self.watchdog_interval = _watchdog_interval(env)
        """Seconds between pings (half of WatchdogSec), or None when no watchdog is asked for."""

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, **fields: str) -> bool:
        """Send ``KEY=value`` lines (keys upper-cased); False when not under systemd or the send failed."""
        if self._sock is None:
            return False
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode()
        try:
            self._sock.sendto(message, self._address)
        except OSError:
            return False  # systemd went away or is busy: the daemon's work matters more
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6
