"""The ledger: every API path, deduplication, conflicts, retention, schema and the facade's thread."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hallgw_daemon.core.model import Action
from hallgw_daemon.ledger import (
    SCHEMA_VERSION,
    Begin,
    BeginStatus,
    Done,
    Journal,
    Ledger,
    LedgerClosedError,
    LedgerCorruptError,
    LedgerError,
    LedgerStateError,
    NotDone,
    Operation,
    OutcomeConflictError,
    ReusedRequestIdError,
    State,
    UnknownRequestError,
    params_digest,
)

T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)
DIGEST = params_digest({"endorsement_type": "HK-1", "copies": 1})
OTHER_DIGEST = params_digest({"endorsement_type": "HK-1", "copies": 2})
ISSUE = Operation.ISSUE_ENDORSEMENT


class FakeClock:
    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


def done(serial: str = "OP-0001") -> Done:
    return Done(operation_serial=serial, kiosk_time=T0 + dt.timedelta(seconds=5))


PAPER_OUT = NotDone(reason="PAPER_OUT", action=Action.STAFF)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def journal(tmp_path: Path, clock: FakeClock) -> Iterator[Journal]:
    with Journal.open(tmp_path / "ledger.db", clock=clock) as j:
        yield j


def begin(j: Journal, request_id: str, kiosk: str = "kiosk-12", digest: str = DIGEST, ref: str = "case-77") -> Begin:
    return j.begin(request_id, kiosk, ISSUE, ref, digest)


# ---- begin and deduplication -----------------------------------------------------------------


def test_begin_records_an_intent_with_a_fresh_command_id(journal: Journal) -> None:
    b = begin(journal, "req-1")
    assert b.status is BeginStatus.NEW and b.new
    e = b.entry
    assert e.state is State.PENDING and e.outcome is None and e.attempts == 0
    assert len(e.command_id) == 32 and e.command_id != e.request_id
    assert (e.kiosk_id, e.operation, e.business_ref, e.params_digest) == ("kiosk-12", ISSUE, "case-77", DIGEST)
    assert e.created_at.tzinfo is not None and e.sent_at is None and e.finished_at is None
    assert not e.in_doubt and e.session == journal.session == 1
    assert [a.event for a in journal.audit("req-1")] == ["intent"]
    assert journal.audit("req-1")[0].detail == {
        "command_id": e.command_id,
        "kiosk_id": "kiosk-12",
        "operation": ISSUE.value,
    }


def test_same_request_id_gives_same_command_id_and_then_same_outcome(journal: Journal) -> None:
    first = begin(journal, "req-1").entry
    again = begin(journal, "req-1")
    assert again.status is BeginStatus.IN_FLIGHT and again.entry.command_id == first.command_id
    journal.mark_sent("req-1")
    assert begin(journal, "req-1").status is BeginStatus.IN_FLIGHT
    journal.finish("req-1", done())
    final = begin(journal, "req-1")
    assert final.status is BeginStatus.FINAL and final.entry.outcome == done()
    assert final.entry.command_id == first.command_id
    assert [a.event for a in journal.audit("req-1")] == ["intent", "sent", "done"]
    assert journal.counts()[State.DONE] == 1


@pytest.mark.parametrize(
    ("kwargs", "differs"),
    [
        ({"kiosk": "kiosk-13"}, ("kiosk_id",)),
        ({"digest": OTHER_DIGEST}, ("params",)),
        ({"ref": "case-78"}, ("business_ref",)),
        ({"kiosk": "kiosk-13", "digest": OTHER_DIGEST}, ("kiosk_id", "params")),
    ],
)
def test_request_id_reused_for_another_request_is_refused(
    journal: Journal, kwargs: dict[str, str], differs: tuple[str, ...]
) -> None:
    original = begin(journal, "req-1").entry
    with pytest.raises(ReusedRequestIdError) as info:
        begin(journal, "req-1", **kwargs)
    assert info.value.fields == differs
    assert info.value.reason == "REQUEST_ID_REUSED" and info.value.action is Action.NONE
    assert "req-1" in str(info.value) and "new request id" in str(info.value)
    assert journal.get("req-1") == original
    assert [a.event for a in journal.audit("req-1")] == ["intent"]


def test_request_id_reused_for_another_operation_is_refused(journal: Journal) -> None:
    begin(journal, "req-1")
    with pytest.raises(ReusedRequestIdError, match="operation"):
        journal.begin("req-1", "kiosk-12", Operation.PRINT_TRAVEL_RECORD, "case-77", DIGEST)


def test_params_digest_is_canonical() -> None:
    assert params_digest({"a": 1, "b": [1, "x"]}) == params_digest({"b": [1, "x"], "a": 1})
    assert params_digest({"a": 1}) != params_digest({"a": "1"})
    with pytest.raises(TypeError):
        params_digest({"a": object()})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("request_id", ""),
        ("request_id", "has space"),
        ("kiosk_id", "k\n1"),
        ("business_ref", "Wang Fang"),
        ("digest", "abc"),
    ],
)
def test_bad_ids_are_refused_before_anything_is_written(journal: Journal, field: str, value: str) -> None:
    args = {"request_id": "req-1", "kiosk_id": "kiosk-12", "business_ref": "case-77", "digest": DIGEST} | {field: value}
    with pytest.raises(ValueError, match=field.replace("digest", "params_digest")):
        journal.begin(args["request_id"], args["kiosk_id"], ISSUE, args["business_ref"], args["digest"])
    assert journal.counts() == dict.fromkeys(State, 0)


# ---- mark_sent and finish --------------------------------------------------------------------


def test_mark_sent_counts_attempts_and_is_refused_once_final(journal: Journal) -> None:
    begin(journal, "req-1")
    first = journal.mark_sent("req-1")
    assert first.state is State.SENT and first.attempts == 1 and first.sent_at is not None
    second = journal.mark_sent("req-1")
    assert second.attempts == 2 and second.sent_at is not None and second.sent_at > first.sent_at
    journal.finish("req-1", done())
    with pytest.raises(LedgerStateError, match="already final"):
        journal.mark_sent("req-1")
    assert journal.get("req-1").attempts == 2  # type: ignore[union-attr]


def test_unknown_request_id(journal: Journal) -> None:
    assert journal.get("nope") is None
    with pytest.raises(UnknownRequestError, match="nope"):
        journal.mark_sent("nope")
    with pytest.raises(UnknownRequestError, match="nope"):
        journal.finish("nope", done())


def test_finish_not_done_from_pending_never_sent(journal: Journal) -> None:
    begin(journal, "req-1")
    e = journal.finish("req-1", PAPER_OUT)
    assert e.state is State.NOT_DONE and e.outcome == PAPER_OUT and e.attempts == 0 and e.finished_at is not None
    assert journal.audit("req-1")[-1].detail == {
        "command_id": e.command_id,
        "from": "pending",
        "reason": "PAPER_OUT",
        "action": "staff",
    }


def test_finish_is_idempotent_for_the_same_outcome(journal: Journal) -> None:
    begin(journal, "req-1")
    journal.mark_sent("req-1")
    first = journal.finish("req-1", done())
    # The same outcome again, with the kiosk time in another zone: the same instant.
    same_instant = Done(
        operation_serial="OP-0001", kiosk_time=done().kiosk_time.astimezone(dt.timezone(dt.timedelta(hours=8)))
    )
    assert journal.finish("req-1", same_instant) == first
    assert journal.finish("req-1", done()) == first
    assert [a.event for a in journal.audit("req-1")] == ["intent", "sent", "done"]


@pytest.mark.parametrize(
    ("first_outcome", "second"),
    [
        (done(), PAPER_OUT),
        (done(), done("OP-0002")),
        (PAPER_OUT, NotDone(reason="PAPER_OUT", action=Action.RETRY)),
        (PAPER_OUT, done()),
    ],
)
def test_a_different_final_outcome_is_refused_and_audited(
    journal: Journal, first_outcome: Done | NotDone, second: Done | NotDone
) -> None:
    begin(journal, "req-1")
    journal.mark_sent("req-1")
    recorded = journal.finish("req-1", first_outcome)
    with pytest.raises(OutcomeConflictError) as info:
        journal.finish("req-1", second)
    assert info.value.recorded == first_outcome and info.value.reported == second
    assert info.value.reason == "LEDGER_CONFLICT" and info.value.action is Action.ENGINEER
    assert journal.get("req-1") == recorded
    conflict = journal.audit("req-1")[-1]
    assert conflict.event == "conflict" and conflict.detail["recorded"] == first_outcome.state.value


def test_outcome_values_are_checked() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Done(operation_serial="OP-1", kiosk_time=dt.datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="operation_serial"):
        Done(operation_serial="", kiosk_time=T0)
    with pytest.raises(ValueError, match="stable code"):
        NotDone(reason="paper is out, call Mr Li", action=Action.STAFF)


def test_the_file_itself_refuses_to_change_a_final_entry_or_the_audit(journal: Journal, tmp_path: Path) -> None:
    begin(journal, "req-1")
    journal.finish("req-1", done())
    raw = sqlite3.connect(tmp_path / "ledger.db", isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="final ledger entry never changes"):
            raw.execute(
                "UPDATE journal SET state = 'not_done', reason = 'X', action = 'none' WHERE request_id = 'req-1'"
            )
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute("UPDATE audit SET event = 'x'")
        begin(journal, "req-2")
        with pytest.raises(sqlite3.IntegrityError, match="keeps its request and command ids"):
            raw.execute("UPDATE journal SET command_id = 'other' WHERE request_id = 'req-2'")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            raw.execute(
                "INSERT INTO journal (request_id, command_id, kiosk_id, operation, business_ref, params_digest, "
                "state, session, created_at) SELECT 'req-3', command_id, kiosk_id, operation, business_ref, "
                "params_digest, 'pending', 1, created_at FROM journal WHERE request_id = 'req-2'"
            )
    finally:
        raw.close()


# ---- unresolved, pending, in doubt, counts ---------------------------------------------------


def test_unresolved_is_oldest_first_and_per_kiosk(journal: Journal) -> None:
    for i, kiosk in enumerate(["k-a", "k-b", "k-a", "k-b", "k-a"]):
        begin(journal, f"req-{i}", kiosk=kiosk)
    journal.mark_sent("req-2")
    journal.finish("req-0", done())
    journal.mark_sent("req-4")
    journal.finish("req-4", PAPER_OUT)
    assert [e.request_id for e in journal.unresolved()] == ["req-1", "req-2", "req-3"]
    assert [e.request_id for e in journal.unresolved("k-a")] == ["req-2"]
    assert [e.request_id for e in journal.unresolved("k-b")] == ["req-1", "req-3"]
    assert journal.unresolved("k-none") == []
    assert journal.pending() == journal.unresolved()
    assert journal.counts() == {State.PENDING: 2, State.SENT: 1, State.DONE: 1, State.NOT_DONE: 1}
    assert journal.counts("k-a") == {State.PENDING: 0, State.SENT: 1, State.DONE: 1, State.NOT_DONE: 1}
    assert journal.counts_by_kiosk() == {
        "k-a": {State.PENDING: 0, State.SENT: 1, State.DONE: 1, State.NOT_DONE: 1},
        "k-b": {State.PENDING: 2, State.SENT: 0, State.DONE: 0, State.NOT_DONE: 0},
    }


def test_entries_left_by_an_earlier_run_are_in_doubt_until_resolved(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Journal.open(path) as first:
        begin(first, "pending-1")
        begin(first, "sent-1")
        first.mark_sent("sent-1")
        begin(first, "final-1")
        first.finish("final-1", done())
        assert not any(e.in_doubt for e in first.unresolved())
    with Journal.open(path) as second:
        assert second.session == 2
        assert [(e.request_id, e.in_doubt) for e in second.unresolved()] == [("pending-1", True), ("sent-1", True)]
        assert begin(second, "sent-1").status is BeginStatus.IN_DOUBT
        assert begin(second, "final-1").status is BeginStatus.FINAL
        # Resolving: the kiosk never got pending-1, so this run sends it again with the same command id.
        resent = second.mark_sent("pending-1")
        assert not resent.in_doubt and resent.session == 2 and resent.attempts == 1
        assert begin(second, "pending-1").status is BeginStatus.IN_FLIGHT
        second.finish("sent-1", done("OP-9"))
        assert [e.request_id for e in second.unresolved()] == ["pending-1"]
        opens = [a for a in second.audit() if a.event == "open"]
        assert [a.detail for a in opens] == [
            {"session": 1, "schema": SCHEMA_VERSION, "unresolved": 0},
            {"session": 2, "schema": SCHEMA_VERSION, "unresolved": 2},
        ]


# ---- retention -------------------------------------------------------------------------------


def test_prune_drops_old_final_entries_only(journal: Journal, clock: FakeClock) -> None:
    begin(journal, "old-done")
    journal.finish("old-done", done())
    begin(journal, "old-not-done")
    journal.finish("old-not-done", PAPER_OUT)
    begin(journal, "old-pending")
    begin(journal, "old-sent")
    journal.mark_sent("old-sent")
    clock.now += dt.timedelta(days=100)
    begin(journal, "new-done")
    journal.finish("new-done", done())
    removed = journal.prune(T0 + dt.timedelta(days=30))
    assert removed == 2
    assert journal.get("old-done") is None and journal.get("old-not-done") is None
    assert journal.audit("old-done") == []
    assert {e.request_id for e in journal.unresolved()} == {"old-pending", "old-sent"}
    assert journal.get("new-done") is not None
    # Even a cutoff in the future never drops an unresolved entry.
    journal.prune(clock.now + dt.timedelta(days=365))
    assert {e.request_id for e in journal.unresolved()} == {"old-pending", "old-sent"}
    assert journal.get("new-done") is None
    assert [a.event for a in journal.audit("old-sent")] == ["intent", "sent"]
    assert journal.audit()[-1].event == "prune"


# ---- schema, pragmas, damaged files ----------------------------------------------------------


def test_a_new_file_gets_schema_version_1_and_the_durability_settings(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Journal.open(path, busy_timeout=2.5) as j:
        assert j.schema_version() == SCHEMA_VERSION == 1
        conn = j._db()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
        assert j.integrity_check() == ["ok"]
    with Journal.open(path) as again:
        versions = again._db().execute("SELECT version FROM schema_version").fetchall()
        assert versions == [(1,)]


def test_an_empty_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.touch()
    with Journal.open(path) as j:
        assert j.schema_version() == 1
        begin(j, "req-1")


def test_a_newer_schema_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Journal.open(path).close()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO schema_version VALUES (99, 'later')")
    raw.commit()
    raw.close()
    with pytest.raises(LedgerCorruptError, match=r"schema version 99, newer") as info:
        Journal.open(path)
    assert str(path) in str(info.value)


def test_a_file_that_is_not_a_database_is_refused_with_the_file_named(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(b"this is not a database, just some text that fills a page\n" * 200)
    with pytest.raises(LedgerCorruptError) as info:
        Journal.open(path)
    assert str(path) in str(info.value) and "damaged" in str(info.value)


def test_another_sqlite_database_is_not_taken_for_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE journal (x)")
    raw.commit()
    raw.close()
    with pytest.raises(LedgerCorruptError, match=str(path)):
        Journal.open(path)


def test_a_damaged_page_fails_the_integrity_check_at_open(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    with Journal.open(path) as j:
        for i in range(300):
            begin(j, f"req-{i}")
        j._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 6 * page
    for offset in range(3 * page, 4 * page):  # scribble over a whole b-tree page
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerCorruptError) as info:
        Journal.open(path)
    assert str(path) in str(info.value)


def test_a_file_that_cannot_be_opened_is_not_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "ledger.db"
    with pytest.raises(LedgerError, match="cannot open the ledger") as info:
        Journal.open(path)
    assert not isinstance(info.value, LedgerCorruptError) and str(path) in str(info.value)


def test_a_locked_file_is_not_called_damaged(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    Journal.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(LedgerError, match="locked") as info:
            Journal.open(path, busy_timeout=0.1)
        assert not isinstance(info.value, LedgerCorruptError)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_closed_journal(tmp_path: Path) -> None:
    j = Journal.open(tmp_path / "ledger.db")
    j.close()
    j.close()
    assert j.closed
    with pytest.raises(LedgerClosedError, match="closed"):
        j.get("req-1")


def test_no_personal_data_is_stored(journal: Journal, tmp_path: Path) -> None:
    """The parameters (which may name the applicant) reach the file only as a digest."""
    params = {"holder_name": "WANG FANG", "document_number": "E12345678", "endorsement_type": "HK-1"}
    journal.begin("req-1", "kiosk-12", ISSUE, "case-77", params_digest(params))
    journal.mark_sent("req-1")
    journal.finish("req-1", done())
    journal._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"WANG" not in blob and b"E12345678" not in blob
    assert b"case-77" in blob  # the opaque reference is there (sanity check of the scan)


# ---- the asyncio facade ----------------------------------------------------------------------


async def test_facade_paths(tmp_path: Path) -> None:
    async with await Ledger.open(tmp_path / "ledger.db") as ledger:
        assert ledger.session == 1 and ledger.path == tmp_path / "ledger.db"
        b = await ledger.begin("req-1", "kiosk-12", ISSUE, "case-77", DIGEST)
        assert b.new
        assert (await ledger.mark_sent("req-1")).state is State.SENT
        assert [e.request_id for e in await ledger.unresolved("kiosk-12")] == ["req-1"]
        assert [e.request_id for e in await ledger.pending()] == ["req-1"]
        assert (await ledger.finish("req-1", done())).outcome == done()
        assert (await ledger.get("req-1")) == (await ledger.begin("req-1", "kiosk-12", ISSUE, "case-77", DIGEST)).entry
        assert (await ledger.counts())[State.DONE] == 1
        assert (await ledger.counts_by_kiosk())["kiosk-12"][State.DONE] == 1
        assert [a.event for a in await ledger.audit("req-1")] == ["intent", "sent", "done"]
        assert len(await ledger.audit(limit=2)) == 2
        assert await ledger.prune(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == 0
        assert await ledger.integrity_check() == ["ok"]
        assert await ledger.schema_version() == 1
        with pytest.raises(ReusedRequestIdError):
            await ledger.begin("req-1", "kiosk-12", ISSUE, "case-77", OTHER_DIGEST)
        with pytest.raises(OutcomeConflictError):
            await ledger.finish("req-1", PAPER_OUT)
    with pytest.raises(LedgerClosedError):
        await ledger.get("req-1")
    await ledger.close()


async def test_facade_open_of_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(LedgerCorruptError, match=str(path)):
        await Ledger.open(path)


async def test_concurrent_begins_of_one_request_id_record_one_intent(tmp_path: Path) -> None:
    async with await Ledger.open(tmp_path / "ledger.db") as ledger:
        results = await asyncio.gather(
            *(ledger.begin("req-1", "kiosk-12", ISSUE, "case-77", DIGEST) for _ in range(100))
        )
        assert sum(r.new for r in results) == 1
        assert {r.status for r in results if not r.new} == {BeginStatus.IN_FLIGHT}
        assert len({r.entry.command_id for r in results}) == 1
        assert [a.event for a in await ledger.audit("req-1")] == ["intent"]


async def test_statements_run_on_the_ledger_thread_and_the_loop_keeps_ticking(tmp_path: Path) -> None:
    async with await Ledger.open(tmp_path / "ledger.db") as ledger:
        assert ledger.thread_id != threading.get_ident()  # sqlite3 refuses use from any other thread
        lags: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                before = time.perf_counter()
                await asyncio.sleep(0.001)
                lags.append(time.perf_counter() - before - 0.001)

        tick = asyncio.create_task(ticker())
        started = time.perf_counter()
        results = await asyncio.gather(
            *(ledger.begin(f"req-{i}", "kiosk-12", ISSUE, f"case-{i}", DIGEST) for i in range(1000))
        )
        elapsed = time.perf_counter() - started
        stop.set()
        await tick
        assert all(r.new for r in results)
        assert (await ledger.counts())[State.PENDING] == 1000
        lags.sort()
        worst, p99 = lags[-1], lags[int(len(lags) * 0.99)]
        print(f"1000 begins in {elapsed:.2f} s; loop lag p99 {p99 * 1e3:.1f} ms, max {worst * 1e3:.1f} ms")
        # The ledger's fsyncs take far longer than this in sum: the loop never waited for them.
        assert len(lags) > 20
        assert worst < 0.25
