"""The command lane: one command on a device's link at a time, a bounded queue behind it.

Theory of operation
-------------------
Every device has one lane. A user command either starts at once, waits in a
FIFO queue of at most ``queue_limit`` commands, or (queue full) fails at once
with DEVICE_BUSY: never a hang. The caller's deadline covers both the wait in
the queue and the run. Cancelling the caller's task (the client went away)
removes it from the queue or interrupts its run; the driver then recovers the
link at the next frame boundary. Health probes run only when the lane is idle
and nobody is queued: they always yield to user commands.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hallgw_daemon.core.errors import DeadlineExceededError, DeviceBusyError, DeviceTimeoutError

T = TypeVar("T")


class CommandLane:
    """Serialises commands to one device (see module docstring)."""

    def __init__(self, *, device_id: str, queue_limit: int) -> None:
        self.device_id = device_id
        self.queue_limit = queue_limit
        self._busy = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self.on_change: Callable[[], None] | None = None
        """Called when the lane becomes busy or idle (the device state follows it)."""

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def depth(self) -> int:
        """Commands waiting behind the running one."""
        return len(self._waiters)

    async def run(self, fn: Callable[[], Awaitable[T]], *, deadline: float | None = None) -> T:
        """Run ``fn`` when the lane is free, within ``deadline`` (event-loop time)."""
        if self._busy or self._waiters:
            if len(self._waiters) >= self.queue_limit:
                raise DeviceBusyError(
                    f"device {self.device_id} is busy and {len(self._waiters)} commands are already waiting",
                    device_id=self.device_id,
                )
            await self._wait_turn(deadline)
        else:
            self._acquire()
        try:
            async with asyncio.timeout_at(deadline):
                return await fn()
        except TimeoutError as err:
            if isinstance(err, DeadlineExceededError | DeviceTimeoutError):
                raise
            raise DeadlineExceededError(
                f"the deadline passed while device {self.device_id} was working", device_id=self.device_id
            ) from None
        finally:
            self._release()

    async def try_probe(self, fn: Callable[[], Awaitable[T]]) -> T | None:
        """Run a health probe only if nothing else runs or waits; None if skipped."""
        if self._busy or self._waiters:
            return None
        self._acquire(notify=False)
        try:
            return await fn()
        finally:
            self._release(notify=False)

    async def _wait_turn(self, deadline: float | None) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._notify()
        try:
            async with asyncio.timeout_at(deadline):
                await fut
        except TimeoutError:
            if fut.done() and not fut.cancelled():
                # Our turn came just as the deadline passed: hand it on.
                self._release()
            else:
                self._waiters.remove(fut)
                self._notify()
            raise DeadlineExceededError(
                f"the deadline passed while waiting for device {self.device_id}", device_id=self.device_id
            ) from None
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._release()
            else:
                self._waiters.remove(fut)
                self._notify()
            raise

    def _acquire(self, *, notify: bool = True) -> None:
        self._busy = True
        if notify:
            self._notify()

    def _release(self, *, notify: bool = True) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the lane passes straight to the next waiter
                self._notify()
                return
        self._busy = False
        if notify:
            self._notify()

    def _notify(self) -> None:
        if self.on_change is not None:
            self.on_change()
