"""Serial simulators on real ptys, for the simulator and driver tests (the ``pty_devices`` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from hallgw_simulators.links import PtyEndpoint
from hallgw_simulators.serial_device import SerialDevice

D = TypeVar("D", bound=SerialDevice)


class PtyDevices:
    """Starts serial simulators on real ptys under the test's tmp_path; the fixture stops them all."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[SerialDevice] = []

    async def start(self, cls: type[D], *, device_id: str, seed: int, **settings: Any) -> D:
        endpoint = PtyEndpoint(device_id, self.folder / f"{device_id}.tty")
        device = cls(device_id=device_id, seed=seed, endpoint=endpoint, **settings)
        await device.start()
        self.started.append(device)
        return device
