"""The kiosk driver: side-effecting commands exactly once, through the ledger (docs/kiosk-protocol.md).

Theory of operation
-------------------
Every issuance goes through the ledger (:mod:`hallgw_daemon.ledger`) first:
``begin`` records the intent under the caller's request id and gives the
command id the kiosk will see, stable across retries. A request id whose
outcome is final answers at once; one in flight in this process is joined.
Otherwise the driver marks it sent (it may now reach the kiosk), publishes
the command and follows it in a background task that outlives the caller:
the acknowledgement (accepted, rejected: not done, duplicate: the first
outcome), progress events, and the one completion, which it writes to the
ledger before anyone hears of it.

Replies are routed by command id (the durable key), not by correlation data,
so a completion that arrives after a caller gave up, or after a reconnect,
still lands in the ledger.

What stays unresolved (sent, no final outcome) after a crash or a lost
connection is *in doubt*. Identifying a kiosk (each time it comes online, the
daemon's start included) resolves its unresolved entries before it takes new
work: ``query_outcome`` for each command id gives the final outcome, "in
progress" (then the completion is awaited in the background), or, for an id
the kiosk never saw, a fenced "not received": the command can never run, so
"not done" is true.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

from hallgw_daemon.core.errors import DeviceOfflineError, GatewayError, InternalError, LinkLostError
from hallgw_daemon.core.model import Action, DeviceKind
from hallgw_daemon.drivers.base import Driver, DriverContext, register_driver
from hallgw_daemon.ledger import BeginStatus, Done, Entry, Ledger, NotDone, Operation
from hallgw_daemon.logging import get_logger
from hallgw_daemon.transports import KioskLink, LinkClosedError, Transport
from hallgw_protocols.kiosk import (
    PROTOCOL_REASONS,
    Accepted,
    Completion,
    Duplicate,
    InProgress,
    OutcomeAnswer,
    Progress,
    QueryOutcome,
    Rejected,
    Reply,
    SideEffectCommand,
)
from hallgw_protocols.kiosk import Action as KioskAction
from hallgw_protocols.kiosk import Done as KioskDone
from hallgw_protocols.kiosk import NotDone as KioskNotDone

log = get_logger(__name__)

ACK_TIMEOUT: Final = 10.0
"""Longest wait for a kiosk's acknowledgement (accepted, rejected or duplicate)."""
QUERY_TIMEOUT: Final = 5.0
ACTIONS: Final = {a.value: Action(a.value) for a in KioskAction}
RECENT_CALLS: Final = 10_000
ProgressFn = Callable[[str, str], None]


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def ledger_outcome(outcome: KioskDone | KioskNotDone) -> Done | NotDone:
    """The ledger's form of a kiosk's final outcome."""
    if isinstance(outcome, KioskDone):
        when = dt.datetime.fromisoformat(outcome.completed_at.replace("Z", "+00:00"))
        return Done(operation_serial=outcome.serial, kiosk_time=when)
    return NotDone(reason=outcome.reason.value.upper(), action=ACTIONS[outcome.action.value])


@dataclasses.dataclass(slots=True, eq=False)
class _Call:
    """One command the kiosk was sent, followed until its outcome is in the ledger."""

    request_id: str
    command_id: str
    ack: asyncio.Future[Reply]
    final: asyncio.Future[Entry]
    progress: set[ProgressFn] = dataclasses.field(default_factory=set)
    task: asyncio.Task[Entry | None] | None = None


@register_driver
class KioskDriver(Driver):
    """One kiosk over the shared MQTT hub (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.KIOSK
    self_reporting: ClassVar[bool] = True  # heartbeats and the last will: no probing
    ledger: ClassVar[Ledger | None] = None
    """The exactly-once journal, installed by the application."""
    command_timeout: ClassVar[float] = 120.0

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._link: KioskLink | None = None
        self._last_link: KioskLink | None = None
        """Kept after a detach: the kiosk's last reported state still describes it while it is away."""
        self._calls: dict[str, _Call] = {}
        self._queries: dict[str, asyncio.Future[OutcomeAnswer]] = {}
        self._request_of: collections.OrderedDict[str, str] = collections.OrderedDict()
        """Command id -> request id of recent calls, so a late or repeated completion finds its entry."""
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def link(self) -> KioskLink:
        if self._link is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return self._link

    @property
    def journal(self) -> Ledger:
        ledger = type(self).ledger
        if ledger is None:
            raise InternalError("the kiosk ledger is not open")
        return ledger

    # -- lifecycle -------------------------------------------------------------------------
    def attach(self, transport: Transport) -> None:
        if not isinstance(transport, KioskLink):
            raise InternalError(f"device {self.ctx.device_id}: a kiosk driver got {transport!r}")
        self._link = self._last_link = transport
        transport.on_reply = self._on_reply

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        await self.probe(timeout=timeout)
        state = await self.link.wait_state(timeout)  # the retained state follows the status
        await self.resolve_unresolved()
        if state is None:
            return {}
        return {
            "kiosk_kind": state.kind.value,
            "model": state.model,
            "firmware": state.firmware,
            "mode": state.mode.value,
            "door": state.door.value,
        }

    async def probe(self, *, timeout: float) -> None:
        if not self.link.alive:
            raise DeviceOfflineError("the kiosk is offline (no heartbeat)", device_id=self.ctx.device_id)

    async def wait_closed(self) -> str:
        return await self.link.wait_gone()

    async def detach(self) -> None:
        link, self._link = self._link, None
        for call in list(self._calls.values()):
            # Whatever the kiosk answers while it is away is lost: every call not final is in
            # doubt now, and identifying the kiosk again asks it for the outcome.
            for future in (call.ack, call.final):
                if not future.done():
                    future.set_exception(LinkClosedError("the kiosk went away"))
                    future.exception()
        self._calls.clear()
        for query in self._queries.values():
            if not query.done():
                query.set_exception(LinkClosedError("the kiosk went away"))
                query.exception()
        if link is not None:
            await link.close()

    def following(self, command_id: str) -> bool:
        """Whether this daemon follows the command to its outcome now (in progress, not in doubt).

        It does from the moment the command is sent until its outcome, while the
        kiosk's link is up and its acknowledgement has not failed (timed out or
        the link dropped): the gateway is reaching the kiosk and will know.
        """
        call = self._calls.get(command_id)
        if call is None or self._link is None:
            return False
        return not (call.ack.done() and (call.ack.cancelled() or call.ack.exception() is not None))

    def state_time(self) -> dt.datetime | None:
        """When the kiosk last reported its state (and consumables)."""
        return self._last_link.state_time if self._last_link is not None else None

    def consumables(self) -> Mapping[str, int]:
        state = self._last_link.state if self._last_link is not None else None
        if state is None:
            return {}
        out: dict[str, int] = {}
        c = state.consumables
        for key, value in (("paper_pct", c.paper_pct), ("ribbon_pct", c.ribbon_pct), ("card_stock", c.card_stock)):
            if value is not None:
                out[key] = value
        if state.slots is not None:
            out["slots_total"], out["slots_occupied"] = state.slots.total, state.slots.occupied
        return out

    # -- replies ---------------------------------------------------------------------------
    def _on_reply(self, reply: Reply, _correlation: bytes | None) -> None:
        command_id = getattr(reply, "command_id", None)
        if command_id is None:
            return
        if isinstance(reply, OutcomeAnswer):
            query = self._queries.get(command_id)
            if query is not None and not query.done():
                query.set_result(reply)
            return
        call = self._calls.get(command_id)
        if isinstance(reply, Completion):
            # The completion is what the ledger must get, whoever still waits for it.
            task = asyncio.get_running_loop().create_task(self._complete(command_id, reply.outcome))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            if call is not None and not call.ack.done():
                call.ack.set_result(reply)
            return
        if call is None:
            return
        if isinstance(reply, Accepted | Rejected | Duplicate) and not call.ack.done():
            call.ack.set_result(reply)
        elif isinstance(reply, Progress):
            for fn in list(call.progress):
                fn(reply.stage.value.upper(), reply.message)

    async def _complete(self, command_id: str, outcome: KioskDone | KioskNotDone) -> None:
        call = self._calls.get(command_id)
        try:
            entry = await self._finish_by_command(command_id, ledger_outcome(outcome))
        except GatewayError as err:
            log.error("kiosk outcome not recorded", device_id=self.ctx.device_id, reason=err.reason, error=err.message)
            if call is not None and not call.final.done():
                call.final.set_exception(err)
            return
        if call is not None and not call.final.done():
            call.final.set_result(entry)

    async def _finish_by_command(self, command_id: str, outcome: Done | NotDone) -> Entry:
        request_id = self._request_of.get(command_id)
        if request_id is not None:
            return await self.journal.finish(request_id, outcome)  # the same outcome again is a no-op
        for entry in await self.journal.unresolved(self.ctx.device_id):
            if entry.command_id == command_id:
                return await self.journal.finish(entry.request_id, outcome)
        raise InternalError(f"a completion for an unknown command id on {self.ctx.device_id}")

    # -- recovery --------------------------------------------------------------------------
    async def resolve_unresolved(self) -> None:
        """Ask the kiosk about every unresolved entry of it (see the module docstring)."""
        for entry in await self.journal.unresolved(self.ctx.device_id):
            if entry.command_id in self._calls:
                continue  # followed by this process already
            loop = asyncio.get_running_loop()
            query: asyncio.Future[OutcomeAnswer] = loop.create_future()
            self._queries[entry.command_id] = query
            try:
                await self.link.send(QueryOutcome(command_id=entry.command_id, time=_utc_now()))
                async with asyncio.timeout(QUERY_TIMEOUT):
                    answer = await query
            except (LinkClosedError, TimeoutError) as err:
                raise DeviceOfflineError(
                    f"the kiosk did not answer for an issuance in doubt: {type(err).__name__}",
                    device_id=self.ctx.device_id,
                ) from err
            finally:
                self._queries.pop(entry.command_id, None)
            outcome = answer.outcome
            if isinstance(outcome, InProgress):
                call = self._follow(entry)
                call.ack.set_result(Accepted(command_id=entry.command_id, time=_utc_now()))
                call.task = loop.create_task(self._await_final(call))
                continue
            await self.journal.finish(entry.request_id, ledger_outcome(outcome))
            log.info("issuance in doubt resolved", device_id=self.ctx.device_id, request_id=entry.request_id)

    def _follow(self, entry: Entry) -> _Call:
        loop = asyncio.get_running_loop()
        call = _Call(
            request_id=entry.request_id,
            command_id=entry.command_id,
            ack=loop.create_future(),
            final=loop.create_future(),
        )
        self._calls[entry.command_id] = call
        self._request_of[entry.command_id] = entry.request_id
        while len(self._request_of) > RECENT_CALLS:
            self._request_of.popitem(last=False)
        call.final.add_done_callback(lambda _f: self._calls.pop(entry.command_id, None))
        return call

    async def _await_final(self, call: _Call) -> Entry | None:
        try:
            async with asyncio.timeout(type(self).command_timeout):
                return await asyncio.shield(call.final)
        except (TimeoutError, LinkClosedError, GatewayError):
            return None  # still unresolved: in doubt until the kiosk answers a query

    # -- issuing ---------------------------------------------------------------------------
    async def issue(
        self,
        build: Callable[[str, str], SideEffectCommand],
        *,
        request_id: str,
        operation: Operation,
        business_ref: str,
        digest: str,
        progress: ProgressFn,
        wait: float,
    ) -> tuple[Entry, bool]:
        """Issue once (see the module docstring); (the entry, whether the kiosk may still be working on it).

        ``build(command_id, time)`` makes the command. ``wait`` bounds how long
        this caller waits for the outcome; the command is followed after it leaves.
        """
        begin = await self.journal.begin(request_id, self.ctx.device_id, operation, business_ref, digest)
        entry = begin.entry
        if begin.status is BeginStatus.FINAL:
            return entry, False
        call = self._calls.get(entry.command_id)
        if call is None:
            call = self._follow(entry)
            call.task = asyncio.get_running_loop().create_task(self._run(call, build))
        call.progress.add(progress)
        try:
            async with asyncio.timeout(wait):
                final = await asyncio.shield(call.final)
            return final, False
        except TimeoutError:
            current = await self.journal.get(request_id)
            return (current or entry), call.ack.done() and not call.ack.exception()
        except LinkClosedError:
            current = await self.journal.get(request_id)
            return (current or entry), False
        finally:
            call.progress.discard(progress)

    async def _run(self, call: _Call, build: Callable[[str, str], SideEffectCommand]) -> Entry | None:
        """Send the command and follow it to its outcome in the ledger (a task: it outlives the caller)."""
        try:
            await self.journal.mark_sent(call.request_id)
            await self.link.send(build(call.command_id, _utc_now()))
            async with asyncio.timeout(ACK_TIMEOUT):
                ack = await call.ack
            if isinstance(ack, Rejected):
                # A business rejection spends the id; a protocol one records nothing at the kiosk.
                # Either way nothing was issued.
                reason = ack.reason.value.upper()  # the ledger keeps reasons as stable upper-case codes
                if ack.reason in PROTOCOL_REASONS:
                    log.warning("kiosk refused a command", device_id=self.ctx.device_id, reason=reason)
                action = ACTIONS[ack.action.value]
                entry = await self.journal.finish(call.request_id, NotDone(reason=reason, action=action))
                if not call.final.done():
                    call.final.set_result(entry)
                return entry
            if isinstance(ack, Duplicate) and not isinstance(ack.outcome, InProgress):
                await self._complete(call.command_id, ack.outcome)
            return await self._await_final(call)
        except (LinkClosedError, TimeoutError) as err:
            # The command may have reached the kiosk: the entry stays unresolved (in doubt)
            # until the kiosk answers a query for it.
            log.warning("kiosk issuance in doubt", device_id=self.ctx.device_id, error=type(err).__name__)
            if not call.final.done():
                call.final.set_exception(LinkClosedError(f"in doubt: {type(err).__name__}"))
                call.final.exception()
            return None
        except GatewayError as err:  # the ledger refused (conflict, unavailable): the caller sees it
            if not call.final.done():
                call.final.set_exception(err)
                call.final.exception()
            return None
        except Exception as err:  # a bug: never leave a caller waiting on it
            log.exception("kiosk issuance failed", device_id=self.ctx.device_id)
            if not call.final.done():
                call.final.set_exception(InternalError(f"issuance failed: {type(err).__name__}"))
                call.final.exception()
            return None
