"""Exactly once under fire: 1,000 issuances across 50 kiosks while the daemon, kiosks and broker fail.

Clients retry each request id until it has a final outcome (done or not done),
as business systems do, while the run SIGKILLs the daemon at random moments and
restarts it, takes kiosks off the broker and back, and restarts the broker once.
At the end: every request id has exactly one final outcome, the same on every
answer and in the gateway's journal; the kiosks' own count of issuances equals
the journal's count of done; no operation serial is reported twice. The run is
bounded (RUN_LIMIT_S; about 35 s as a rule) and seeded: it prints its seed
(HALLGW_CHAOS_SEED replays it). It is part of the normal suite.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status
from support.broker import Broker, mosquitto_broker
from support.hall import Hall, by_device, error_info

from hallgw_api.v1 import kiosk_pb2

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(420)]

ISSUANCES = 1000
KIOSKS_PER_KIND = 25  # endorsement and record query: 50 kiosks
WORKERS = 24
DAEMON_KILLS = 4
KIOSK_DROPS = 6
RUN_LIMIT_S = 300.0
FINAL = {kiosk_pb2.ISSUANCE_STATE_DONE, kiosk_pb2.ISSUANCE_STATE_NOT_DONE}
RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.FAILED_PRECONDITION,
}

SCENARIO = """
[hall]
name = "chaos-hall"
gateway = "gw-01"
seed = {seed}
control_port = 0

[kiosks]
heartbeat_interval = 1
step_delay = 0.005
pickup_timeout = 0.02

[[stations]]
id = "area24-01"
kind = "area24"

[[kiosk_groups]]
station = "area24-01"
kind = "endorsement"
count = {n}
prefix = "ke"

[[kiosk_groups]]
station = "area24-01"
kind = "record_query"
count = {n}
prefix = "kq"
"""


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


class Client:
    """One business system's view: retries a request id until its outcome is final."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall
        self.outcomes: dict[str, kiosk_pb2.Issuance] = {}
        self.conflicts: list[str] = []
        self.unfinished: dict[str, str] = {}
        self.calls = 0

    @staticmethod
    def request(rid: str, kiosk: str) -> tuple[str, object]:
        if kiosk.startswith("ke"):
            return "IssueEndorsement", kiosk_pb2.IssueEndorsementRequest(
                device=by_device(kiosk), request_id=rid, business_ref=f"ref-{rid}",
                destination=kiosk_pb2.DESTINATION_MACAO, endorsement_type=kiosk_pb2.ENDORSEMENT_TYPE_BUSINESS,
                entries=0, valid_days=365, stay_days=7,
            )  # fmt: skip
        return "PrintTravelRecord", kiosk_pb2.PrintTravelRecordRequest(
            device=by_device(kiosk), request_id=rid, business_ref=f"ref-{rid}", record_ref=f"rec-{rid}", copies=1
        )

    async def until_final(self, rid: str, kiosk: str, deadline: float) -> None:
        method, req = self.request(rid, kiosk)
        while time.monotonic() < deadline:
            if self.hall.channel is None:  # the daemon is being restarted
                await asyncio.sleep(0.2)
                continue
            self.calls += 1
            try:
                resp = await getattr(self.hall.kiosks, method)(req, timeout=10)
            except grpc.aio.AioRpcError as err:
                # A transport error (the daemon is down) carries no rich status: only our own errors do.
                reason = error_info(err)[1] if rpc_status.from_call(err) is not None else ""  # type: ignore[arg-type]
                if err.code() not in RETRYABLE and reason not in {"DEVICE_OFFLINE", "DEVICE_BUSY"}:
                    raise AssertionError(f"{rid}: {err.code()} {reason}: not an answer to retry") from err
                await asyncio.sleep(0.2)
                continue
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                await asyncio.sleep(0.2)  # the channel went away with a killed daemon
                continue
            got = resp.issuance
            if got.state in FINAL:
                self.outcomes[rid] = got
                return
            await asyncio.sleep(0.2)  # in progress or in doubt: ask again later, same request id
        self.unfinished[rid] = kiosk


async def kiosk_done_total(hall: Hall) -> int:
    answer = await hall.ctl.request("kiosks")
    return int(answer["counts"].get("done", 0))


async def why_unfinished(hall: Hall, unfinished: dict[str, str]) -> str:
    """What the hall looks like for the request ids left without a final outcome (the failure message)."""
    lines = [f"{len(unfinished)} request ids have no final outcome after the run limit"]
    for kiosk in sorted(set(unfinished.values()))[:10]:
        sim = (await hall.ctl.request("kiosks", device=kiosk))["kiosks"]
        seen = await hall.device(kiosk)
        rids = [rid for rid, k in unfinished.items() if k == kiosk]
        lines.append(f"{kiosk}: daemon {seen.oper_state} ({seen.last_error.message!r}); simulator {sim}; {rids[:5]}")
        for rid in rids[:3]:
            try:
                entry = (
                    await hall.kiosks.GetIssuance(kiosk_pb2.GetIssuanceRequest(request_id=rid), timeout=5)
                ).issuance
                lines.append(f"  {rid}: {kiosk_pb2.IssuanceState.Name(entry.state)} {entry.reason}")
            except grpc.aio.AioRpcError as err:
                lines.append(f"  {rid}: {err.code()} {err.details()}")
    return "\n".join(lines)


async def test_every_issuance_exactly_once(tmp_path: Path, broker: Broker) -> None:
    seed = int(os.environ.get("HALLGW_CHAOS_SEED", random.randrange(1 << 30)))
    print(f"\nchaos seed {seed} (HALLGW_CHAOS_SEED={seed} replays this run)")
    rng = random.Random(seed)
    scenario = tmp_path / "chaos.toml"
    scenario.write_text(SCENARIO.format(seed=seed % 1000, n=KIOSKS_PER_KIND))
    hall = Hall(tmp_path / "hall", scenario=scenario, broker=broker.url)
    hall.root.mkdir()
    kiosks = [f"ke-{i:03d}" for i in range(1, KIOSKS_PER_KIND + 1)] + [
        f"kq-{i:03d}" for i in range(1, KIOSKS_PER_KIND + 1)
    ]
    work = [(f"req-{seed}-{n:04d}", rng.choice(kiosks)) for n in range(ISSUANCES)]
    client = Client(hall)
    deadline = time.monotonic() + RUN_LIMIT_S
    try:
        await hall.start()
        await hall.wait_all_online(timeout=60)
        assert {d["id"] for d in hall.ready.get("kiosks", [])} >= set(kiosks)
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        for item in work:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty():
                rid, kiosk = queue.get_nowait()
                await client.until_final(rid, kiosk, deadline)

        async def chaos() -> None:
            kills, drops, broker_restarted = 0, 0, False
            while kills < DAEMON_KILLS or drops < KIOSK_DROPS or not broker_restarted:
                await asyncio.sleep(rng.uniform(0.5, 2.0))
                roll = rng.random()
                if roll < 0.4 and kills < DAEMON_KILLS:
                    kills += 1
                    await hall.stop_daemon(signal.SIGKILL)
                    await asyncio.sleep(rng.uniform(0.0, 0.5))
                    await hall.start_daemon()
                elif roll < 0.85 and drops < KIOSK_DROPS:
                    drops += 1
                    kiosk = rng.choice(kiosks)
                    await hall.ctl.fault(kiosk, "offline", rng.choice(["now", "mid"]))
                    await asyncio.sleep(rng.uniform(0.2, 1.5))
                    await hall.ctl.fault(kiosk, "online")
                elif not broker_restarted:
                    broker_restarted = True
                    await broker.restart()

        workers = [asyncio.ensure_future(worker()) for _ in range(WORKERS)]
        await chaos()
        await asyncio.gather(*workers)
        if client.unfinished:
            raise AssertionError(await why_unfinished(hall, client.unfinished))

        # Everything settled: the journal agrees with every client's final answer.
        await hall.wait_all_online(timeout=60)
        assert len(client.outcomes) == ISSUANCES
        serials: list[str] = []
        done = 0
        for rid, seen in client.outcomes.items():
            journal = (await hall.kiosks.GetIssuance(kiosk_pb2.GetIssuanceRequest(request_id=rid), timeout=10)).issuance
            assert journal.state == seen.state, rid
            assert journal.evidence.operation_serial == seen.evidence.operation_serial, rid
            assert journal.reason == seen.reason, rid
            if journal.state == kiosk_pb2.ISSUANCE_STATE_DONE:
                done += 1
                serials.append(journal.evidence.operation_serial)
        assert len(set(serials)) == len(serials), "an operation serial was reported for two request ids"
        pending = await hall.kiosks.ListIssuances(kiosk_pb2.ListIssuancesRequest(), timeout=10)
        assert not pending.issuances, [i.request_id for i in pending.issuances]
        assert await kiosk_done_total(hall) == done, "the kiosks issued a different number of documents"
        print(f"chaos: {ISSUANCES} request ids, {done} done, {ISSUANCES - done} not done, {client.calls} calls")
        assert done > ISSUANCES // 2  # the run did real work, not just refusals
    finally:
        await hall.stop()
