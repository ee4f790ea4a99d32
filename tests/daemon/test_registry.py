"""The registry: lookups, admin-state persistence, and crash isolation of device tasks."""

import asyncio
import json
from pathlib import Path

import pytest

from hallgw_daemon.config import parse_config
from hallgw_daemon.core.bus import EventBus
from hallgw_daemon.core.errors import UnknownDeviceError
from hallgw_daemon.core.events import StateChanged
from hallgw_daemon.core.model import AdminState, DeviceKind, OperState
from hallgw_daemon.supervisor import DeviceRegistry


def config(tmp_path: Path, port: int = 1) -> str:
    return f"""
[gateway]
hall = "h"
id = "g"
state_dir = "{tmp_path}"
[supervision]
backoff_initial = 0.01
backoff_max = 0.02
[[stations]]
id = "window-01"
kind = "window"
[[devices]]
id = "idr-01"
kind = "idcard_reader"
station = "window-01"
link = "tcp://127.0.0.1:{port}"
[[devices]]
id = "idr-02"
kind = "idcard_reader"
link = "tcp://127.0.0.1:{port}"
"""


def test_lookup_by_id_and_station(tmp_path: Path) -> None:
    reg = DeviceRegistry(parse_config(config(tmp_path)), EventBus())
    assert reg.at_station("window-01", DeviceKind.IDCARD_READER).id == "idr-01"
    assert [d.id for d in reg.list()] == ["idr-01", "idr-02"]
    with pytest.raises(UnknownDeviceError, match="idr-09"):
        reg.get("idr-09")
    with pytest.raises(UnknownDeviceError, match="window-02"):
        reg.at_station("window-02", DeviceKind.IDCARD_READER)


def test_admin_state_persists_and_bad_files_are_survived(tmp_path: Path) -> None:
    cfg = parse_config(config(tmp_path))
    bus = EventBus()
    reg = DeviceRegistry(cfg, bus)
    reg.get("idr-02").set_admin(AdminState.MAINTENANCE, "lens cleaning")
    saved = json.loads((tmp_path / "admin-state.json").read_text())
    assert saved["idr-02"] == {"state": "maintenance", "reason": "lens cleaning"}
    again = DeviceRegistry(cfg, bus)
    assert (again.get("idr-02").admin_state, again.get("idr-02").admin_reason) == (
        AdminState.MAINTENANCE,
        "lens cleaning",
    )
    (tmp_path / "admin-state.json").write_text("{not json")
    assert DeviceRegistry(cfg, bus).get("idr-02").admin_state is AdminState.ENABLED
    (tmp_path / "admin-state.json").write_text('{"idr-02": {"state": "sleeping"}}')
    assert DeviceRegistry(cfg, bus).get("idr-02").admin_state is AdminState.ENABLED


async def test_unreachable_device_goes_offline_with_a_reason(tmp_path: Path) -> None:
    bus = EventBus()
    reg = DeviceRegistry(parse_config(config(tmp_path)), bus, seed=1)
    async with bus.subscribe(lambda ev: isinstance(ev.payload, StateChanged)) as sub:
        task = asyncio.create_task(reg.run())
        try:
            async with asyncio.timeout(3):
                ev = await sub.get()
            assert isinstance(ev.payload, StateChanged)
            assert ev.payload.device.oper_state is OperState.OFFLINE
            assert ev.payload.device.last_error is not None
            assert ev.payload.device.last_error.reason == "DEVICE_OFFLINE"
            assert "cannot open the link" in ev.payload.device.last_error.message
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_a_crashing_device_task_is_restarted_alone(tmp_path: Path) -> None:
    reg = DeviceRegistry(parse_config(config(tmp_path)), EventBus(), restart_delay=0.01)
    crashing, healthy = reg.get("idr-01"), reg.get("idr-02")
    runs = {"idr-01": 0, "idr-02": 0}
    restarted = asyncio.Event()

    async def crash_twice() -> None:
        runs["idr-01"] += 1
        if runs["idr-01"] <= 2:
            raise RuntimeError("bug in a driver")
        restarted.set()
        await asyncio.Event().wait()

    async def keep_running() -> None:
        runs["idr-02"] += 1
        await asyncio.Event().wait()

    crashing.supervise = crash_twice  # type: ignore[method-assign]
    healthy.supervise = keep_running  # type: ignore[method-assign]
    task = asyncio.create_task(reg.run())
    try:
        async with asyncio.timeout(3):
            await restarted.wait()
        assert reg.task_crashes == {"idr-01": 2}
        assert runs == {"idr-01": 3, "idr-02": 1}
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
