"""Random faults on random readers while reads run: the daemon keeps every promise.

Invariants: every call ends within its deadline with success or a documented
reason; the daemon never dies; once faults are cleared, every reader is online
and reads again. The run is bounded (ROUNDS) and seeded: a failure prints the
seed (set HALLGW_CHAOS_SEED to replay it).
"""

import asyncio
import os
import random
import time
from pathlib import Path

import grpc
import pytest
from support.hall import error_info, running_hall

from hallgw_api.v1 import device_pb2, idcard_pb2
from hallgw_daemon.api.errors import STATUS_OF_REASON

pytestmark = pytest.mark.chaos

ROUNDS = 25
READERS = ("idr-01", "idr-02", "idr-03", "idr-04", "idr-05")
FAULTS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    ("corrupt", (1,)),
    ("corrupt", (3,)),
    ("garbage", (40,)),
    ("remove_mid_read", ()),
    ("delay", (50,)),
    ("silence", ("on",)),
    ("selftest_fail", ("on",)),
    ("no_card", ("on",)),
    ("unplug", ()),
)
CALL_TIMEOUT = 4.0


async def one_read(hall_idcard: object, device_id: str) -> str:
    req = idcard_pb2.ReadIdCardRequest(device=device_pb2.DeviceRef(device_id=device_id), request_id="chaos")
    req.card_wait.FromMilliseconds(300)
    started = time.monotonic()
    try:
        await hall_idcard.ReadIdCard(req, timeout=CALL_TIMEOUT)  # type: ignore[attr-defined]
        outcome = "OK"
    except grpc.aio.AioRpcError as err:
        outcome = error_info(err)[1]
        assert outcome in STATUS_OF_REASON, f"undocumented reason {outcome}"
    assert time.monotonic() - started < CALL_TIMEOUT + 0.5
    return outcome


async def test_random_faults_never_break_the_promises(tmp_path: Path) -> None:
    seed = int(os.environ.get("HALLGW_CHAOS_SEED", random.SystemRandom().randrange(1 << 30)))
    rng = random.Random(seed)
    print(f"chaos seed {seed} (replay: HALLGW_CHAOS_SEED={seed})")
    try:
        async with running_hall(tmp_path / "hall", baud=0) as hall:
            outcomes: dict[str, int] = {}
            for _ in range(ROUNDS):
                target = rng.choice(READERS)
                name, args = rng.choice(FAULTS)
                await hall.ctl.insert(target, rng.choice(["resident-1", "hmt-1", "fpr2023-1"]))
                await hall.ctl.fault(target, name, *args)
                reads = [one_read(hall.idcard, rng.choice(READERS)) for _ in range(rng.randint(1, 4))]
                for result in await asyncio.gather(*reads):
                    outcomes[result] = outcomes.get(result, 0) + 1
                if rng.random() < 0.5:  # sometimes heal at once, sometimes let faults pile up
                    await hall.ctl.fault(target, "replug" if name == "unplug" else "clear")
                assert hall.gw is not None and hall.gw.poll() is None, "the daemon died"
            for reader in READERS:
                await hall.ctl.fault(reader, "replug")
                await hall.ctl.fault(reader, "clear")
                await hall.ctl.insert(reader, "resident-2")
            await hall.wait_all_online(timeout=10)
            for reader in READERS:
                assert await one_read(hall.idcard, reader) == "OK", reader
            print(f"outcomes: {outcomes}")
    except BaseException:
        print(f"chaos run failed; replay with HALLGW_CHAOS_SEED={seed}")
        raise
