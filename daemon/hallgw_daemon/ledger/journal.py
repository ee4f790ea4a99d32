"""The synchronous core: one SQLite connection, one transaction per state change.

Use it from one thread only (``sqlite3``'s ``check_same_thread`` enforces it). The
daemon never calls it on the event loop: ``facade.Ledger`` runs it on a dedicated
thread. See the package docstring for the theory of operation.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from hallgw_daemon.core.model import Action
from hallgw_daemon.ledger.model import (
    FINAL_STATES,
    UNRESOLVED_STATES,
    AuditEvent,
    Begin,
    BeginStatus,
    Done,
    Entry,
    LedgerClosedError,
    LedgerCorruptError,
    LedgerError,
    LedgerStateError,
    NotDone,
    Operation,
    Outcome,
    OutcomeConflictError,
    ReusedRequestIdError,
    State,
    UnknownRequestError,
    check_digest,
    check_token,
    utc,
)

Clock = Callable[[], dt.datetime]
T = TypeVar("T")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(value: dt.datetime) -> str:
    # One fixed format, so that text order is time order.
    return utc(value).isoformat(timespec="microseconds")


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _in(states: Sequence[State]) -> str:
    return "(" + ", ".join(f"'{s.value}'" for s in states) + ")"


def _in_ops() -> str:
    return "(" + ", ".join(f"'{o.value}'" for o in Operation) + ")"


# Migrations: version -> statements, applied in order in one transaction at open.
# Never edit a released migration; add the next version.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT
        """,
        f"""
        CREATE TABLE journal (
            seq              INTEGER PRIMARY KEY,
            request_id       TEXT NOT NULL UNIQUE,
            command_id       TEXT NOT NULL UNIQUE,
            kiosk_id         TEXT NOT NULL,
            operation        TEXT NOT NULL CHECK (operation IN {_in_ops()}),
            business_ref     TEXT NOT NULL,
            params_digest    TEXT NOT NULL CHECK (length(params_digest) = 64),
            state            TEXT NOT NULL CHECK (state IN {_in(list(State))}),
            session          INTEGER NOT NULL,
            attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at       TEXT NOT NULL,
            sent_at          TEXT,
            finished_at      TEXT,
            operation_serial TEXT,
            kiosk_time       TEXT,
            reason           TEXT,
            action           TEXT,
            CHECK ((state = 'done') = (operation_serial IS NOT NULL AND kiosk_time IS NOT NULL)),
            CHECK ((state = 'not_done') = (reason IS NOT NULL AND action IS NOT NULL)),
            CHECK ((state IN {_in(FINAL_STATES)}) = (finished_at IS NOT NULL))
        ) STRICT
        """,
        f"CREATE INDEX journal_unresolved ON journal (kiosk_id, seq) WHERE state IN {_in(UNRESOLVED_STATES)}",
        f"CREATE INDEX journal_finished ON journal (finished_at) WHERE state IN {_in(FINAL_STATES)}",
        """
        CREATE TRIGGER journal_final_is_final BEFORE UPDATE ON journal
        WHEN OLD.state IN ('done', 'not_done')
        BEGIN SELECT RAISE(ABORT, 'a final ledger entry never changes'); END
        """,
        """
        CREATE TRIGGER journal_identity_is_fixed BEFORE UPDATE ON journal
        WHEN NEW.command_id IS NOT OLD.command_id OR NEW.request_id IS NOT OLD.request_id
          OR NEW.kiosk_id IS NOT OLD.kiosk_id OR NEW.operation IS NOT OLD.operation
          OR NEW.business_ref IS NOT OLD.business_ref OR NEW.params_digest IS NOT OLD.params_digest
        BEGIN SELECT RAISE(ABORT, 'a ledger entry keeps its request and command ids'); END
        """,
        """
        CREATE TABLE audit (
            seq        INTEGER PRIMARY KEY,
            at         TEXT NOT NULL,
            request_id TEXT REFERENCES journal (request_id) ON DELETE CASCADE,
            event      TEXT NOT NULL,
            detail     TEXT NOT NULL
        ) STRICT
        """,
        "CREATE INDEX audit_request ON audit (request_id)",
        """
        CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END
        """,
    ),
}


SCHEMA_VERSION = max(MIGRATIONS)

_COLUMNS = (
    "request_id, command_id, kiosk_id, operation, business_ref, params_digest, state, session, attempts, "
    "created_at, sent_at, finished_at, operation_serial, kiosk_time, reason, action"
)


class Journal:
    """The exactly-once journal and its audit trail in one SQLite file (WAL, synchronous=FULL)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, session: int, clock: Clock) -> None:
        self._conn: sqlite3.Connection | None = conn
        self.path = path
        self.session = session
        """This run's number: increases by one at every read-write open."""
        self._clock = clock
        self.thread_id = threading.get_ident()
        """The thread that opened the journal; every statement runs on it."""

    # ---- open and close ------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        integrity_check: bool = True,
        clock: Clock = utc_now,
    ) -> Journal:
        """Open (creating or migrating) the ledger at ``path``; start a new session.

        Raises ``LedgerCorruptError`` naming the file when it is damaged, not a ledger,
        or written by a newer hallgw; ``LedgerError`` when it cannot be opened at all.
        """
        path = Path(path)
        if synchronous not in ("FULL", "EXTRA", "NORMAL"):
            raise ValueError("synchronous must be FULL, EXTRA or NORMAL")
        try:
            conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {path}: {exc}") from exc
        try:
            session = cls._prepare(
                conn, path, busy_timeout=busy_timeout, synchronous=synchronous, check=integrity_check, clock=clock
            )
        except sqlite3.OperationalError as exc:  # locked, read-only, out of space: not damage
            conn.close()
            raise LedgerError(f"cannot open the ledger {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise LedgerCorruptError(
                f"the ledger {path} is damaged or is not a ledger ({exc}); the daemon will not start on it. "
                "Keep the file for inspection and restore the ledger from a backup: entries in doubt in it "
                "must be resolved with their kiosks by hand"
            ) from exc
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, session, clock)

    @staticmethod
    def _prepare(
        conn: sqlite3.Connection, path: Path, *, busy_timeout: float, synchronous: str, check: bool, clock: Clock
    ) -> int:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise LedgerError(f"the ledger {path} cannot use WAL mode (got {mode!r}): put it on a local file system")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        if check:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check(20)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError("integrity check failed: " + "; ".join(problems))
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise LedgerCorruptError(
                    f"the ledger {path} has schema version {current}, newer than this hallgw knows "
                    f"({SCHEMA_VERSION}): run the newer hallgw, or restore a matching backup"
                )
            if current == 0 and conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'journal'").fetchone()[0]:
                raise sqlite3.DatabaseError("a journal table without a schema version")
            now = _iso(clock())
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now))
            row = conn.execute("SELECT value FROM meta WHERE key = 'session'").fetchone()
            session = (int(row[0]) if row else 0) + 1
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('session', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(session),),
            )
            unresolved = conn.execute(f"SELECT count(*) FROM journal WHERE state IN {_in(UNRESOLVED_STATES)}")  # noqa: S608 (constant fragments)
            detail = {"session": session, "schema": SCHEMA_VERSION, "unresolved": unresolved.fetchone()[0]}
            conn.execute(
                "INSERT INTO audit (at, request_id, event, detail) VALUES (?, NULL, 'open', ?)",
                (now, json.dumps(detail, sort_keys=True)),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return session

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    @property
    def closed(self) -> bool:
        return self._conn is None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- plumbing --------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LedgerClosedError(f"the ledger {self.path} is closed")
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock first, so no upgrade deadlock."""
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _audit(
        self, conn: sqlite3.Connection, at: str, request_id: str | None, event: str, detail: dict[str, Any]
    ) -> None:
        conn.execute(
            "INSERT INTO audit (at, request_id, event, detail) VALUES (?, ?, ?, ?)",
            (at, request_id, event, json.dumps(detail, sort_keys=True)),
        )

    def _row(self, conn: sqlite3.Connection, request_id: str) -> Entry | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM journal WHERE request_id = ?", (request_id,)).fetchone()  # noqa: S608 (constant fragments)
        return None if row is None else self._entry(row)

    def _entry(self, row: Sequence[Any]) -> Entry:
        (rid, cid, kiosk, op, ref, digest, state_s, session, attempts, created, sent, finished) = row[:12]
        serial, kiosk_time, reason, action = row[12:]
        state = State(state_s)
        outcome: Outcome | None = None
        if state is State.DONE:
            outcome = Done(operation_serial=serial, kiosk_time=dt.datetime.fromisoformat(kiosk_time))
        elif state is State.NOT_DONE:
            outcome = NotDone(reason=reason, action=Action(action))
        return Entry(
            request_id=rid,
            command_id=cid,
            kiosk_id=kiosk,
            operation=Operation(op),
            business_ref=ref,
            params_digest=digest,
            state=state,
            outcome=outcome,
            attempts=attempts,
            created_at=dt.datetime.fromisoformat(created),
            sent_at=_parse(sent),
            finished_at=_parse(finished),
            session=session,
            in_doubt=not state.final and session < self.session,
        )

    def _status(self, entry: Entry) -> BeginStatus:
        if entry.final:
            return BeginStatus.FINAL
        return BeginStatus.IN_DOUBT if entry.in_doubt else BeginStatus.IN_FLIGHT

    # ---- the journal -----------------------------------------------------------------------

    def begin(
        self, request_id: str, kiosk_id: str, operation: Operation, business_ref: str, params_digest: str
    ) -> Begin:
        """Record the intent for ``request_id``, or return the entry already there.

        A new intent gets a fresh ``command_id`` (status NEW). The same request id again
        returns the same entry: FINAL with its outcome, IN_FLIGHT (this run is on it) or
        IN_DOUBT (an earlier run left it unresolved). The same id with another kiosk,
        operation, business reference or parameters raises ``ReusedRequestIdError``.
        """
        check_token(request_id, "request_id")
        check_token(kiosk_id, "kiosk_id")
        check_token(business_ref, "business_ref")
        check_digest(params_digest)
        operation = Operation(operation)
        with self._transaction() as conn:
            existing = self._row(conn, request_id)
            if existing is None:
                command_id = uuid.uuid4().hex
                now = _iso(self._clock())
                conn.execute(
                    "INSERT INTO journal (request_id, command_id, kiosk_id, operation, business_ref, params_digest, "
                    "state, session, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?)",
                    (request_id, command_id, kiosk_id, operation.value, business_ref, params_digest, self.session, now),
                )
                self._audit(
                    conn,
                    now,
                    request_id,
                    "intent",
                    {"command_id": command_id, "kiosk_id": kiosk_id, "operation": operation.value},
                )
                return Begin(_found(self._row(conn, request_id)), BeginStatus.NEW)
        differs = tuple(
            name
            for name, theirs, ours in (
                ("kiosk_id", existing.kiosk_id, kiosk_id),
                ("operation", existing.operation, operation),
                ("business_ref", existing.business_ref, business_ref),
                ("params", existing.params_digest, params_digest),
            )
            if theirs != ours
        )
        if differs:
            raise ReusedRequestIdError(request_id, differs, device_id=existing.kiosk_id)
        return Begin(existing, self._status(existing))

    def mark_sent(self, request_id: str) -> Entry:
        """The command is about to go (or went) to the kiosk: it may be there from now on.

        Call it before writing the command: a crash between the two leaves a SENT entry
        that the next run resolves with the kiosk, never a command the ledger ignores.
        Each call counts one attempt. Refused (``LedgerStateError``) on a final entry.
        """
        with self._transaction() as conn:
            entry = self._row(conn, request_id)
            if entry is None:
                raise UnknownRequestError(f"no ledger entry for request id {request_id!r}")
            if entry.final:
                raise LedgerStateError(
                    f"request id {request_id!r} is already final ({entry.state.value}): its command must not be sent",
                    device_id=entry.kiosk_id,
                )
            now = _iso(self._clock())
            conn.execute(
                "UPDATE journal SET state = 'sent', sent_at = ?, attempts = attempts + 1, session = ? "
                "WHERE request_id = ?",
                (now, self.session, request_id),
            )
            self._audit(
                conn,
                now,
                request_id,
                "sent",
                {"command_id": entry.command_id, "attempt": entry.attempts + 1, "session": self.session},
            )
            return _found(self._row(conn, request_id))

    def finish(self, request_id: str, outcome: Outcome) -> Entry:
        """Record the final outcome. The same outcome again is a no-op.

        A different outcome for an entry that is already final is refused: the audit
        trail records the conflict and ``OutcomeConflictError`` is raised.
        """
        conflict: Entry | None = None
        finished: Entry | None = None
        with self._transaction() as conn:
            entry = self._row(conn, request_id)
            if entry is None:
                raise UnknownRequestError(f"no ledger entry for request id {request_id!r}")
            if entry.final:
                if entry.outcome == outcome:
                    return entry
                # Committed, then raised: the refusal itself is evidence an engineer needs.
                self._audit(
                    conn,
                    _iso(self._clock()),
                    request_id,
                    "conflict",
                    {"recorded": entry.state.value, **_outcome_detail(outcome, prefix="reported_")},
                )
                conflict = entry
            else:
                now = _iso(self._clock())
                if isinstance(outcome, Done):
                    conn.execute(
                        "UPDATE journal SET state = 'done', finished_at = ?, operation_serial = ?, kiosk_time = ? "
                        "WHERE request_id = ?",
                        (now, outcome.operation_serial, _iso(outcome.kiosk_time), request_id),
                    )
                else:
                    conn.execute(
                        "UPDATE journal SET state = 'not_done', finished_at = ?, reason = ?, action = ? "
                        "WHERE request_id = ?",
                        (now, outcome.reason, outcome.action.value, request_id),
                    )
                self._audit(
                    conn,
                    now,
                    request_id,
                    outcome.state.value,
                    {"command_id": entry.command_id, "from": entry.state.value, **_outcome_detail(outcome)},
                )
                finished = self._row(conn, request_id)
        if conflict is not None and conflict.outcome is not None:
            raise OutcomeConflictError(request_id, conflict.outcome, outcome, device_id=conflict.kiosk_id)
        return _found(finished)

    def get(self, request_id: str) -> Entry | None:
        return self._row(self._db(), request_id)

    def unresolved(self, kiosk_id: str | None = None) -> list[Entry]:
        """PENDING and SENT entries, oldest intent first: what a kiosk must settle before new work."""
        sql = f"SELECT {_COLUMNS} FROM journal WHERE state IN {_in(UNRESOLVED_STATES)}"  # noqa: S608 (constant fragments)
        args: tuple[str, ...] = ()
        if kiosk_id is not None:
            sql += " AND kiosk_id = ?"
            args = (kiosk_id,)
        return [self._entry(row) for row in self._db().execute(sql + " ORDER BY seq", args)]

    def pending(self) -> list[Entry]:
        """Every unresolved entry, all kiosks, oldest first (``hallctl ledger pending``)."""
        return self.unresolved()

    def recent(self, kiosk_id: str | None = None, limit: int = 100) -> list[Entry]:
        """Final entries, the most recently finished first, at most ``limit``."""
        sql = f"SELECT {_COLUMNS} FROM journal WHERE state NOT IN {_in(UNRESOLVED_STATES)}"  # noqa: S608 (constant fragments)
        args: tuple[str | int, ...] = ()
        if kiosk_id is not None:
            sql += " AND kiosk_id = ?"
            args = (kiosk_id,)
        sql += " ORDER BY finished_at DESC, seq DESC LIMIT ?"
        return [self._entry(row) for row in self._db().execute(sql, (*args, max(0, limit)))]

    def counts(self, kiosk_id: str | None = None) -> dict[State, int]:
        """Entries by state (every state present, zeros included), for one kiosk or all."""
        if kiosk_id is None:
            rows = self._db().execute("SELECT state, count(*) FROM journal GROUP BY state")
        else:
            rows = self._db().execute(
                "SELECT state, count(*) FROM journal WHERE kiosk_id = ? GROUP BY state", (kiosk_id,)
            )
        found = dict(rows.fetchall())
        return {state: int(found.get(state.value, 0)) for state in State}

    def counts_by_kiosk(self) -> dict[str, dict[State, int]]:
        result: dict[str, dict[State, int]] = {}
        for kiosk, state, n in self._db().execute(
            "SELECT kiosk_id, state, count(*) FROM journal GROUP BY kiosk_id, state ORDER BY kiosk_id"
        ):
            result.setdefault(kiosk, dict.fromkeys(State, 0))[State(state)] = n
        return result

    def audit(self, request_id: str | None = None, *, limit: int = 1000) -> list[AuditEvent]:
        """Audit events, oldest first: one request id's, or the latest ``limit`` of all."""
        if request_id is not None:
            rows = self._db().execute(
                "SELECT seq, at, request_id, event, detail FROM audit WHERE request_id = ? ORDER BY seq",
                (request_id,),
            )
        else:
            rows = self._db().execute(
                "SELECT * FROM (SELECT seq, at, request_id, event, detail FROM audit ORDER BY seq DESC LIMIT ?) "
                "ORDER BY seq",
                (limit,),
            )
        return [
            AuditEvent(
                seq=seq, at=dt.datetime.fromisoformat(at), request_id=rid, event=event, detail=json.loads(detail)
            )
            for seq, at, rid, event, detail in rows
        ]

    def prune(self, older_than: dt.datetime) -> int:
        """Delete final entries finished before ``older_than`` (and their audit events).

        Unresolved entries are never pruned, however old. Start-up audit events older than
        the cutoff go too. Returns the number of entries deleted.
        """
        cutoff = _iso(older_than)
        with self._transaction() as conn:
            deleted = conn.execute(
                f"DELETE FROM journal WHERE state IN {_in(FINAL_STATES)} AND finished_at < ?",  # noqa: S608 (constant fragments)
                (cutoff,),
            ).rowcount
            conn.execute("DELETE FROM audit WHERE request_id IS NULL AND at < ?", (cutoff,))
            self._audit(conn, _iso(self._clock()), None, "prune", {"before": cutoff, "entries": deleted})
        return int(deleted)

    def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check``: ``["ok"]`` when the file is sound."""
        return [row[0] for row in self._db().execute("PRAGMA integrity_check")]

    def schema_version(self) -> int:
        return int(self._db().execute("SELECT max(version) FROM schema_version").fetchone()[0])


def _found(value: T | None) -> T:
    if value is None:  # the row was read in the same transaction that wrote it
        raise LedgerError("the ledger lost a row it had just written")
    return value


def _outcome_detail(outcome: Outcome, prefix: str = "") -> dict[str, str]:
    if isinstance(outcome, Done):
        return {prefix + "operation_serial": outcome.operation_serial, prefix + "kiosk_time": _iso(outcome.kiosk_time)}
    return {prefix + "reason": outcome.reason, prefix + "action": outcome.action.value}
