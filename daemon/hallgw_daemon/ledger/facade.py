"""The asyncio face of the journal: every statement on one dedicated thread, never on the loop.

Calls are queued to a one-thread executor in the order they are made, so they run one
at a time, each its own transaction: concurrent ``begin`` calls for the same request id
from many tasks record exactly one intent. A caller cancelled while its call is still
queued has no effect; once the call runs, it completes and commits even though
its caller no longer waits. Every call is safe to repeat, so a cancelled caller retries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from hallgw_daemon.ledger.journal import Clock, Journal, utc_now
from hallgw_daemon.ledger.model import (
    AuditEvent,
    Begin,
    Entry,
    LedgerClosedError,
    Operation,
    Outcome,
    State,
)

T = TypeVar("T")


class Ledger:
    """The journal for asyncio code. Open with ``await Ledger.open(path)``; close with ``await ledger.close()``."""

    def __init__(self, journal: Journal, executor: ThreadPoolExecutor) -> None:
        self._journal = journal
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        integrity_check: bool = True,
        clock: Clock = utc_now,
    ) -> Ledger:
        """Open the ledger on its own thread (creating, migrating and checking the file there)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        opener = functools.partial(
            Journal.open,
            path,
            busy_timeout=busy_timeout,
            synchronous=synchronous,
            integrity_check=integrity_check,
            clock=clock,
        )
        try:
            journal = await asyncio.get_running_loop().run_in_executor(executor, opener)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(journal, executor)

    async def close(self) -> None:
        """Let queued calls finish, close the file, and end the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._journal.close)
        finally:
            self._executor.shutdown(wait=False)

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        if self._closed:
            raise LedgerClosedError(f"the ledger {self._journal.path} is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    @property
    def path(self) -> Path:
        return self._journal.path

    @property
    def session(self) -> int:
        """This run's number (it grows by one at every open)."""
        return self._journal.session

    @property
    def thread_id(self) -> int:
        """The ledger thread's id: every statement runs there."""
        return self._journal.thread_id

    async def begin(
        self, request_id: str, kiosk_id: str, operation: Operation, business_ref: str, params_digest: str
    ) -> Begin:
        """See ``Journal.begin``."""
        return await self._run(self._journal.begin, request_id, kiosk_id, operation, business_ref, params_digest)

    async def mark_sent(self, request_id: str) -> Entry:
        """See ``Journal.mark_sent``."""
        return await self._run(self._journal.mark_sent, request_id)

    async def finish(self, request_id: str, outcome: Outcome) -> Entry:
        """See ``Journal.finish``."""
        return await self._run(self._journal.finish, request_id, outcome)

    async def get(self, request_id: str) -> Entry | None:
        return await self._run(self._journal.get, request_id)

    async def unresolved(self, kiosk_id: str | None = None) -> list[Entry]:
        """See ``Journal.unresolved``."""
        return await self._run(self._journal.unresolved, kiosk_id)

    async def pending(self) -> list[Entry]:
        return await self._run(self._journal.pending)

    async def recent(self, kiosk_id: str | None = None, limit: int = 100) -> list[Entry]:
        """See ``Journal.recent``."""
        return await self._run(self._journal.recent, kiosk_id, limit)

    async def counts(self, kiosk_id: str | None = None) -> dict[State, int]:
        return await self._run(self._journal.counts, kiosk_id)

    async def counts_by_kiosk(self) -> dict[str, dict[State, int]]:
        return await self._run(self._journal.counts_by_kiosk)

    async def audit(self, request_id: str | None = None, *, limit: int = 1000) -> list[AuditEvent]:
        return await self._run(functools.partial(self._journal.audit, request_id, limit=limit))

    async def prune(self, older_than: dt.datetime) -> int:
        """See ``Journal.prune``."""
        return await self._run(self._journal.prune, older_than)

    async def integrity_check(self) -> list[str]:
        return await self._run(self._journal.integrity_check)

    async def schema_version(self) -> int:
        return await self._run(self._journal.schema_version)
