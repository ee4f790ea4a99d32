"""hallgwd speaks systemd's notify protocol: READY once serving, watchdog pings, STOPPING."""

import asyncio
import socket
from pathlib import Path

from support.hall import running_hall


async def test_ready_watchdog_and_stopping(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"}  # pings every 0.1 s

    async def next_message() -> str:
        async with asyncio.timeout(10):
            return (await loop.sock_recv(sock, 4096)).decode()

    try:
        async with running_hall(tmp_path / "hall", baud=0, daemon_env=env) as hall:
            first = await next_message()
            assert first.startswith("READY=1\nSTATUS=serving 5 devices on port ")
            pings = [await next_message() for _ in range(3)]
            assert pings == ["WATCHDOG=1"] * 3
            assert await hall.stop_daemon() == 0
            rest = []
            while (message := await next_message()) != "STOPPING=1":
                rest.append(message)
            assert set(rest) <= {"WATCHDOG=1"}
    finally:
        sock.close()


async def test_watchdog_of_another_process_is_ignored(tmp_path: Path) -> None:
    from hallgw_daemon.notify import Notifier  # noqa: PLC0415 - the unit under test, in process

    assert Notifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}).watchdog_interval is None
    assert Notifier({"WATCHDOG_USEC": "1000000"}).watchdog_interval == 0.5
    quiet = Notifier({})
    assert not quiet.enabled
    assert quiet.send(ready="1") is False
