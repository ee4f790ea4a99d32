"""Ledger throughput: complete issuances (begin, mark_sent, finish) per second through the facade.

Three state changes per issuance, each one transaction. The baseline, measured in the
same run on the same disk, is the same work with ``synchronous=NORMAL`` (no fsync per
commit): the ratio is the price of the durability the ledger insists on.
"""

import asyncio
import datetime as dt
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest
from support.perf import record

from hallgw_daemon.ledger import Done, Ledger, Operation, params_digest

pytestmark = pytest.mark.bench

ISSUANCES = 500
ROUNDS = 3
KIOSK_TIME = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


async def issuances_per_second(path: Path, synchronous: str, concurrency: int) -> float:
    digest = params_digest({"endorsement_type": "HK-1"})
    async with await Ledger.open(path, synchronous=synchronous) as ledger:
        queue = list(range(ISSUANCES))

        async def worker() -> None:
            while queue:
                n = queue.pop()
                request_id = f"bench-{synchronous}-{concurrency}-{n}"
                await ledger.begin(request_id, "kiosk-1", Operation.ISSUE_ENDORSEMENT, f"case-{n}", digest)
                await ledger.mark_sent(request_id)
                await ledger.finish(request_id, Done(operation_serial=f"OP-{n}", kiosk_time=KIOSK_TIME))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return ISSUANCES / (time.perf_counter() - started)


def measure() -> dict[tuple[str, int], float]:
    results: dict[tuple[str, int], list[float]] = {}
    for _ in range(ROUNDS):
        for synchronous in ("FULL", "NORMAL"):
            for concurrency in (1, 16):
                with tempfile.TemporaryDirectory() as tmp:
                    rate = asyncio.run(issuances_per_second(Path(tmp) / "ledger.db", synchronous, concurrency))
                results.setdefault((synchronous, concurrency), []).append(rate)
    return {key: statistics.median(rates) for key, rates in results.items()}


def test_bench_ledger() -> None:
    rates = measure()
    lines = [
        f"Ledger, {ISSUANCES} issuances (begin, mark_sent, finish: three transactions each), median of {ROUNDS} "
        f"runs, {platform.machine()}, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"on {tempfile.gettempdir()}:",
        "",
        "| synchronous | callers | issuances/s | transactions/s | vs NORMAL |",
        "|---|---|---|---|---|",
    ]
    for (synchronous, concurrency), rate in sorted(rates.items()):
        ratio = rate / rates[("NORMAL", concurrency)]
        lines.append(f"| {synchronous} | {concurrency} | {rate:.0f} | {3 * rate:.0f} | {ratio:.2f} |")
    text = "\n".join(lines)
    print(text)
    record("ledger", text)
    assert all(rate > 0 for rate in rates.values())
