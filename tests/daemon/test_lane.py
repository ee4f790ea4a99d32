"""The command lane: one at a time, a bounded queue, deadlines, cancellation, probes yield."""

import asyncio
import functools

import pytest

from hallgw_daemon.commands import CommandLane
from hallgw_daemon.core.errors import DeadlineExceededError, DeviceBusyError


async def _hold(gate: asyncio.Event, log: list[str], name: str) -> str:
    log.append(f"start {name}")
    await gate.wait()
    log.append(f"end {name}")
    return name


async def test_one_at_a_time_in_order() -> None:
    lane = CommandLane(device_id="d", queue_limit=4)
    gate = asyncio.Event()
    log: list[str] = []
    tasks = [asyncio.create_task(lane.run(functools.partial(_hold, gate, log, n))) for n in "abc"]
    await asyncio.sleep(0)
    assert log == ["start a"] and lane.busy and lane.depth == 2
    gate.set()
    assert await asyncio.gather(*tasks) == ["a", "b", "c"]
    assert log == ["start a", "end a", "start b", "end b", "start c", "end c"]
    assert not lane.busy and lane.depth == 0


async def test_full_queue_is_busy_at_once() -> None:
    lane = CommandLane(device_id="d", queue_limit=2)
    gate = asyncio.Event()
    log: list[str] = []
    running = [asyncio.create_task(lane.run(functools.partial(_hold, gate, log, n))) for n in "abc"]
    await asyncio.sleep(0)
    assert lane.depth == 2
    with pytest.raises(DeviceBusyError):
        await asyncio.wait_for(lane.run(lambda: _hold(gate, log, "d")), 0.1)
    gate.set()
    await asyncio.gather(*running)


async def test_deadline_while_queued_and_while_running() -> None:
    loop = asyncio.get_running_loop()
    lane = CommandLane(device_id="d", queue_limit=2)
    gate = asyncio.Event()
    first = asyncio.create_task(lane.run(lambda: _hold(gate, [], "a")))
    await asyncio.sleep(0)
    with pytest.raises(DeadlineExceededError):
        await lane.run(lambda: _hold(gate, [], "b"), deadline=loop.time() + 0.05)
    assert lane.depth == 0
    gate.set()
    await first
    with pytest.raises(DeadlineExceededError):
        await lane.run(lambda: asyncio.sleep(5), deadline=loop.time() + 0.05)
    assert not lane.busy


async def test_cancelled_waiter_leaves_the_queue() -> None:
    lane = CommandLane(device_id="d", queue_limit=2)
    gate = asyncio.Event()
    first = asyncio.create_task(lane.run(lambda: _hold(gate, [], "a")))
    second = asyncio.create_task(lane.run(lambda: _hold(gate, [], "b")))
    await asyncio.sleep(0)
    assert lane.depth == 1
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert lane.depth == 0
    gate.set()
    assert await first == "a"
    assert not lane.busy


async def test_probes_yield_to_user_commands() -> None:
    lane = CommandLane(device_id="d", queue_limit=2)
    gate = asyncio.Event()
    ran: list[str] = []

    async def probe() -> str:
        ran.append("probe")
        return "ok"

    assert await lane.try_probe(probe) == "ok"
    user = asyncio.create_task(lane.run(lambda: _hold(gate, [], "a")))
    await asyncio.sleep(0)
    assert await lane.try_probe(probe) is None  # skipped while a user command runs
    gate.set()
    await user
    assert ran == ["probe"]


async def test_state_callback_follows_busy() -> None:
    lane = CommandLane(device_id="d", queue_limit=1)
    seen: list[bool] = []
    lane.on_change = lambda: seen.append(lane.busy)
    await lane.run(lambda: asyncio.sleep(0))
    assert seen == [True, False]
