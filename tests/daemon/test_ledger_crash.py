"""Crash safety: SIGKILL a process in the middle of 1,000 issuances, again and again, then check.

The child (this file run as a script) plays the daemon: it opens the ledger, resolves
every entry an earlier run left in doubt (its "kiosk" answers deterministically from
the request id), then works through all request ids with eight concurrent tasks:
``begin``, ``mark_sent``, ``finish``, sometimes a retry of an earlier request id and,
now and then, a contradicting outcome that must be refused. After each call returns it
prints one line: what it printed was acknowledged to the caller. The parent kills it
with SIGKILL after a random number of lines (fixed seed), checks the file, and starts
the next run on it; a last run goes to the end. Invariants:

- every request id the child reported as begun exists, with the command id reported;
- no request id ever had two command ids; command ids are unique;
- a final outcome, once reported, is never lost or changed;
- ``PRAGMA integrity_check`` passes after every kill;
- at the end every request id has exactly one final outcome (one audit event for it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

from hallgw_daemon.core.model import Action
from hallgw_daemon.ledger import (
    BeginStatus,
    Done,
    Journal,
    Ledger,
    NotDone,
    Operation,
    OutcomeConflictError,
    State,
    params_digest,
)

SEED = 20250301
ISSUANCES = 1000
WORKERS = 8
MAX_KILLS = 12
T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
OPERATIONS = list(Operation)


def rid(n: int) -> str:
    return f"req-{n:05d}"


def expected(n: int) -> Done | NotDone:
    """What the simulated kiosk answers for request n, every time it is asked."""
    if n % 7 == 0:
        return NotDone(reason="PAPER_OUT", action=Action.STAFF)
    if n % 11 == 0:  # never sent: the kiosk has no such command
        return NotDone(reason="NOT_DELIVERED", action=Action.RETRY)
    return Done(operation_serial=f"OP-{n:05d}", kiosk_time=T0 + dt.timedelta(seconds=n))


def describe(outcome: Done | NotDone | None) -> str:
    if isinstance(outcome, Done):
        return f"done:{outcome.operation_serial}"
    if isinstance(outcome, NotDone):
        return f"not_done:{outcome.reason}"
    return "none"


# ---- the child -------------------------------------------------------------------------------


async def child(path: Path, seed: int) -> None:
    rng = random.Random(seed)

    def say(*words: object) -> None:
        print(*words, flush=True)  # one write per line: whole lines or nothing reach the parent

    ledger = await Ledger.open(path)
    say("open", ledger.session)
    for entry in await ledger.unresolved():  # start-up: resolve what is in doubt, kiosk by kiosk
        n = int(entry.request_id.split("-")[1])
        final = await ledger.finish(entry.request_id, expected(n))
        say("resolved", entry.request_id, entry.command_id, entry.state.value, describe(final.outcome))

    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(ISSUANCES):
        queue.put_nowait(n)

    async def issue(n: int) -> None:
        b = await ledger.begin(rid(n), f"kiosk-{n % 5}", OPERATIONS[n % 3], f"case-{n}", params_digest({"n": n}))
        say("begun", rid(n), b.entry.command_id, b.status.value)
        if b.status is BeginStatus.FINAL:
            say("final", rid(n), describe(b.entry.outcome))
            return
        if b.status is not BeginStatus.NEW:
            raise SystemExit(f"{rid(n)} is {b.status.value} after start-up resolution")
        if n % 11 != 0:  # every eleventh never leaves: NOT_DONE from PENDING
            await ledger.mark_sent(rid(n))
            say("sent", rid(n))
        final = await ledger.finish(rid(n), expected(n))
        say("final", rid(n), describe(final.outcome))
        if n % 13 == 0:
            contrary = NotDone(reason="JAM", action=Action.ENGINEER)
            try:
                await ledger.finish(rid(n), contrary)
            except OutcomeConflictError:
                say("refused", rid(n))
        if n > 10 and rng.random() < 0.2:  # a caller retrying an earlier request id
            m = n - rng.randint(1, 10)
            again = await ledger.begin(
                rid(m), f"kiosk-{m % 5}", OPERATIONS[m % 3], f"case-{m}", params_digest({"n": m})
            )
            say("begun", rid(m), again.entry.command_id, again.status.value)

    async def worker() -> None:
        while not queue.empty():
            await issue(queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    counts = await ledger.counts()
    await ledger.close()
    say("complete", counts[State.DONE], counts[State.NOT_DONE], counts[State.PENDING] + counts[State.SENT])


# ---- the parent ------------------------------------------------------------------------------


class Run:
    """One child process and the lines it printed, read on a thread so that the pipe never fills."""

    def __init__(self, path: Path, seed: int) -> None:
        self.lines: list[list[str]] = []
        self._more = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(path), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.endswith("\n"):
                with self._more:
                    self.lines.append(line.split())
                    self._more.notify_all()
        with self._more:
            self._more.notify_all()

    def wait_for_lines(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with self._more:
            while len(self.lines) < count and self.proc.poll() is None:
                left = deadline - time.monotonic()
                assert left > 0, f"the child printed {len(self.lines)} lines, not {count}"
                self._more.wait(left)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.finish()

    def finish(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        return code


def check_file(path: Path, command_ids: dict[str, set[str]], finals: dict[str, set[str]]) -> None:
    with Journal.open(path) as journal:
        assert journal.integrity_check() == ["ok"]
        conn = journal._db()
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT command_id) FROM journal").fetchone()
        assert total == distinct
        for request_id, ids in command_ids.items():
            assert len(ids) == 1, f"{request_id} had command ids {ids}"
            entry = journal.get(request_id)
            assert entry is not None, f"{request_id} was acknowledged, then lost"
            assert entry.command_id in ids
        for request_id, outcomes in finals.items():
            assert len(outcomes) == 1, f"{request_id} reported outcomes {outcomes}"
            entry = journal.get(request_id)
            assert entry is not None and entry.final, f"{request_id}'s final outcome was lost"
            assert {describe(entry.outcome)} == outcomes


@pytest.mark.timeout(300)
def test_sigkill_during_a_thousand_issuances_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    rng = random.Random(SEED)
    command_ids: dict[str, set[str]] = defaultdict(set)
    finals: dict[str, set[str]] = defaultdict(set)
    resolved = refused = 0
    kills = 0
    started = time.monotonic()

    def absorb(lines: list[list[str]]) -> None:
        nonlocal resolved, refused
        for words in lines:
            match words:
                case ["begun", request_id, command_id, _status]:
                    command_ids[request_id].add(command_id)
                case ["resolved", request_id, command_id, _state, outcome]:
                    command_ids[request_id].add(command_id)
                    finals[request_id].add(outcome)
                    resolved += 1
                case ["final", request_id, outcome]:
                    finals[request_id].add(outcome)
                case ["refused", _request_id]:
                    refused += 1

    for round_no in range(MAX_KILLS):
        run = Run(path, rng.randrange(1 << 30))
        run.wait_for_lines(1)  # opened
        run.wait_for_lines(1 + rng.randrange(600))
        run.kill()
        kills += 1
        absorb(run.lines)
        if run.lines and run.lines[-1][0] == "complete":
            break
        check_file(path, command_ids, finals)
        print(f"kill {round_no + 1}: {len(run.lines)} lines acknowledged")

    last = Run(path, rng.randrange(1 << 30))
    code = last.finish()
    assert last.proc.stderr is not None
    assert code == 0, last.proc.stderr.read()
    absorb(last.lines)
    not_done = sum(isinstance(expected(n), NotDone) for n in range(ISSUANCES))
    assert last.lines[-1] == ["complete", str(ISSUANCES - not_done), str(not_done), "0"]
    check_file(path, command_ids, finals)

    with Journal.open(path) as journal:
        counts = journal.counts()
        assert counts[State.PENDING] == counts[State.SENT] == 0
        assert counts[State.DONE] + counts[State.NOT_DONE] == ISSUANCES
        for n in range(ISSUANCES):
            entry = journal.get(rid(n))
            assert entry is not None and entry.outcome == expected(n), rid(n)
        rows = journal._db().execute(
            "SELECT request_id, sum(event = 'intent'), sum(event IN ('done', 'not_done')) FROM audit "
            "WHERE request_id IS NOT NULL GROUP BY request_id"
        )
        per_request = {r: (intents, finals_) for r, intents, finals_ in rows}
        assert len(per_request) == ISSUANCES
        assert set(per_request.values()) == {(1, 1)}
    assert set(finals) == {rid(n) for n in range(ISSUANCES)}
    print(
        f"{kills} kills, {resolved} entries resolved at start-up, {refused} contrary outcomes refused, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert kills >= 3 and resolved >= 1


if __name__ == "__main__":
    asyncio.run(child(Path(sys.argv[1]), int(sys.argv[2])))
